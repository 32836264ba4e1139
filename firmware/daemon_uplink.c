// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_uplink - central in `camgate run`: the uplink's configuration and
 * start, the hooks it calls (registry records, status figures, set-setting
 * from central), alarms pushed as events, and audit rows shipped to it.
 *
 * Threads: gw_uplink_start() and gw_ship_audit() run on the main thread,
 * which alone replaces gw->up, with up_lock held for writing. The hooks
 * (gw_registry_*, gw_status_fill, gw_set_setting, gw_outcome) run on the uplink
 * thread; gw_set_setting() hands its change to the main thread by SIGHUP.
 * gw_alarm_notify() runs on whichever thread raised the alarm and only
 * tries the read lock, so it never waits for a restart of the uplink.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/compliance.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/config_write.h"
#include "firmware/daemon_int.h"
#include "firmware/liveness.h"
#include "firmware/registry.h"
#include "firmware/status.h"
#include "firmware/uplink_policy.h"
#include "lib/hex.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "net/uplink.h"
#include "storage/ring.h"
#include "version.h"

/* Uplink hooks: the registry record of a camera, for central (R2). */
static cJSON *gw_registry_record(void *arg, const char *camera)
{
	struct gw *gw = arg;
	struct registry_camera c;
	char *text = NULL;
	cJSON *o;

	if (!gw->reg || registry_get(gw->reg, camera, &c))
		return NULL;
	gw_registry_defaults(gw, &c);
	if (registry_record_json(&c, &text))
		return NULL;
	o = cJSON_Parse(text);
	free(text);
	return o;
}

struct each_ctx {
	char (*names)[REGISTRY_NAME_MAX];
	size_t n, cap;
};

static int gw_each_one(void *arg, const struct registry_camera *c)
{
	struct each_ctx *e = arg;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		void *p = realloc(e->names, cap * sizeof(*e->names));

		if (!p)
			return -ENOMEM;
		e->names = p;
		e->cap = cap;
	}
	snprintf(e->names[e->n++], REGISTRY_NAME_MAX, "%s", c->name);
	return 0;
}

/* The names first, then @fn for each: registry_list() holds the state
 * database while it walks, and @fn reads the registry and writes the
 * outbox, which need it too. */
static int gw_registry_each(void *arg, int (*fn)(void *fnarg, const char *camera), void *fnarg)
{
	struct gw *gw = arg;
	struct each_ctx e = { 0 };
	int ret = gw->reg ? registry_list(gw->reg, gw_each_one, &e) : 0;

	for (size_t i = 0; i < e.n && !ret; i++)
		ret = fn(fnarg, e.names[i]);
	free(e.names);
	return ret;
}

/* Alarms central must hear at once (R13): pushed as events. Runs on the
 * raising thread, possibly inside the ring's evict hook. It never waits
 * for the uplink (a try-lock: while the uplink is being restarted the
 * event is skipped), but uplink_event() commits an outbox row, so it does
 * wait for state.db's lock and its sync (lock order ring -> statedb). */
void gw_alarm_notify(void *arg, const char *code, const char *camera, const char *message,
		     bool raised)
{
	struct gw *gw = arg;
	char text[256];

	if (!gw_up_tryrdlock(gw))
		return;
	if (gw->up) {
		snprintf(text, sizeof(text), "%s %s: %s", raised ? "raised" : "cleared", code,
			 message);
		uplink_event(gw->up, "alarm", camera, text);
	}
	gw_up_unlock(gw);
}

/* The status tick: the policy's alarms and figures, then the cameras'
 * live figures for status.json. Uplink thread. */
static void gw_status_fill(void *arg, cJSON *status, const struct uplink_figures *fig)
{
	struct gw *gw = arg;
	struct stream *streams[2 * CONFIG_CAMERAS_MAX];
	const char *names[2 * CONFIG_CAMERAS_MAX];
	char gone[CONFIG_CAMERAS_MAX][CONFIG_NAME_MAX];
	struct status_state_disk sd;
	size_t n, ngone = gw_gone_names(gw, gone, CONFIG_CAMERAS_MAX);
	cJSON *table = NULL;

	liveness_test_stall(gw->live, LIVE_SEAM_UPLINK);
	liveness_beat(gw->live, LIVE_UPLINK); /* the uplink thread's heartbeat */
	uplink_policy_status(&gw->policy, status, fig);
	if (!compliance_json(gw->sdb, &table))
		cJSON_AddItemToObject(status, "compliance", table);
	gw_cams_lock(gw);
	n = gw->ncams;
	for (size_t i = 0; i < n; i++) {
		streams[i] = gw->cams[i]->stream;
		names[i] = gw->cams[i]->name;
	}
	for (size_t i = 0; i < ngone; i++) {
		if (gw_cam_named(gw, gone[i]))
			continue; /* a configured camera of that name records */
		streams[n] = NULL;
		names[n++] = gone[i];
	}
	cJSON *cams = status_cameras(names, streams, n), *item;

	cJSON_ArrayForEach (item, cams) { /* R14/R15: the class of each */
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(item, "name"));

		/* Empty while a start or reload adds cameras, until
		 * gw_watch_sharing() read the registry: left out then. */
		for (size_t i = 0; name && i < gw->ncams; i++)
			if (!strcmp(gw->cams[i]->name, name) && gw->cams[i]->sharing_class[0])
				cJSON_AddStringToObject(item, "sharing_class",
							gw->cams[i]->sharing_class);
	}
	cJSON_AddItemToObject(status, "cameras", cams);
	if (gw->retention_text) /* R10, daemon_policy.c */
		cJSON_AddItemToObject(status, "retention", cJSON_Parse(gw->retention_text));
	gw_cams_unlock(gw);
	gw_state_disk(gw, &sd);
	cJSON_AddItemToObject(status, "state_disk", status_state_disk_json(&sd));
	cJSON_AddStringToObject(status, "daemon_state", gw_state_name(atomic_load(&gw->state)));
	gw_update_status(gw, status); /* daemon_update.c */
}

/* U7: segments without an outbox row; the evict hook refuses meanwhile.
 * Uplink thread. */
static void gw_store_state(void *arg, bool failing)
{
	struct gw *gw = arg;

	atomic_store(&gw->outbox_failing, failing);
}

/* Why central may not set [@section] @key, or NULL when it may. */
static const char *gw_central_refusal(const char *section, const char *key)
{
	int flags = config_setting_flags(section, key);

	if (flags < 0)
		return "is not a setting";
	if (flags & CONFIG_F_ADMIN)
		return "decides central's endpoint, trust, credentials or a path: never set "
		       "from the command channel";
	if (!(flags & CONFIG_F_CENTRAL))
		return "is not on the list central may set (docs/config.md, \"set by\"); set "
		       "it on the console";
	return NULL;
}

/* The set-setting command from central: "section.key" = value, for the
 * allowlist of operational settings only (CONFIG_F_CENTRAL in the
 * settings table): a command must never cut the gateway off from central
 * or redirect it. Refusals are audited here, where the policy is. The
 * file is changed the way the console does it (temp file with the file's
 * mode, fsync, rename), validated first as a whole, then the main thread
 * reloads it through the usual SIGHUP path. Uplink thread. */
static int gw_set_setting(void *arg, const char *name, const char *value, char *msg, size_t cap)
{
	struct gw *gw = arg;
	const char *why;
	char section[32], key[64];
	const char *dot = strchr(name, '.');

	if (!dot || dot - name >= (int)sizeof(section) || strlen(dot + 1) >= sizeof(key)) {
		snprintf(msg, cap, "expected section.key, got '%s'", name);
		return -ENOTSUP;
	}
	snprintf(section, sizeof(section), "%.*s", (int)(dot - name), name);
	snprintf(key, sizeof(key), "%s", dot + 1);
	why = gw_central_refusal(section, key);
	if (why) {
		snprintf(msg, cap, "%s %s", name, why);
		audit_record(gw->sdb, 0, "central", "setting-refused", name, why);
		return -ENOTSUP;
	}
	return gw_write_setting(gw, section, key, value, msg, cap);
}

int gw_write_setting(struct gw *gw, const char *section, const char *key, const char *value,
		     char *msg, size_t cap)
{
	const char *path = gw->cfg->path;
	char name[100], tmp[PATH_MAX], detail[256];
	struct config_write *cw = NULL;
	struct config *check = NULL;
	struct stat st;
	int ret, fd;

	snprintf(name, sizeof(name), "%s.%s", section, key);
	snprintf(tmp, sizeof(tmp), "%s.central", path);
	if (!stat(path, &st)) {
		/* config_write_save() keeps this mode; rename() then keeps it. */
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			if (fchmod(fd, st.st_mode & 07777))
				log_warn("%s: chmod: %s", tmp, strerror(errno));
			close(fd);
		}
	}
	ret = config_write_load(path, &cw);
	if (!ret && !config_write_value_ok(value))
		ret = -EINVAL;
	if (!ret)
		ret = config_write_set(cw, section, key, value);
	if (!ret)
		ret = config_write_save(cw, tmp);
	if (!ret && config_load(tmp, &check))
		ret = -EINVAL;
	if (!ret)
		ret = fs_commit(tmp, path);
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

/* What the uplink met (TLS trust, refusals, corrupt segments, commands):
 * alarms and audit rows, decided by firmware/uplink_policy.c. */
static void gw_outcome(void *arg, const struct uplink_outcome *o)
{
	struct gw *gw = arg;

	uplink_policy_outcome(&gw->policy, o);
	if (o->kind == UPLINK_OUT_ACKED)
		gw_compliance_acked(gw, o->path);
}

static int64_t gw_registry_deadline(void *arg, int64_t changed_ms)
{
	struct gw *gw = arg;

	return uplink_policy_deadline(&gw->policy, changed_ms);
}

/* (Re)start the uplink for @cfg; a plain local recorder without base_url. */
int gw_uplink_start(struct gw *gw, const struct config *cfg)
{
	struct uplink_hooks hooks = {
		.registry_record = gw_registry_record,
		.registry_each = gw_registry_each,
		.registry_deadline = gw_registry_deadline,
		.status_fill = gw_status_fill,
		.set_setting = gw_set_setting,
		.command = gw_command,
		.outcome = gw_outcome,
		.store_state = gw_store_state,
		.arg = gw,
	};
	struct uplink_cfg ucfg;
	struct uplink *up = NULL;
	int ret = 0;

	gw_up_wrlock(gw);
	uplink_stop(gw->up);
	gw->up = NULL;
	/* A new uplink scans the ring at once and reports anew (U7). */
	atomic_store(&gw->outbox_failing, false);
	if (*cfg->uplink.base_url) {
		config_uplink_fill(cfg, &ucfg);
		ucfg.firmware_version = CAMGATE_VERSION;
		ring_set_upload_required(gw->ring, true);
		ret = uplink_policy_init(&gw->policy, gw->sdb, cfg->uplink.deadline_days,
					 cfg->uplink.tz_offset_min, cfg->uplink.holidays);
		if (!ret)
			ret = uplink_start(&ucfg, &hooks, gw->ring, gw->sdb, &up);
		if (!ret)
			log_notice("uplink to %s started", cfg->uplink.base_url);
		/* Its status tick is the heartbeat: three ticks missed is a hang. */
		liveness_expect(gw->live, LIVE_UPLINK,
				ret ? 0 : liveness_beats_deadline(ucfg.status_interval_ms));
	} else {
		ring_set_upload_required(gw->ring, false);
		liveness_expect(gw->live, LIVE_UPLINK, 0);
	}
	gw->up = up;
	gw_up_unlock(gw);
	return ret;
}

/* Audit rows go to central through the outbox (R8): each becomes an event
 * object. The batch's events and the ship cursor are committed in one
 * transaction (audit_ship_advance()), so a restart, even after kill -9,
 * neither repeats nor skips rows, whichever process wrote them. */
#define AUDIT_SHIP_BATCH 64
#define AUDIT_SHIP_MSG	 768

/* Rows are copied out first: audit_list() holds the state.db lock, which
 * the outbox's transaction needs. */
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
	snprintf(c->msgs[c->n], AUDIT_SHIP_MSG, "audit #%lld at %lld: %s %s %s%s%s (chain %s)",
		 (long long)r->id, (long long)r->ts_ms, r->actor, r->action, r->object,
		 *r->detail ? ": " : "", r->detail, hash);
	c->ids[c->n++] = r->id;
	return 0;
}

void gw_ship_audit(struct gw *gw)
{
	struct uplink_ev evs[AUDIT_SHIP_BATCH];
	struct ship_ctx c = { 0 };
	struct audit_ship mark;

	if (!gw->up || audit_shipped(gw->sdb, &mark.from))
		return;
	c.msgs = malloc(AUDIT_SHIP_BATCH * sizeof(*c.msgs));
	if (!c.msgs || audit_list(gw->sdb, mark.from, AUDIT_SHIP_BATCH, gw_ship_row, &c) || !c.n)
		goto out;
	for (size_t i = 0; i < c.n; i++)
		evs[i] = (struct uplink_ev){ .type = "audit", .camera = "", .message = c.msgs[i] };
	mark.to = c.ids[c.n - 1];
	/* On failure nothing was committed: the batch is tried again next tick. */
	uplink_events(gw->up, evs, c.n, audit_ship_advance, &mark);
out:
	free(c.msgs);
}
