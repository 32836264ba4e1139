// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/daemon.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/stream/stream.h"
#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/accounts.h"
#include "firmware/config.h"
#include "firmware/config_write.h"
#include "firmware/console.h"
#include "firmware/secrets.h"
#include "drivers/serial/serial.h"
#include "firmware/discovery.h"
#include "firmware/registry.h"
#include "firmware/status.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "storage/statedb.h"
#include "lib/hex.h"

#ifndef CAMGATE_VERSION
#define CAMGATE_VERSION "0.1.0"
#endif

/* A camera goes "offline" in the alarms after this long not recording. */
#define CAMERA_OFFLINE_MS 30000

struct gw;

struct gw_cam {
	struct gw *gw;
	const struct config_camera *cfg; /* into gw->cfg */
	char name[CONFIG_NAME_MAX];
	struct stream *stream;
	int64_t down_since_ms; /* monotonic, 0 when up */
	bool offline_alarm;
};

struct gw {
	struct config *cfg;
	struct statedb *sdb;
	struct ring *ring;
	/* Replaced only by the main thread with up_lock held for writing;
	 * other threads try the read lock and skip on contention (a segment
	 * they miss is found by the uplink's ring scan, U6). */
	struct uplink *up;
	pthread_rwlock_t up_lock;
	pthread_mutex_t cams_lock; /* cams[] against the uplink's status_fill */
	struct registry *reg;
	struct discovery *disc;
	struct secrets *sec; /* device key: sealed config values */
	struct accounts *acc;
	pthread_t console; /* the installer console on the board's tty */
	bool console_running;
	bool pid_written;
	int console_stop[2]; /* written at shutdown: ends the session */
	/* Discovered cameras to record, rebuilt by the main thread from the
	 * registry whenever discovery reports a change (disc_dirty). */
	struct config_camera *dcams;
	size_t ndcams;
	atomic_bool disc_dirty;
	struct gw_cam *cams[CONFIG_CAMERAS_MAX]; /* owned; stable addresses */
	size_t ncams;
	int64_t started_ms;
	_Atomic int64_t floor_ms; /* retention floor duration */
	_Atomic int on_full;
};

static int gw_uplink_start(struct gw *gw, const struct config *cfg);
static void gw_discovery_start(struct gw *gw, const struct config *cfg);

static int gw_sink_init(void *arg, const char *camera, const void *data, size_t len,
			uint64_t *init_idp)
{
	struct gw_cam *cam = arg;

	return ring_put_init(cam->gw->ring, camera, data, len, init_idp);
}

static int gw_sink_segment(void *arg, const char *camera, const struct stream_seg *seg,
			   const void *data, size_t len)
{
	struct gw_cam *cam = arg;
	struct gw *gw = cam->gw;
	int64_t floor = atomic_load(&gw->floor_ms);
	struct ring_seg rs = {
		.camera = camera,
		.init_id = seg->init_id,
		.start_utc_ms = seg->start_utc_ms,
		.duration_ms = seg->duration_ms,
		.media_start_us = seg->media_start_us,
		.flags = (seg->discont ? RING_F_DISCONT : 0) | (seg->has_audio ? RING_F_AUDIO : 0),
		.utc_src = seg->utc_from_rtcp ? RING_UTC_RTCP : RING_UTC_ARRIVAL,
	};
	int ret;

	struct ring_seg_info info;

	ring_set_floor(gw->ring, floor > 0 ? time_now_ms() - floor : INT64_MAX);
	ret = ring_append(gw->ring, &rs, data, len, &info);
	if (!ret && !pthread_rwlock_tryrdlock(&gw->up_lock)) {
		if (gw->up)
			uplink_segment_added(gw->up, &info);
		pthread_rwlock_unlock(&gw->up_lock);
	}
	if (ret == -ENOSPC)
		alarm_raise(gw->sdb, "storage-full", camera,
			    "ring full of protected footage: segment not recorded");
	return ret;
}

/* Called by the ring, with the ring locked, for each pinned segment it
 * must overwrite. Every overwrite is audited and alarmed (G2). */
static int gw_evict_hook(void *arg, const struct ring_seg_info *info, const char *why)
{
	struct gw *gw = arg;
	char object[64], detail[160], when[32];

	format_time_ms(info->start_utc_ms, when, sizeof(when));
	if (atomic_load(&gw->on_full) == CONFIG_ON_FULL_STOP) {
		alarm_raise(
			gw->sdb, "storage-full", info->camera,
			"only protected footage left to evict: recording stopped (on_full = stop)");
		return -1;
	}
	snprintf(object, sizeof(object), "%s/%llu", info->camera, (unsigned long long)info->seq);
	snprintf(detail, sizeof(detail), "%s; start %s; %u ms; %llu bytes", why, when,
		 info->duration_ms, (unsigned long long)info->len);
	audit_record(gw->sdb, 0, "system", "evict-protected", object, detail);
	alarm_raise(gw->sdb, "protected-footage-overwritten", info->camera,
		    "storage full: protected footage overwritten");
	return 0;
}

/* @url without its userinfo: credentials never reach the logs. */
static const char *gw_url_safe(const char *url, char *buf, size_t cap)
{
	const char *host = strstr(url, "://");
	const char *at, *slash;

	if (!host)
		return url;
	host += 3;
	at = strchr(host, '@');
	slash = strchr(host, '/');
	if (!at || (slash && slash < at))
		return url;
	snprintf(buf, cap, "%.*s***@%s", (int)(host - url), url, at + 1);
	return buf;
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
		.segment = gw_sink_segment,
		.arg = cam,
	};

	cam->gw = gw;
	cam->down_since_ms = time_mono_ms();
	snprintf(cam->name, sizeof(cam->name), "%s", c->name);
	log_info("camera %s: starting (%s)", c->name, gw_url_safe(c->url, url, sizeof(url)));
	return stream_start(&sc, &sink, &cam->stream);
}

static void gw_cam_stop(struct gw_cam *cam)
{
	log_info("camera %s: stopping", cam->name);
	stream_stop(cam->stream);
	cam->stream = NULL;
}

static struct gw_cam *gw_cam_find(struct gw *gw, const char *name)
{
	for (size_t i = 0; i < gw->ncams; i++)
		if (!strcmp(gw->cams[i]->name, name))
			return gw->cams[i];
	return NULL;
}

/* Stops and frees slot @i; the last slot moves into it. */
static void gw_cam_remove(struct gw *gw, size_t i)
{
	struct gw_cam *cam = gw->cams[i];

	pthread_mutex_lock(&gw->cams_lock);
	gw->cams[i] = gw->cams[--gw->ncams];
	pthread_mutex_unlock(&gw->cams_lock);
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
	if (gw_cam_start(gw, cam)) {
		log_err("camera %s: cannot start its stream thread", c->name);
		free(cam);
		return;
	}
	pthread_mutex_lock(&gw->cams_lock);
	gw->cams[gw->ncams++] = cam;
	pthread_mutex_unlock(&gw->cams_lock);
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

static void gw_dcams_free(struct config_camera *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].url);
		free(d[i].username);
		free(d[i].password);
	}
	free(d);
}

struct dcam_build {
	const struct config *cfg;
	struct config_camera *d;
	size_t n;
};

/* Discovered cameras are recorded only when present, enabled and with a
 * stream URI; interrogation succeeded, so the credentials (if the camera
 * wants any) are the [onvif] ones. */
static int gw_dcam_add(void *arg, const struct registry_camera *c)
{
	struct dcam_build *b = arg;
	struct config_camera *cc;

	if (c->gone || !c->enabled || !c->stream_uri[0] || b->n == CONFIG_CAMERAS_MAX ||
	    strcmp(c->update_method, "onvif-auto"))
		return 0;
	cc = &b->d[b->n++];
	memset(cc, 0, sizeof(*cc));
	cc->name = strdup(c->name);
	cc->url = strdup(c->stream_uri);
	cc->username = strdup(b->cfg->onvif.username);
	cc->password = strdup(b->cfg->onvif.password);
	cc->enabled = true;
	cc->stream = b->cfg->stream;
	return cc->name && cc->url && cc->username && cc->password ? 0 : -ENOMEM;
}

static struct config_camera *gw_dcams_build(struct gw *gw, const struct config *cfg, size_t *np)
{
	struct dcam_build b = { .cfg = cfg };

	*np = 0;
	if (!gw->reg || !cfg->onvif.discovery)
		return NULL;
	b.d = calloc(CONFIG_CAMERAS_MAX, sizeof(*b.d));
	if (!b.d)
		return NULL;
	if (registry_list(gw->reg, gw_dcam_add, &b)) {
		log_err("discovery: cannot read the registry");
		gw_dcams_free(b.d, b.n);
		return NULL;
	}
	*np = b.n;
	return b.d;
}

/* Apply @next: stop removed/changed/disabled cameras, start new ones. */
static void gw_apply(struct gw *gw, struct config *next)
{
	char restart[256];

	for (size_t i = 0; i < gw->ncams;) {
		struct gw_cam *cam = gw->cams[i];
		const struct config_camera *nc = gw_desired(gw, next, cam->name);

		if (nc && nc->enabled && config_camera_same(cam->cfg, nc)) {
			cam->cfg = nc;
			i++;
			continue;
		}
		audit_record(gw->sdb, 0, "system", nc ? "camera-changed" : "camera-removed",
			     cam->name, "config reload");
		gw_cam_remove(gw, i);
	}
	for (size_t i = 0; i < next->ncameras + gw->ndcams; i++) {
		const struct config_camera *c =
			i < next->ncameras ? &next->cameras[i] : &gw->dcams[i - next->ncameras];

		if (!c->enabled || gw_cam_find(gw, c->name))
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
	atomic_store(&gw->floor_ms, next->retention_floor_ms);
	atomic_store(&gw->on_full, next->on_full);
	log_set_level(next->log_level);
}

/* Rebuild the discovered set from the registry and apply it with @cfg. */
static void gw_apply_all(struct gw *gw, struct config *cfg)
{
	struct config_camera *old = gw->dcams;
	size_t nold = gw->ndcams;

	atomic_store(&gw->disc_dirty, false);
	gw->dcams = gw_dcams_build(gw, cfg, &gw->ndcams);
	gw_apply(gw, cfg);
	gw_dcams_free(old, nold); /* no camera points into it any more */
}

static void gw_reload(struct gw *gw)
{
	struct config *next;

	log_notice("state RUNNING -> RELOADING (SIGHUP)");
	if (config_load(gw->cfg->path, &next) || secrets_config_reveal(gw->sec, next)) {
		log_err("reload: %s has errors; keeping the running configuration", gw->cfg->path);
	} else {
		if (config_onvif_changed(gw->cfg, next))
			gw_discovery_start(gw, next);
		gw_apply_all(gw, next);
		if (config_uplink_changed(gw->cfg, next) && gw_uplink_start(gw, next))
			log_err("reload: the uplink did not start with the new [uplink] settings");
		config_free(gw->cfg);
		gw->cfg = next;
	}
	log_notice("state RELOADING -> RUNNING (%zu cameras)", gw->ncams);
}

static void gw_watch_cameras(struct gw *gw)
{
	int64_t now = time_mono_ms();

	for (size_t i = 0; i < gw->ncams; i++) {
		struct gw_cam *cam = gw->cams[i];
		struct stream_stats st;

		stream_get_stats(cam->stream, &st);
		if (st.state == STREAM_RECORDING) {
			cam->down_since_ms = 0;
			if (cam->offline_alarm)
				alarm_clear(gw->sdb, "camera-offline", cam->name);
			cam->offline_alarm = false;
			continue;
		}
		if (!cam->down_since_ms)
			cam->down_since_ms = now;
		if (!cam->offline_alarm && now - cam->down_since_ms > CAMERA_OFFLINE_MS) {
			char msg[192];

			snprintf(msg, sizeof(msg), "not recording for %lld s: %s",
				 (long long)(now - cam->down_since_ms) / 1000,
				 st.last_error[0] ? st.last_error : "connecting");
			alarm_raise(gw->sdb, "camera-offline", cam->name, msg);
			cam->offline_alarm = true;
		}
	}
}

static void gw_status(struct gw *gw)
{
	struct stream *streams[CONFIG_CAMERAS_MAX];
	const char *names[CONFIG_CAMERAS_MAX];

	for (size_t i = 0; i < gw->ncams; i++) {
		streams[i] = gw->cams[i]->stream;
		names[i] = gw->cams[i]->name;
	}
	struct uplink_stat ust;
	bool have_up = gw->up && !uplink_stat(gw->up, &ust);

	status_write(gw->cfg, gw->ring, gw->sdb, gw->started_ms, names, streams, gw->ncams,
		     have_up ? &ust : NULL);
}

/* Discovery thread: something in the registry changed. */
static void gw_discovered(void *arg, const char *camera, enum registry_event ev)
{
	struct gw *gw = arg;

	(void)ev;
	atomic_store(&gw->disc_dirty, true);
	if (!camera || pthread_rwlock_tryrdlock(&gw->up_lock))
		return;
	if (gw->up)
		uplink_registry_changed(gw->up, camera);
	pthread_rwlock_unlock(&gw->up_lock);
}

static void gw_discovery_start(struct gw *gw, const struct config *cfg)
{
	struct discovery_cfg dc = {
		.username = cfg->onvif.username,
		.password = cfg->onvif.password,
		.interfaces = cfg->onvif.interfaces,
		.cidrs = cfg->onvif.cidrs,
		.interval_ms = cfg->onvif.interval_ms,
		.probe_window_ms = cfg->onvif.probe_window_ms,
		.call_timeout_ms = cfg->onvif.call_timeout_ms,
	};

	discovery_stop(gw->disc);
	gw->disc = NULL;
	if (!cfg->onvif.discovery || !gw->reg)
		return;
	if (discovery_start(&dc, gw->reg, gw_discovered, gw, &gw->disc))
		log_err("discovery: not started; configured cameras still record");
	else
		log_notice("discovery: every %lld s on %s", (long long)dc.interval_ms / 1000,
			   *dc.interfaces ? dc.interfaces : "every multicast interface");
}

/* Uplink hooks: the registry record of a camera, for central (R2). */
static cJSON *gw_registry_record(void *arg, const char *camera)
{
	struct gw *gw = arg;
	struct registry_camera c;
	char *text = NULL;
	cJSON *o;

	if (!gw->reg || registry_get(gw->reg, camera, &c) || registry_record_json(&c, &text))
		return NULL;
	o = cJSON_Parse(text);
	free(text);
	return o;
}

struct each_ctx {
	int (*fn)(void *fnarg, const char *camera);
	void *fnarg;
};

static int gw_each_one(void *arg, const struct registry_camera *c)
{
	struct each_ctx *e = arg;

	return e->fn(e->fnarg, c->name);
}

static int gw_registry_each(void *arg, int (*fn)(void *fnarg, const char *camera), void *fnarg)
{
	struct gw *gw = arg;
	struct each_ctx e = { fn, fnarg };

	return gw->reg ? registry_list(gw->reg, gw_each_one, &e) : 0;
}

/* Alarms central must hear at once (R13): pushed as events. Runs on the
 * raising thread, possibly inside the ring's evict hook: never blocks. */
static void gw_alarm_notify(void *arg, const char *code, const char *camera, const char *message,
			    bool raised)
{
	struct gw *gw = arg;
	char text[256];

	if (pthread_rwlock_tryrdlock(&gw->up_lock))
		return;
	if (gw->up) {
		snprintf(text, sizeof(text), "%s %s: %s", raised ? "raised" : "cleared", code,
			 message);
		uplink_event(gw->up, "alarm", camera, text);
	}
	pthread_rwlock_unlock(&gw->up_lock);
}

/* The uplink thread asks for the cameras' live figures for status.json. */
static void gw_status_fill(void *arg, cJSON *status)
{
	struct gw *gw = arg;
	struct stream *streams[CONFIG_CAMERAS_MAX];
	const char *names[CONFIG_CAMERAS_MAX];
	size_t n;

	pthread_mutex_lock(&gw->cams_lock);
	n = gw->ncams;
	for (size_t i = 0; i < n; i++) {
		streams[i] = gw->cams[i]->stream;
		names[i] = gw->cams[i]->name;
	}
	cJSON_AddItemToObject(status, "cameras", status_cameras(names, streams, n));
	pthread_mutex_unlock(&gw->cams_lock);
}

/* The set-setting command from central: "section.key" = value, for
 * reloadable settings only. The file is changed the way the console does
 * it (temp file, fsync, rename), validated first as a whole, then the main
 * thread reloads it through the usual SIGHUP path. Uplink thread. */
static int gw_set_setting(void *arg, const char *name, const char *value, char *msg, size_t cap)
{
	struct gw *gw = arg;
	const char *path = gw->cfg->path;
	char section[32], key[64], tmp[PATH_MAX], detail[256];
	const char *dot = strchr(name, '.');
	struct config_write *cw = NULL;
	struct config *check = NULL;
	int ret;

	if (!dot || dot - name >= (int)sizeof(section) || strlen(dot + 1) >= sizeof(key)) {
		snprintf(msg, cap, "expected section.key, got '%s'", name);
		return -ENOTSUP;
	}
	snprintf(section, sizeof(section), "%.*s", (int)(dot - name), name);
	snprintf(key, sizeof(key), "%s", dot + 1);
	ret = config_setting_reloadable(section, key);
	if (ret <= 0) {
		snprintf(msg, cap, "%s %s", name,
			 ret ? "is not a setting"
			     : "needs a restart or is secret: set it on the console");
		return -ENOTSUP;
	}
	snprintf(tmp, sizeof(tmp), "%s.central", path);
	ret = config_write_load(path, &cw);
	if (!ret && !config_write_value_ok(value))
		ret = -EINVAL;
	if (!ret)
		ret = config_write_set(cw, section, key, value);
	if (!ret)
		ret = config_write_save(cw, tmp);
	if (!ret && config_load(tmp, &check))
		ret = -EINVAL;
	if (!ret && rename(tmp, path))
		ret = -errno;
	unlink(tmp);
	config_free(check);
	config_write_free(cw);
	if (ret) {
		snprintf(msg, cap, "%s = %s refused: %s", name, value,
			 ret == -EINVAL ? "invalid value" : strerror(-ret));
		return ret;
	}
	snprintf(detail, sizeof(detail), "%s = %s", name, value);
	audit_record(gw->sdb, 0, "central", "setting", name, detail);
	snprintf(msg, cap, "%s set; applied by a reload", detail);
	kill(getpid(), SIGHUP);
	return 0;
}

static void gw_uplink_cfg(const struct config *cfg, struct uplink_cfg *u)
{
	const struct config_uplink *c = &cfg->uplink;

	uplink_cfg_defaults(u);
	u->base_url = c->base_url;
	u->gateway_id = cfg->gateway_id;
	u->tls.ca_file = c->ca_file;
	u->tls.pin = c->pin;
	u->tls.cert_file = *c->client_cert ? c->client_cert : NULL;
	u->tls.key_file = *c->client_key ? c->client_key : NULL;
	u->auth = c->auth;
	u->token = c->token;
	u->username = c->username;
	u->password = c->password;
	u->sigv4 = c->sigv4;
	u->parallel = c->parallel;
	u->rate_bps = c->rate_limit;
	u->connect_timeout_ms = c->connect_timeout_ms;
	u->stall_timeout_ms = c->stall_timeout_ms;
	u->transfer_timeout_ms = c->transfer_timeout_ms;
	u->backoff_min_ms = c->backoff_min_ms;
	u->backoff_max_ms = c->backoff_max_ms;
	u->status_interval_ms = c->status_interval_ms;
	u->commands_interval_ms = c->commands_interval_ms;
	u->live_window = c->live_window;
	u->deadline_days = c->deadline_days;
	u->tz_offset_min = c->tz_offset_min;
	u->holidays = c->holidays;
	u->firmware_version = CAMGATE_VERSION;
}

/* (Re)start the uplink for @cfg; a plain local recorder without base_url. */
static int gw_uplink_start(struct gw *gw, const struct config *cfg)
{
	struct uplink_hooks hooks = {
		.registry_record = gw_registry_record,
		.registry_each = gw_registry_each,
		.status_fill = gw_status_fill,
		.set_setting = gw_set_setting,
		.arg = gw,
	};
	struct uplink_cfg ucfg;
	struct uplink *up = NULL;
	int ret = 0;

	pthread_rwlock_wrlock(&gw->up_lock);
	uplink_stop(gw->up);
	gw->up = NULL;
	if (*cfg->uplink.base_url) {
		gw_uplink_cfg(cfg, &ucfg);
		ring_set_upload_required(gw->ring, true);
		ret = uplink_start(&ucfg, &hooks, gw->ring, gw->sdb, &up);
		if (!ret)
			log_notice("uplink to %s started", cfg->uplink.base_url);
	} else {
		ring_set_upload_required(gw->ring, false);
	}
	gw->up = up;
	pthread_rwlock_unlock(&gw->up_lock);
	return ret;
}

static int gw_open_storage(struct gw *gw)
{
	struct config *cfg = gw->cfg;
	int ret;

	ret = statedb_open(cfg->state_dir, &gw->sdb);
	if (ret)
		return ret;
	ret = registry_open(gw->sdb, &gw->reg);
	if (ret)
		return ret;
	/* Passwords the console sealed are opened here, once per load. */
	ret = secrets_open(cfg->state_dir, &gw->sec);
	if (!ret)
		ret = secrets_config_reveal(gw->sec, cfg);
	if (ret)
		return ret;
	if (!ring_exists(cfg->storage_dir)) {
		log_notice("creating ring in %s: %u extents of %llu bytes", cfg->storage_dir,
			   cfg->extents, (unsigned long long)cfg->extent_bytes);
		ret = ring_create(cfg->storage_dir, cfg->extents, cfg->extent_bytes);
		if (ret)
			return ret;
		audit_record(gw->sdb, 0, "system", "ring-created", cfg->storage_dir, "");
	}
	ret = ring_open(cfg->storage_dir, NULL, &gw->ring);
	if (ret)
		return ret;
	ring_set_evict_hook(gw->ring, gw_evict_hook, gw);
	return 0;
}

static void *gw_console_main(void *arg)
{
	struct gw *gw = arg;
	struct registry *reg = NULL;
	struct console_opts o = {
		.config_path = gw->cfg->path,
		.state_dir = gw->cfg->state_dir,
		.sdb = gw->sdb,
		.acc = gw->acc,
		.sec = gw->sec,
		.stop_fd = gw->console_stop[0],
		.self_exe = "/proc/self/exe",
		.in_fd = -1,
		.out_fd = -1,
	};
	unsigned int baud = serial_board_baud();

	/* The registry has one owner thread: the console gets its own handle. */
	if (registry_open(gw->sdb, &reg))
		reg = NULL;
	o.reg = reg;
	log_notice("console: on %s at %u baud", gw->cfg->console_tty, baud);
	console_tty_loop(&o, gw->cfg->console_tty, baud, 0);
	registry_close(reg);
	return NULL;
}

/* The installer console runs beside recording; it never blocks it. */
static void gw_console_start(struct gw *gw)
{
	if (!strcmp(gw->cfg->console_tty, "none"))
		return;
	if (accounts_open(gw->sdb, 0, &gw->acc) || pipe2(gw->console_stop, O_CLOEXEC)) {
		log_err("console: not started; recording goes on");
		return;
	}
	gw->console_running = !pthread_create(&gw->console, NULL, gw_console_main, gw);
}

static void gw_console_stop(struct gw *gw)
{
	if (gw->console_running) {
		if (write(gw->console_stop[1], "x", 1) < 0)
			log_warn("console: cannot signal its thread: %m");
		pthread_join(gw->console, NULL);
		close(gw->console_stop[0]);
		close(gw->console_stop[1]);
		gw->console_running = false;
	}
	accounts_close(gw->acc);
	gw->acc = NULL;
}

/* STATE_DIR/camgate.pid: the console's commit signals the daemon by it. */
static void gw_pidfile(const struct config *cfg, bool create)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/camgate.pid", cfg->state_dir);
	if (!create) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		log_warn("%s: cannot write: %m", path);
}

/* Audit rows go to central through the outbox (R8): each becomes an event
 * object. The last row handed over is kept in state.db, so a restart
 * neither repeats nor skips rows, whichever process wrote them. */
static const char *const audit_ship_steps[] = {
	"CREATE TABLE audit_shipped (id INTEGER NOT NULL);"
	"INSERT INTO audit_shipped (id) VALUES (0);",
};

#define AUDIT_SHIP_BATCH 64
#define AUDIT_SHIP_MSG	 768

/* Rows are copied out first: audit_list() holds the state.db lock, which
 * uplink_event() needs to commit its outbox row. */
struct ship_ctx {
	size_t n;
	int64_t ids[AUDIT_SHIP_BATCH];
	char (*msgs)[AUDIT_SHIP_MSG];
};

static int gw_ship_row(void *arg, const struct audit_row *r)
{
	struct ship_ctx *c = arg;
	char hash[2 * AUDIT_HASH_LEN + 1];

	hex_encode(r->hash, AUDIT_HASH_LEN, hash);
	snprintf(c->msgs[c->n], AUDIT_SHIP_MSG, "audit #%lld at %lld: %s %s %s: %s (chain %s)",
		 (long long)r->id, (long long)r->ts_ms, r->actor, r->action, r->object, r->detail,
		 hash);
	c->ids[c->n++] = r->id;
	return 0;
}

static void gw_ship_audit(struct gw *gw)
{
	struct ship_ctx c = { 0 };
	int64_t from = 0, last;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;

	if (!gw->up || statedb_migrate(gw->sdb, "audit_uplink", audit_ship_steps, 1))
		return;
	db = statedb_lock(gw->sdb);
	if (sqlite3_prepare_v2(db, "SELECT id FROM audit_shipped", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		from = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	statedb_unlock(gw->sdb);
	c.msgs = malloc(AUDIT_SHIP_BATCH * sizeof(*c.msgs));
	if (!c.msgs || audit_list(gw->sdb, from, AUDIT_SHIP_BATCH, gw_ship_row, &c))
		goto out;
	last = from;
	for (size_t i = 0; i < c.n && !uplink_event(gw->up, "audit", "", c.msgs[i]); i++)
		last = c.ids[i]; /* a failed event is retried from here next tick */
	if (last == from)
		goto out;
	db = statedb_lock(gw->sdb);
	if (sqlite3_prepare_v2(db, "UPDATE audit_shipped SET id = ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, last) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		log_err("audit: cannot record what went to central: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	statedb_unlock(gw->sdb);
out:
	free(c.msgs);
}

static void gw_loop(struct gw *gw, const sigset_t *set)
{
	int64_t next_status = 0;

	for (;;) {
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		int sig = sigtimedwait(set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT) {
			log_notice("state RUNNING -> STOPPING (%s)", strsignal(sig));
			return;
		}
		if (sig == SIGHUP)
			gw_reload(gw);
		if (atomic_load(&gw->disc_dirty))
			gw_apply_all(gw, gw->cfg);
		if (time_mono_ms() >= next_status) {
			gw_watch_cameras(gw);
			gw_status(gw);
			gw_ship_audit(gw);
			next_status = time_mono_ms() + gw->cfg->status_interval_ms;
		}
	}
}

int daemon_run(const char *config_path)
{
	struct gw gw = { 0 };
	sigset_t set;
	int ret;

	pthread_rwlock_init(&gw.up_lock, NULL);
	pthread_mutex_init(&gw.cams_lock, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	/* Blocked before any thread exists, so only sigtimedwait sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ret = config_path ? config_load(config_path, &gw.cfg) : config_defaults(&gw.cfg);
	if (ret)
		return ret;
	log_set_level(gw.cfg->log_level);
	log_notice("state STARTING: gateway %s, %zu cameras configured", gw.cfg->gateway_id,
		   gw.cfg->ncameras);
	gw.started_ms = time_now_ms();
	ret = gw_open_storage(&gw);
	if (ret)
		goto out;
	alarm_set_notify(gw_alarm_notify, &gw);
	ret = gw_uplink_start(&gw, gw.cfg);
	if (ret)
		goto out;
	gw_apply_all(&gw, gw.cfg);
	gw_discovery_start(&gw, gw.cfg);
	gw_pidfile(gw.cfg, true);
	gw.pid_written = true;
	gw_console_start(&gw);
	log_notice("state STARTING -> RUNNING: recording %zu cameras (%s)", gw.ncams,
		   gw.up ? "uploading to central" : "local recorder, no central configured");
	gw_loop(&gw, &set);
	gw_console_stop(&gw);
	discovery_stop(gw.disc);
	gw.disc = NULL;
	gw_status(&gw); /* the last snapshot still shows every camera */
	while (gw.ncams)
		gw_cam_remove(&gw, gw.ncams - 1);
	log_notice("stopped cleanly");
out:
	alarm_set_notify(NULL, NULL);
	pthread_rwlock_wrlock(&gw.up_lock);
	uplink_stop(gw.up);
	gw.up = NULL;
	pthread_rwlock_unlock(&gw.up_lock);
	discovery_stop(gw.disc);
	ring_close(gw.ring);
	gw_dcams_free(gw.dcams, gw.ndcams);
	registry_close(gw.reg);
	if (gw.pid_written) /* never another daemon's */
		gw_pidfile(gw.cfg, false);
	secrets_close(gw.sec);
	statedb_close(gw.sdb);
	config_free(gw.cfg);
	return ret;
}
