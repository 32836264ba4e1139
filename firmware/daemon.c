// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon - `camgate run`: start-up, the main loop and shut-down.
 *
 * Threads: everything in this file runs on the main thread. SIGTERM,
 * SIGINT, SIGHUP and SIGPIPE are blocked before any other thread exists,
 * so only gw_loop()'s sigtimedwait() sees them: a reload (SIGHUP) runs
 * between two ticks of the loop, never inside a hook of another thread.
 * The cameras are in daemon_stream.c, discovery in daemon_discovery.c, the
 * uplink in daemon_uplink.c, the console in daemon_console.c.
 */
#include "firmware/daemon.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/compliance.h"
#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/discovery.h"
#include "firmware/holds.h"
#include "firmware/integrity.h"
#include "firmware/liveness.h"
#include "firmware/pidfile.h"
#include "firmware/registry.h"
#include "firmware/secrets.h"
#include "firmware/status.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/outbox.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "storage/ring_io.h"
#include "storage/statedb.h"

static const char *const gw_state_names[GW_NSTATES] = {
	[GW_STARTING] = "STARTING", [GW_RUNNING] = "RUNNING", [GW_RELOADING] = "RELOADING",
	[GW_STOPPING] = "STOPPING", [GW_STOPPED] = "STOPPED",
};

#define GW_FROM(s) (1u << (s))
/* The states each state may be entered from (daemon_int.h draws them). */
static const unsigned int gw_state_from[GW_NSTATES] = {
	[GW_STARTING] = 0, /* the first state, never entered again */
	[GW_RUNNING] = GW_FROM(GW_STARTING) | GW_FROM(GW_RELOADING),
	[GW_RELOADING] = GW_FROM(GW_RUNNING),
	[GW_STOPPING] = GW_FROM(GW_STARTING) | GW_FROM(GW_RUNNING),
	[GW_STOPPED] = GW_FROM(GW_STOPPING),
};

const char *gw_state_name(enum gw_state st)
{
	return (unsigned int)st < GW_NSTATES ? gw_state_names[st] : "?";
}

/* Move to @to and log "state OLD -> NEW" followed by @fmt's text (which
 * brings its own separator: " (SIGHUP)", ": recording ..."). -EINVAL: @to
 * may not follow the current state; nothing changes (logged: a bug). */
static int __attribute__((format(printf, 3, 4)))
gw_set_state(struct gw *gw, enum gw_state to, const char *fmt, ...)
{
	enum gw_state from = atomic_load(&gw->state);
	char why[256];
	va_list ap;

	if ((unsigned int)to >= GW_NSTATES || !(gw_state_from[to] & GW_FROM(from))) {
		log_err("state %s -> %s is not a transition of the daemon", gw_state_name(from),
			gw_state_name(to));
		return -EINVAL;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	atomic_store(&gw->state, to);
	log_notice("state %s -> %s%s", gw_state_name(from), gw_state_name(to), why);
	return 0;
}

static void gw_reload(struct gw *gw)
{
	struct config *next;

	gw_set_state(gw, GW_RELOADING, " (SIGHUP)");
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
		gw_compliance_config(gw, next, true);
	}
	/* A console commit reloads: its registry changes go out now (R2). */
	gw_ship_registry(gw);
	gw_set_state(gw, GW_RUNNING, " (%zu cameras)", gw->ncams);
}

static void gw_status(struct gw *gw)
{
	struct stream *streams[2 * CONFIG_CAMERAS_MAX];
	const char *names[2 * CONFIG_CAMERAS_MAX];
	char gone[CONFIG_CAMERAS_MAX][CONFIG_NAME_MAX];
	size_t n = gw->ncams, ngone = gw_gone_names(gw, gone, CONFIG_CAMERAS_MAX);
	struct status_state_disk sd;
	struct uplink_stat ust;
	bool have_up;

	for (size_t i = 0; i < gw->ncams; i++) {
		streams[i] = gw->cams[i]->stream;
		names[i] = gw->cams[i]->name;
	}
	/* Gone cameras stay in the status until they are back. */
	for (size_t i = 0; i < ngone; i++) {
		if (gw_cam_named(gw, gone[i]))
			continue; /* a configured camera of that name records */
		streams[n] = NULL;
		names[n++] = gone[i];
	}
	have_up = gw->up && !uplink_stat(gw->up, &ust);
	gw_state_disk(gw, &sd);
	status_write(gw->cfg, gw->ring, gw->sdb, gw_state_name(atomic_load(&gw->state)),
		     gw->started_ms, names, streams, n, have_up ? &ust : NULL, &sd);
}

/* A new state.db beside a ring that holds footage: the record of what
 * central acknowledged, the audit log and the alarms were lost (removed,
 * or overwritten and moved aside). Every segment is owed again (the
 * uplink's ring scan re-sends the ring: twice at worst, never lost);
 * the alarm and the audit row say it happened. */
static void gw_state_db_lost(struct gw *gw)
{
	enum statedb_origin o;
	const char *what;

	if (statedb_take_origin(gw->sdb, &o) || o == STATEDB_OPENED ||
	    !ring_exists(gw->cfg->storage_dir))
		return;
	what = o == STATEDB_REPLACED ? "state.db was damaged (moved aside): new one created"
				     : "state.db was missing beside a ring with footage: new one "
				       "created";
	log_msg(LOG_CRIT, "%s/%s; the whole ring is owed to central again", gw->cfg->state_dir,
		what);
	audit_record(gw->sdb, 0, "system", "state-db-lost", gw->cfg->state_dir, what);
	alarm_raise(gw->sdb, "state-db-lost", "", what);
}

static int gw_open_storage(struct gw *gw)
{
	struct ring_upload_owner owner;
	const struct ring_io *io;
	struct config *cfg = gw->cfg;
	char detail[96];
	int ret;

	ret = statedb_open(cfg->state_dir, &gw->sdb);
	if (!ret)
		ret = audit_key_open(gw->sdb, cfg->state_dir);
	if (ret)
		return ret;
	gw_state_db_lost(gw);
	ret = registry_open(gw->sdb, &gw->reg);
	if (!ret)
		ret = gw_compliance_config(gw, cfg, false);
	if (ret)
		return ret;
	/* Passwords the console sealed are opened here, once per load. */
	ret = secrets_open(cfg->state_dir, &gw->sec);
	if (!ret)
		ret = secrets_config_reveal(gw->sec, cfg);
	if (!ret)
		ret = integrity_open(cfg, gw->sdb, &gw->integ);
	if (ret)
		return ret;
	if (!ring_exists(cfg->storage_dir)) {
		log_notice("creating ring in %s: %u extents of %llu bytes", cfg->storage_dir,
			   cfg->extents, (unsigned long long)cfg->extent_bytes);
		ret = ring_create(cfg->storage_dir, cfg->extents, cfg->extent_bytes);
		if (ret)
			return ret;
		snprintf(detail, sizeof(detail), "%u extents of %llu bytes", cfg->extents,
			 (unsigned long long)cfg->extent_bytes);
		audit_record(gw->sdb, 0, "system", "ring-created", cfg->storage_dir, detail);
	}
	ret = ring_io_test_seam(&io);
	if (ret) {
		log_err("CAMGATE_TEST_RING_EIO: expected AFTER or AFTER,COUNT");
		return ret;
	}
	if (io)
		log_warn("TEST SEAM: ring writes and syncs fail per CAMGATE_TEST_RING_EIO");
	ret = ring_open(cfg->storage_dir, io, &gw->ring);
	if (ret)
		return ret;
	ring_set_evict_hook(gw->ring, gw_evict_hook, gw);
	/* Whether central holds a segment is the outbox's record: the ring
	 * asks it before evicting, whether an uplink runs at that moment or
	 * not (net/uplink.h, integration step 0). */
	ret = outbox_open_reader(gw->sdb, &gw->ob_view);
	if (ret)
		return ret;
	outbox_ring_owner(gw->ob_view, &owner);
	ring_set_upload_owner(gw->ring, &owner);
	ret = holds_open(gw->sdb, &gw->holds);
	if (ret)
		return ret;
	ring_set_held_fn(gw->ring, gw_held, gw->holds);
	return 0;
}

static int gw_put_object(void *arg, const char *path, const char *body, int64_t created_ms)
{
	return uplink_put_object(arg, path, body, created_ms);
}

/* Checkpoints due by time (all pending with @flush), queued for central
 * when there is an uplink. Main thread: gw->up changes only here. */
static void gw_integrity(struct gw *gw, bool flush)
{
	struct ring_stat rs;

	if (!gw->integ)
		return;
	integrity_tick(gw->integ, time_now_ms(), flush, gw->up ? gw_put_object : NULL, gw->up);
	/* The chain keeps what the ring keeps (and what central still needs). */
	if (!ring_stat(gw->ring, &rs) && rs.oldest_utc_ms)
		integrity_prune(gw->integ, rs.oldest_utc_ms);
}

static void gw_loop(struct gw *gw, const sigset_t *set)
{
	int64_t next_status = 0;

	for (;;) {
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		int sig = sigtimedwait(set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT) {
			gw_set_state(gw, GW_STOPPING, " (%s)", strsignal(sig));
			return;
		}
		if (gw->state_lost) {
			gw_set_state(gw, GW_STOPPING, ": state.db lost: %s",
				     strerror(-gw->state_lost));
			return;
		}
		if (sig == SIGHUP)
			gw_reload(gw);
		if (atomic_load(&gw->disc_dirty))
			gw_apply_all(gw, gw->cfg);
		gw_watchdog_tick(gw);
		if (time_mono_ms() >= next_status) {
			gw_watch_cameras(gw);
			gw_update_tick(gw);
			gw_watch_state(gw);
			gw_watch_retention(gw);
			gw_watch_sharing(gw);
			gw_blocklist_watch(gw);
			gw_status(gw);
			gw_ship_security(gw);
			gw_ship_audit(gw);
			gw_ship_registry(gw);
			gw_compliance_tick(gw);
			gw_integrity(gw, false);
			if (gw->holds)
				holds_reload(gw->holds);
			next_status = time_mono_ms() + gw->cfg->status_interval_ms;
		}
	}
}

int daemon_run(const char *config_path)
{
	struct gw gw = { .state = GW_STARTING };
	sigset_t set;
	int ret;

	/* A state-write-failed a previous run left active is cleared at the
	 * first tick unless writes still fail (gw_watch_state). */
	gw.veto_alarm = true;
	gw.reg_shipped = -1;
	gw.blocklist_gen = -1;
	pthread_rwlock_init(&gw.up_lock, NULL);
	pthread_mutex_init(&gw.cams_lock, NULL);
	pthread_mutex_init(&gw.regdef_lock, NULL);
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
	if (clock_test_seam())
		log_warn("TEST SEAM: wall clock offset from CAMGATE_TEST_CLOCK_FILE");
	log_notice("state STARTING: gateway %s, %zu cameras configured", gw.cfg->gateway_id,
		   gw.cfg->ncameras);
	gw.started_ms = time_now_ms();
	ret = liveness_new(&gw.live);
	if (ret)
		goto out;
	ret = gw_open_storage(&gw);
	if (ret)
		goto out;
	alarm_set_notify(gw_alarm_notify, &gw);
	gw_watchdog_start(&gw);
	gw_update_start(&gw);
	ret = gw_uplink_start(&gw, gw.cfg);
	if (ret)
		goto out;
	gw_apply_all(&gw, gw.cfg);
	gw_discovery_start(&gw, gw.cfg);
	/* The console's commit and `camgate status` find the daemon by it. */
	gw.pid_written = !pidfile_write(gw.cfg->state_dir);
	gw_console_start(&gw);
	gw_set_state(&gw, GW_RUNNING, ": recording %zu cameras (%s)", gw.ncams,
		     gw.up ? "uploading to central" : "local recorder, no central configured");
	gw_loop(&gw, &set);
	/* Stopping cameras may outlast the watchdog's timeout: disarm first
	 * (the service manager's stop timeout covers a hung shutdown). */
	gw_watchdog_stop(&gw);
	gw_console_stop(&gw);
	discovery_stop(gw.disc);
	gw.disc = NULL;
	gw_status(&gw); /* the last snapshot still shows every camera */
	while (gw.ncams)
		gw_cam_remove(&gw, gw.ncams - 1);
	gw_integrity(&gw, true);
	ret = gw.state_lost;
out:
	if (atomic_load(&gw.state) == GW_STARTING)
		gw_set_state(&gw, GW_STOPPING, ": start failed: %s", strerror(-ret));
	alarm_set_notify(NULL, NULL);
	gw_up_wrlock(&gw);
	uplink_stop(gw.up);
	gw.up = NULL;
	gw_up_unlock(&gw);
	gw_update_stop(&gw); /* nothing calls it any more */
	discovery_stop(gw.disc);
	ring_close(gw.ring);
	outbox_close(gw.ob_view); /* after the ring, which asked it */
	holds_close(gw.holds);
	gw_dcams_free(gw.dcams, gw.ndcams);
	registry_close(gw.reg);
	compliance_free(gw.comp);
	if (gw.pid_written) /* never another daemon's */
		pidfile_remove(gw.cfg->state_dir);
	cJSON_free(gw.retention_text);
	secrets_close(gw.sec);
	integrity_close(gw.integ);
	statedb_close(gw.sdb);
	gw_watchdog_stop(&gw); /* start failed: an orderly exit all the same */
	liveness_free(gw.live);
	config_free(gw.cfg);
	gw_set_state(&gw, GW_STOPPED, "%s", ret ? "" : ": stopped cleanly");
	return ret;
}
