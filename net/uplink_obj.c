// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink objects: registry records, events, status.json and the live
 * HLS playlists (U3). Formats are specified in docs/uplink.md. The R2
 * deadline, the alarms and the daemon's figures come from its hooks.
 */
#include "net/uplink_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/jsonutil.h"
#include "lib/log.h"
#include "lib/parse.h"

#define DAY_MS 86400000.0

int uplink__put_json(struct uplink *up, int kind, const char *path, cJSON *obj, int64_t created_ms,
		     int64_t deadline_ms)
{
	struct outbox_item it = { .prio = OUTBOX_URGENT, .kind = kind };
	int ret;

	it.body = cJSON_PrintUnformatted(obj);
	if (!it.body)
		return -ENOMEM;
	snprintf(it.path, sizeof(it.path), "%s", path);
	it.start_ms = it.created_ms = created_ms;
	it.deadline_ms = deadline_ms;
	ret = outbox_put(up->ob, &it, kind != OUTBOX_EVENT && kind != OUTBOX_RESULT);
	cJSON_free(it.body);
	if (!ret)
		uplink__wake(up);
	return ret;
}

int uplink_put_object(struct uplink *up, const char *path, const char *body, int64_t created_ms)
{
	struct outbox_item it = { .prio = OUTBOX_URGENT, .kind = OUTBOX_EVENT };
	int ret;

	if (snprintf(it.path, sizeof(it.path), "%s", path) >= (int)sizeof(it.path))
		return -E2BIG;
	it.body = (char *)body;
	it.start_ms = it.created_ms = created_ms;
	ret = outbox_put(up->ob, &it, false);
	if (!ret)
		uplink__wake(up);
	return ret;
}

/* ---- registry ---- */

int uplink_registry_changed(struct uplink *up, const char *camera)
{
	int64_t now = uplink__now(up);
	int64_t deadline =
		up->hooks.registry_deadline ? up->hooks.registry_deadline(up->hooks.arg, now) : 0;
	char path[OUTBOX_PATH_MAX];
	cJSON *rec = NULL;
	int ret;

	if (!uplink_id_ok(camera))
		return -EINVAL;
	if (up->hooks.registry_record)
		rec = up->hooks.registry_record(up->hooks.arg, camera);
	if (!rec) {
		rec = cJSON_CreateObject();
		if (rec && up->hooks.registry_record)
			cJSON_AddTrueToObject(rec, "removed");
	}
	if (!rec)
		return -ENOMEM;
	cJSON_DeleteItemFromObject(rec, "gateway");
	cJSON_DeleteItemFromObject(rec, "camera");
	cJSON_AddStringToObject(rec, "gateway", up->cfg.gateway_id);
	cJSON_AddStringToObject(rec, "camera", camera);
	if (!cJSON_HasObjectItem(rec, "version"))
		cJSON_AddNumberToObject(rec, "version", (double)now);
	json_add_time(rec, "changed_at", now);
	json_add_time(rec, "deadline", deadline);
	snprintf(path, sizeof(path), "registry/%s.json", camera);
	ret = uplink__put_json(up, OUTBOX_REGISTRY, path, rec, now, deadline);
	cJSON_Delete(rec);
	return ret;
}

static int resend_one(void *arg, const char *camera)
{
	return uplink_registry_changed(arg, camera);
}

int uplink_registry_resend(struct uplink *up)
{
	if (!up->hooks.registry_each)
		return -ENOTSUP;
	return up->hooks.registry_each(up->hooks.arg, resend_one, up);
}

/* ---- events ---- */

static void compact_time(int64_t ms, char *buf, size_t cap)
{
	char t[32];

	format_time_ms(ms, t, sizeof(t));
	snprintf(buf, cap, "%.4s%.2s%.2sT%.2s%.2s%.6sZ", t, t + 5, t + 8, t + 11, t + 14, t + 17);
}

/* The event object of docs/uplink.md as an outbox row; it.body is
 * malloc'ed (cJSON_free). */
static int event_item(struct uplink *up, int64_t now, const struct uplink_ev *e,
		      struct outbox_item *it)
{
	char t[32];
	uint32_t rnd = 0;
	cJSON *ev = cJSON_CreateObject();

	if (!ev)
		return -ENOMEM;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)time_mono_ms();
	compact_time(now, t, sizeof(t));
	*it = (struct outbox_item){ .prio = OUTBOX_URGENT, .kind = OUTBOX_EVENT };
	snprintf(it->path, sizeof(it->path), "events/%s-%08" PRIx32 ".json", t, rnd);
	cJSON_AddStringToObject(ev, "gateway", up->cfg.gateway_id);
	cJSON_AddStringToObject(ev, "type", e->type);
	cJSON_AddStringToObject(ev, "camera", e->camera ? e->camera : "");
	cJSON_AddStringToObject(ev, "message", e->message ? e->message : "");
	json_add_time(ev, "time", now);
	it->body = cJSON_PrintUnformatted(ev);
	it->start_ms = it->created_ms = now;
	cJSON_Delete(ev);
	return it->body ? 0 : -ENOMEM;
}

int uplink_events(struct uplink *up, const struct uplink_ev *evs, size_t n,
		  int (*also)(struct sqlite3 *db, void *arg), void *arg)
{
	int64_t now = uplink__now(up);
	struct outbox_item *its = calloc(n ? n : 1, sizeof(*its));
	size_t i;
	int ret = its ? 0 : -ENOMEM;

	for (i = 0; i < n && !ret; i++)
		ret = event_item(up, now, &evs[i], &its[i]);
	if (!ret)
		ret = outbox_put_many(up->ob, its, n, also, arg);
	for (size_t j = 0; its && j < n; j++)
		cJSON_free(its[j].body);
	free(its);
	if (!ret && n) {
		uplink__wake(up);
		uplink_status_now(up);
	}
	return ret;
}

int uplink_event(struct uplink *up, const char *type, const char *camera, const char *message)
{
	const struct uplink_ev e = { .type = type, .camera = camera, .message = message };

	return uplink_events(up, &e, 1, NULL, NULL);
}

/* ---- status.json ---- */

static void status_storage(struct uplink *up, cJSON *o)
{
	struct ring_stat rs;
	cJSON *s;
	int64_t span;

	if (!up->ring || ring_stat(up->ring, &rs) || !(s = cJSON_AddObjectToObject(o, "storage")))
		return;
	span = rs.oldest_utc_ms ? rs.newest_utc_ms - rs.oldest_utc_ms : 0;
	cJSON_AddNumberToObject(s, "capacity_bytes", (double)rs.bytes_total);
	cJSON_AddNumberToObject(s, "used_bytes", (double)rs.bytes_used);
	cJSON_AddNumberToObject(s, "pinned_bytes", (double)rs.bytes_pinned);
	json_add_time(s, "oldest_footage", rs.oldest_utc_ms);
	json_add_time(s, "newest_footage", rs.newest_utc_ms);
	cJSON_AddNumberToObject(s, "days_held", (double)span / DAY_MS);
	/* At the current rate the full ring holds capacity/used x span. */
	cJSON_AddNumberToObject(s, "days_at_current_rate",
				rs.bytes_used ? (double)span / DAY_MS * (double)rs.bytes_total /
							(double)rs.bytes_used
					      : 0);
	cJSON_AddNumberToObject(s, "segments_pending_upload", (double)rs.segs_pending_upload);
	cJSON_AddNumberToObject(s, "evicted_not_uploaded", (double)rs.evicted_pinned);
}

static void status_queue(cJSON *u, const struct outbox_stat *os)
{
	static const char *const names[OUTBOX_NPRIO] = { "urgent", "live", "backlog" };
	cJSON *q = cJSON_AddObjectToObject(u, "queue");

	for (int p = 0; q && p < OUTBOX_NPRIO; p++) {
		cJSON *e = cJSON_AddObjectToObject(q, names[p]);

		if (!e)
			return;
		cJSON_AddNumberToObject(e, "objects", (double)os->rows[p]);
		cJSON_AddNumberToObject(e, "bytes", (double)os->bytes[p]);
		json_add_time(e, "oldest", os->oldest_ms[p]);
	}
}

static void status_uplink(struct uplink *up, cJSON *o, const struct outbox_stat *os)
{
	int64_t mono = time_mono_ms();
	struct uplink_stat st;
	cJSON *u = cJSON_AddObjectToObject(o, "uplink");

	if (!u)
		return;
	uplink__lock(&up->lock);
	st = up->st;
	uplink__unlock(&up->lock);
	cJSON_AddStringToObject(u, "link", st.link_up ? "up" : "down");
	json_add_time(u, "last_success", st.last_success_ms);
	cJSON_AddNumberToObject(u, "sent_objects", (double)st.sent_objects);
	cJSON_AddNumberToObject(u, "sent_bytes", (double)st.sent_bytes);
	cJSON_AddNumberToObject(u, "failures", (double)st.failures);
	cJSON_AddNumberToObject(u, "lost_segments", (double)st.lost_segments);
	cJSON_AddNumberToObject(u, "throughput_bps",
				mono > up->tput_since ? (double)up->tput_bytes * 1000.0 /
								(double)(mono - up->tput_since)
						      : 0);
	cJSON_AddStringToObject(u, "last_error", st.last_error);
	status_queue(u, os);
	up->tput_bytes = 0;
	up->tput_since = mono;
}

static void status_registry(cJSON *o, const struct outbox_stat *os)
{
	cJSON *r = cJSON_AddObjectToObject(o, "registry");

	if (!r)
		return;
	cJSON_AddNumberToObject(r, "pending_changes", (double)os->registry_rows);
	json_add_time(r, "oldest_change", os->registry_created_ms);
	json_add_time(r, "deadline", os->registry_deadline_ms);
}

int uplink__status(struct uplink *up)
{
	int64_t now = uplink__now(up);
	struct outbox_stat os;
	struct uplink_figures fig = { .now_ms = now };
	cJSON *o = cJSON_CreateObject();
	int ret = -ENOMEM;

	if (!o)
		return ret;
	if (outbox_stat(up->ob, &os))
		memset(&os, 0, sizeof(os));
	cJSON_AddStringToObject(o, "gateway", up->cfg.gateway_id);
	json_add_time(o, "time", now);
	cJSON_AddStringToObject(o, "firmware",
				up->cfg.firmware_version ? up->cfg.firmware_version : "");
	cJSON_AddNumberToObject(o, "uplink_uptime_s",
				(double)(time_mono_ms() - up->started_mono) / 1000.0);
	status_storage(up, o);
	status_uplink(up, o, &os);
	status_registry(o, &os);
	fig.registry_rows = os.registry_rows;
	fig.registry_oldest_ms = os.registry_created_ms;
	fig.registry_deadline_ms = os.registry_deadline_ms;
	fig.registry_path = os.registry_path;
	if (up->hooks.status_fill)
		up->hooks.status_fill(up->hooks.arg, o, &fig);
	ret = uplink__put_json(up, OUTBOX_STATUS, "status.json", o, now, 0);
	cJSON_Delete(o);
	return ret;
}

/* ---- names ---- */

int uplink_segment_path(const char *camera, uint64_t seq, int64_t start_ms, char *buf, size_t cap)
{
	char t[32];
	int n;

	/* 2026-01-05T10:00:00.000Z -> 20260105T100000.000Z: sorts by time
	 * and has no ':' (awkward in URLs and on some filesystems). */
	format_time_ms(start_ms, t, sizeof(t));
	n = snprintf(buf, cap, "media/%s/%.4s%.2s%.2sT%.2s%.2s%.6sZ-%llu.m4s", camera, t, t + 5,
		     t + 8, t + 11, t + 14, t + 17, (unsigned long long)seq);
	return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}

int uplink_init_path(const char *camera, uint64_t init_id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "media/%s/init-%llu.mp4", camera, (unsigned long long)init_id);

	return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
}
