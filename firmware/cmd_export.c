// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate export CAMERA FROM TO --purpose T --requester T --performer
 * USER -o DIR`: an evidence package (firmware/export_pkg.h) with its
 * audit row (R12). The console's `export` runs it with the logged-in
 * user as performer; on the shell, the performer must name an account
 * all the same, and its role must allow exports: one rule for both.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/export_pkg.h"
#include "firmware/holds.h"
#include "firmware/identity.h"
#include "lib/parse.h"
#include "storage/chain.h"
#include "storage/ring.h"
#include "storage/statedb.h"

static const char export_usage[] =
	"usage: camgate [-c FILE] export CAMERA FROM TO --purpose TEXT --requester TEXT\n"
	"                                 --performer USER -o DIR\n\n"
	"Writes an evidence package of CAMERA's footage in [FROM, TO) to DIR (new or empty):\n"
	"footage.mp4, the original segments, the chain checkpoints, a manifest signed with\n"
	"the gateway key and a README on verifying it (`camgate verify DIR`). Refused\n"
	"without purpose, requester or performer, or when USER's role may not export\n"
	"(admin, operator within its cameras, central may). Every export and every\n"
	"refusal is an audit row.\n"
	"Times: 2026-11-29T09:00:00Z (UTC), @EPOCH_SECONDS, now, -30s, -2h, begin, end.\n";

struct xargs {
	const char *camera, *from, *to, *purpose, *requester, *performer, *dir;
};

static int parse_args(int argc, char **argv, struct xargs *a)
{
	static const struct option opts[] = {
		{ "purpose", required_argument, NULL, 'p' },
		{ "requester", required_argument, NULL, 'r' },
		{ "performer", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt("export", argc, argv, "o:h", opts)) != -1) {
		switch (c) {
		case 'p':
			a->purpose = optarg;
			break;
		case 'r':
			a->requester = optarg;
			break;
		case 'u':
			a->performer = optarg;
			break;
		case 'o':
			a->dir = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return 1;
		default:
			fputs(export_usage, stderr);
			return -EINVAL;
		}
	}
	if (optind + 3 != argc || !a->dir) {
		fputs(export_usage, stderr);
		return -EINVAL;
	}
	a->camera = argv[optind];
	a->from = argv[optind + 1];
	a->to = argv[optind + 2];
	return 0;
}

const char *cmd_footage_refusal(struct statedb *sdb, const char *performer, const char *camera)
{
	struct accounts *acc = NULL;
	struct account a;
	const char *why = NULL;

	if (!performer || !*performer)
		return "needs its performer (--performer USER, the logged-in user)";
	if (accounts_open(sdb, 0, &acc))
		return "cannot read the accounts";
	if (accounts_get(acc, performer, time_now_ms(), &a))
		why = "performer is not an account of this gateway";
	else if (a.role != ROLE_ADMIN && a.role != ROLE_OPERATOR && a.role != ROLE_CENTRAL)
		why = "performer's role may not export or hold footage";
	else if (!account_may_camera(&a, camera))
		why = "camera is outside the performer's scope";
	accounts_close(acc);
	return why;
}

struct cli_build {
	struct config *cfg;
	struct statedb *sdb;
};

/* The shell's build: the ring read-only beside a running daemon. */
static int run_export(void *arg, const struct export_pkg_req *rq, struct export_pkg_report *rep,
		      char *why, size_t cap)
{
	struct config *cfg = ((struct cli_build *)arg)->cfg;
	struct identity *id = NULL;
	struct chain *ch = NULL;
	struct ring *ring = NULL;
	int ret = ring_open_ro(cfg->storage_dir, &ring);

	if (!ret)
		ret = chain_open(((struct cli_build *)arg)->sdb, &ch);
	if (!ret)
		ret = identity_open(cfg->state_dir, &id);
	if (ret)
		snprintf(why, cap, "cannot open the ring, the chain or the device key: %s",
			 strerror(-ret));
	else
		ret = export_pkg_write(ring, ch, id, rq, time_now_ms(), rep, why, cap);
	identity_close(id);
	chain_close(ch);
	ring_close(ring);
	return ret;
}

/* Exported footage stays in the ring until someone releases it (the
 * recipient may come back for the originals): an audited hold. */
static int64_t export_hold(struct statedb *sdb, const struct export_pkg_req *rq, const char *object)
{
	struct hold hd = { .from_ms = rq->from_ms, .to_ms = rq->to_ms };
	struct holds *h = NULL;
	char detail[HOLDS_TEXT_MAX + 32];
	int64_t id = 0;

	snprintf(hd.camera, sizeof(hd.camera), "%s", rq->camera);
	snprintf(hd.reason, sizeof(hd.reason), "export for %s: %s", rq->requester, rq->purpose);
	snprintf(hd.by, sizeof(hd.by), "%s", rq->performer);
	if (holds_open(sdb, &h) || holds_add(h, &hd, time_now_ms(), &id)) {
		id = 0;
	} else {
		snprintf(detail, sizeof(detail), "hold %lld: %s", (long long)id, hd.reason);
		audit_record(sdb, 0, rq->performer, "hold", object, detail);
	}
	holds_close(h);
	return id;
}

int cmd_export_audited(struct statedb *sdb, const struct export_pkg_req *rq, const char *via,
		       cmd_export_build_fn build, void *arg, struct export_pkg_report *rep,
		       int64_t *hold_id, char *why, size_t cap)
{
	char object[96], detail[1024], from[32], to[32];
	const char *refusal, *performer = rq->performer ? rq->performer : "";
	const char *purpose = rq->purpose ? rq->purpose : "";
	const char *requester = rq->requester ? rq->requester : "";
	int ret;

	*hold_id = 0;
	format_time_ms(rq->from_ms, from, sizeof(from));
	format_time_ms(rq->to_ms, to, sizeof(to));
	snprintf(object, sizeof(object), "%s/%s..%s", rq->camera, from, to);
	refusal = cmd_footage_refusal(sdb, rq->performer, rq->camera);
	if (!refusal && !*purpose)
		refusal = "needs its purpose (--purpose)";
	if (!refusal && !*requester)
		refusal = "needs its requester (--requester)";
	if (refusal) {
		snprintf(detail, sizeof(detail), "refused: %s; purpose: %s; requester: %s%s%s",
			 refusal, purpose, requester, via ? "; " : "", via ? via : "");
		audit_record(sdb, 0, performer, "export-refused", object, detail);
		snprintf(why, cap, "%s", refusal);
		return -EPERM;
	}
	ret = build(arg, rq, rep, why, cap);
	if (ret) {
		snprintf(detail, sizeof(detail), "failed: %s; purpose: %s; requester: %s%s%s",
			 why[0] ? why : strerror(-ret), purpose, requester, via ? "; " : "",
			 via ? via : "");
		audit_record(sdb, 0, performer, "export-failed", object, detail);
		if (!why[0])
			snprintf(why, cap, "%s", strerror(-ret));
		return ret == -EPERM ? -EIO : ret;
	}
	snprintf(detail, sizeof(detail),
		 "purpose: %s; requester: %s; %llu segments, %.1f s; manifest sha256 %s; to %s%s%s",
		 purpose, requester, (unsigned long long)rep->segments,
		 (double)rep->duration_ms / 1000, rep->manifest_sha256, rq->dir, via ? "; " : "",
		 via ? via : "");
	if (audit_record(sdb, 0, performer, "export", object, detail)) {
		snprintf(why, cap,
			 "export written but its audit row failed: the package must not "
			 "be handed out");
		return -EIO;
	}
	*hold_id = export_hold(sdb, rq, object);
	return 0;
}

int cmd_export(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct xargs a = { 0 };
	struct export_pkg_report rep = { 0 };
	struct export_pkg_req rq;
	struct statedb *sdb = NULL;
	struct config *cfg;
	struct cli_build b;
	char why[256] = "";
	int64_t now = time_now_ms(), f = 0, t = 0, hold = 0;
	int ret = parse_args(argc, argv, &a);

	if (ret)
		return ret > 0 ? CMD_OK : CMD_USAGE;
	if (parse_time_ms(a.from, now, &f) || parse_time_ms(a.to, now, &t) || f >= t) {
		fprintf(stderr, "camgate: error: export: FROM and TO must be times, FROM first\n");
		return CMD_USAGE;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	if (statedb_open(cfg->state_dir, &sdb) || audit_key_open(sdb, cfg->state_dir)) {
		fprintf(stderr, "camgate: error: export: cannot open state.db in %s\n",
			cfg->state_dir);
		statedb_close(sdb);
		config_free(cfg);
		return CMD_FAIL;
	}
	rq = (struct export_pkg_req){ .gateway = cfg->gateway_id,
				      .camera = a.camera,
				      .from_ms = f,
				      .to_ms = t,
				      .purpose = a.purpose,
				      .requester = a.requester,
				      .performer = a.performer,
				      .dir = a.dir };
	b.cfg = cfg;
	b.sdb = sdb;
	ret = cmd_export_audited(sdb, &rq, NULL, run_export, &b, &rep, &hold, why, sizeof(why));
	if (ret == -EPERM) {
		fprintf(stderr, "camgate: error: export refused: %s\n", why);
		ret = CMD_FAIL;
		goto out;
	}
	if (ret) {
		fprintf(stderr, "camgate: error: export: %s\n", why);
		ret = CMD_FAIL;
		goto out;
	}
	if (hold)
		printf("hold %lld keeps the exported footage in the ring (release: camgate hold "
		       "--release %lld)\n",
		       (long long)hold, (long long)hold);
	else
		fprintf(stderr, "camgate: warning: export: the footage could not be held in the "
				"ring (camgate hold)\n");
	printf("%s: %llu segments (%llu in the hash chain, %llu gaps), %.1f s; manifest sha256 "
	       "%s\n",
	       a.dir, (unsigned long long)rep.segments, (unsigned long long)rep.chained,
	       (unsigned long long)rep.gaps, (double)rep.duration_ms / 1000, rep.manifest_sha256);
	ret = CMD_OK;
out:
	statedb_close(sdb);
	config_free(cfg);
	return ret;
}
