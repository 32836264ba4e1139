// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * accounts_test - firmware/accounts.h: C1 login with the right password
 * only (unknown names answer the same), C2 lockout with a growing delay,
 * C3 forced change (ageing, admin reset, new account), C4 the last admin,
 * the password policy, camera scopes, and re-hashing when the iteration
 * count rises. Time is injected; the iteration count is the minimum so
 * the suite stays fast (the production count is in accounts.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firmware/accounts.h"
#include "lib/log.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

#define T0  1700000000000LL
#define DAY (86400 * 1000LL)

struct fx {
	char dir[64];
	struct statedb *db;
	struct accounts *acc;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "accounts_test");
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(accounts_open(fx->db, ACCOUNT_PBKDF2_MIN, &fx->acc), 0);
	assert_int_equal(
		accounts_add(fx->acc, "admin", ROLE_ADMIN, "*", "first-boot-pw", false, T0), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	accounts_close(fx->acc);
	statedb_close(fx->db);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void test_login(void **state)
{
	struct fx *fx = *state;
	struct account a;
	unsigned int n = 0;

	assert_int_equal(accounts_count(fx->acc, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", T0 + 1, &a, NULL), 0);
	assert_string_equal(a.name, "admin");
	assert_int_equal(a.role, ROLE_ADMIN);
	assert_false(a.must_change);
	assert_int_equal(a.last_login_ms, T0 + 1);
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pX", T0, &a, NULL), -EACCES);
	assert_int_equal(accounts_login(fx->acc, "nobody", "first-boot-pw", T0, &a, NULL), -ENOENT);
	assert_int_equal(accounts_login(fx->acc, "Bad Name;", "x", T0, &a, NULL), -ENOENT);
	assert_int_equal(accounts_login(fx->acc, "admin", "", T0, &a, NULL), -EACCES);
}

static void test_lockout_grows(void **state)
{
	struct fx *fx = *state;
	struct account a;
	int64_t now = T0, retry = 0;

	for (int i = 0; i < ACCOUNT_LOCK_AFTER; i++)
		assert_int_equal(accounts_login(fx->acc, "admin", "wrong-password", now, &a, NULL),
				 -EACCES);
	/* Locked: even the right password is refused, with the wait. */
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", now + 1, &a, &retry),
			 -EAGAIN);
	assert_int_equal(retry, ACCOUNT_LOCK_BASE_MS - 1);
	/* After the wait, one more failure doubles it. */
	now += ACCOUNT_LOCK_BASE_MS;
	assert_int_equal(accounts_login(fx->acc, "admin", "wrong-password", now, &a, NULL),
			 -EACCES);
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", now, &a, &retry),
			 -EAGAIN);
	assert_int_equal(retry, 2 * ACCOUNT_LOCK_BASE_MS);
	/* Capped. */
	for (int i = 0; i < 20; i++) {
		now += ACCOUNT_LOCK_MAX_MS;
		accounts_login(fx->acc, "admin", "wrong-password", now, &a, NULL);
	}
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", now, &a, &retry),
			 -EAGAIN);
	assert_int_equal(retry, ACCOUNT_LOCK_MAX_MS);
	/* A right password after the wait clears the count. */
	now += ACCOUNT_LOCK_MAX_MS;
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", now, &a, NULL), 0);
	assert_int_equal(a.failures, 0);
	assert_int_equal(accounts_login(fx->acc, "admin", "wrong-password", now, &a, NULL),
			 -EACCES);
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", now, &a, NULL), 0);
}

static void test_admin_reset_unlocks_and_forces_change(void **state)
{
	struct fx *fx = *state;
	struct account a;

	assert_int_equal(
		accounts_add(fx->acc, "inst", ROLE_INSTALLER, "*", "given-by-admin", true, T0), 0);
	assert_int_equal(accounts_login(fx->acc, "inst", "given-by-admin", T0, &a, NULL), 0);
	assert_true(a.must_change);
	for (int i = 0; i < ACCOUNT_LOCK_AFTER; i++)
		accounts_login(fx->acc, "inst", "nope-nope-nope", T0, &a, NULL);
	assert_int_equal(accounts_login(fx->acc, "inst", "given-by-admin", T0, &a, NULL), -EAGAIN);
	assert_int_equal(accounts_set_password(fx->acc, "inst", "reset-by-admin", true, T0 + 5), 0);
	assert_int_equal(accounts_login(fx->acc, "inst", "reset-by-admin", T0 + 6, &a, NULL), 0);
	assert_true(a.must_change);
	/* The person's own change clears it; the same password is refused. */
	assert_int_equal(accounts_set_password(fx->acc, "inst", "reset-by-admin", false, T0 + 7),
			 -EINVAL);
	assert_int_equal(accounts_set_password(fx->acc, "inst", "my-own-secret", false, T0 + 7), 0);
	assert_int_equal(accounts_login(fx->acc, "inst", "my-own-secret", T0 + 8, &a, NULL), 0);
	assert_false(a.must_change);
	assert_int_equal(a.pw_changed_ms, T0 + 7);
}

static void test_password_ages(void **state)
{
	struct fx *fx = *state;
	struct account a;

	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", T0 + 89 * DAY, &a, NULL),
			 0);
	assert_false(a.must_change);
	assert_int_equal(accounts_login(fx->acc, "admin", "first-boot-pw", T0 + 90 * DAY, &a, NULL),
			 0);
	assert_true(a.must_change);
	assert_int_equal(accounts_get(fx->acc, "admin", T0 + 91 * DAY, &a), 0);
	assert_true(a.must_change);
}

static void test_last_admin(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(accounts_remove(fx->acc, "admin"), -EPERM);
	assert_int_equal(accounts_set_role(fx->acc, "admin", ROLE_OPERATOR, "*"), -EPERM);
	assert_int_equal(accounts_add(fx->acc, "boss2", ROLE_ADMIN, "*", "second-admin", false, T0),
			 0);
	assert_int_equal(accounts_set_role(fx->acc, "admin", ROLE_OPERATOR, "*"), 0);
	assert_int_equal(accounts_remove(fx->acc, "boss2"), -EPERM);
	assert_int_equal(accounts_remove(fx->acc, "admin"), 0);
	assert_int_equal(accounts_remove(fx->acc, "admin"), -ENOENT);
}

static void test_policy_and_names(void **state)
{
	struct fx *fx = *state;

	assert_non_null(accounts_password_problem("bob", "short"));
	assert_non_null(accounts_password_problem("bob", "aaaaaaaaaaaa"));
	assert_non_null(accounts_password_problem("bobbobbob", "BOBBOBBOB"));
	assert_non_null(accounts_password_problem("bob", "with\ttab-inside"));
	assert_null(accounts_password_problem("bob", "correct horse battery"));
	assert_int_equal(accounts_add(fx->acc, "bob", ROLE_OPERATOR, "*", "short", false, T0),
			 -EINVAL);
	assert_int_equal(accounts_add(fx->acc, "Bob", ROLE_OPERATOR, "*", "long-enough", false, T0),
			 -EINVAL);
	assert_int_equal(accounts_add(fx->acc, "bob", ROLE__COUNT, "*", "long-enough", false, T0),
			 -EINVAL);
	assert_int_equal(
		accounts_add(fx->acc, "bob", ROLE_OPERATOR, "a,,b", "long-enough", false, T0),
		-EINVAL);
	assert_int_equal(accounts_add(fx->acc, "bob", ROLE_OPERATOR, "a", "long-enough", false, T0),
			 0);
	assert_int_equal(accounts_add(fx->acc, "bob", ROLE_OPERATOR, "a", "long-enough", false, T0),
			 -EEXIST);
}

/* The hostile tester set "password" as the admin's password: the
 * dictionary check (libpwquality, cracklib) refuses it, and says why. */
static void test_weak_passwords_refused_with_reason(void **state)
{
	struct fx *fx = *state;
	const char *why;

	why = accounts_password_problem("admin", "password");
	assert_non_null(why);
	assert_non_null(strstr(why, "dictionary"));
	why = accounts_password_problem("admin", "Password1");
	assert_non_null(why);
	assert_non_null(strstr(why, "dictionary"));
	why = accounts_password_problem("bob", "12345678");
	assert_non_null(why);
	assert_non_null(strstr(why, "simplistic"));
	why = accounts_password_problem("admin", "admin-pass-1");
	assert_non_null(why);
	assert_non_null(strstr(why, "user name"));
	assert_null(accounts_password_problem("admin", "xk42-vault-pine"));
	assert_null(accounts_password_problem(NULL, "xk42-vault-pine"));

	assert_int_equal(accounts_add(fx->acc, "bob", ROLE_OPERATOR, "*", "password", false, T0),
			 -EINVAL);
	assert_int_equal(accounts_set_password(fx->acc, "admin", "password", false, T0), -EINVAL);
	assert_int_equal(accounts_set_password(fx->acc, "admin", "qwertyuiop", false, T0), -EINVAL);
	assert_int_equal(accounts_set_password(fx->acc, "admin", "xk42-vault-pine", false, T0 + 1),
			 0);
	assert_int_equal(
		accounts_add(fx->acc, "bob", ROLE_OPERATOR, "*", "ochre-lamp-93", false, T0), 0);
}

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU time of one failed login (thread CPU, so a loaded machine does not
 * blur it); the smallest of three. */
static int64_t fail_cost_us(struct accounts *acc, const char *name, const char *pw, int64_t now,
			    int expect)
{
	int64_t best = INT64_MAX;
	struct account a;

	for (int i = 0; i < 3; i++) {
		int64_t t = thread_cpu_us();

		assert_int_equal(accounts_login(acc, name, pw, now, &a, NULL), expect);
		t = thread_cpu_us() - t;
		best = t < best ? t : best;
	}
	return best;
}

/* C1: a locked account used to answer at once, a wrong password after a
 * PBKDF2, so timing told them apart. Now all failures do the same work. */
static void test_failures_cost_the_same(void **state)
{
	struct fx *fx = *state;
	struct accounts *slow;
	int64_t wrong, locked, unknown, now = T0 + 10;
	int64_t fails = 9, until = T0 + DAY;

	assert_int_equal(accounts_open(fx->db, 40000, &slow), 0);
	assert_int_equal(
		accounts_add(slow, "locked1", ROLE_OPERATOR, "*", "ochre-lamp-93", false, T0), 0);
	assert_int_equal(
		accounts_add(slow, "wrong1", ROLE_OPERATOR, "*", "ochre-lamp-94", false, T0), 0);
	{
		sqlite3 *db = statedb_lock(fx->db);
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_prepare_v2(db,
						    "UPDATE accounts SET failures = ?,"
						    " locked_until_ms = ? WHERE name = 'locked1'",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_int64(st, 1, fails);
		sqlite3_bind_int64(st, 2, until);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		statedb_unlock(fx->db);
	}
	wrong = fail_cost_us(slow, "wrong1", "not-it-at-all", now, -EACCES);
	locked = fail_cost_us(slow, "locked1", "not-it-at-all", now, -EAGAIN);
	assert_true(locked * 2 > wrong && wrong * 2 > locked);
	/* The right password of a locked account is refused just as slowly. */
	assert_true(fail_cost_us(slow, "locked1", "ochre-lamp-93", now, -EAGAIN) * 2 > wrong);
	unknown = fail_cost_us(slow, "nobody", "not-it-at-all", now, -ENOENT);
	assert_true(unknown * 2 > wrong && wrong * 2 > unknown);
	accounts_close(slow);
}

static void test_scope(void **state)
{
	struct fx *fx = *state;
	struct account a;
	enum account_role r;

	assert_int_equal(accounts_add(fx->acc, "op", ROLE_OPERATOR, "gate,lobby-2", "long-enough",
				      false, T0),
			 0);
	assert_int_equal(accounts_get(fx->acc, "op", T0, &a), 0);
	assert_true(account_may_camera(&a, "gate"));
	assert_true(account_may_camera(&a, "lobby-2"));
	assert_false(account_may_camera(&a, "lobby"));
	assert_false(account_may_camera(&a, "gat"));
	assert_false(account_may_camera(&a, "gate,lobby-2"));
	assert_int_equal(accounts_get(fx->acc, "admin", T0, &a), 0);
	assert_true(account_may_camera(&a, "anything"));
	assert_int_equal(account_role_parse("auditor", &r), 0);
	assert_int_equal(r, ROLE_AUDITOR);
	assert_int_equal(account_role_parse("root", &r), -EINVAL);
	assert_string_equal(account_role_name(ROLE_CENTRAL), "central");
}

static int count_fn(void *arg, const struct account *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static void test_rehash_on_login(void **state)
{
	struct fx *fx = *state;
	struct accounts *stronger;
	struct account a;
	int n = 0;
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(accounts_open(fx->db, 2 * ACCOUNT_PBKDF2_MIN, &stronger), 0);
	assert_int_equal(accounts_login(stronger, "admin", "first-boot-pw", T0 + 3, &a, NULL), 0);
	db = statedb_lock(fx->db);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT iterations, pw_changed_ms FROM accounts",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 2 * ACCOUNT_PBKDF2_MIN);
	assert_int_equal(sqlite3_column_int64(st, 1), T0);
	sqlite3_finalize(st);
	statedb_unlock(fx->db);
	assert_int_equal(accounts_login(stronger, "admin", "first-boot-pw", T0 + 4, &a, NULL), 0);
	assert_int_equal(accounts_list(stronger, T0, count_fn, &n), 0);
	assert_int_equal(n, 1);
	accounts_close(stronger);
	assert_int_equal(accounts_open(fx->db, 10, &stronger), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_login),
		T(test_lockout_grows),
		T(test_admin_reset_unlocks_and_forces_change),
		T(test_password_ages),
		T(test_last_admin),
		T(test_policy_and_names),
		T(test_weak_passwords_refused_with_reason),
		T(test_failures_cost_the_same),
		T(test_scope),
		T(test_rehash_on_login),
#undef T
	};

	log_init("accounts_test", LOG_DEST_PLAIN,
		 getenv("ACCOUNTS_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
