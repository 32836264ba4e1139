// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_users - accounts (user add, remove, passwd, set, list) and the
 * audit log (log show, log verify) at the console. Passwords are asked
 * for without echo, never taken from the command line, so they reach
 * neither the history nor the audit rows.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "firmware/audit.h"
#include "lib/parse.h"
#include "lib/termsafe.h"

#define LOG_SHOW_DEFAULT 20
#define LOG_SHOW_MAX	 1000

static int print_row(void *arg, const struct audit_row *r)
{
	struct console *c = arg;
	struct termsafe_buf tb = { 0 };
	char when[32];

	format_time_ms(r->ts_ms, when, sizeof(when));
	/* Objects and details can hold what central or a camera sent. */
	console__printf(c, "%6lld %s %-10s %-18s %-20s %s\n", (long long)r->id, when,
			termsafe_add(&tb, r->actor), termsafe_add(&tb, r->action),
			termsafe_add(&tb, r->object), termsafe_add(&tb, r->detail));
	return 0;
}

int console__cmd_log_show(struct console *c, int argc, char **argv)
{
	uint8_t h[AUDIT_HASH_LEN];
	int64_t n = LOG_SHOW_DEFAULT, last = 0;

	if (argc && parse_i64(argv[0], 1, LOG_SHOW_MAX, &n)) {
		console__printf(c, "error: N must be 1 to %d\n", LOG_SHOW_MAX);
		return -EINVAL;
	}
	if (audit_head(c->o->sdb, &last, h))
		return -EIO;
	/* Ids rise by one (audit.c); a gap only shortens the listing. */
	return audit_list(c->o->sdb, last - n, (int)n, print_row, c) ? -EIO : 0;
}

int console__cmd_log_verify(struct console *c, int argc, char **argv)
{
	struct audit_verify_report rep;
	char detail[128];
	int ret;

	(void)argc;
	(void)argv;
	ret = audit_verify(c->o->sdb, &rep);
	if (ret == -EBADMSG) {
		console__printf(c, "audit log: BAD at row %lld: %s (%llu rows checked)\n",
				(long long)rep.first_bad_id, rep.why, (unsigned long long)rep.rows);
		snprintf(detail, sizeof(detail), "bad at row %lld", (long long)rep.first_bad_id);
	} else if (ret == -ENOKEY) {
		console__printf(c, "error: row %lld is keyed and the audit key is not loaded\n",
				(long long)rep.first_bad_id);
		return ret;
	} else if (!ret) {
		console__printf(c, "audit log: %llu rows, chain intact\n",
				(unsigned long long)rep.rows);
		snprintf(detail, sizeof(detail), "intact, %llu rows", (unsigned long long)rep.rows);
	} else {
		console__printf(c, "error: cannot read the audit log\n");
		return ret;
	}
	console__audit(c, "log-verify", "audit", detail);
	return ret;
}

static int parse_role_scope(struct console *c, char **argv, int argc, enum account_role *rp,
			    const char **scopep)
{
	if (account_role_parse(argv[1], rp) || *rp == ROLE_CENTRAL) {
		console__printf(c, "error: role must be admin, installer, operator or auditor\n");
		return -EINVAL;
	}
	*scopep = argc > 2 ? argv[2] : "*";
	if (!account_scope_valid(*scopep)) {
		console__printf(c,
				"error: CAMERAS must be * or camera names separated by commas\n");
		return -EINVAL;
	}
	return 0;
}

int console__cmd_user_add(struct console *c, int argc, char **argv)
{
	char pw[ACCOUNT_PW_MAX + 2], detail[ACCOUNT_SCOPE_MAX + 32];
	const char *scope;
	enum account_role role;
	int ret;

	if (!account_name_valid(argv[0])) {
		console__printf(c, "error: names are 1-31 of a-z 0-9 . _ - and start with a letter "
				   "or digit\n");
		return -EINVAL;
	}
	ret = parse_role_scope(c, argv, argc, &role, &scope);
	if (ret)
		return ret;
	console__printf(c, "Initial password for %s (to be changed at first login):\n", argv[0]);
	ret = console__new_password(c, argv[0], pw, sizeof(pw));
	if (!ret)
		ret = accounts_add(c->o->acc, argv[0], role, scope, pw, true, console__now(c));
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (ret == -EEXIST)
		console__printf(c, "error: %s exists already\n", argv[0]);
	if (ret)
		return ret;
	snprintf(detail, sizeof(detail), "role=%s cameras=%s", account_role_name(role), scope);
	console__audit(c, "user-add", argv[0], detail);
	console__printf(c, "account %s added\n", argv[0]);
	return 0;
}

int console__cmd_user_remove(struct console *c, int argc, char **argv)
{
	int ret = accounts_remove(c->o->acc, argv[0]);

	(void)argc;
	if (ret == -ENOENT)
		console__printf(c, "error: no account %s\n", argv[0]);
	else if (ret == -EPERM)
		console__printf(c, "error: %s is the last admin\n", argv[0]);
	if (ret)
		return ret;
	console__audit(c, "user-remove", argv[0], "");
	console__printf(c, "account %s removed\n", argv[0]);
	return 0;
}

int console__cmd_user_passwd(struct console *c, int argc, char **argv)
{
	char pw[ACCOUNT_PW_MAX + 2];
	struct account a;
	int ret;

	(void)argc;
	ret = accounts_get(c->o->acc, argv[0], console__now(c), &a);
	if (ret == -ENOENT)
		console__printf(c, "error: no account %s\n", argv[0]);
	if (!ret)
		ret = console__new_password(c, argv[0], pw, sizeof(pw));
	if (!ret)
		ret = accounts_set_password(c->o->acc, argv[0], pw, true, console__now(c));
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (ret == -EINVAL)
		console__printf(c, "error: that is the current password\n");
	if (ret)
		return ret;
	console__audit(c, "user-passwd", argv[0], "reset, unlocked, change at next login");
	console__printf(c, "password of %s reset\n", argv[0]);
	return 0;
}

int console__cmd_user_set(struct console *c, int argc, char **argv)
{
	char detail[ACCOUNT_SCOPE_MAX + 64];
	enum account_role role;
	const char *scope;
	struct account a;
	int ret;

	ret = parse_role_scope(c, argv, argc, &role, &scope);
	if (!ret)
		ret = accounts_get(c->o->acc, argv[0], console__now(c), &a);
	if (ret == -ENOENT)
		console__printf(c, "error: no account %s\n", argv[0]);
	if (!ret)
		ret = accounts_set_role(c->o->acc, argv[0], role, scope);
	if (ret == -EPERM)
		console__printf(c, "error: %s is the last admin\n", argv[0]);
	if (ret)
		return ret;
	snprintf(detail, sizeof(detail), "role %s -> %s, cameras %s -> %s",
		 account_role_name(a.role), account_role_name(role), a.scope, scope);
	console__audit(c, "user-set", argv[0], detail);
	return 0;
}

static int list_one(void *arg, const struct account *a)
{
	struct console *c = arg;
	char when[32] = "never";

	if (a->last_login_ms)
		format_time_ms(a->last_login_ms, when, sizeof(when));
	console__printf(c, "  %-16s %-10s %-20s last login %s%s%s\n", a->name,
			account_role_name(a->role), a->scope, when,
			a->locked_until_ms > console__now(c) ? ", LOCKED" : "",
			a->must_change ? ", must change password" : "");
	return 0;
}

int console__cmd_user_list(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return accounts_list(c->o->acc, console__now(c), list_one, c) ? -EIO : 0;
}
