// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/status.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/stream/stream.h"
#include "firmware/alarm.h"
#include "firmware/compliance.h"
#include "firmware/config.h"
#include "firmware/pidfile.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "version.h"

/* Status files are small; refuse anything bigger than this to read. */
#define STATUS_MAX_BYTES (4u << 20)

/* A camera whose segments the ring refuses is connected but records
 * nothing: say so rather than "recording". */
static const char *status_state(const struct stream_stats *st)
{
	if (st->state == STREAM_RECORDING && st->sink_error == -ENOSPC)
		return "storage-full";
	if (st->state == STREAM_RECORDING && st->sink_error)
		return "not-stored";
	return stream_state_name(st->state);
}

/* @stream NULL: a discovered camera that is gone (listed until it is back). */
static cJSON *status_camera(const char *name, struct stream *stream)
{
	struct stream_stats st = { 0 };
	cJSON *c = cJSON_CreateObject();

	if (!c)
		return NULL;
	if (stream)
		stream_get_stats(stream, &st);
	cJSON_AddStringToObject(c, "name", name);
	cJSON_AddStringToObject(c, "state", stream ? status_state(&st) : "gone");
	cJSON_AddStringToObject(c, "video_codec", st.video_codec);
	cJSON_AddStringToObject(c, "audio_codec", st.audio_codec);
	cJSON_AddNumberToObject(c, "width", st.width);
	cJSON_AddNumberToObject(c, "height", st.height);
	cJSON_AddStringToObject(c, "note", st.note);
	cJSON_AddNumberToObject(c, "fps", st.fps);
	cJSON_AddNumberToObject(c, "bitrate_bps", (double)st.bitrate_bps);
	cJSON_AddNumberToObject(c, "last_keyframe_utc_ms", (double)st.last_keyframe_utc_ms);
	cJSON_AddNumberToObject(c, "last_segment_utc_ms", (double)st.last_segment_utc_ms);
	cJSON_AddNumberToObject(c, "segments", (double)st.segments);
	cJSON_AddNumberToObject(c, "segments_refused", (double)st.segments_refused);
	cJSON_AddNumberToObject(c, "bytes", (double)st.bytes);
	cJSON_AddNumberToObject(c, "reconnects", (double)st.reconnects);
	cJSON_AddNumberToObject(c, "errors", (double)st.errors);
	cJSON_AddNumberToObject(c, "dts_fixed", (double)st.dts_fixed);
	cJSON_AddNumberToObject(c, "discontinuities", (double)st.discontinuities);
	cJSON_AddStringToObject(c, "last_error", st.last_error);
	return c;
}

static cJSON *status_storage(struct ring *ring)
{
	struct ring_stat rs;
	cJSON *s = cJSON_CreateObject();

	if (!s || ring_stat(ring, &rs))
		return s;
	cJSON_AddNumberToObject(s, "extents", rs.extents);
	cJSON_AddNumberToObject(s, "extent_bytes", (double)rs.extent_bytes);
	cJSON_AddNumberToObject(s, "bytes_total", (double)rs.bytes_total);
	cJSON_AddNumberToObject(s, "bytes_used", (double)rs.bytes_used);
	cJSON_AddNumberToObject(s, "bytes_pinned", (double)rs.bytes_pinned);
	cJSON_AddNumberToObject(s, "segs", (double)rs.segs);
	cJSON_AddNumberToObject(s, "segs_pending_upload", (double)rs.segs_pending_upload);
	cJSON_AddNumberToObject(s, "oldest_utc_ms", (double)rs.oldest_utc_ms);
	cJSON_AddNumberToObject(s, "newest_utc_ms", (double)rs.newest_utc_ms);
	cJSON_AddNumberToObject(s, "evicted_segs", (double)rs.evicted_segs);
	cJSON_AddNumberToObject(s, "evicted_pinned", (double)rs.evicted_pinned);
	return s;
}

static int status_replace(const char *dir, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	char *buf = malloc(len + 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\n';
	snprintf(path, sizeof(path), "%s/status.json", dir);
	ret = fs_replace(path, buf, len + 1, 0644);
	free(buf);
	if (ret) {
		log_err_limited("%s: cannot replace: %s", path, strerror(-ret));
		return -EIO;
	}
	return 0;
}

cJSON *status_cameras(const char *const *names, struct stream *const *streams, size_t n)
{
	cJSON *cams = cJSON_CreateArray();

	for (size_t i = 0; cams && i < n; i++)
		cJSON_AddItemToArray(cams, status_camera(names[i], streams[i]));
	return cams;
}

static cJSON *status_uplink(const struct config *cfg, const struct uplink_stat *u)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "central", cfg->uplink.base_url);
	cJSON_AddBoolToObject(o, "link_up", u->link_up);
	cJSON_AddNumberToObject(o, "last_success_ms", (double)u->last_success_ms);
	cJSON_AddNumberToObject(o, "sent_objects", (double)u->sent_objects);
	cJSON_AddNumberToObject(o, "sent_bytes", (double)u->sent_bytes);
	cJSON_AddNumberToObject(o, "failures", (double)u->failures);
	cJSON_AddNumberToObject(o, "pending_rows", (double)u->pending_rows);
	cJSON_AddNumberToObject(o, "in_flight", u->in_flight);
	cJSON_AddNumberToObject(o, "lost_segments", (double)u->lost_segments);
	cJSON_AddBoolToObject(o, "store_failing", u->store_failing);
	cJSON_AddStringToObject(o, "last_error", u->last_error);
	return o;
}

cJSON *status_state_disk_json(const struct status_state_disk *sd)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "free_bytes", (double)sd->free_bytes);
	cJSON_AddNumberToObject(o, "low_bytes", (double)sd->low_bytes);
	cJSON_AddBoolToObject(o, "low", sd->low);
	cJSON_AddBoolToObject(o, "writes_failing", sd->writes_failing);
	return o;
}

int status_write(const struct config *cfg, struct ring *ring, struct statedb *sdb,
		 const char *daemon_state, int64_t started_ms, const char *const *names,
		 struct stream *const *streams, size_t n, const struct uplink_stat *ust,
		 const struct status_state_disk *sd)
{
	cJSON *root = cJSON_CreateObject(), *cams, *alarms = NULL;
	char *text = NULL;
	int ret = -ENOMEM;

	if (!root)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "gateway", cfg->gateway_id);
	cJSON_AddStringToObject(root, "firmware", CAMGATE_VERSION);
	cJSON_AddStringToObject(root, "mode", ust ? "uplink" : "local-recorder");
	cJSON_AddStringToObject(root, "daemon_state", daemon_state);
	cJSON_AddNumberToObject(root, "time_utc_ms", (double)time_now_ms());
	cJSON_AddNumberToObject(root, "uptime_s", (double)(time_now_ms() - started_ms) / 1000);
	cams = status_cameras(names, streams, n);
	cJSON_AddItemToObject(root, "cameras", cams);
	cJSON_AddItemToObject(root, "storage", status_storage(ring));
	if (ust)
		cJSON_AddItemToObject(root, "uplink", status_uplink(cfg, ust));
	if (sd)
		cJSON_AddItemToObject(root, "state_disk", status_state_disk_json(sd));
	if (!alarm_active_json(sdb, &alarms))
		cJSON_AddItemToObject(root, "alarms", alarms);
	/* The duties, as central's status object carries them (R2, R11...). */
	if (!compliance_json(sdb, &alarms))
		cJSON_AddItemToObject(root, "compliance", alarms);
	text = cJSON_Print(root);
	if (text)
		ret = status_replace(cfg->state_dir, text);
	free(text);
	cJSON_Delete(root);
	return ret;
}

static char *status_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(STATUS_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, STATUS_MAX_BYTES, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Text the snapshot carries from cameras (errors, codecs) and from
 * central is escaped (lib/termsafe.h) before it reaches the terminal. */
static const char *status_str(struct termsafe_buf *tb, const cJSON *o, const char *key)
{
	return termsafe_add(tb, cJSON_GetStringValue(cJSON_GetObjectItem(o, key)));
}

/* Is the snapshot's writer still there? What `status` adds to the file:
 * "daemon": {"running", "pid", "snapshot_age_s"}. A snapshot outlives a
 * daemon killed or crashed, and must not pass for the present. */
static void status_add_daemon(const struct config *cfg, cJSON *root)
{
	double t = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "time_utc_ms"));
	cJSON *d = cJSON_AddObjectToObject(root, "daemon");
	pid_t pid = 0;
	bool running = !pidfile_daemon(cfg->state_dir, &pid);

	cJSON_AddBoolToObject(d, "running", running);
	if (running)
		cJSON_AddNumberToObject(d, "pid", pid);
	if (!isnan(t)) /* the snapshot has its time */
		cJSON_AddNumberToObject(d, "snapshot_age_s",
					(double)(time_now_ms() - (int64_t)t) / 1000);
}

static void status_print_daemon(struct termsafe_buf *tb, const cJSON *root)
{
	/* A snapshot of a firmware before the field: "unknown". */
	const char *state = cJSON_IsString(cJSON_GetObjectItem(root, "daemon_state"))
				    ? status_str(tb, root, "daemon_state")
				    : "unknown";

	const cJSON *d = cJSON_GetObjectItem(root, "daemon");
	double t = cJSON_GetNumberValue(cJSON_GetObjectItem(root, "time_utc_ms"));
	double age = cJSON_GetNumberValue(cJSON_GetObjectItem(d, "snapshot_age_s"));
	char when[32] = "an unknown time";

	if (!isnan(t))
		format_time_ms((int64_t)t, when, sizeof(when));
	if (cJSON_IsTrue(cJSON_GetObjectItem(d, "running")))
		printf("daemon running (pid %.0f), state %s; snapshot of %s, %.0f s ago\n",
		       cJSON_GetNumberValue(cJSON_GetObjectItem(d, "pid")), state, when, age);
	else
		printf("daemon NOT RUNNING: this is its last snapshot, of %s (%.0f s ago, state "
		       "%s);\ncameras, uplink and alarms below are as they were then\n",
		       when, age, state);
}

static void status_print_uplink(struct termsafe_buf *tb, const cJSON *u)
{
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(u, "last_error"));

	if (!u) {
		puts("uplink: none (local recorder: no [uplink] base_url)");
		return;
	}
	tb->used = 0;
	printf("uplink: link %s to %s, %.0f objects sent, %.0f queued, %.0f in flight, "
	       "%.0f failures%s%s\n",
	       cJSON_IsTrue(cJSON_GetObjectItem(u, "link_up")) ? "up" : "DOWN",
	       status_str(tb, u, "central"),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(u, "sent_objects")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(u, "pending_rows")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(u, "in_flight")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(u, "failures")),
	       err && *err ? "; last error: " : "",
	       err && *err ? status_str(tb, u, "last_error") : "");
}

static void status_print_text(const cJSON *root)
{
	const cJSON *c, *a;
	const cJSON *st = cJSON_GetObjectItem(root, "storage");
	struct termsafe_buf tb = { 0 };

	status_print_daemon(&tb, root);
	printf("gateway %s, firmware %s, mode %s, up %.0f s\n", status_str(&tb, root, "gateway"),
	       status_str(&tb, root, "firmware"), status_str(&tb, root, "mode"),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(root, "uptime_s")));
	printf("storage: %.0f of %.0f MiB used, %.0f segments, %.0f evicted (%.0f protected)\n",
	       cJSON_GetNumberValue(cJSON_GetObjectItem(st, "bytes_used")) / 1048576,
	       cJSON_GetNumberValue(cJSON_GetObjectItem(st, "bytes_total")) / 1048576,
	       cJSON_GetNumberValue(cJSON_GetObjectItem(st, "segs")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(st, "evicted_segs")),
	       cJSON_GetNumberValue(cJSON_GetObjectItem(st, "evicted_pinned")));
	cJSON_ArrayForEach (c, cJSON_GetObjectItem(root, "cameras")) {
		const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(c, "last_error"));

		tb.used = 0;
		printf("camera %-16s %-10s %-5s %4.1f fps %6.0f kbit/s %5.0f segs %3.0f reconnects "
		       "%s%s%s\n",
		       status_str(&tb, c, "name"), status_str(&tb, c, "state"),
		       status_str(&tb, c, "video_codec"),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(c, "fps")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(c, "bitrate_bps")) / 1000,
		       cJSON_GetNumberValue(cJSON_GetObjectItem(c, "segments")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(c, "reconnects")),
		       status_str(&tb, c, "note"), err && *err ? " last error: " : "",
		       status_str(&tb, c, "last_error"));
	}
	status_print_uplink(&tb, cJSON_GetObjectItem(root, "uplink"));
	cJSON_ArrayForEach (a, cJSON_GetObjectItem(root, "alarms")) {
		tb.used = 0;
		printf("ALARM %s %s: %s (x%.0f)\n", status_str(&tb, a, "code"),
		       status_str(&tb, a, "camera"), status_str(&tb, a, "message"),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(a, "count")));
	}
}

int status_print(const struct config *cfg, int json)
{
	char path[PATH_MAX];
	char *text;
	cJSON *root;

	snprintf(path, sizeof(path), "%s/status.json", cfg->state_dir);
	text = status_slurp(path);
	if (!text) {
		log_err("%s: no status (is `camgate run` running?): %m", path);
		return -ENOENT;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!root) {
		log_err("%s: not valid JSON", path);
		return -EBADMSG;
	}
	status_add_daemon(cfg, root);
	if (json) {
		/* Printed again, so what reaches the terminal is escaped JSON
		 * whatever the file holds. */
		char *out = cJSON_Print(root), *safe = out ? termsafe_json(out) : NULL;

		free(out);
		if (safe)
			puts(safe);
		free(safe);
	} else {
		status_print_text(root);
	}
	cJSON_Delete(root);
	return 0;
}
