// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_driver - runs the real uplink (net/uplink.h) against a real
 * central for tests/integration/uplink: fills a ring with segments taken
 * from a folder (an fMP4 init.mp4 and *.m4s media), one simulated camera
 * per --cameras, at a pace, while the uplink sends them; then waits until
 * the outbox is empty. Writes a manifest of every stored segment (JSON
 * lines: camera, seq, path, sha256) and the uplink's counters at exit.
 *
 * Exit: 0 drained, 3 not drained in time, 1 setup failure, 2 usage.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/uplink_policy.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/outbox.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "storage/statedb.h"

#define FEED_MAX 256
#define CAMS_MAX 64

static volatile sig_atomic_t stop_flag;

struct feed {
	char *init;
	size_t init_len;
	char *seg[FEED_MAX];
	size_t seg_len[FEED_MAX];
	unsigned int nseg;
};

struct opts {
	struct uplink_cfg cfg;
	const char *ring_dir, *state_dir, *feed_dir, *manifest, *stats;
	unsigned int cameras, segments, interval_ms, seg_ms, extents;
	uint64_t extent_bytes;
	int drain_s, run_s;
	bool no_uplink, registry;
	int64_t start_ms;
	const char *holidays;
	/* The daemon's decisions (R2 deadline, alarms, audit), as in
	 * `camgate run`: 10 working days at UTC+7. */
	struct uplink_policy policy;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int read_file(const char *path, char **bufp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *buf;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*bufp = buf;
	*lenp = (size_t)n;
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int m4s_only(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".m4s");
}

static int feed_load(const char *dir, struct feed *f)
{
	struct dirent **list;
	char path[4096];
	int n, ret;

	snprintf(path, sizeof(path), "%s/init.mp4", dir);
	ret = read_file(path, &f->init, &f->init_len);
	if (ret)
		return ret;
	n = scandir(dir, &list, m4s_only, name_cmp);
	if (n <= 0)
		return -ENOENT;
	for (int i = 0; i < n; i++) {
		if (f->nseg < FEED_MAX) {
			snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
			if (!read_file(path, &f->seg[f->nseg], &f->seg_len[f->nseg]))
				f->nseg++;
		}
		free(list[i]);
	}
	free(list);
	return f->nseg ? 0 : -ENOENT;
}

static cJSON *registry_record(void *arg, const char *camera)
{
	cJSON *r = cJSON_CreateObject();

	(void)arg;
	if (!r)
		return NULL;
	cJSON_AddStringToObject(r, "name", camera);
	cJSON_AddStringToObject(r, "manufacturer", "Simulated");
	cJSON_AddStringToObject(r, "model", "SIM-1");
	cJSON_AddStringToObject(r, "provider_unit", "test unit");
	cJSON_AddStringToObject(r, "update_method", "automatic");
	cJSON_AddStringToObject(r, "update_frequency", "on change");
	cJSON_AddStringToObject(r, "users", "central");
	cJSON_AddNumberToObject(r, "version", 1);
	return r;
}

static int registry_each(void *arg, int (*fn)(void *, const char *), void *fnarg)
{
	const struct opts *o = arg;
	char cam[16];
	int ret = 0;

	for (unsigned int c = 0; c < o->cameras && !ret; c++) {
		snprintf(cam, sizeof(cam), "cam%u", c + 1);
		ret = fn(fnarg, cam);
	}
	return ret;
}

static int set_setting(void *arg, const char *key, const char *value, char *msg, size_t cap)
{
	(void)arg;
	if (strcmp(key, "test.echo"))
		return -ENOTSUP;
	snprintf(msg, cap, "test.echo = %s", value);
	return 0;
}

static int64_t registry_deadline(void *arg, int64_t changed_ms)
{
	struct opts *o = arg;

	return uplink_policy_deadline(&o->policy, changed_ms);
}

static void status_fill(void *arg, cJSON *status, const struct uplink_figures *fig)
{
	struct opts *o = arg;

	uplink_policy_status(&o->policy, status, fig);
}

static void outcome(void *arg, const struct uplink_outcome *out)
{
	struct opts *o = arg;

	uplink_policy_outcome(&o->policy, out);
}

static void manifest_line(FILE *m, const struct ring_seg_info *info)
{
	char path[256];

	if (!m ||
	    uplink_segment_path(info->camera, info->seq, info->start_utc_ms, path, sizeof(path)))
		return;
	fprintf(m, "{\"camera\":\"%s\",\"seq\":%llu,\"path\":\"%s\",\"sha256\":\"", info->camera,
		(unsigned long long)info->seq, path);
	for (int i = 0; i < 32; i++)
		fprintf(m, "%02x", info->sha256[i]);
	fprintf(m, "\",\"start_ms\":%lld}\n", (long long)info->start_utc_ms);
	fflush(m);
}

/* One round: a segment per camera, each stored then handed to the uplink. */
static int record_round(const struct opts *o, struct ring *ring, struct uplink *up,
			const struct feed *f, uint64_t *init_ids, unsigned int round, FILE *m)
{
	for (unsigned int c = 0; c < o->cameras; c++) {
		char cam[16];
		unsigned int k = round % f->nseg;
		struct ring_seg rs = { .camera = cam,
				       .init_id = init_ids[c],
				       .duration_ms = o->seg_ms };
		struct ring_seg_info info;
		int ret;

		snprintf(cam, sizeof(cam), "cam%u", c + 1);
		rs.start_utc_ms = o->start_ms + (int64_t)round * o->seg_ms;
		rs.media_start_us = (int64_t)round * o->seg_ms * 1000;
		ret = ring_append(ring, &rs, f->seg[k], f->seg_len[k], &info);
		if (ret) {
			log_err("driver: append %s: %s", cam, strerror(-ret));
			return ret;
		}
		manifest_line(m, &info);
		if (up)
			uplink_segment_added(up, &info);
	}
	return 0;
}

static int record(const struct opts *o, struct ring *ring, struct uplink *up, const struct feed *f)
{
	uint64_t init_ids[CAMS_MAX];
	FILE *m;
	int ret = 0;

	if (!o->segments)
		return 0;
	m = o->manifest ? fopen(o->manifest, "a") : NULL;
	for (unsigned int c = 0; c < o->cameras && !ret; c++) {
		char cam[16];

		snprintf(cam, sizeof(cam), "cam%u", c + 1);
		ret = ring_put_init(ring, cam, f->init, f->init_len, &init_ids[c]);
		if (!ret && up && o->registry)
			ret = uplink_registry_changed(up, cam);
	}
	for (unsigned int r = 0; r < o->segments && !ret && !stop_flag; r++) {
		int64_t due = time_mono_ms() + o->interval_ms;

		ret = record_round(o, ring, up, f, init_ids, r, m);
		while (!stop_flag && time_mono_ms() < due)
			usleep(10000);
	}
	if (m)
		fclose(m);
	return ret;
}

static bool drained(struct uplink *up, struct uplink_stat *st)
{
	return !uplink_stat(up, st) && !st->pending_rows && !st->pending_notes;
}

static int wait_drain(const struct opts *o, struct uplink *up, struct ring *ring)
{
	struct ring_stat rs = { 0 };
	int64_t end = time_mono_ms() + (int64_t)o->drain_s * 1000;
	int64_t run_end = time_mono_ms() + (int64_t)o->run_s * 1000;
	struct uplink_stat st;
	bool ok = false;

	while (!stop_flag && time_mono_ms() < end) {
		ok = drained(up, &st);
		if (ok && time_mono_ms() >= run_end)
			break;
		usleep(50000);
	}
	ok = drained(up, &st);
	ring_stat(ring, &rs);
	if (o->stats) {
		FILE *f = fopen(o->stats, "w");

		if (f) {
			fprintf(f,
				"{\"drained\":%s,\"sent_objects\":%llu,\"sent_bytes\":%llu,"
				"\"failures\":%llu,\"pending_rows\":%llu,\"lost\":%llu,"
				"\"overflows\":%llu,\"link_up\":%s,\"ring_pending\":%llu,"
				"\"last_error\":\"%s\"}\n",
				ok ? "true" : "false", (unsigned long long)st.sent_objects,
				(unsigned long long)st.sent_bytes, (unsigned long long)st.failures,
				(unsigned long long)st.pending_rows,
				(unsigned long long)st.lost_segments,
				(unsigned long long)st.queue_overflows,
				st.link_up ? "true" : "false",
				(unsigned long long)rs.segs_pending_upload,
				strchr(st.last_error, '"') ? "" : st.last_error);
			fclose(f);
		}
	}
	return ok ? 0 : 3;
}

enum {
	O_RING = 256,
	O_STATE,
	O_FEED,
	O_MANIFEST,
	O_STATS,
	O_CAMERAS,
	O_SEGMENTS,
	O_INTERVAL,
	O_SEGMS,
	O_DRAIN,
	O_RUN,
	O_NOUP,
	O_REGISTRY,
	O_URL,
	O_GW,
	O_CA,
	O_PIN,
	O_CERT,
	O_KEY,
	O_AUTH,
	O_TOKEN,
	O_USER,
	O_PASS,
	O_SIGV4,
	O_PARALLEL,
	O_WINDOW,
	O_STATUS,
	O_CMDS,
	O_BMIN,
	O_BMAX,
	O_CONNECT,
	O_STALL,
	O_XFER,
	O_RATE,
	O_HOLIDAYS,
	O_VERBOSE,
};

static const struct option longopts[] = {
	{ "ring", 1, NULL, O_RING },
	{ "state", 1, NULL, O_STATE },
	{ "feed", 1, NULL, O_FEED },
	{ "manifest", 1, NULL, O_MANIFEST },
	{ "stats", 1, NULL, O_STATS },
	{ "cameras", 1, NULL, O_CAMERAS },
	{ "segments", 1, NULL, O_SEGMENTS },
	{ "interval-ms", 1, NULL, O_INTERVAL },
	{ "seg-ms", 1, NULL, O_SEGMS },
	{ "drain", 1, NULL, O_DRAIN },
	{ "run", 1, NULL, O_RUN },
	{ "no-uplink", 0, NULL, O_NOUP },
	{ "registry", 0, NULL, O_REGISTRY },
	{ "url", 1, NULL, O_URL },
	{ "gateway", 1, NULL, O_GW },
	{ "ca", 1, NULL, O_CA },
	{ "pin", 1, NULL, O_PIN },
	{ "cert", 1, NULL, O_CERT },
	{ "key", 1, NULL, O_KEY },
	{ "auth", 1, NULL, O_AUTH },
	{ "token", 1, NULL, O_TOKEN },
	{ "user", 1, NULL, O_USER },
	{ "password", 1, NULL, O_PASS },
	{ "sigv4", 1, NULL, O_SIGV4 },
	{ "parallel", 1, NULL, O_PARALLEL },
	{ "live-window", 1, NULL, O_WINDOW },
	{ "status-ms", 1, NULL, O_STATUS },
	{ "commands-ms", 1, NULL, O_CMDS },
	{ "backoff-min", 1, NULL, O_BMIN },
	{ "backoff-max", 1, NULL, O_BMAX },
	{ "connect-ms", 1, NULL, O_CONNECT },
	{ "stall-ms", 1, NULL, O_STALL },
	{ "transfer-ms", 1, NULL, O_XFER },
	{ "rate", 1, NULL, O_RATE },
	{ "holidays", 1, NULL, O_HOLIDAYS },
	{ "verbose", 0, NULL, O_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

static long num(const char *s)
{
	int64_t v;

	if (parse_i64(s, 0, INT32_MAX, &v)) {
		fprintf(stderr, "uplink_driver: bad number '%s'\n", s);
		exit(2);
	}
	return (long)v;
}

static int auth_kind(const char *s)
{
	static const char *const names[] = { "none", "bearer", "basic", "sigv4" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	fprintf(stderr, "uplink_driver: bad auth '%s'\n", s);
	exit(2);
}

static void parse_opt(struct opts *o, int c, const char *a)
{
	struct uplink_cfg *u = &o->cfg;

	switch (c) {
	case O_RING:
		o->ring_dir = a;
		break;
	case O_STATE:
		o->state_dir = a;
		break;
	case O_FEED:
		o->feed_dir = a;
		break;
	case O_MANIFEST:
		o->manifest = a;
		break;
	case O_STATS:
		o->stats = a;
		break;
	case O_CAMERAS:
		o->cameras = (unsigned int)num(a);
		break;
	case O_SEGMENTS:
		o->segments = (unsigned int)num(a);
		break;
	case O_INTERVAL:
		o->interval_ms = (unsigned int)num(a);
		break;
	case O_SEGMS:
		o->seg_ms = (unsigned int)num(a);
		break;
	case O_DRAIN:
		o->drain_s = (int)num(a);
		break;
	case O_RUN:
		o->run_s = (int)num(a);
		break;
	case O_NOUP:
		o->no_uplink = true;
		break;
	case O_REGISTRY:
		o->registry = true;
		break;
	case O_URL:
		u->base_url = a;
		break;
	case O_GW:
		u->gateway_id = a;
		break;
	case O_CA:
		u->tls.ca_file = a;
		break;
	case O_PIN:
		u->tls.pin = a;
		break;
	case O_CERT:
		u->tls.cert_file = a;
		break;
	case O_KEY:
		u->tls.key_file = a;
		break;
	case O_AUTH:
		u->auth = auth_kind(a);
		break;
	case O_TOKEN:
		u->token = a;
		break;
	case O_USER:
		u->username = a;
		break;
	case O_PASS:
		u->password = a;
		break;
	case O_SIGV4:
		u->sigv4 = a;
		break;
	case O_PARALLEL:
		u->parallel = (unsigned int)num(a);
		break;
	case O_WINDOW:
		u->live_window = (unsigned int)num(a);
		break;
	case O_STATUS:
		u->status_interval_ms = num(a);
		break;
	case O_CMDS:
		u->commands_interval_ms = num(a);
		break;
	case O_BMIN:
		u->backoff_min_ms = num(a);
		break;
	case O_BMAX:
		u->backoff_max_ms = num(a);
		break;
	case O_CONNECT:
		u->connect_timeout_ms = num(a);
		break;
	case O_STALL:
		u->stall_timeout_ms = num(a);
		break;
	case O_XFER:
		u->transfer_timeout_ms = num(a);
		break;
	case O_RATE:
		u->rate_bps = (uint64_t)num(a);
		break;
	case O_HOLIDAYS:
		o->holidays = a;
		break;
	case O_VERBOSE:
		log_set_level(LOG_DEBUG);
		break;
	default:
		exit(2);
	}
}

static int open_ring(const struct opts *o, struct ring **ringp)
{
	int ret;

	if (!ring_exists(o->ring_dir)) {
		ret = ring_create(o->ring_dir, o->extents, o->extent_bytes);
		if (ret)
			return ret;
	}
	return ring_open(o->ring_dir, NULL, ringp);
}

/* `uplink_driver uplink test ...` runs `camgate uplink test` (firmware/
 * cmd_uplink.c) without the rest of the camgate binary. */
struct config *cmd_config(const struct cmd_ctx *ctx)
{
	struct config *cfg;

	return config_load(ctx->config_path, &cfg) ? NULL : cfg;
}

int main(int argc, char **argv)
{
	struct opts o = { .cameras = 1,
			  .interval_ms = 0,
			  .seg_ms = 1000,
			  .extents = 8,
			  .extent_bytes = 16ull << 20,
			  .drain_s = 60 };
	struct uplink_hooks hooks = { .registry_record = registry_record,
				      .registry_each = registry_each,
				      .registry_deadline = registry_deadline,
				      .status_fill = status_fill,
				      .set_setting = set_setting,
				      .outcome = outcome,
				      .arg = &o };
	struct feed f = { 0 };
	struct statedb *sdb = NULL;
	struct outbox *view = NULL;
	struct ring_upload_owner owner;
	struct ring *ring = NULL;
	struct uplink *up = NULL;
	int c, ret, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "uplink")) {
		struct cmd_ctx ctx = { .config_path = "/nonexistent", .log_level = LOG_INFO };

		log_init("camgate", LOG_DEST_PLAIN, LOG_INFO);
		return cmd_uplink(&ctx, argc - 1, argv + 1);
	}
	log_init("uplink_driver", LOG_DEST_STDERR, LOG_INFO);
	uplink_cfg_defaults(&o.cfg);
	o.cfg.gateway_id = "gw1";
	o.cfg.firmware_version = "test";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		parse_opt(&o, c, optarg);
	if (!o.ring_dir || !o.state_dir || o.cameras > CAMS_MAX) {
		fprintf(stderr, "uplink_driver: --ring and --state are required\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	o.start_ms = time_now_ms() - (int64_t)o.segments * o.seg_ms;
	if ((o.segments && feed_load(o.feed_dir ? o.feed_dir : ".", &f)) ||
	    statedb_open(o.state_dir, &sdb) || open_ring(&o, &ring))
		goto out;
	ring_set_upload_required(ring, !o.no_uplink);
	/* As the daemon does (net/uplink.h, integration step 0). */
	if (outbox_open_reader(sdb, &view))
		goto out;
	outbox_ring_owner(view, &owner);
	ring_set_upload_owner(ring, &owner);
	if (!o.no_uplink) {
		ret = uplink_policy_init(&o.policy, sdb, 10, 420, o.holidays);
		if (!ret)
			ret = uplink_start(&o.cfg, &hooks, ring, sdb, &up);
		if (ret) {
			fprintf(stderr, "uplink_driver: uplink_start: %s\n", strerror(-ret));
			goto out;
		}
	}
	if (record(&o, ring, up, &f))
		goto out;
	rc = up ? wait_drain(&o, up, ring) : 0;
out:
	uplink_stop(up);
	ring_close(ring);
	outbox_close(view);
	statedb_close(sdb);
	free(f.init);
	for (unsigned int i = 0; i < f.nseg; i++)
		free(f.seg[i]);
	return rc;
}
