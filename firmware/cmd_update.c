// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_update - `camgate update [--check] [--force --admin NAME]
 * [--keyring PEM] FILE|URL`: install a signed RAUC bundle into the
 * inactive slot (docs/operations.md); the steps are firmware/update.h's,
 * this file is the command line, the admin behind --force and progress.
 *
 * The steps (download of a URL, `rauc info --keyring`, board, downgrade,
 * `rauc install`) and their audit rows are firmware/update.h's; a
 * downgrade is forced by --force with --admin NAME and that admin's
 * password (first line of stdin). Actor of the audit rows: the admin, or
 * "local" for whoever runs the command on the gateway.
 *
 * The rauc program is $CAMGATE_RAUC when set (tests), else "rauc" in PATH.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/update.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/uplink.h"
#include "storage/statedb.h"

#define UPDATE_ITERATIONS_ENV "CAMGATE_PBKDF2_ITERATIONS" /* as `camgate console` */

static const char usage_text[] =
	"usage: camgate update [--check] [--force --admin NAME] [--keyring PEM] FILE|URL\n"
	"  Verify the signed RAUC bundle FILE (or download it from the https URL first)\n"
	"  and install it into the inactive slot.\n"
	"  --check        verify only (signature, board, version), install nothing\n"
	"  --force        allow a downgrade; needs --admin\n"
	"  --admin NAME   the admin who forces it; the password is read from stdin\n"
	"  --keyring PEM  trusted signer certificates (default [update] keyring)\n";

struct update {
	struct statedb *sdb;
	const char *actor;
	const char *file;
};

/* Progress of a download on stderr, about once a second. */
static void update_step(void *arg, enum update_state st, const char *detail, uint64_t got,
			uint64_t total)
{
	(void)arg;
	(void)detail;
	if (st != UPDATE_DOWNLOADING || !got)
		return;
	if (total)
		fprintf(stderr, "update: downloading: %llu of %llu bytes (%llu%%)\n",
			(unsigned long long)got, (unsigned long long)total,
			(unsigned long long)(got * 100 / total));
	else
		fprintf(stderr, "update: downloading: %llu bytes\n", (unsigned long long)got);
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

static int update_do(struct update *u, const struct config *cfg, const char *keyring, bool check,
		     bool force)
{
	struct uplink_cfg ucfg;
	struct update_req rq = {
		.sdb = u->sdb,
		.actor = u->actor,
		.source = u->file,
		.keyring = keyring ? keyring : cfg->update.keyring,
		.state_dir = cfg->state_dir,
		.ucfg = &ucfg,
		.max_bytes = cfg->update.max_size,
		.check = check,
		.force = force,
		.step = update_step,
		.arg = u,
	};
	char why[1024];
	int ret;

	config_uplink_fill(cfg, &ucfg);
	ret = update_run(&rq, why, sizeof(why));
	if (ret == -ENOMEM)
		log_err("update: out of memory");
	if (ret)
		return CMD_FAIL; /* said on stderr by update_run() */
	printf("update: %s: %s%s\n", u->file, check ? "" : "installed ", why);
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
	const char *admin = NULL, *keyring = NULL;
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
			log_err("update: %s: refused: --force needs an admin's name and password",
				u.file);
			audit_record(u.sdb, 0, u.actor, "update-refused", u.file,
				     "--force needs an admin's name and password");
			ret = CMD_FAIL;
			goto out;
		}
	}
	ret = update_do(&u, cfg, keyring, check, force);
out:
	statedb_close(u.sdb);
	config_free(cfg);
	return ret;
}
