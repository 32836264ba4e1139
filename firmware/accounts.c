// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Accounts in state.db; guarantees C1-C4 are in firmware/accounts.h.
 *
 * Password policy (accounts_password_problem(), also in docs/console.md):
 * ACCOUNT_PW_MIN to ACCOUNT_PW_MAX bytes, no control characters, not the
 * account name, not one character repeated, then libpwquality with its
 * cracklib dictionary: not a dictionary word or a simple variation of one
 * ("password", "Password1"), not systematic ("12345678"), not containing
 * the account name. Length beats composition rules (NIST SP 800-63B), so
 * there are none; SP 800-63B does ask for the dictionary check. The
 * library's settings are fixed here, not read from
 * /etc/security/pwquality.conf, so every gateway applies one policy.
 */
#include "firmware/accounts.h"

#include <errno.h>
#include <pthread.h>
#include <pwquality.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <mbedtls/platform_util.h>

#include "lib/log.h"
#include "lib/mbedtls_compat.h"
#include "lib/sql.h"
#include "storage/statedb.h"

struct accounts {
	struct statedb *db;
	unsigned int iterations;
	int64_t max_age_ms;
};

/* Append only: step N takes module "accounts" from version N to N+1. */
static const char *const accounts_steps[] = {
	"CREATE TABLE accounts ("
	" name TEXT PRIMARY KEY,"
	" role TEXT NOT NULL,"
	" scope TEXT NOT NULL,"
	" salt BLOB NOT NULL,"
	" hash BLOB NOT NULL,"
	" iterations INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" pw_changed_ms INTEGER NOT NULL,"
	" must_change INTEGER NOT NULL DEFAULT 0,"
	" last_login_ms INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" locked_until_ms INTEGER NOT NULL DEFAULT 0);",
};

static const char *const role_names[ROLE__COUNT] = {
	[ROLE_ADMIN] = "admin",	    [ROLE_INSTALLER] = "installer", [ROLE_OPERATOR] = "operator",
	[ROLE_AUDITOR] = "auditor", [ROLE_CENTRAL] = "central",
};

/* An account row with its secret columns, private to this file. */
struct acct_row {
	struct account a;
	uint8_t salt[ACCOUNT_SALT_LEN];
	uint8_t hash[ACCOUNT_HASH_LEN];
	unsigned int iterations;
	bool must_change_flag; /* the stored flag, before ageing */
};

#define ROW_COLS                                                                                   \
	"name, role, scope, salt, hash, iterations, created_ms, pw_changed_ms,"                    \
	" must_change, last_login_ms, failures, locked_until_ms"

static int pbkdf2(const char *pw, const uint8_t *salt, unsigned int iter, uint8_t *out)
{
	return mbedtls_compat_pbkdf2_sha256(pw, salt, ACCOUNT_SALT_LEN, iter, out,
					    ACCOUNT_HASH_LEN);
}

const char *account_role_name(enum account_role r)
{
	return (unsigned int)r < ROLE__COUNT ? role_names[r] : "?";
}

int account_role_parse(const char *name, enum account_role *rp)
{
	for (int r = 0; name && r < ROLE__COUNT; r++) {
		if (!strcmp(name, role_names[r])) {
			*rp = (enum account_role)r;
			return 0;
		}
	}
	return -EINVAL;
}

bool account_name_valid(const char *name)
{
	size_t n = name ? strnlen(name, ACCOUNT_NAME_MAX) : 0;

	if (!n || n >= ACCOUNT_NAME_MAX || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", name[0]))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool camera_name_ok(const char *s, size_t n)
{
	static const char ok[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	if (!n || n >= 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(ok, s[i]))
			return false;
	return true;
}

bool account_scope_valid(const char *scope)
{
	const char *p, *comma;

	if (!scope || strnlen(scope, ACCOUNT_SCOPE_MAX) >= ACCOUNT_SCOPE_MAX)
		return false;
	if (!strcmp(scope, "*"))
		return true;
	for (p = scope;; p = comma + 1) {
		comma = strchr(p, ',');
		if (!camera_name_ok(p, comma ? (size_t)(comma - p) : strlen(p)))
			return false;
		if (!comma)
			return true;
	}
}

bool account_may_camera(const struct account *a, const char *camera)
{
	size_t n = strlen(camera);
	const char *p = a->scope, *comma;

	if (!strcmp(a->scope, "*"))
		return true;
	for (;; p = comma + 1) {
		comma = strchr(p, ',');
		if ((size_t)(comma ? comma - p : (ptrdiff_t)strlen(p)) == n &&
		    !strncmp(p, camera, n))
			return true;
		if (!comma)
			return false;
	}
}

/* cracklib's dictionary reader keeps state between calls: one at a time. */
static pthread_mutex_t pwq_lock = PTHREAD_MUTEX_INITIALIZER;

/* libpwquality's verdict on @password for @name: NULL, or its reason. */
static const char *pwq_problem(const char *name, const char *password)
{
	static __thread char why[PWQ_MAX_ERROR_MESSAGE_LEN];
	pwquality_settings_t *pwq = pwquality_default_settings();
	void *aux = NULL;
	int rc;

	if (!pwq)
		return "cannot be checked now (out of memory)";
	pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, ACCOUNT_PW_MIN);
	pwquality_set_int_value(pwq, PWQ_SETTING_DICT_CHECK, 1);
	pwquality_set_int_value(pwq, PWQ_SETTING_USER_CHECK, 1);
	pthread_mutex_lock(&pwq_lock);
	rc = pwquality_check(pwq, password, NULL, name, &aux);
	pthread_mutex_unlock(&pwq_lock);
	pwquality_free_settings(pwq);
	if (rc >= 0)
		return NULL;
	/* Also frees @aux where the library allocated it. */
	return pwquality_strerror(why, sizeof(why), rc, aux);
}

const char *accounts_password_problem(const char *name, const char *password)
{
	size_t n = password ? strlen(password) : 0;
	bool same = true;

	if (n < ACCOUNT_PW_MIN)
		return "too short (at least 8 characters)";
	if (n > ACCOUNT_PW_MAX)
		return "too long (at most 128 bytes)";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
			return "control characters are not allowed";
		same = same && password[i] == password[0];
	}
	if (same)
		return "one character repeated is too easy";
	if (name && !strcasecmp(name, password))
		return "must not be the account name";
	return pwq_problem(name, password);
}

static int db_fail(sqlite3 *db, const char *what)
{
	log_err("accounts: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

int accounts_open(struct statedb *db, unsigned int iterations, struct accounts **accp)
{
	struct accounts *acc;
	int ret;

	if (!iterations)
		iterations = ACCOUNT_PBKDF2_ITER;
	if (iterations < ACCOUNT_PBKDF2_MIN)
		return -EINVAL;
	ret = statedb_migrate(db, "accounts", accounts_steps,
			      (int)(sizeof(accounts_steps) / sizeof(accounts_steps[0])));
	if (ret)
		return ret;
	acc = calloc(1, sizeof(*acc));
	if (!acc)
		return -ENOMEM;
	acc->db = db;
	acc->iterations = iterations;
	acc->max_age_ms = ACCOUNT_PW_MAX_AGE_MS;
	*accp = acc;
	return 0;
}

void accounts_close(struct accounts *acc)
{
	free(acc);
}

static void row_read(sqlite3_stmt *st, struct acct_row *r)
{
	const void *b;

	memset(r, 0, sizeof(*r));
	snprintf(r->a.name, sizeof(r->a.name), "%s", (const char *)sqlite3_column_text(st, 0));
	if (account_role_parse((const char *)sqlite3_column_text(st, 1), &r->a.role))
		r->a.role = ROLE_AUDITOR; /* unknown text: the least power */
	snprintf(r->a.scope, sizeof(r->a.scope), "%s", (const char *)sqlite3_column_text(st, 2));
	b = sqlite3_column_blob(st, 3);
	if (b && sqlite3_column_bytes(st, 3) == ACCOUNT_SALT_LEN)
		memcpy(r->salt, b, ACCOUNT_SALT_LEN);
	b = sqlite3_column_blob(st, 4);
	if (b && sqlite3_column_bytes(st, 4) == ACCOUNT_HASH_LEN)
		memcpy(r->hash, b, ACCOUNT_HASH_LEN);
	r->iterations = (unsigned int)sqlite3_column_int64(st, 5);
	r->a.created_ms = sqlite3_column_int64(st, 6);
	r->a.pw_changed_ms = sqlite3_column_int64(st, 7);
	r->must_change_flag = sqlite3_column_int(st, 8) != 0;
	r->a.last_login_ms = sqlite3_column_int64(st, 9);
	r->a.failures = (uint32_t)sqlite3_column_int64(st, 10);
	r->a.locked_until_ms = sqlite3_column_int64(st, 11);
}

static void row_age(const struct accounts *acc, struct acct_row *r, int64_t now_ms)
{
	r->a.must_change = r->must_change_flag ||
			   (acc->max_age_ms > 0 && now_ms - r->a.pw_changed_ms >= acc->max_age_ms);
}

static int row_load(struct accounts *acc, const char *name, struct acct_row *r)
{
	sqlite3 *db = statedb_lock(acc->db);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db, "SELECT " ROW_COLS " FROM accounts WHERE name = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		ret = db_fail(db, "read");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_read(st, r);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : db_fail(db, "read");
out:
	sqlite3_finalize(st);
	statedb_unlock(acc->db);
	return ret;
}

/* Runs @sql with text/int64 parameters given as a format: 't' text,
 * 'i' int64, 'b' blob of ACCOUNT_HASH_LEN, 's' blob of ACCOUNT_SALT_LEN.
 * *changesp (may be NULL) gets sqlite3_changes(). */
static int exec_bind(struct accounts *acc, const char *sql, const char *fmt, const void *const *v,
		     int *changesp)
{
	sqlite3 *db = statedb_lock(acc->db);
	sqlite3_stmt *st = NULL;
	int ret = 0, rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		ret = db_fail(db, "prepare");
		goto out;
	}
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 't')
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
		else if (fmt[i] == 'i')
			sqlite3_bind_int64(st, i + 1, *(const int64_t *)v[i]);
		else
			sqlite3_bind_blob(st, i + 1, v[i],
					  fmt[i] == 'b' ? ACCOUNT_HASH_LEN : ACCOUNT_SALT_LEN,
					  SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT)
		ret = -EEXIST;
	else if (rc != SQLITE_DONE)
		ret = db_fail(db, "write");
	if (changesp)
		*changesp = sqlite3_changes(db);
out:
	sqlite3_finalize(st);
	statedb_unlock(acc->db);
	return ret;
}

/* A fresh salt and the hash of @password under @acc's iteration count. */
static int make_hash(const struct accounts *acc, const char *password, uint8_t *salt, uint8_t *hash)
{
	if (getrandom(salt, ACCOUNT_SALT_LEN, 0) != ACCOUNT_SALT_LEN) {
		log_err("accounts: getrandom: %s", strerror(errno));
		return -EIO;
	}
	return pbkdf2(password, salt, acc->iterations, hash) ? -EIO : 0;
}

/* The one row of a SELECT count(*). */
static int count_row(void *arg, sqlite3_stmt *st)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 0;
}

int accounts_count(struct accounts *acc, unsigned int *np)
{
	sqlite3 *db = statedb_lock(acc->db);
	int64_t n = 0;
	int ret =
		sql_exec(db, "accounts: count", "SELECT count(*) FROM accounts", count_row, &n, "");

	statedb_unlock(acc->db);
	if (!ret)
		*np = (unsigned int)n;
	return ret;
}

static int admins_count(struct accounts *acc, int64_t *np)
{
	sqlite3 *db = statedb_lock(acc->db);
	int ret = sql_exec(db, "accounts: count", "SELECT count(*) FROM accounts WHERE role = ?",
			   count_row, np, "t", "admin");

	statedb_unlock(acc->db);
	return ret;
}

int accounts_add(struct accounts *acc, const char *name, enum account_role role, const char *scope,
		 const char *password, bool must_change, int64_t now_ms)
{
	uint8_t salt[ACCOUNT_SALT_LEN], hash[ACCOUNT_HASH_LEN];
	int64_t iter = acc->iterations, mc = must_change;
	const void *v[] = { name, NULL, scope, salt, hash, &iter, &now_ms, &now_ms, &mc };
	int ret;

	if (!account_name_valid(name) || (unsigned int)role >= ROLE__COUNT ||
	    !account_scope_valid(scope) || accounts_password_problem(name, password))
		return -EINVAL;
	v[1] = role_names[role];
	ret = make_hash(acc, password, salt, hash);
	if (!ret)
		ret = exec_bind(
			acc,
			"INSERT INTO accounts(name, role, scope, salt, hash, iterations,"
			" created_ms, pw_changed_ms, must_change) VALUES(?,?,?,?,?,?,?,?,?)",
			"tttsbiiii", v, NULL);
	mbedtls_platform_zeroize(hash, sizeof(hash));
	return ret;
}

int accounts_remove(struct accounts *acc, const char *name)
{
	const void *v[] = { name };
	struct acct_row r;
	int64_t admins = 0;
	int ret, n = 0;

	ret = row_load(acc, name, &r);
	if (!ret && r.a.role == ROLE_ADMIN)
		ret = admins_count(acc, &admins);
	if (ret)
		return ret;
	if (r.a.role == ROLE_ADMIN && admins <= 1)
		return -EPERM;
	ret = exec_bind(acc, "DELETE FROM accounts WHERE name = ?", "t", v, &n);
	return ret ? ret : n ? 0 : -ENOENT;
}

int accounts_wipe(struct accounts *acc)
{
	return exec_bind(acc, "DELETE FROM accounts", "", NULL, NULL);
}

int accounts_set_role(struct accounts *acc, const char *name, enum account_role role,
		      const char *scope)
{
	const void *v[] = { NULL, scope, name };
	struct acct_row r;
	int64_t admins = 0;
	int ret;

	if ((unsigned int)role >= ROLE__COUNT || !account_scope_valid(scope))
		return -EINVAL;
	v[0] = role_names[role];
	ret = row_load(acc, name, &r);
	if (!ret && r.a.role == ROLE_ADMIN && role != ROLE_ADMIN)
		ret = admins_count(acc, &admins);
	if (ret)
		return ret;
	if (r.a.role == ROLE_ADMIN && role != ROLE_ADMIN && admins <= 1)
		return -EPERM;
	return exec_bind(acc, "UPDATE accounts SET role = ?, scope = ? WHERE name = ?", "ttt", v,
			 NULL);
}

/* Constant time: how long it takes does not say where they differ. */
static bool same_hash(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (size_t i = 0; i < ACCOUNT_HASH_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int store_password(struct accounts *acc, const char *name, const char *password,
			  bool must_change, int64_t now_ms)
{
	uint8_t salt[ACCOUNT_SALT_LEN], hash[ACCOUNT_HASH_LEN];
	int64_t iter = acc->iterations, mc = must_change;
	const void *v[] = { salt, hash, &iter, &now_ms, &mc, name };
	int ret, n = 0;

	ret = make_hash(acc, password, salt, hash);
	if (!ret)
		ret = exec_bind(acc,
				"UPDATE accounts SET salt = ?, hash = ?, iterations = ?,"
				" pw_changed_ms = ?, must_change = ?, failures = 0,"
				" locked_until_ms = 0 WHERE name = ?",
				"sbiiit", v, &n);
	mbedtls_platform_zeroize(hash, sizeof(hash));
	return ret ? ret : n ? 0 : -ENOENT;
}

int accounts_set_password(struct accounts *acc, const char *name, const char *password,
			  bool must_change, int64_t now_ms)
{
	uint8_t hash[ACCOUNT_HASH_LEN];
	struct acct_row r;
	bool same;
	int ret;

	if (accounts_password_problem(name, password))
		return -EINVAL;
	ret = row_load(acc, name, &r);
	if (ret)
		return ret;
	if (pbkdf2(password, r.salt, r.iterations, hash))
		return -EIO;
	same = same_hash(hash, r.hash);
	mbedtls_platform_zeroize(hash, sizeof(hash));
	if (same)
		return -EINVAL;
	return store_password(acc, name, password, must_change, now_ms);
}

int accounts_get(struct accounts *acc, const char *name, int64_t now_ms, struct account *out)
{
	struct acct_row r;
	int ret = row_load(acc, name, &r);

	if (ret)
		return ret;
	row_age(acc, &r, now_ms);
	*out = r.a;
	return 0;
}

int accounts_list(struct accounts *acc, int64_t now_ms,
		  int (*fn)(void *arg, const struct account *a), void *arg)
{
	sqlite3 *db = statedb_lock(acc->db);
	sqlite3_stmt *st = NULL;
	struct acct_row *rows = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc, ret = 0;

	/* Copied out first: @fn runs without the statedb lock, so it may
	 * write audit rows. */
	if (sqlite3_prepare_v2(db, "SELECT " ROW_COLS " FROM accounts ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK)
		ret = db_fail(db, "list");
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(rows, cap * sizeof(*rows));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			rows = grown;
		}
		row_read(st, &rows[n++]);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(db, "list");
	sqlite3_finalize(st);
	statedb_unlock(acc->db);
	for (size_t i = 0; !ret && i < n; i++) {
		row_age(acc, &rows[i], now_ms);
		ret = fn(arg, &rows[i].a);
	}
	if (rows)
		mbedtls_platform_zeroize(rows, n * sizeof(*rows));
	free(rows);
	return ret;
}

static int64_t lock_ms(uint32_t failures)
{
	int64_t ms = ACCOUNT_LOCK_BASE_MS;

	for (uint32_t i = ACCOUNT_LOCK_AFTER; i < failures && ms < ACCOUNT_LOCK_MAX_MS; i++)
		ms *= 2;
	return ms < ACCOUNT_LOCK_MAX_MS ? ms : ACCOUNT_LOCK_MAX_MS;
}

static int login_failed(struct accounts *acc, struct acct_row *r, int64_t now_ms)
{
	int64_t fails = (int64_t)r->a.failures + 1, until = 0;
	const void *v[] = { &fails, &until, r->a.name };

	if (fails >= ACCOUNT_LOCK_AFTER) {
		until = now_ms + lock_ms((uint32_t)fails);
		/* A notice, not a warning: `camgate console` shows warnings on
		 * its own terminal, which would tell a prober the lock. */
		log_notice("accounts: %s locked for %lld s after %lld failed logins", r->a.name,
			   (long long)((until - now_ms) / 1000), (long long)fails);
	}
	exec_bind(acc, "UPDATE accounts SET failures = ?, locked_until_ms = ? WHERE name = ?",
		  "iit", v, NULL);
	return -EACCES;
}

static int login_ok(struct accounts *acc, struct acct_row *r, const char *password, int64_t now_ms)
{
	const void *v[] = { &now_ms, r->a.name };
	int ret;

	ret = exec_bind(acc,
			"UPDATE accounts SET failures = 0, locked_until_ms = 0,"
			" last_login_ms = ? WHERE name = ?",
			"it", v, NULL);
	/* An older, cheaper hash is replaced while the password is at hand;
	 * the change date stays, so ageing is not reset. */
	if (!ret && r->iterations < acc->iterations) {
		int64_t changed = r->a.pw_changed_ms;

		ret = store_password(acc, r->a.name, password, r->must_change_flag, changed);
	}
	r->a.failures = 0;
	r->a.locked_until_ms = 0;
	r->a.last_login_ms = now_ms;
	return ret;
}

int accounts_login(struct accounts *acc, const char *name, const char *password, int64_t now_ms,
		   struct account *out, int64_t *retry_msp)
{
	static const uint8_t dummy_salt[ACCOUNT_SALT_LEN];
	const char *pw = password ? password : "";
	uint8_t hash[ACCOUNT_HASH_LEN];
	struct acct_row r;
	bool ok;
	int ret;

	/* Every failure costs the same PBKDF2 of the password: an unknown
	 * name under a dummy salt at the current count, a locked account and
	 * a wrong password under the row's own, so how long the answer takes
	 * tells none of them from another (C1). */
	ret = account_name_valid(name) ? row_load(acc, name, &r) : -ENOENT;
	if (ret == -ENOENT) {
		pbkdf2(pw, dummy_salt, acc->iterations, hash);
		mbedtls_platform_zeroize(hash, sizeof(hash));
		return -ENOENT;
	}
	if (ret)
		return ret;
	if (pbkdf2(pw, r.salt, r.iterations, hash))
		return -EIO;
	ok = same_hash(hash, r.hash);
	mbedtls_platform_zeroize(hash, sizeof(hash));
	if (r.a.locked_until_ms > now_ms) {
		if (retry_msp)
			*retry_msp = r.a.locked_until_ms - now_ms;
		return -EAGAIN;
	}
	if (!ok)
		return login_failed(acc, &r, now_ms);
	ret = login_ok(acc, &r, password, now_ms);
	if (ret)
		return ret;
	row_age(acc, &r, now_ms);
	*out = r.a;
	mbedtls_platform_zeroize(&r, sizeof(r));
	return 0;
}
