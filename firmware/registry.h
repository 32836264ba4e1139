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
 *   then registry_count_missed(reg, round_start, now, ...) and, for the
 *   cameras that missed enough rounds AND whose ONVIF endpoint and stream
 *   are unreachable, registry_set_gone() (firmware/discovery.c).
 *   An onvif_listener Hello triggers a round at once; a Bye is judged as a
 *   missed camera is (registry_endpoint_name(), then registry_set_gone()
 *   when its stream is unreachable too). Installer and central edits:
 *   registry_set().
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
#include <stddef.h>
#include <stdint.h>

struct statedb;
struct onvif_camera;
struct registry; /* opaque */

#define REGISTRY_NAME_MAX	     32 /* bytes, NUL included */
#define REGISTRY_TEXT_MAX	     128
#define REGISTRY_URI_MAX	     512
#define REGISTRY_LIST_MAX	     1024 /* profiles, data users */
#define REGISTRY_INTERVAL_DEFAULT_MS (10 * 60 * 1000)
#define REGISTRY_SUFFIX_LEN	     4 /* of the serial, in colliding names */

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
	int64_t missed_rounds;		     /* discovery rounds without an answer; volatile */
	char gone_reason[REGISTRY_TEXT_MAX]; /* why it was marked gone; "" while present */
};

/* Migrate the registry's tables (module "registry") and prepare. @db is
 * borrowed and must outlive the registry. *regp set on success. */
int registry_open(struct statedb *db, struct registry **regp);
void registry_close(struct registry *reg); /* NULL is a no-op */

/* The device information of an interrogated camera, into @out (other
 * fields zero; update method onvif-auto, enabled). */
void registry_from_onvif(const struct onvif_camera *cam, struct registry_camera *out);

/* Record one discovery observation @seen at @now_ms (G1-G4). @seen->name
 * names a NEW camera (if "" registry_new_name(); if taken, the suffixed
 * registry_new_name()); a known camera keeps the name it has;
 * the name of the camera it matched is written to @name_out (cap
 * REGISTRY_NAME_MAX, may be NULL). *evp tells what happened. */
int registry_observe(struct registry *reg, const struct registry_camera *seen, int64_t now_ms,
		     enum registry_event *evp, char *name_out);

/* After a discovery round: every present onvif-auto camera not seen
 * since @seen_before_ms missed one more round (volatile, G4: not logged;
 * an answer resets it). Nothing becomes gone here: silence is only a
 * candidate's evidence. The names of those that missed @min_rounds or
 * more go into @names (at most @cap), *np says how many. */
int registry_count_missed(struct registry *reg, int64_t seen_before_ms, int64_t now_ms,
			  int64_t min_rounds, char (*names)[REGISTRY_NAME_MAX], size_t cap,
			  size_t *np);
/* Camera @name is gone, for @reason (kept in gone_reason, sent to
 * central with the record); logged. -ENOENT unknown, -EALREADY gone. */
int registry_set_gone(struct registry *reg, const char *name, const char *reason, int64_t now_ms);
/* The name of the camera with endpoint reference @endpoint into @name_out
 * (cap REGISTRY_NAME_MAX). -ENOENT, -ENOMEM, -EIO. */
int registry_endpoint_name(struct registry *reg, const char *endpoint, char *name_out);

/* The name a new discovered camera gets: from its scope name (else serial,
 * else endpoint reference), lower case [a-z0-9-]. With @suffixed, plus "-"
 * and the last REGISTRY_SUFFIX_LEN letters and digits of its serial (else
 * MAC, else endpoint reference): cameras that share a scope name then get
 * names that do not depend on which answered first. @out: REGISTRY_NAME_MAX. */
void registry_new_name(const struct registry_camera *c, bool suffixed, char *out);
/* 1-31 of A-Z a-z 0-9 . _ -, not starting with . or - */
bool registry_name_ok(const char *name);
/* The installer (or central) renames camera @name to @new_name; the name
 * is kept from then on, whatever discovery sees. Logged as a "set" of
 * field "name" under the new name. -ENOENT, -EEXIST (taken), -EINVAL. */
int registry_rename(struct registry *reg, const char *name, const char *new_name,
		    enum registry_cause cause, int64_t now_ms);

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
