// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate ring ...`: look into the footage store from the command line.
 * Read-only commands open the ring without recovery, so they work beside
 * a running daemon; rebuild needs the ring to itself.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/retention.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "storage/export.h"
#include "storage/ring.h"
#include "storage/statedb.h"
#include "lib/hex.h"

/* A hole in the footage longer than this is a gap in `ring ls`. */
#define RING_GAP_MS 1000

static const char ring_usage[] =
	"usage: camgate [-c FILE] ring COMMAND\n\n"
	"  ls [CAMERA] [--json]            segments per camera, with gaps\n"
	"  stat [--json]                   capacity, use, eviction counters\n"
	"  verify                          check every header and SHA-256 (exit 3 on problems)\n"
	"  rebuild                         recreate the index from the extents (daemon stopped)\n"
	"  cat CAMERA FROM TO -o FILE.mp4  a playable MP4 of a time range\n\n"
	"Times: 2026-11-29T09:00:00Z (UTC), @EPOCH_SECONDS, now, -30s, -2h, begin, end.\n";

/* One line of usage per subcommand, for `ring SUB --help`. */
static const struct {
	const char *name;
	const char *usage;
} ring_subs[] = {
	{ "ls", "usage: camgate [-c FILE] ring ls [CAMERA] [--json]\n\n"
		"Segments per camera (or of CAMERA), with the gaps between them.\n"
		"An unknown CAMERA (not in the config, no footage) is an error.\n" },
	{ "stat", "usage: camgate [-c FILE] ring stat [--json]\n\n"
		  "Capacity, use, protected footage and eviction counters.\n" },
	{ "verify", "usage: camgate [-c FILE] ring verify\n\n"
		    "Checks every record header and SHA-256; exit 3 when problems were found.\n" },
	{ "rebuild", "usage: camgate [-c FILE] ring rebuild\n\n"
		     "Recreates the index from the extents (the daemon must be stopped).\n" },
	{ "cat", "usage: camgate [-c FILE] ring cat CAMERA FROM TO -o FILE.mp4\n\n"
		 "A playable MP4 of a time range, remuxed without transcoding.\n"
		 "Times: 2026-11-29T09:00:00Z (UTC), @EPOCH_SECONDS, now, -30s, -2h,\n"
		 "begin, end.\n" },
};

struct ls_state {
	cJSON *cameras;
	cJSON *cur, *segs, *gaps;
	char name[RING_CAMERA_MAX];
	bool json;
	int64_t prev_end_ms;
	uint64_t prev_seq, count, bytes;
};

static const char *utc_src_name(uint8_t src)
{
	return src == RING_UTC_RTCP ? "rtcp" : "arrival";
}

static void ls_camera_done(struct ls_state *ls)
{
	if (ls->cur && !ls->json)
		printf("  %llu segments, %.1f MiB\n", (unsigned long long)ls->count,
		       (double)ls->bytes / 1048576);
}

static int ls_segment(void *arg, const struct ring_seg_info *in)
{
	struct ls_state *ls = arg;
	char when[32], hex[2 * sizeof(in->sha256) + 1];
	cJSON *s;

	if (!ls->cur || strcmp(ls->name, in->camera)) {
		ls_camera_done(ls);
		snprintf(ls->name, sizeof(ls->name), "%s", in->camera);
		ls->cur = cJSON_CreateObject();
		cJSON_AddItemToArray(ls->cameras, ls->cur);
		cJSON_AddStringToObject(ls->cur, "name", in->camera);
		ls->segs = cJSON_AddArrayToObject(ls->cur, "segments");
		ls->gaps = cJSON_AddArrayToObject(ls->cur, "gaps");
		ls->count = ls->bytes = 0;
		if (!ls->json) {
			/* The name is read back from the disk: escaped like any
			 * text not typed here (lib/termsafe.h). */
			char name[TERMSAFE_CAP(sizeof(in->camera))];

			printf("camera %s\n  %-6s %-24s %9s %10s %-7s %s\n",
			       termsafe(in->camera, name, sizeof(name), NULL), "seq", "start (UTC)",
			       "duration", "bytes", "clock", "flags");
		}
	} else if (in->start_utc_ms - ls->prev_end_ms > RING_GAP_MS) {
		cJSON *g = cJSON_CreateObject();

		cJSON_AddItemToArray(ls->gaps, g);
		cJSON_AddNumberToObject(g, "after_seq", (double)ls->prev_seq);
		cJSON_AddNumberToObject(g, "from_utc_ms", (double)ls->prev_end_ms);
		cJSON_AddNumberToObject(g, "to_utc_ms", (double)in->start_utc_ms);
		cJSON_AddNumberToObject(g, "ms", (double)(in->start_utc_ms - ls->prev_end_ms));
		if (!ls->json)
			printf("  -- gap of %.1f s --\n",
			       (double)(in->start_utc_ms - ls->prev_end_ms) / 1000);
	}
	ls->prev_end_ms = in->start_utc_ms + in->duration_ms;
	ls->prev_seq = in->seq;
	ls->count++;
	ls->bytes += in->len;
	if (!ls->json) {
		format_time_ms(in->start_utc_ms, when, sizeof(when));
		printf("  %-6llu %-24s %8.3fs %10llu %-7s %s%s%s\n", (unsigned long long)in->seq,
		       when, in->duration_ms / 1000.0, (unsigned long long)in->len,
		       utc_src_name(in->utc_src), in->flags & RING_F_DISCONT ? "discont " : "",
		       in->flags & RING_F_AUDIO ? "audio " : "", in->uploaded ? "uploaded" : "");
		return 0;
	}
	s = cJSON_CreateObject();
	if (!s)
		return -ENOMEM;
	cJSON_AddItemToArray(ls->segs, s);
	cJSON_AddNumberToObject(s, "id", (double)in->id);
	cJSON_AddNumberToObject(s, "seq", (double)in->seq);
	cJSON_AddNumberToObject(s, "start_utc_ms", (double)in->start_utc_ms);
	cJSON_AddNumberToObject(s, "duration_ms", in->duration_ms);
	cJSON_AddNumberToObject(s, "bytes", (double)in->len);
	cJSON_AddNumberToObject(s, "init_id", (double)in->init_id);
	cJSON_AddNumberToObject(s, "extent", in->extent);
	cJSON_AddStringToObject(s, "utc_src", utc_src_name(in->utc_src));
	cJSON_AddBoolToObject(s, "discont", in->flags & RING_F_DISCONT);
	cJSON_AddBoolToObject(s, "audio", in->flags & RING_F_AUDIO);
	cJSON_AddBoolToObject(s, "uploaded", in->uploaded);
	cJSON_AddStringToObject(s, "sha256", hex_encode(in->sha256, sizeof(in->sha256), hex));
	return 0;
}

static int print_json(cJSON *root)
{
	char *text = cJSON_Print(root), *safe = text ? termsafe_json(text) : NULL;

	free(text);
	if (!safe)
		return CMD_FAIL;
	puts(safe);
	free(safe);
	return CMD_OK;
}

static bool camera_configured(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncameras; i++)
		if (!strcmp(cfg->cameras[i].name, name))
			return true;
	return false;
}

static int ring_ls(struct ring *ring, const struct config *cfg, int argc, char **argv)
{
	struct ls_state ls = { .json = false };
	const char *camera = NULL;
	cJSON *root;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			ls.json = true;
		else if (!camera && argv[i][0] != '-')
			camera = argv[i];
		else {
			log_err("ring ls: unexpected argument '%s'", argv[i]);
			return CMD_USAGE;
		}
	}
	root = cJSON_CreateObject();
	ls.cameras = cJSON_AddArrayToObject(root, "cameras");
	ret = ring_list(ring, camera, INT64_MIN, INT64_MAX, ls_segment, &ls);
	ls_camera_done(&ls);
	if (ret) {
		log_err("ring ls: %s", strerror(-ret));
		ret = CMD_FAIL;
	} else if (ls.json && !(camera && !ls.cur && !camera_configured(cfg, camera))) {
		ret = print_json(root);
	} else if (!ls.cur && camera && !camera_configured(cfg, camera)) {
		log_err("ring ls: unknown camera '%s': not in the config and no footage in the "
			"ring",
			camera);
		ret = CMD_FAIL;
	} else if (!ls.cur) {
		puts(camera ? "no footage of this camera" : "the ring is empty");
	}
	cJSON_Delete(root);
	return ret;
}

static int ring_stat_cmd(struct ring *ring, const struct config *cfg, int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	struct ring_stat st;
	char a[32], b[32];
	cJSON *o;
	int ret;

	/* What is protected depends on the daemon's settings, not on the
	 * index: the same floor and upload rule camgate run applies. */
	ring_set_floor(ring, retention_ring_floor(cfg) > 0
				     ? time_now_ms() - retention_ring_floor(cfg)
				     : INT64_MAX);
	ring_set_upload_required(ring, *cfg->uplink.base_url != '\0');
	if (ring_stat(ring, &st))
		return CMD_FAIL;
	if (!json) {
		format_time_ms(st.oldest_utc_ms, a, sizeof(a));
		format_time_ms(st.newest_utc_ms, b, sizeof(b));
		printf("extents        %u x %.1f MiB\n"
		       "used           %.1f of %.1f MiB (%.1f MiB protected)\n"
		       "segments       %llu (%llu not uploaded)\n"
		       "footage        %s .. %s\n"
		       "evicted        %llu since open (%llu protected)\n"
		       "mode           %s\n",
		       st.extents, st.extent_bytes / 1048576.0, st.bytes_used / 1048576.0,
		       st.bytes_total / 1048576.0, st.bytes_pinned / 1048576.0,
		       (unsigned long long)st.segs, (unsigned long long)st.segs_pending_upload,
		       st.segs ? a : "-", st.segs ? b : "-", (unsigned long long)st.evicted_segs,
		       (unsigned long long)st.evicted_pinned,
		       *cfg->uplink.base_url ? "uploading to central" : "local recorder");
		return CMD_OK;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "extents", st.extents);
	cJSON_AddNumberToObject(o, "extent_bytes", (double)st.extent_bytes);
	cJSON_AddNumberToObject(o, "bytes_total", (double)st.bytes_total);
	cJSON_AddNumberToObject(o, "bytes_used", (double)st.bytes_used);
	cJSON_AddNumberToObject(o, "bytes_pinned", (double)st.bytes_pinned);
	cJSON_AddNumberToObject(o, "segs", (double)st.segs);
	cJSON_AddNumberToObject(o, "segs_pending_upload", (double)st.segs_pending_upload);
	cJSON_AddNumberToObject(o, "oldest_utc_ms", (double)st.oldest_utc_ms);
	cJSON_AddNumberToObject(o, "newest_utc_ms", (double)st.newest_utc_ms);
	cJSON_AddNumberToObject(o, "evicted_segs", (double)st.evicted_segs);
	cJSON_AddNumberToObject(o, "evicted_pinned", (double)st.evicted_pinned);
	cJSON_AddNumberToObject(o, "recovered_orphans", (double)st.recovered_orphans);
	cJSON_AddNumberToObject(o, "recovered_cut", (double)st.recovered_cut);
	cJSON_AddBoolToObject(o, "upload_required", *cfg->uplink.base_url != '\0');
	ret = print_json(o);
	cJSON_Delete(o);
	return ret;
}

/* Found problems are audited, so the daemon reports them to central as a
 * security event (R16, firmware/secevent.h). */
static void ring_verify_audit(const struct config *cfg, const struct ring_verify_report *rep)
{
	struct statedb *sdb = NULL;
	char detail[160];

	snprintf(detail, sizeof(detail),
		 "%llu bad headers, %llu bad hashes, %llu missing init segments in %s",
		 (unsigned long long)rep->bad_header, (unsigned long long)rep->bad_hash,
		 (unsigned long long)rep->missing_init, cfg->storage_dir);
	if (statedb_open(cfg->state_dir, &sdb) ||
	    audit_record(sdb, 0, "system", "ring-verify-failed", "ring", detail))
		log_err("ring verify: the finding could not be audited");
	statedb_close(sdb);
}

static int ring_verify_cmd(struct ring *ring, const struct config *cfg)
{
	struct ring_verify_report rep = { 0 };
	int ret = ring_verify(ring, &rep);

	printf("checked %llu records: %llu bad headers, %llu bad hashes, "
	       "%llu missing init segments, %llu not indexed\n",
	       (unsigned long long)rep.checked, (unsigned long long)rep.bad_header,
	       (unsigned long long)rep.bad_hash, (unsigned long long)rep.missing_init,
	       (unsigned long long)rep.unindexed);
	if (ret == -EBADMSG) {
		puts("ring verify: PROBLEMS FOUND (see above; `camgate ring rebuild` re-indexes)");
		if (rep.bad_header || rep.bad_hash || rep.missing_init)
			ring_verify_audit(cfg, &rep);
		return CMD_PROBLEMS;
	}
	if (ret)
		return CMD_FAIL;
	puts("ring verify: clean");
	return CMD_OK;
}

static void cat_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	fprintf(stderr, "\rexporting: %llu/%llu segments", (unsigned long long)done,
		(unsigned long long)total);
	if (done == total)
		fputc('\n', stderr);
}

static int ring_cat(struct ring *ring, int argc, char **argv)
{
	struct export_report rep = { 0 };
	const char *out = NULL, *pos[3];
	int64_t from, to, now = time_now_ms();
	int npos = 0, ret;

	/* -o may come before or after the positional arguments. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i == argc)
				goto usage;
			out = argv[i];
		} else if (npos < 3 &&
			   (argv[i][0] != '-' || parse_time_ms(argv[i], now, &from) == 0)) {
			pos[npos++] = argv[i];
		} else {
			goto usage;
		}
	}
	if (npos != 3 || !out)
		goto usage;
	if (parse_time_ms(pos[1], now, &from) || parse_time_ms(pos[2], now, &to)) {
		log_err("ring cat: cannot read the time '%s' or '%s'", pos[1], pos[2]);
		return CMD_USAGE;
	}
	if (from >= to) {
		log_err("ring cat: FROM must be before TO");
		return CMD_USAGE;
	}
	ret = export_clip(ring, pos[0], from, to, out, isatty(STDERR_FILENO) ? cat_progress : NULL,
			  NULL, &rep);
	if (ret == -ENOENT) {
		log_err("ring cat: no footage of camera %s in that range", pos[0]);
		return CMD_FAIL;
	}
	if (ret)
		return CMD_FAIL;
	printf("%s: %llu segments, %.1f s, %.1f MiB, %u runs, %.1f s missing\n", out,
	       (unsigned long long)rep.segments,
	       (double)(rep.last_utc_ms - rep.first_utc_ms) / 1000, rep.bytes_out / 1048576.0,
	       rep.runs, rep.gap_ms / 1000.0);
	return CMD_OK;
usage:
	log_err("ring cat: usage: ring cat CAMERA FROM TO -o FILE.mp4");
	return CMD_USAGE;
}

int cmd_ring(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct config *cfg;
	struct ring *ring = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	size_t i;
	int ret;

	if (argc < 2 || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(ring_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CMD_USAGE : CMD_OK;
	}
	for (i = 0; i < sizeof(ring_subs) / sizeof(ring_subs[0]); i++)
		if (!strcmp(sub, ring_subs[i].name))
			break;
	if (i == sizeof(ring_subs) / sizeof(ring_subs[0])) {
		log_err("ring: unknown command '%s'", sub);
		fputs(ring_usage, stderr);
		return CMD_USAGE;
	}
	/* Help needs no config and no ring. */
	for (int a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			fputs(ring_subs[i].usage, stdout);
			return CMD_OK;
		}
	}
	if ((!strcmp(sub, "verify") || !strcmp(sub, "rebuild")) && argc > 2) {
		log_err("ring %s: unexpected argument '%s'", sub, argv[2]);
		return CMD_USAGE;
	}
	/* ls and stat know one option; `cat` takes times like -10m. */
	for (int a = 2; strcmp(sub, "cat") && a < argc; a++) {
		if (argv[a][0] == '-' && strcmp(argv[a], "--json")) {
			log_err("ring %s: unrecognized option '%s'", sub, argv[a]);
			return CMD_USAGE;
		}
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	if (!strcmp(sub, "rebuild")) {
		ret = ring_rebuild(cfg->storage_dir, NULL);
		if (ret == -EBUSY)
			log_err("ring rebuild: the ring is in use; stop camgate first");
		else if (!ret)
			printf("ring rebuild: index recreated from the extents in %s\n",
			       cfg->storage_dir);
		config_free(cfg);
		return ret ? CMD_FAIL : CMD_OK;
	}
	ret = ring_open_ro(cfg->storage_dir, &ring);
	if (ret) {
		if (ret == -ENOENT)
			log_err("%s: no ring here (camgate run creates it)", cfg->storage_dir);
		config_free(cfg);
		return CMD_FAIL;
	}
	if (!strcmp(sub, "ls"))
		ret = ring_ls(ring, cfg, argc - 1, argv + 1);
	else if (!strcmp(sub, "stat"))
		ret = ring_stat_cmd(ring, cfg, argc - 1, argv + 1);
	else if (!strcmp(sub, "verify"))
		ret = ring_verify_cmd(ring, cfg);
	else
		ret = ring_cat(ring, argc - 1, argv + 1);
	ring_close(ring);
	config_free(cfg);
	return ret;
}
