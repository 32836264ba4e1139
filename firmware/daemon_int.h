/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon_int - internals shared by the files of `camgate run`; nothing here
 * is for other modules (use firmware/daemon.h):
 *   daemon.c            daemon_run(), the main loop, signals, reload,
 *                       storage open, pidfile, status.json
 *   daemon_stream.c     the stream sink into the ring, the evict hook, the
 *                       camera table and applying a configuration to it
 *   daemon_discovery.c  the discovery thread and the discovered cameras
 *   daemon_uplink.c     the uplink, its hooks, alarms and audit to central
 *   daemon_console.c    the installer console thread
 *   daemon_export.c     central's export command (a row of daemon_policy.c)
 *   daemon_update.c     central's update command (a row of daemon_policy.c),
 *                       the trial boot after an update, status.update
 *
 * Threads: one struct gw, on daemon_run()'s stack, owned by the main
 * thread. Other threads reach it only through the hooks they were given:
 * stream threads (sink, evict hook), the uplink thread (its hooks), the
 * discovery thread (gw_discovered) and any thread raising an alarm. What
 * each may touch is said at the fields below.
 */
#ifndef CAMGATE_FIRMWARE_DAEMON_INT_H
#define CAMGATE_FIRMWARE_DAEMON_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/compliance_health.h"
#include "firmware/config.h"
#include "firmware/uplink_policy.h"
#include "lib/lockorder.h"

struct accounts;
struct compliance;
struct gw;
struct discovery;
struct outbox;
struct registry;
struct ring;
struct ring_seg_info;
struct secrets;
struct statedb;
struct stream;
struct uplink;
struct registry_camera;

/* The gateway's R2 defaults ([compliance] unit, users, owner, location). */
struct gw_regdef {
	char unit[128], users[1024], owner[128], location[128];
};

struct liveness;
struct watchdog;

struct gw_cam {
	struct gw *gw;
	const struct config_camera *cfg; /* into gw->cfg */
	char name[CONFIG_NAME_MAX];
	struct stream *stream;
	bool offline_alarm; /* "camera-offline" raised by this gw_cam */
	bool storage_alarm; /* "storage-error" raised by this gw_cam (main thread) */
	/* Segments the ring refused for a reason other than space, as the
	 * last status tick saw them, and when "storage-error" was raised
	 * (main thread). */
	uint64_t lost_seen, lost_at_alarm;
	bool recorded; /* its stream delivered at least once */
	/* gw->nospace_gen when this camera's storage-full alarm was last
	 * cleared (stream thread only). */
	uint64_t nospace_seen;
	/* R14/R15 (firmware/sharing.h): live and segments go to central;
	 * false for owner-only. Set by the main thread, read by the stream
	 * thread and, with cams_lock, the uplink's status. */
	atomic_bool share_media;
	char sharing_class[16];
	/* R11 health (daemon_compliance.c): discovery rounds in a row whose
	 * ONVIF credentials this camera refused (the discovery thread sets
	 * it), and since when a health signal is bad (main thread; 0: none). */
	atomic_uint auth_refused;
	int64_t unhealthy_since_ms;
	/* Gaps: stored segments that do not follow on from the previous one
	 * (counted by the stream thread in gw_sink_close; end_ms is its),
	 * and the main thread's hourly window over the count. */
	atomic_uint gaps;
	int64_t gap_prev_end_ms;
	struct compliance_gaps gap_window;
};

/*
 * The daemon's lifecycle (daemon.c: gw_set_state(), the one place that
 * moves it, checks the predecessor and logs "state OLD -> NEW"):
 *
 *   STARTING -> RUNNING -> (RELOADING -> RUNNING)* -> STOPPING -> STOPPED
 *   STARTING -> STOPPING (start failed)
 *
 * Moved by the main thread only; read by any (status for central).
 */
enum gw_state {
	GW_STARTING = 0,
	GW_RUNNING,
	GW_RELOADING,
	GW_STOPPING,
	GW_STOPPED,
	GW_NSTATES,
};

struct gw {
	_Atomic int state; /* enum gw_state */
	struct config *cfg;
	struct statedb *sdb;
	struct integrity *integ; /* hash chain and checkpoints (firmware/integrity.h) */
	struct holds *holds;	 /* legal holds, reloaded every tick (firmware/holds.h) */
	struct ring *ring;
	struct outbox *ob_view; /* read-only: the ring's upload owner (net/outbox.h S1) */
	/* Replaced only by the main thread with up_lock held for writing;
	 * other threads try the read lock and skip on contention (a segment
	 * they miss is found by the uplink's ring scan, U6). */
	struct uplink *up;
	pthread_rwlock_t up_lock;
	struct uplink_policy policy; /* set before gw->up starts, read-only while it runs */
	pthread_mutex_t cams_lock;   /* cams[] against the uplink's status_fill */
	struct registry *reg;
	struct compliance *comp; /* set at start, never replaced */
	struct gw_regdef regdef; /* under regdef_lock */
	pthread_mutex_t regdef_lock;
	struct discovery *disc;
	struct secrets *sec; /* device key: sealed config values */
	struct accounts *acc;
	pthread_t console; /* the installer console on the board's tty */
	bool console_running;
	bool pid_written;
	int console_stop[2]; /* written at shutdown: ends the session */
	/* Copies for the console thread, whose session outlives reloads
	 * (each one frees the gw->cfg it started with). Owned; freed by
	 * gw_console_stop(). */
	char *con_config_path, *con_state_dir, *con_tty;
	/* Discovered cameras to record, rebuilt by the main thread from the
	 * registry whenever discovery reports a change (disc_dirty). */
	struct config_camera *dcams;
	size_t ndcams;
	atomic_bool disc_dirty;
	/* Last registry change-log id handed to the uplink (main thread);
	 * -1 until the first gw_ship_registry() pass. */
	int64_t reg_shipped;
	struct gw_cam *cams[CONFIG_CAMERAS_MAX]; /* owned; stable addresses */
	size_t ncams;
	int64_t started_ms;
	_Atomic int64_t floor_ms; /* retention floor duration */
	_Atomic int on_full;
	/* state.db's writes, for the evict hook (fail closed): set by the
	 * uplink's store_state hook (segments without an outbox row) and by
	 * the hook itself when the audit row failed; read by any thread. */
	atomic_bool outbox_failing;
	atomic_bool audit_failing;
	/* Set with either: a refusal state-write-failed must still report,
	 * however briefly it lasted; the main thread takes it once written. */
	atomic_bool state_refused;
	/* The state filesystem, watched by the main thread each status tick;
	 * read by the uplink thread too (status_fill). */
	_Atomic uint64_t state_free; /* bytes, at the last statvfs */
	atomic_bool state_low;	     /* state-disk-low raised */
	bool state_watched;	     /* main thread: statvfs seen once */
	bool veto_alarm;	     /* main thread: state-write-failed raised */
	/* Main thread: state.db was removed or overwritten under the daemon
	 * (-ENOENT, -EBADMSG); the loop stops and daemon_run() fails with it. */
	int state_lost;
	int64_t state_check_at; /* monotonic ms of the next quick_check (main thread) */
	/* blocklist_generation() last applied (main thread); -1 before. */
	int64_t blocklist_gen;
	int64_t audit_verify_at; /* monotonic ms of the next chain check (main thread) */
	char *retention_text;	 /* R10 forecast JSON for status; owned, under cams_lock */
	/* Counts refusals for lack of space; a camera that stores a segment
	 * while it differs from its nospace_seen clears its storage-full. */
	_Atomic uint64_t nospace_gen;
	/* Progress of the critical threads (any thread reports) and the
	 * watchdog the main thread pets by it: daemon_watchdog.c. */
	struct liveness *live;
	struct watchdog *wd;
	/* Central's update command, the trial boot, status.update:
	 * daemon_update.c (set before the uplink starts, freed after it). */
	struct gw_update *upd;
	int64_t wd_next_ms;
	bool wd_starved;
};

/* gw->up_lock and gw->cams_lock, with their place in the lock order
 * (lib/lockorder.h: up_lock, then cams_lock, then the ring, state.db, the
 * uplink's own). Other threads only try up_lock: true when taken. */
static inline void gw_up_wrlock(struct gw *gw)
{
	lockorder_wait(LOCK_GW_UP);
	pthread_rwlock_wrlock(&gw->up_lock);
}

static inline bool gw_up_tryrdlock(struct gw *gw)
{
	if (pthread_rwlock_tryrdlock(&gw->up_lock))
		return false;
	lockorder_tried(LOCK_GW_UP);
	return true;
}

static inline void gw_up_unlock(struct gw *gw)
{
	pthread_rwlock_unlock(&gw->up_lock);
	lockorder_release(LOCK_GW_UP);
}

static inline void gw_cams_lock(struct gw *gw)
{
	lockorder_wait(LOCK_GW_CAMS);
	pthread_mutex_lock(&gw->cams_lock);
}

static inline void gw_cams_unlock(struct gw *gw)
{
	pthread_mutex_unlock(&gw->cams_lock);
	lockorder_release(LOCK_GW_CAMS);
}

/* daemon.c */

/* "STARTING", "RUNNING" ...: the name logs, status.json and central's
 * status object show. */
const char *gw_state_name(enum gw_state st);

/* daemon_stream.c, main thread unless said otherwise. */

/* The ring's evict hook (ring_evict_fn); runs on a stream thread, inside
 * ring_append() with the ring locked. @arg is the struct gw. */
int gw_evict_hook(void *arg, const struct ring_seg_info *info, const char *why);
/* The ring's held function (ring_held_fn): @arg is gw->holds. */
bool gw_held(void *arg, const struct ring_seg_info *info);
/* Stops and frees gw->cams[@i]; the last slot moves into it. */
void gw_cam_remove(struct gw *gw, size_t i);
/* Rebuild the discovered set from the registry and apply @cfg: cameras
 * removed, changed or added; the ones kept then point into @cfg. */
void gw_apply_all(struct gw *gw, struct config *cfg);
/* Is a camera of that name in gw->cams? Main thread, or with cams_lock. */
bool gw_cam_named(struct gw *gw, const char *name);
/* Raise or clear each camera's "camera-offline" alarm. */
void gw_watch_cameras(struct gw *gw);
/* Raise or clear "state-disk-low" by the free space on state_dir, and
 * clear "state-write-failed" once the evict hook's writes work again. */
void gw_watch_state(struct gw *gw);
struct status_state_disk;
/* The figures of the last gw_watch_state() for the status object; any
 * thread. */
void gw_state_disk(struct gw *gw, struct status_state_disk *sd);

/* daemon_discovery.c, main thread. */

/* (Re)start discovery for @cfg; off without [onvif] discovery. */
void gw_discovery_start(struct gw *gw, const struct config *cfg);
/* The discovered cameras to record, from the registry; NULL and *np = 0
 * when there are none. The caller owns the array: gw_dcams_free(). */
struct config_camera *gw_dcams_build(struct gw *gw, const struct config *cfg, size_t *np);
void gw_dcams_free(struct config_camera *d, size_t n); /* (NULL, 0) is a no-op */
/* Queue the registry record of every camera the change log names since
 * the last pass (console renames and edits, and whatever the discovery
 * thread could not hand over at once); a rename also queues the old
 * name's "removed" record. */
void gw_ship_registry(struct gw *gw);
/* The discovered (onvif-auto, enabled) cameras that are gone, into @out;
 * status lists them as "gone" until they are back. Any thread. */
size_t gw_gone_names(struct gw *gw, char (*out)[CONFIG_NAME_MAX], size_t cap);

/* daemon_uplink.c */

/* (Re)start the uplink for @cfg (main thread). 0 or uplink_start()'s error. */
int gw_uplink_start(struct gw *gw, const struct config *cfg);
/* alarm_notify_fn: runs on whichever thread raised or cleared the alarm. */
void gw_alarm_notify(void *arg, const char *code, const char *camera, const char *message,
		     bool raised);
/* Hand new audit rows to the uplink as events (main thread). */
void gw_ship_audit(struct gw *gw);
/* Set [@section] @key = @value in the config file as the console does
 * (whole file validated, durable replace, audited as central's), then
 * reload by SIGHUP; no allowlist here: the caller decided. @msg says what
 * happened. Uplink thread. */
int gw_write_setting(struct gw *gw, const char *section, const char *key, const char *value,
		     char *msg, size_t cap);

/* daemon_compliance.c */

/* Start (or, on a reload, update) the duties from @cfg: calendar, R2
 * window, R2 defaults (changed ones on a reload queue every record). */
int gw_compliance_config(struct gw *gw, const struct config *cfg, bool reload);
/* Fault, maintenance, mandatory fields of every camera; then the states
 * (main thread, each status tick). */
void gw_compliance_tick(struct gw *gw);
/* Queue @camera's registry record for central and open its R2 duty from
 * @changed_ms. Main or discovery thread. */
void gw_registry_queue(struct gw *gw, const char *camera, int64_t changed_ms);
/* Central acknowledged object @path: a registry record closes its duty.
 * Uplink thread. */
void gw_compliance_acked(struct gw *gw, const char *path);
struct cJSON;
/* Central's commands "holidays" {"holidays": "YYYY-MM-DD, ..."} (sets
 * [uplink] holidays) and "maintenance-done" {"camera", "note"} (R11,
 * audited as central's). Uplink thread; return as uplink_hooks.command. */
int gw_cmd_holidays(struct gw *gw, const struct cJSON *args, char *msg, size_t cap);
int gw_cmd_maintenance_done(struct gw *gw, const struct cJSON *args, char *msg, size_t cap);
/* Central's export command (daemon_export.c). */
int gw_cmd_export(struct gw *gw, const struct cJSON *args, char *msg, size_t cap);
/* Fill @c's empty R2 fields from the gateway's defaults. Any thread. */
void gw_registry_defaults(struct gw *gw, struct registry_camera *c);
/* The names of @c's empty mandatory R2 fields, defaults applied, into
 * @out ("" when none). Any thread. */
void gw_registry_missing(struct gw *gw, const struct registry_camera *c, char *out, size_t cap);

/* daemon_policy.c */

struct cJSON;
/* uplink_hooks.command: central's blocklist, ptz, resend-range. */
int gw_command(void *arg, const char *name, const struct cJSON *args, char *msg, size_t cap);
/* Apply the cameras again when the blocklist or an override changed
 * (main thread, each status tick). */
void gw_blocklist_watch(struct gw *gw);
/* Is @camera blocked (R9)? @why says by which entry. Main thread. */
bool gw_blocked(struct gw *gw, const char *camera, char *why, size_t cap);
/* Security events to central (R16), each tick (main thread). */
void gw_ship_security(struct gw *gw);
/* The R10 forecast and its alarms, each tick (main thread). */
void gw_watch_retention(struct gw *gw);
/* Each camera's sharing class from the registry (R14/R15), at start and
 * each tick (main thread). */
void gw_watch_sharing(struct gw *gw);

/* daemon_update.c (firmware/update.h, firmware/update_health.h). */

struct gw_update;
/* Read the update record, start the trial thread (main thread, before the
 * uplink starts). */
void gw_update_start(struct gw *gw);
/* Stop the trial, end a download, wait for an install (main thread, after
 * the uplink stopped). */
void gw_update_stop(struct gw *gw);
/* The health a trial watches, each status tick (main thread). */
void gw_update_tick(struct gw *gw);
/* Central's update command {"url", "sha256"?, "force"?}: the job starts
 * in the background. Uplink thread; return as uplink_hooks.command. */
int gw_cmd_update(struct gw *gw, const struct cJSON *args, char *msg, size_t cap);
/* status.update. Uplink thread. */
void gw_update_status(struct gw *gw, struct cJSON *status);

/* daemon_watchdog.c, main thread. */

/* Open the board's watchdog (none: nothing to pet). */
void gw_watchdog_start(struct gw *gw);
/* Once a second: pet, if every critical thread progresses (gw->live). */
void gw_watchdog_tick(struct gw *gw);
/* The magic close of an orderly exit. */
void gw_watchdog_stop(struct gw *gw);

/* daemon_console.c, main thread. */

void gw_console_start(struct gw *gw);
void gw_console_stop(struct gw *gw);

#endif /* CAMGATE_FIRMWARE_DAEMON_INT_H */
