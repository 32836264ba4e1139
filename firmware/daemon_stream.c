// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_stream - the cameras of `camgate run`: the stream sink that puts
 * each segment into the ring, the ring's evict hook, the camera table
 * (gw->cams) and applying a configuration to it.
 *
 * Threads: the sink callbacks (gw_sink_*) run on each camera's stream
 * thread, and gw_evict_hook() on the thread inside ring_writer_open() or
 * ring_writer_add(), with the ring locked. They read gw->ring, gw->sdb and the atomics only, and
 * reach the uplink with the read lock tried, never waited for. Everything
 * else runs on the main thread, which alone changes gw->cams; it holds
 * cams_lock while doing so because the uplink thread reads the table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "drivers/stream/stream.h"
#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/holds.h"
#include "firmware/integrity.h"
#include "firmware/liveness.h"
#include "firmware/registry.h"
#include "firmware/retention.h"
#include "firmware/status.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/url.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "storage/statedb.h"

/* A camera goes "offline" in the alarms after this long not recording. */
#define CAMERA_OFFLINE_MS 30000

static int gw_sink_init(void *arg, const char *camera, const void *data, size_t len,
			uint64_t *init_idp)
{
	struct gw_cam *cam = arg;
	int t = liveness_enter(cam->gw->live, LIVE_STORAGE);
	int ret = ring_put_init(cam->gw->ring, camera, data, len, init_idp);

	liveness_leave(cam->gw->live, t);
	return ret;
}

static void gw_sink_nospace(struct gw_cam *cam)
{
	atomic_fetch_add(&cam->gw->nospace_gen, 1);
	alarm_raise(cam->gw->sdb, "storage-full", cam->name,
		    "ring full of protected footage: segment not recorded");
}

/* A segment stored: the ring has room for this camera again, so its
 * storage-full alarm (raised here or by the evict hook) goes. Once per
 * refusal, and once per start for an alarm left from before. */
static void gw_sink_stored(struct gw *gw, struct gw_cam *cam)
{
	uint64_t gen = atomic_load(&gw->nospace_gen);

	if (cam->nospace_seen == gen)
		return;
	cam->nospace_seen = gen;
	alarm_clear(gw->sdb, "storage-full", cam->name);
}

/* Segments are streamed: the stream hands over each fragment as the
 * muxer flushes it and the ring writes it through, so no camera holds a
 * whole segment in memory. The ring reserves room by the camera's last
 * segments (ring.h, hint 0). The floor is set when a segment starts: the
 * evictions its writes may cause come within one segment of that. */
static int gw_sink_open(void *arg, const char *camera, uint64_t init_id, void **writerp)
{
	struct gw_cam *cam = arg;
	struct gw *gw = cam->gw;
	int64_t floor = atomic_load(&gw->floor_ms);
	struct ring_writer *w;
	int ret, t;

	ring_set_floor(gw->ring, floor > 0 ? time_now_ms() - floor : INT64_MAX);
	t = liveness_enter(gw->live, LIVE_STORAGE);
	ret = ring_writer_open(gw->ring, camera, init_id, 0, &w);
	liveness_leave(gw->live, t);
	if (ret == -ENOSPC)
		gw_sink_nospace(cam);
	if (!ret)
		*writerp = w;
	return ret;
}

static int gw_sink_write(void *arg, void *writer, const void *data, size_t len)
{
	struct gw_cam *cam = arg;
	int t, ret;

	liveness_test_stall(cam->gw->live, LIVE_SEAM_CAMERA); /* outside storage */
	t = liveness_enter(cam->gw->live, LIVE_STORAGE);
	liveness_test_stall(cam->gw->live, LIVE_SEAM_STORAGE); /* inside a write */
	ret = ring_writer_add(writer, data, len);
	liveness_leave(cam->gw->live, t);
	if (ret == -ENOSPC)
		gw_sink_nospace(cam);
	return ret;
}

/* R11 health: a stored segment that starts more than GW_GAP_MS after
 * the previous one ended is a break in the recording (daemon_compliance.c
 * counts them per hour). */
#define GW_GAP_MS 2000
static void gw_sink_gap(struct gw_cam *cam, const struct stream_seg *seg)
{
	if (cam->gap_prev_end_ms && seg->start_utc_ms - cam->gap_prev_end_ms > GW_GAP_MS)
		atomic_fetch_add(&cam->gaps, 1);
	cam->gap_prev_end_ms = seg->start_utc_ms + seg->duration_ms;
}

static int gw_sink_close(void *arg, void *writer, const struct stream_seg *seg)
{
	struct gw_cam *cam = arg;
	struct gw *gw = cam->gw;
	struct ring_seg_info info;
	struct ring_seg rs;
	int ret, t;

	if (!seg) {
		ring_writer_abort(writer);
		return 0;
	}
	rs = (struct ring_seg){
		.camera = cam->name,
		.init_id = seg->init_id,
		.start_utc_ms = seg->start_utc_ms,
		.duration_ms = seg->duration_ms,
		.media_start_us = seg->media_start_us,
		.flags = (seg->discont ? RING_F_DISCONT : 0) | (seg->has_audio ? RING_F_AUDIO : 0),
		.utc_src = seg->utc_from_rtcp ? RING_UTC_RTCP : RING_UTC_ARRIVAL,
	};
	t = liveness_enter(gw->live, LIVE_STORAGE);
	ret = ring_writer_commit(writer, &rs, &info);
	liveness_leave(gw->live, t);
	if (!ret) {
		gw_sink_stored(gw, cam);
		gw_sink_gap(cam, seg);
	}
	if (!ret && gw->integ && integrity_segment(gw->integ, &info, time_now_ms()))
		log_err_limited("%s: segment %llu not added to the hash chain", cam->name,
				(unsigned long long)info.seq);
	if (!ret && !atomic_load(&cam->share_media)) {
		/* owner-only (R15): nothing owed to central until it asks
		 * (resend-range), so the ring need not keep it for upload. */
		ring_mark_uploaded(gw->ring, info.id);
	} else if (!ret && gw_up_tryrdlock(gw)) {
		if (gw->up)
			uplink_segment_added(gw->up, &info);
		gw_up_unlock(gw);
	}
	return ret;
}

/* Called by the ring, with the ring locked, for each pinned segment it
 * must overwrite. Every overwrite is audited and alarmed (G2); without
 * its audit row, or while segments wait for their outbox row (U7 in
 * net/uplink.h: a not-uploaded one evicted then would never reach
 * central), the hook refuses: fail closed. Each segment asked about
 * tries the audit row again, so recording resumes by itself once
 * state.db takes writes. */
int gw_evict_hook(void *arg, const struct ring_seg_info *info, const char *why)
{
	struct gw *gw = arg;
	char object[64], detail[160], when[32];

	format_time_ms(info->start_utc_ms, when, sizeof(when));
	/* A legal hold outranks on_full: kept until released (R10). */
	if (!strcmp(why, "hold"))
		return -1;
	/* R10: under the floor only when the operator chose evict. */
	if (atomic_load(&gw->on_full) == CONFIG_ON_FULL_STOP) {
		alarm_raise(
			gw->sdb, "storage-full", info->camera,
			"only protected footage left to evict: recording stopped (on_full = stop)");
		return -1;
	}
	/* Refused: the append fails with -ENOSPC and the sink raises
	 * storage-full (when that row can be written); gw_watch_state()
	 * raises state-write-failed as soon as state.db takes a row. */
	if (atomic_load(&gw->outbox_failing)) {
		atomic_store(&gw->state_refused, true);
		return -1;
	}
	snprintf(object, sizeof(object), "%s/%llu", info->camera, (unsigned long long)info->seq);
	snprintf(detail, sizeof(detail), "%s; start %s; %u ms; %llu bytes", why, when,
		 info->duration_ms, (unsigned long long)info->len);
	if (audit_record(gw->sdb, 0, "system", "evict-protected", object, detail)) {
		atomic_store(&gw->audit_failing, true);
		atomic_store(&gw->state_refused, true);
		return -1;
	}
	atomic_store(&gw->audit_failing, false);
	if (!info->uploaded && gw->integ)
		integrity_evicted(gw->integ, info, time_now_ms());
	alarm_raise(gw->sdb, "protected-footage-overwritten", info->camera,
		    "storage full: protected footage overwritten");
	return 0;
}

bool gw_held(void *arg, const struct ring_seg_info *info)
{
	return holds_covers(arg, info->camera, info->start_utc_ms, info->duration_ms);
}

void gw_state_disk(struct gw *gw, struct status_state_disk *sd)
{
	sd->free_bytes = atomic_load(&gw->state_free);
	sd->low_bytes = gw->cfg->state_disk_low;
	sd->low = atomic_load(&gw->state_low);
	sd->writes_failing = atomic_load(&gw->audit_failing) || atomic_load(&gw->outbox_failing);
}

/* A page damaged under a sound header goes unnoticed until a statement
 * reads it, and the next start's quick_check refuses the file: found
 * here instead, while the rows since are still few. A separate read-only
 * connection, so recording and uplink threads keep writing meanwhile.
 * Cost (docs/reliability.md, Figures): 0.6-4.4 ms on the 388 KiB
 * state.db of 150 s of 16 cameras, 35-105 ms on a 21 MiB one (x86-64
 * host under load), every 5 min by default on the status tick.
 * -EUCLEAN: damaged (logged with quick_check's words); else 0 (an open
 * or I/O failure is logged and tried again at the next interval). */
static int gw_quick_check(struct gw *gw)
{
	int64_t every = gw->cfg->state_check_interval_ms, now = time_mono_ms();
	char why[200];
	int ret;

	if (!every)
		return 0;
	if (!gw->state_check_at)
		gw->state_check_at = now + every; /* the open just checked it */
	if (now < gw->state_check_at)
		return 0;
	gw->state_check_at = now + every;
	ret = statedb_quick_check(gw->sdb, why, sizeof(why));
	if (ret == -EBADMSG) {
		log_msg(LOG_CRIT, "%s/state.db: quick_check: %s", gw->cfg->state_dir, why);
		return -EUCLEAN;
	}
	if (ret)
		log_err_limited("%s/state.db: quick_check not run: %s", gw->cfg->state_dir,
				why[0] ? why : strerror(-ret));
	return 0;
}

void gw_watch_state(struct gw *gw)
{
	uint64_t low = gw->cfg->state_disk_low;
	struct statvfs vfs;
	char msg[160];
	bool failing;
	int ret;

	ret = statedb_check(gw->sdb);
	if (!ret)
		ret = gw_quick_check(gw);
	if (ret) {
		/* Every row from now on (audit, outbox, alarms) would go to
		 * a file no restart finds: stop, so the service manager
		 * starts camgate again on a new state.db, which re-sends the
		 * ring and raises state-db-lost (docs/storage.md). */
		log_msg(LOG_CRIT,
			"%s/state.db %s while running: stopping so that a restart re-creates it",
			gw->cfg->state_dir,
			ret == -EBADMSG	  ? "was overwritten (not a database)"
			: ret == -EUCLEAN ? "is damaged (quick_check)"
					  : "was removed or replaced");
		if (ret == -EBADMSG || ret == -EUCLEAN)
			statedb_abandon(gw->sdb);
		gw->state_lost = ret;
		return;
	}
	if (!statvfs(gw->cfg->state_dir, &vfs)) {
		uint64_t free_b = (uint64_t)vfs.f_bavail * vfs.f_frsize;

		atomic_store(&gw->state_free, free_b);
		/* Cleared a little above the threshold, so a disk hovering
		 * at it does not flap the alarm. */
		/* The first look also settles what a previous run left
		 * active in the table. */
		bool first = !gw->state_watched;

		gw->state_watched = true;
		if (low && free_b < low && (first || !atomic_load(&gw->state_low))) {
			snprintf(msg, sizeof(msg),
				 "%llu KiB free on %s, under %llu KiB: audit and outbox rows "
				 "will soon fail",
				 (unsigned long long)free_b / 1024, gw->cfg->state_dir,
				 (unsigned long long)low / 1024);
			if (!alarm_raise(gw->sdb, "state-disk-low", "", msg))
				atomic_store(&gw->state_low, true);
		} else if ((first || atomic_load(&gw->state_low)) &&
			   (!low || free_b >= low + low / 8)) {
			if (!alarm_clear(gw->sdb, "state-disk-low", ""))
				atomic_store(&gw->state_low, false);
		}
	} else {
		log_err_limited("%s: statvfs: %m", gw->cfg->state_dir);
	}
	/* The alarm row needs the disk that failed: it is tried every tick
	 * until written, so it is there at the latest when the disk takes
	 * rows again (and then cleared the tick after). */
	failing = atomic_load(&gw->audit_failing) || atomic_load(&gw->outbox_failing);
	if (!gw->veto_alarm) {
		if (atomic_load(&gw->state_refused) &&
		    !alarm_raise(
			    gw->sdb, "state-write-failed", "",
			    "state.db cannot take the audit or outbox rows that overwriting "
			    "protected footage needs: footage kept, recording stopped until it "
			    "can")) {
			gw->veto_alarm = true;
			atomic_store(&gw->state_refused, false);
		}
	} else if (failing) {
		atomic_store(&gw->state_refused, false); /* the active alarm says it */
	} else if (!alarm_clear(gw->sdb, "state-write-failed", "")) {
		gw->veto_alarm = false;
	}
}

static int gw_cam_start(struct gw *gw, struct gw_cam *cam)
{
	const struct config_camera *c = cam->cfg;
	char url[256];
	struct stream_cfg sc = {
		.name = c->name,
		.url = c->url,
		.username = c->username,
		.password = c->password,
		.udp = c->stream.transport == 1,
		.segment_ms = (uint32_t)c->stream.segment_ms,
		.connect_timeout_ms = (uint32_t)c->stream.connect_ms,
		.stall_timeout_ms = (uint32_t)c->stream.stall_ms,
		.backoff_min_ms = (uint32_t)c->stream.backoff_min_ms,
		.backoff_max_ms = (uint32_t)c->stream.backoff_max_ms,
	};
	struct stream_sink sink = {
		.init = gw_sink_init,
		.arg = cam,
		.open = gw_sink_open,
		.write = gw_sink_write,
		.close = gw_sink_close,
	};

	cam->gw = gw;
	cam->nospace_seen = UINT64_MAX; /* the first stored segment clears */
	snprintf(cam->name, sizeof(cam->name), "%s", c->name);
	log_info("camera %s: starting (%s)", c->name, url_redact(c->url, url, sizeof(url)));
	return stream_start(&sc, &sink, &cam->stream);
}

static void gw_cam_stop(struct gw_cam *cam)
{
	log_info("camera %s: stopping", cam->name);
	stream_stop(cam->stream);
	cam->stream = NULL;
}

bool gw_cam_named(struct gw *gw, const char *name)
{
	for (size_t i = 0; i < gw->ncams; i++)
		if (!strcmp(gw->cams[i]->name, name))
			return true;
	return false;
}

static struct gw_cam *gw_cam_find(struct gw *gw, const char *name)
{
	for (size_t i = 0; i < gw->ncams; i++)
		if (!strcmp(gw->cams[i]->name, name))
			return gw->cams[i];
	return NULL;
}

/* Stops and frees slot @i; the last slot moves into it. */
void gw_cam_remove(struct gw *gw, size_t i)
{
	struct gw_cam *cam = gw->cams[i];

	gw_cams_lock(gw);
	gw->cams[i] = gw->cams[--gw->ncams];
	gw_cams_unlock(gw);
	gw_cam_stop(cam);
	free(cam);
}

static void gw_cam_add(struct gw *gw, const struct config_camera *c)
{
	struct gw_cam *cam = calloc(1, sizeof(*cam));

	if (!cam) {
		log_err("camera %s: out of memory", c->name);
		return;
	}
	cam->cfg = c;
	atomic_store(&cam->share_media, true);
	if (gw_cam_start(gw, cam)) {
		log_err("camera %s: cannot start its stream thread", c->name);
		free(cam);
		return;
	}
	gw_cams_lock(gw);
	gw->cams[gw->ncams++] = cam;
	gw_cams_unlock(gw);
}

/* The camera @name should record as: the config's, else a discovered one. */
static const struct config_camera *gw_desired(struct gw *gw, const struct config *cfg,
					      const char *name)
{
	const struct config_camera *c = config_camera_find(cfg, name);

	for (size_t i = 0; !c && i < gw->ndcams; i++)
		if (!strcmp(gw->dcams[i].name, name))
			c = &gw->dcams[i];
	return c;
}

/* Why camera @name stops, for the audit: a gone camera says why it is
 * gone (registry gone_reason), not "config reload". */
static const char *gw_stop_why(struct gw *gw, const struct config *next, const char *name,
			       char *buf, size_t cap)
{
	struct registry_camera *rc = malloc(sizeof(*rc));
	const char *why = gw->cfg != next ? "config reload" : "registry change";

	if (rc && gw->reg && !registry_get(gw->reg, name, rc) && rc->gone) {
		snprintf(buf, cap, "camera gone: %s", rc->gone_reason[0] ? rc->gone_reason : "?");
		why = buf;
	}
	free(rc);
	return why;
}

/* Apply @next: stop removed/changed/disabled cameras, start new ones. */
static void gw_apply(struct gw *gw, struct config *next)
{
	char restart[256], why[192];

	for (size_t i = 0; i < gw->ncams;) {
		struct gw_cam *cam = gw->cams[i];
		const struct config_camera *nc = gw_desired(gw, next, cam->name);

		bool blocked = gw_blocked(gw, cam->name, why, sizeof(why));

		if (!blocked && nc && nc->enabled && config_camera_same(cam->cfg, nc)) {
			cam->cfg = nc;
			i++;
			continue;
		}
		audit_record(gw->sdb, 0, "system",
			     blocked ? "camera-stopped"
			     : nc    ? "camera-changed"
				     : "camera-removed",
			     cam->name,
			     blocked ? "on central's blocklist"
				     : gw_stop_why(gw, next, cam->name, why, sizeof(why)));
		gw_cam_remove(gw, i);
	}
	for (size_t i = 0; i < next->ncameras + gw->ndcams; i++) {
		const struct config_camera *c =
			i < next->ncameras ? &next->cameras[i] : &gw->dcams[i - next->ncameras];

		if (!c->enabled || gw_cam_find(gw, c->name) ||
		    gw_blocked(gw, c->name, why, sizeof(why)))
			continue;
		/* A configured camera of the same name wins over a discovered one. */
		if (i >= next->ncameras && config_camera_find(next, c->name))
			continue;
		if (gw->cfg != next)
			audit_record(gw->sdb, 0, "system", "camera-started", c->name,
				     "config reload");
		gw_cam_add(gw, c);
	}
	if (gw->cfg != next && config_restart_needed(gw->cfg, next, restart, sizeof(restart)))
		log_warn("reload: %s changed; takes effect after a restart", restart);
	gw_watch_sharing(gw); /* before their first segment */
	atomic_store(&gw->floor_ms, retention_ring_floor(next));
	atomic_store(&gw->on_full, next->on_full);
	log_set_level(next->log_level);
}

/* Rebuild the discovered set from the registry and apply it with @cfg. */
void gw_apply_all(struct gw *gw, struct config *cfg)
{
	struct config_camera *old = gw->dcams;
	size_t nold = gw->ndcams;

	atomic_store(&gw->disc_dirty, false);
	gw->dcams = gw_dcams_build(gw, cfg, &gw->ndcams);
	gw_apply(gw, cfg);
	gw_dcams_free(old, nold); /* no camera points into it any more */
}

/* The ring refuses a camera's segments for a reason other than space
 * (storage-full says that one): a read-only remount after a disk error,
 * an I/O error. Raised at the first status tick that sees it, or that
 * finds segments refused since the last one (a fault that passed within a
 * tick lost footage all the same); cleared at a later tick once the
 * camera's segments are stored again (docs/storage.md). Both are audited,
 * the clearing with the count of segments not stored meanwhile. */
static void gw_watch_storage(struct gw *gw, struct gw_cam *cam, const struct stream_stats *st)
{
	uint64_t lost = st->segments_refused - st->segments_refused_full;
	bool failing = st->state == STREAM_RECORDING && st->sink_error && st->sink_error != -ENOSPC;
	int err = failing ? st->sink_error : st->refused_error;
	char msg[256];

	if ((failing || lost > cam->lost_seen) && !cam->storage_alarm) {
		snprintf(msg, sizeof(msg), "segments not stored in %s: %s (%s)",
			 gw->cfg->storage_dir, strerror(err ? -err : EIO),
			 st->last_error[0] ? st->last_error : "ring write failed");
		if (!alarm_raise(gw->sdb, "storage-error", cam->name, msg)) {
			cam->storage_alarm = true;
			cam->lost_at_alarm = cam->lost_seen;
			audit_record(gw->sdb, 0, "system", "storage-error", cam->name, msg);
		}
	} else if (!failing && (cam->storage_alarm || !cam->recorded) &&
		   st->state == STREAM_RECORDING) {
		/* The first time also clears an alarm left from before. */
		if (!alarm_clear(gw->sdb, "storage-error", cam->name) && cam->storage_alarm) {
			cam->storage_alarm = false;
			snprintf(msg, sizeof(msg),
				 "segments stored again; %llu not stored meanwhile",
				 (unsigned long long)(lost - cam->lost_at_alarm));
			audit_record(gw->sdb, 0, "system", "storage-recovered", cam->name, msg);
		}
	}
	cam->lost_seen = lost;
}

void gw_watch_cameras(struct gw *gw)
{
	int64_t now = time_now_ms();

	for (size_t i = 0; i < gw->ncams; i++) {
		struct gw_cam *cam = gw->cams[i];
		struct stream_stats st;

		stream_get_stats(cam->stream, &st);
		gw_watch_storage(gw, cam, &st);
		if (!st.down_since_utc_ms) { /* segments come */
			/* The first time also clears an alarm left from before
			 * (a camera gone and back, a restart). */
			if (cam->offline_alarm || !cam->recorded)
				alarm_clear(gw->sdb, "camera-offline", cam->name);
			cam->offline_alarm = false;
			cam->recorded = true;
			continue;
		}
		/* The stream's own health says since when it is down (stall
		 * watchdog, failed connects), whatever the discovery interval. */
		if (!cam->offline_alarm && st.down_since_utc_ms > 0 &&
		    now - st.down_since_utc_ms > CAMERA_OFFLINE_MS) {
			char msg[256], when[32];

			format_time_ms(st.down_since_utc_ms, when, sizeof(when));
			snprintf(msg, sizeof(msg), "not recording since %s (%lld s): %s", when,
				 (long long)(now - st.down_since_utc_ms) / 1000,
				 st.last_error[0] ? st.last_error : "connecting");
			alarm_raise(gw->sdb, "camera-offline", cam->name, msg);
			cam->offline_alarm = true;
		}
	}
}
