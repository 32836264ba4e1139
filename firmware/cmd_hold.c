// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate hold`: place, release and list legal holds (firmware/holds.h),
 * each placing and release an audit row; who may is the export rule
 * (cmd_footage_refusal()). The daemon applies a change at its next tick.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/holds.h"
#include "lib/parse.h"
#include "storage/statedb.h"

static const char hold_usage[] =
	"usage: camgate [-c FILE] hold CAMERA FROM TO --reason TEXT --performer USER\n"
	"       camgate [-c FILE] hold --release ID --performer USER\n"
	"       camgate [-c FILE] hold --list\n\n"
	"A hold keeps CAMERA's footage of [FROM, TO) in the ring until it is released,\n"
	"whatever retention or uploads say; while held footage is where the ring would\n"
	"write next, recording waits (storage-full). Placing and releasing are audited;\n"
	"USER must be an account whose role may export (admin, operator, central).\n"
	"Times: 2026-11-29T09:00:00Z (UTC), @EPOCH_SECONDS, now, -30s, -2h, begin, end.\n";

static int print_hold(void *arg, const struct hold *hd)
{
	char f[32], t[32];

	(void)arg;
	format_time_ms(hd->from_ms, f, sizeof(f));
	format_time_ms(hd->to_ms, t, sizeof(t));
	printf("%" PRId64 "\t%s\t%s\t%s\tby %s: %s\n", hd->id, hd->camera, f, t, hd->by,
	       hd->reason);
	return 0;
}

struct hargs {
	const char *reason, *performer, *release;
	bool list;
};

static int parse(int argc, char **argv, struct hargs *a)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "performer", required_argument, NULL, 'u' },
		{ "release", required_argument, NULL, 'x' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt("hold", argc, argv, "h", opts)) != -1) {
		if (c == 'r')
			a->reason = optarg;
		else if (c == 'u')
			a->performer = optarg;
		else if (c == 'x')
			a->release = optarg;
		else if (c == 'l')
			a->list = true;
		else if (c == 'h')
			return 1;
		else
			return -EINVAL;
	}
	if (a->list ? optind != argc : a->release ? optind != argc : optind + 3 != argc)
		return -EINVAL;
	return 0;
}

static int place(struct holds *h, struct statedb *sdb, const struct hargs *a, char **pos)
{
	struct hold hd = { .id = 0 };
	int64_t now = time_now_ms(), id = 0;
	char object[96], detail[HOLDS_TEXT_MAX + 64], f[32], t[32];
	const char *why = cmd_footage_refusal(sdb, a->performer, pos[0]);

	if (parse_time_ms(pos[1], now, &hd.from_ms) || parse_time_ms(pos[2], now, &hd.to_ms) ||
	    hd.from_ms >= hd.to_ms) {
		fprintf(stderr, "camgate: error: hold: FROM and TO must be times, FROM first\n");
		return CMD_USAGE;
	}
	if (!why && (!a->reason || !*a->reason))
		why = "needs its reason (--reason)";
	format_time_ms(hd.from_ms, f, sizeof(f));
	format_time_ms(hd.to_ms, t, sizeof(t));
	snprintf(object, sizeof(object), "%s/%s..%s", pos[0], f, t);
	if (why) {
		audit_record(sdb, 0, a->performer ? a->performer : "", "hold-refused", object, why);
		fprintf(stderr, "camgate: error: hold refused: %s\n", why);
		return CMD_FAIL;
	}
	snprintf(hd.camera, sizeof(hd.camera), "%s", pos[0]);
	snprintf(hd.reason, sizeof(hd.reason), "%s", a->reason);
	snprintf(hd.by, sizeof(hd.by), "%s", a->performer);
	if (holds_add(h, &hd, now, &id)) {
		fprintf(stderr, "camgate: error: hold: cannot write it to state.db\n");
		return CMD_FAIL;
	}
	snprintf(detail, sizeof(detail), "hold %" PRId64 ": %s", id, a->reason);
	audit_record(sdb, 0, a->performer, "hold", object, detail);
	printf("hold %" PRId64 " placed on %s\n", id, object);
	return CMD_OK;
}

static int release(struct holds *h, struct statedb *sdb, const struct hargs *a)
{
	struct hold hd;
	char *end, object[128], detail[HOLDS_TEXT_MAX + 160], f[32], t[32];
	int64_t id = strtoll(a->release, &end, 10);
	const char *why;

	if (*end || id <= 0) {
		fprintf(stderr, "camgate: error: hold: --release wants a hold id (hold --list)\n");
		return CMD_USAGE;
	}
	if (holds_get(h, id, &hd)) {
		fprintf(stderr, "camgate: error: hold: no active hold %" PRId64 "\n", id);
		return CMD_FAIL;
	}
	why = cmd_footage_refusal(sdb, a->performer, hd.camera);
	format_time_ms(hd.from_ms, f, sizeof(f));
	format_time_ms(hd.to_ms, t, sizeof(t));
	snprintf(object, sizeof(object), "%s/%s..%s", hd.camera, f, t);
	if (!why && holds_release(h, id, a->performer, time_now_ms(), &hd))
		why = "cannot write state.db";
	if (why) {
		audit_record(sdb, 0, a->performer ? a->performer : "", "release-refused", object,
			     why);
		fprintf(stderr, "camgate: error: release refused: %s\n", why);
		return CMD_FAIL;
	}
	snprintf(detail, sizeof(detail), "hold %" PRId64 " released (placed by %s: %s)", id, hd.by,
		 hd.reason);
	audit_record(sdb, 0, a->performer, "hold-release", object, detail);
	printf("hold %" PRId64 " released\n", id);
	return CMD_OK;
}

int cmd_hold(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct hargs a = { 0 };
	struct statedb *sdb = NULL;
	struct holds *h = NULL;
	struct config *cfg;
	int ret = parse(argc, argv, &a);

	if (ret) {
		fputs(hold_usage, ret > 0 ? stdout : stderr);
		return ret > 0 ? CMD_OK : CMD_USAGE;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	if (statedb_open(cfg->state_dir, &sdb) || audit_key_open(sdb, cfg->state_dir) ||
	    holds_open(sdb, &h)) {
		fprintf(stderr, "camgate: error: hold: cannot open state.db in %s\n",
			cfg->state_dir);
		ret = CMD_FAIL;
	} else if (a.list) {
		ret = holds_list(h, print_hold, NULL) < 0 ? CMD_FAIL : CMD_OK;
	} else if (a.release) {
		ret = release(h, sdb, &a);
	} else {
		ret = place(h, sdb, &a, argv + optind);
	}
	holds_close(h);
	statedb_close(sdb);
	config_free(cfg);
	return ret;
}
