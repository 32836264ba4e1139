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
	assert_int_equal(accounts_login(fx->acc, "nobody", "first-boot-pw", T0, &a, NULL), -EACCES);
	assert_int_equal(accounts_login(fx->acc, "Bad Name;", "x", T0, &a, NULL), -EACCES);
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
	accounts_set_max_age(fx->acc, 0);
	assert_int_equal(accounts_get(fx->acc, "admin", T0 + 900 * DAY, &a), 0);
	assert_false(a.must_change);
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
		T(test_scope),
		T(test_rehash_on_login),
#undef T
	};

	log_init("accounts_test", LOG_DEST_PLAIN,
		 getenv("ACCOUNTS_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
