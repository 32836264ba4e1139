/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * accounts - one account per person, with a role and a camera scope (R5,
 * R6), in state.db (table `accounts`, statedb module "accounts").
 *
 * Passwords are stored as PBKDF2-HMAC-SHA256 (mbedtls) with a 16-byte
 * random salt per account and the iteration count kept per row, so the
 * default can rise: a login with an older count re-hashes the password.
 * ACCOUNT_PBKDF2_ITER (200 000) costs about 0.6 s on one x86 core and
 * 1-2 s on a Cortex-A72; the serial console limits guessing online
 * (lockout), the count protects a copied state.db offline.
 *
 * Guarantees (tests/unit/accounts_test.c):
 *  C1  accounts_login() accepts only the right password of an unlocked
 *      account, and spends the same PBKDF2 work on an unknown name, a
 *      locked account and a wrong password.
 *  C2  ACCOUNT_LOCK_AFTER wrong passwords in a row lock the account for
 *      ACCOUNT_LOCK_BASE_MS, doubling with every further failure up to
 *      ACCOUNT_LOCK_MAX_MS; a right password while locked is refused.
 *  C3  A password older than the maximum age (default 90 days), or one set
 *      by someone else (admin reset, new account), must be changed at
 *      login: the login succeeds with must_change set and the caller lets
 *      the session do nothing else.
 *  C4  The last admin cannot be removed or demoted.
 * No function here prints or logs a password or a hash.
 *
 * Time is injected (@now_ms). Threads: any; statedb serialises.
 * Errors: -EINVAL (bad name, role, scope or password; see
 * accounts_password_problem()), -EEXIST, -ENOENT, -EACCES (wrong
 * password), -EAGAIN (locked), -EPERM (last admin), -EIO (logged), -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_ACCOUNTS_H
#define CAMGATE_FIRMWARE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

struct statedb;
struct accounts; /* opaque */

enum account_role {
	ROLE_ADMIN,	/* everything, including accounts */
	ROLE_INSTALLER, /* cameras, uplink, settings; no accounts */
	ROLE_OPERATOR,	/* look at cameras and status within its scope */
	ROLE_AUDITOR,	/* read and verify the audit log, nothing else */
	ROLE_CENTRAL,	/* commands that arrive through the uplink */
	ROLE__COUNT
};
#define ROLE_BIT(r) (1u << (r))
#define ROLES_ALL   ((1u << ROLE__COUNT) - 1)

#define ACCOUNT_NAME_MAX      32  /* bytes, NUL included: [a-z0-9._-] */
#define ACCOUNT_SCOPE_MAX     512 /* "*" or camera names, comma-separated */
#define ACCOUNT_PW_MIN	      8
#define ACCOUNT_PW_MAX	      128
#define ACCOUNT_SALT_LEN      16
#define ACCOUNT_HASH_LEN      32
#define ACCOUNT_PBKDF2_ITER   200000u
#define ACCOUNT_PBKDF2_MIN    1000u /* tests only go this low */
#define ACCOUNT_LOCK_AFTER    5
#define ACCOUNT_LOCK_BASE_MS  30000LL
#define ACCOUNT_LOCK_MAX_MS   (15 * 60 * 1000LL)
#define ACCOUNT_PW_MAX_AGE_MS (90 * 86400 * 1000LL)

const char *account_role_name(enum account_role r); /* "admin" ... */
int account_role_parse(const char *name, enum account_role *rp);

struct account {
	char name[ACCOUNT_NAME_MAX];
	enum account_role role;
	char scope[ACCOUNT_SCOPE_MAX]; /* "*" or "cam1,cam2" */
	int64_t created_ms;
	int64_t pw_changed_ms;
	int64_t last_login_ms;
	int64_t locked_until_ms;
	uint32_t failures;
	bool must_change; /* C3, computed at login and by accounts_get() */
};

/* Migrate the table. @iterations 0 means ACCOUNT_PBKDF2_ITER; lower than
 * ACCOUNT_PBKDF2_MIN is refused (-EINVAL). @db borrowed, must outlive. */
int accounts_open(struct statedb *db, unsigned int iterations, struct accounts **accp);
void accounts_close(struct accounts *acc); /* NULL is a no-op */

int accounts_count(struct accounts *acc, unsigned int *np);

/* NULL when @password is acceptable for @name (NULL: no name to compare),
 * else why not: our own rules, then libpwquality's reason (dictionary
 * word, too simple, contains the name). The message is static or this
 * thread's, valid until its next call. */
const char *accounts_password_problem(const char *name, const char *password);
bool account_name_valid(const char *name);
/* "*" or a comma-separated list of valid camera names. */
bool account_scope_valid(const char *scope);

/* @must_change: the person must pick a new one at first login (C3). */
int accounts_add(struct accounts *acc, const char *name, enum account_role role, const char *scope,
		 const char *password, bool must_change, int64_t now_ms);
int accounts_remove(struct accounts *acc, const char *name);
/* Factory reset: every account goes; the next console is a first start. */
int accounts_wipe(struct accounts *acc);
int accounts_set_role(struct accounts *acc, const char *name, enum account_role role,
		      const char *scope);
/* Set a new password; @must_change as for accounts_add(). Clears the
 * lockout. -EINVAL also when it equals the current one. */
int accounts_set_password(struct accounts *acc, const char *name, const char *password,
			  bool must_change, int64_t now_ms);

int accounts_get(struct accounts *acc, const char *name, int64_t now_ms, struct account *out);
/* Calls @fn for every account in name order; non-0 from @fn stops. */
int accounts_list(struct accounts *acc, int64_t now_ms,
		  int (*fn)(void *arg, const struct account *a), void *arg);

/* C1-C3. 0: *out filled (check out->must_change). -ENOENT: unknown (or
 * invalid) name. -EACCES: wrong password. -EAGAIN: locked, whatever the
 * password; *retry_msp (may be NULL) says for how long. The three differ
 * for the audit log only: a person must get one answer for all three. */
int accounts_login(struct accounts *acc, const char *name, const char *password, int64_t now_ms,
		   struct account *out, int64_t *retry_msp);

/* May @a act on camera @camera (its scope)? */
bool account_may_camera(const struct account *a, const char *camera);

#endif /* CAMGATE_FIRMWARE_ACCOUNTS_H */
