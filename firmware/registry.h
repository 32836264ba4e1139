/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * registry - the camera registry (R2) in state.db, and its change log.
 *
 * One row per camera position, keyed by the camera's name in camgate:
 * device information (what ONVIF reports: manufacturer, model, firmware,
 * serial, hardware id, MAC, IP, endpoint, profiles, stream URIs, scopes),
 * the provider unit, the update method (onvif-auto or manual) and
 * frequency, the data-using units, and owner and sharing class (R14/R15).
 *
 * Guarantees (tests in tests/unit/registry_test.c):
 *  G1  Every change of a logged field is one row in registry_changes with
 *      the old and new value, the time and the cause (discovery, installer,
 *      central), written in the same transaction as the change itself.
 *  G2  A discovery observation is matched to an existing camera by
 *      endpoint reference, then by serial (with manufacturer and model),
 *      then by MAC: a camera that changed address, firmware or endpoint is
 *      the same camera (REGISTRY_CHANGED). A different device at the
 *      address of a known camera is REGISTRY_REPLACED: the position keeps
 *      its name, the device fields are replaced and logged.
 *  G3  Discovery never overwrites what the installer or central own
 *      (provider unit, update method and frequency, data users, owner,
 *      sharing class, enabled) and never touches manual cameras' device
 *      fields.
 *  G4  Volatile facts (clock offset, auth method, last seen) are stored
 *      but not logged, so the log holds changes people care about.
 *
 * Daemon use (docs/onvif.md has the full loop):
 *   registry_open() after statedb_open();
 *   every update interval (REGISTRY_INTERVAL_DEFAULT_MS): onvif_pool_start(),
 *   onvif_probe() whose callback onvif_pool_add()s the cameras that have
 *   credentials and are enabled, onvif_pool_finish(); then for each
 *   camera interrogated: registry_from_onvif() and registry_observe();
 *   then registry_mark_missing(reg, round_start - interval, now).
 *   An onvif_listener Hello triggers the same for one camera; a Bye calls
 *   registry_mark_gone(). Installer and central edits: registry_set().
 *   The uplink outbox reads registry_changes() after its last id.
 *
 * Threads: one owner thread per struct registry (the daemon's timer
 * thread); statements run under statedb_lock().
 * Errors: -EIO (SQLite, logged once here), -ENOENT (no such camera),
 * -EINVAL (unknown field or bad value), -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_REGISTRY_H
#define CAMGATE_FIRMWARE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

struct statedb;
struct onvif_camera;
struct registry; /* opaque */

#define REGISTRY_NAME_MAX	     32 /* bytes, NUL included */
#define REGISTRY_TEXT_MAX	     128
#define REGISTRY_URI_MAX	     512
#define REGISTRY_LIST_MAX	     1024 /* profiles, data users */
#define REGISTRY_INTERVAL_DEFAULT_MS (10 * 60 * 1000)

enum registry_cause {
	REGISTRY_CAUSE_DISCOVERY,
	REGISTRY_CAUSE_INSTALLER,
	REGISTRY_CAUSE_CENTRAL,
};

enum registry_event {
	REGISTRY_UNCHANGED,
	REGISTRY_NEW,
	REGISTRY_CHANGED,  /* same device, something differs */
	REGISTRY_RETURNED, /* was gone, is back (maybe changed too) */
	REGISTRY_REPLACED, /* another device took the position */
	REGISTRY_GONE,
};

const char *registry_cause_name(enum registry_cause c); /* "discovery" ... */
const char *registry_event_name(enum registry_event e); /* "new" ... */

struct registry_camera {
	char name[REGISTRY_NAME_MAX];
	/* device information: discovery owns these on onvif-auto cameras */
	char endpoint[REGISTRY_URI_MAX];
	char manufacturer[REGISTRY_TEXT_MAX];
	char model[REGISTRY_TEXT_MAX];
	char firmware[REGISTRY_TEXT_MAX];
	char serial[REGISTRY_TEXT_MAX];
	char hardware_id[REGISTRY_TEXT_MAX];
	char mac[REGISTRY_TEXT_MAX];
	char ip[REGISTRY_TEXT_MAX];
	char xaddr[REGISTRY_URI_MAX];
	char xaddr_raw[REGISTRY_URI_MAX];
	char profiles[REGISTRY_LIST_MAX];  /* "prof0 H264 1920x1080@25; ..." */
	char stream_uri[REGISTRY_URI_MAX]; /* main profile, rewritten */
	char stream_uri_raw[REGISTRY_URI_MAX];
	char snapshot_uri[REGISTRY_URI_MAX];
	char scope_name[REGISTRY_TEXT_MAX];
	char scope_location[REGISTRY_TEXT_MAX];
	char scope_hardware[REGISTRY_TEXT_MAX];
	int64_t media_version;
	bool ptz;
	/* volatile, not logged (G4) */
	char auth[REGISTRY_TEXT_MAX];
	int64_t clock_offset_ms;
	int64_t last_seen_ms;
	/* installer and central own these (G3) */
	char provider_unit[REGISTRY_TEXT_MAX];
	char update_method[REGISTRY_TEXT_MAX]; /* "onvif-auto" or "manual" */
	int64_t update_interval_ms;
	char data_users[REGISTRY_LIST_MAX]; /* comma-separated units */
	char owner[REGISTRY_TEXT_MAX];
	char sharing_class[REGISTRY_TEXT_MAX];
	bool enabled;
	/* kept by the registry */
	bool gone;
	int64_t first_seen_ms;
};

/* Migrate the registry's tables (module "registry") and prepare. @db is
 * borrowed and must outlive the registry. *regp set on success. */
int registry_open(struct statedb *db, struct registry **regp);
void registry_close(struct registry *reg); /* NULL is a no-op */

/* The device information of an interrogated camera, into @out (other
 * fields zero; update method onvif-auto, enabled). */
void registry_from_onvif(const struct onvif_camera *cam, struct registry_camera *out);

/* Record one discovery observation @seen at @now_ms (G1-G4). @seen->name
 * names a NEW camera (if "" one is made from the scope name or serial);
 * the name of the camera it matched is written to @name_out (cap
 * REGISTRY_NAME_MAX, may be NULL). *evp tells what happened. */
int registry_observe(struct registry *reg, const struct registry_camera *seen, int64_t now_ms,
		     enum registry_event *evp, char *name_out);

/* Cameras (onvif-auto, present) not seen since @seen_before_ms become
 * gone, one log row each; *countp (may be NULL) says how many. */
int registry_mark_missing(struct registry *reg, int64_t seen_before_ms, int64_t now_ms,
			  int *countp);
/* A Bye from @endpoint: that camera is gone. -ENOENT if unknown. */
int registry_mark_gone(struct registry *reg, const char *endpoint, int64_t now_ms);

/* An installer or central edit of one field (by its column name, e.g.
 * "provider_unit", "owner", "update_interval_ms", "enabled"), logged with
 * @cause. A camera that does not exist yet is created (manual cameras).
 * -EINVAL: unknown field or a value its type refuses. */
int registry_set(struct registry *reg, const char *name, const char *field, const char *value,
		 enum registry_cause cause, int64_t now_ms);

int registry_get(struct registry *reg, const char *name, struct registry_camera *out);
/* Calls @fn for every camera in name order; non-zero from @fn stops and
 * is returned. */
int registry_list(struct registry *reg, int (*fn)(void *arg, const struct registry_camera *c),
		  void *arg);

struct registry_change {
	int64_t id; /* increasing; resume after it */
	int64_t ts_ms;
	const char *camera;
	const char *cause;     /* registry_cause_name() */
	const char *event;     /* registry_event_name() or "set" */
	const char *field;     /* "" for whole-camera events */
	const char *old_value; /* NULL when there was none */
	const char *new_value;
};

/* Change log rows with id > @after_id, oldest first, at most @max (0: all).
 * Strings are valid during the callback only. */
int registry_changes(struct registry *reg, int64_t after_id, int max,
		     int (*fn)(void *arg, const struct registry_change *ch), void *arg);

/* The registry record of @c as JSON text (the uplink's registry object);
 * *jsonp is malloc'd, the caller frees it. */
int registry_record_json(const struct registry_camera *c, char **jsonp);

#endif /* CAMGATE_FIRMWARE_REGISTRY_H */
