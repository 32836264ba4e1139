// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_update - `camgate update [--check] [--force --admin NAME]
 * [--keyring PEM] FILE`: install a signed RAUC bundle into the inactive
 * slot (docs/operations.md).
 *
 * RAUC does the work (verity bundles, slots, boot counting through the
 * bootloader); this command decides whether it may:
 *   1. `rauc info --keyring=PEM` verifies the signature against the
 *      image's keyring and reads the manifest: a tampered bundle or one
 *      signed by another key is refused here;
 *   2. the manifest's compatible must be this board's (camgate-BOARD);
 *   3. a version lower than the running one is a downgrade, refused unless
 *      --force comes with --admin NAME and that admin's password (first
 *      line of stdin);
 *   4. `rauc install FILE` (the payload is checked block by block through
 *      dm-verity as it is written to the inactive slot).
 * Each step, refusals included, is an audit row (actor: the admin, or
 * "local" for whoever runs the command on the gateway).
 *
 * The rauc program is $CAMGATE_RAUC when set (tests), else "rauc" in PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "board_defaults.h"
#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "storage/statedb.h"
#include "version.h"

extern char **environ;

#define UPDATE_KEYRING	      "/etc/rauc/keyring.pem"
#define UPDATE_ITERATIONS_ENV "CAMGATE_PBKDF2_ITERATIONS" /* as `camgate console` */

static const char usage_text[] =
	"usage: camgate update [--check] [--force --admin NAME] [--keyring PEM] FILE\n"
	"  Verify the signed RAUC bundle FILE and install it into the inactive slot.\n"
	"  --check        verify only (signature, board, version), install nothing\n"
	"  --force        allow a downgrade; needs --admin\n"
	"  --admin NAME   the admin who forces it; the password is read from stdin\n"
	"  --keyring PEM  trusted signer certificates (default " UPDATE_KEYRING ")\n";

struct update {
	struct statedb *sdb;
	const char *actor;
	const char *file;
	char compatible[128];
	char version[128];
	char reason[256]; /* rauc's last message line */
};

static void update_audit(struct update *u, const char *action, const char *detail)
{
	if (u->sdb)
		audit_record(u->sdb, 0, u->actor, action, u->file, detail);
}

/* Refusal: said once on stderr, audited, CMD_FAIL. */
static int __attribute__((format(printf, 2, 3)))
update_refuse(struct update *u, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("update: %s: refused: %s", u->file, why);
	update_audit(u, "update-refused", why);
	return CMD_FAIL;
}

/* VALUE of a shell-format line KEY='VALUE' (rauc info --output-format=shell). */
static void update_field(const char *line, const char *key, char *out, size_t cap)
{
	size_t n = strlen(key), len;

	if (strncmp(line, key, n) || line[n] != '=' || line[n + 1] != '\'')
		return;
	line += n + 2;
	len = strcspn(line, "'");
	if (len >= cap)
		len = cap - 1;
	memcpy(out, line, len);
	out[len] = 0;
}

/* Runs @argv (stdout and stderr into one pipe) and parses what it says;
 * returns the exit status, -1 when it did not run or died. */
static int update_run(struct update *u, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char line[1024];
	int fds[2], status, ret;
	pid_t pid;
	FILE *f;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (ret) {
		close(fds[0]);
		snprintf(u->reason, sizeof(u->reason), "cannot run %s: %s", argv[0], strerror(ret));
		return -1;
	}
	f = fdopen(fds[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		update_field(line, "RAUC_MF_COMPATIBLE", u->compatible, sizeof(u->compatible));
		update_field(line, "RAUC_MF_VERSION", u->version, sizeof(u->version));
		if (*line && strncmp(line, "RAUC_", 5)) {
			termsafe(line, u->reason, sizeof(u->reason), NULL);
			log_debug("update: %s: %s", argv[0], u->reason);
		}
	}
	if (f)
		fclose(f);
	else
		close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* "X.Y.Z", "X.Y.Z-N-gHASH", "X.Y.Z-gHASH", each maybe "-dirty"
 * (scripts/version.sh) -> X, Y, Z, N (commits after the tag; 0 without).
 * -EINVAL for anything else. */
static int update_version_parse(const char *v, long long out[4])
{
	char *end;

	memset(out, 0, 4 * sizeof(out[0]));
	for (int i = 0; i < 3; i++) {
		out[i] = strtoll(v, &end, 10);
		if (end == v || out[i] < 0 || (i < 2 && *end != '.'))
			return -EINVAL;
		v = end + (i < 2);
	}
	if (*v == '-' && v[1] >= '0' && v[1] <= '9') {
		out[3] = strtoll(v + 1, &end, 10);
		v = end;
	}
	return *v == 0 || *v == '-' ? 0 : -EINVAL;
}

/* <0, 0, >0 as @a is older, the same, newer than @b; -2 unordered.
 * Equal numbers on different commits (no tag yet) count as the same:
 * only a lower number is a downgrade. */
static int update_version_cmp(const char *a, const char *b)
{
	long long x[4], y[4];

	if (update_version_parse(a, x) || update_version_parse(b, y))
		return -2;
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* The admin behind --force: password from stdin's first line. */
static int update_admin(struct update *u, const char *name)
{
	const char *it = getenv(UPDATE_ITERATIONS_ENV);
	struct accounts *acc = NULL;
	struct account a;
	char pw[ACCOUNT_PW_MAX + 2];
	int64_t iterations = 0;
	int ret = -EACCES;

	if (it && parse_i64(it, 1000, 100000000, &iterations))
		iterations = 0;
	if (!fgets(pw, sizeof(pw), stdin))
		*pw = 0;
	pw[strcspn(pw, "\n")] = 0;
	if (!accounts_open(u->sdb, (unsigned int)iterations, &acc) &&
	    !accounts_login(acc, name, pw, clock_wall_ms(), &a, NULL) && a.role == ROLE_ADMIN)
		ret = 0;
	accounts_close(acc);
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

static int update_do(struct update *u, const char *keyring, bool check, bool force)
{
	char expect[64], detail[512], kopt[300];
	char *info[] = { NULL, "info", kopt, "--output-format=shell", (char *)u->file, NULL };
	char *install[] = { NULL, "install", (char *)u->file, NULL };
	const char *rauc = getenv("CAMGATE_RAUC");
	int cmp, st;

	info[0] = install[0] = (char *)(rauc && *rauc ? rauc : "rauc");
	snprintf(kopt, sizeof(kopt), "--keyring=%s", keyring);
	update_audit(u, "update-start", check ? "check only" : "check and install");
	st = update_run(u, info);
	if (st)
		return update_refuse(
			u, "signature or bundle check failed (rauc info --keyring=%s): %s", keyring,
			*u->reason ? u->reason : "no reason given");
	snprintf(expect, sizeof(expect), "camgate-%s", BOARD_NAME);
	if (strcmp(u->compatible, expect))
		return update_refuse(u, "bundle is for '%s', this board is '%s'", u->compatible,
				     expect);
	cmp = update_version_cmp(u->version, CAMGATE_VERSION);
	if (cmp == -2)
		return update_refuse(u, "version '%s' is not X.Y.Z[-N-gHASH]", u->version);
	if (cmp < 0 && !force)
		return update_refuse(
			u, "downgrade from %s to %s: only an admin may force one (--force --admin NAME)",
			CAMGATE_VERSION, u->version);
	snprintf(detail, sizeof(detail), "signed by a trusted key, %s %s (running %s)%s",
		 u->compatible, u->version, CAMGATE_VERSION,
		 cmp < 0 ? ", a DOWNGRADE forced by an admin" : "");
	update_audit(u, cmp < 0 ? "update-downgrade-forced" : "update-verified", detail);
	printf("update: %s: %s\n", u->file, detail);
	if (check)
		return CMD_OK;
	update_audit(u, "update-installing", u->version);
	*u->reason = 0;
	st = update_run(u, install);
	if (st) {
		snprintf(detail, sizeof(detail), "rauc install: %s",
			 *u->reason ? u->reason : "failed");
		log_err("update: %s: %s; the running slot is unchanged", u->file, detail);
		update_audit(u, "update-failed", detail);
		return CMD_FAIL;
	}
	snprintf(detail, sizeof(detail),
		 "%s in the inactive slot; it boots next (reboot), and the bootloader falls back "
		 "if it never reports healthy",
		 u->version);
	update_audit(u, "update-installed", detail);
	printf("update: installed %s\n", detail);
	return CMD_OK;
}

int cmd_update(const struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "admin", required_argument, NULL, 'a' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct update u = { .actor = "local" };
	const char *admin = NULL, *keyring = UPDATE_KEYRING;
	bool check = false, force = false;
	struct config *cfg;
	int c, ret;

	optind = 1;
	while ((c = cmd_getopt("update", argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'C':
			check = true;
			break;
		case 'f':
			force = true;
			break;
		case 'a':
			admin = optarg;
			break;
		case 'k':
			keyring = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CMD_OK;
		default:
			fputs(usage_text, stderr);
			return CMD_USAGE;
		}
	}
	if (optind != argc - 1 || (force && !admin) || (admin && !force)) {
		if (force != !!admin)
			log_err("update: --force and --admin NAME go together");
		fputs(usage_text, stderr);
		return CMD_USAGE;
	}
	u.file = argv[optind];
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	/* Every step is audited: no audit log, no update. */
	ret = statedb_open(cfg->state_dir, &u.sdb);
	if (!ret)
		ret = audit_key_open(u.sdb, cfg->state_dir);
	if (ret) {
		log_err("update: the audit log in %s cannot be written: %s", cfg->state_dir,
			strerror(-ret));
		ret = CMD_FAIL;
		goto out;
	}
	if (admin) {
		u.actor = admin;
		if (update_admin(&u, admin)) {
			ret = update_refuse(&u, "--force needs an admin's name and password");
			goto out;
		}
	}
	ret = update_do(&u, keyring, check, force);
out:
	statedb_close(u.sdb);
	config_free(cfg);
	return ret;
}
