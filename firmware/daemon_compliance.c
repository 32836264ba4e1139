// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_compliance - the duties of firmware/compliance.h in `camgate
 * run`: where each arises and is discharged.
 *   R2  registry: every record queued for central opens the camera's
 *       "registry" duty (10 working days); central's acknowledgement of
 *       the record closes it (gw_compliance_acked, from the uplink's
 *       outcome hook). A camera whose mandatory fields are empty, even
 *       with the gateway's [compliance] defaults, has "registry-fields"
 *       open (overdue at once).
 *   R11 fault: a camera unhealthy (its stream down, or gone, or a
 *       health signal of compliance_health.h bad: fps, bitrate, gaps,
 *       clock, ONVIF refusals) for [compliance] fault_after has "fault" open (5
 *       working days), closed when it records again and is healthy; maintenance: "maintenance" is due 6
 *       months after the last one (compliance_maintenance_done()), or
 *       after the camera was first tracked.
 * Every transition goes to central as a "compliance" event.
 *
 * Known edge: a record replaced in the outbox while its older version was
 * in flight (O4) is acknowledged once for the old body; that closes the
 * duty although the new body is still due. The outbox keeps the new one
 * due at once, so it follows within seconds while central answers; the
 * uplink's own registry-deadline alarm (uplink_policy.c) still counts it.
 * A gateway without central ([uplink] base_url empty) cannot meet R2:
 * its duties are opened and go overdue, which is what they are.
 *
 * Threads: gw_compliance_tick() and gw_compliance_config() run on the
 * main thread; gw_registry_queue() on the main and the discovery thread;
 * gw_compliance_acked() and gw_registry_defaults() on the uplink thread.
 * gw->comp is set before any of them starts and never replaced;
 * gw->regdef has its own lock.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/stream/stream.h"
#include "firmware/compliance.h"
#include "firmware/compliance_health.h"
#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/registry.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/workdays.h"
#include "net/uplink.h"

/* A transition: central hears it as an event (never waits for a restart
 * of the uplink: a try-lock, as gw_alarm_notify). */
static void gw_compliance_notify(void *arg, const char *kind, const char *camera, const char *text)
{
	struct gw *gw = arg;
	char msg[512];

	if (!gw_up_tryrdlock(gw))
		return;
	if (gw->up) {
		snprintf(msg, sizeof(msg), "%s %s", kind, text);
		uplink_event(gw->up, "compliance", camera, msg);
	}
	gw_up_unlock(gw);
}

/* The R2 defaults of @cfg, for records built on the uplink thread. True
 * when they differ from the ones in force. */
static bool regdef_set(struct gw *gw, const struct config *cfg)
{
	const struct config_compliance *cc = &cfg->compliance;
	struct gw_regdef d;
	bool changed;

	memset(&d, 0, sizeof(d));
	snprintf(d.unit, sizeof(d.unit), "%s", cc->unit ? cc->unit : "");
	snprintf(d.users, sizeof(d.users), "%s", cc->users ? cc->users : "");
	snprintf(d.owner, sizeof(d.owner), "%s", cc->owner ? cc->owner : "");
	snprintf(d.location, sizeof(d.location), "%s", cc->location ? cc->location : "");
	pthread_mutex_lock(&gw->regdef_lock);
	changed = memcmp(&d, &gw->regdef, sizeof(d)) != 0;
	gw->regdef = d;
	pthread_mutex_unlock(&gw->regdef_lock);
	return changed;
}

void gw_registry_defaults(struct gw *gw, struct registry_camera *c)
{
	pthread_mutex_lock(&gw->regdef_lock);
#define DEF(f, d)                                                                                  \
	if (!c->f[0])                                                                              \
	snprintf(c->f, sizeof(c->f), "%s", gw->regdef.d)
	DEF(provider_unit, unit);
	DEF(data_users, users);
	DEF(owner, owner);
	DEF(scope_location, location);
#undef DEF
	pthread_mutex_unlock(&gw->regdef_lock);
}

struct copy_ctx {
	struct registry_camera *c;
	size_t n, cap;
};

static int copy_one(void *arg, const struct registry_camera *c)
{
	struct copy_ctx *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		void *p = realloc(x->c, cap * sizeof(*x->c));

		if (!p)
			return -ENOMEM;
		x->c = p;
		x->cap = cap;
	}
	x->c[x->n++] = *c;
	return 0;
}

/* The registry's cameras, copied: registry_list() holds state.db while it
 * walks, and what is done with each (duties, the outbox) needs it too.
 * The caller frees the array; NULL and *np 0 when empty or on error. */
static struct registry_camera *registry_copy(struct gw *gw, size_t *np)
{
	struct copy_ctx x = { 0 };

	if (gw->reg && registry_list(gw->reg, copy_one, &x)) {
		free(x.c);
		x.c = NULL;
		x.n = 0;
	}
	*np = x.n;
	return x.c;
}

int gw_compliance_config(struct gw *gw, const struct config *cfg, bool reload)
{
	int ret;

	if (!gw->comp) {
		ret = compliance_new(gw->sdb, cfg->uplink.tz_offset_min, cfg->uplink.holidays,
				     &gw->comp);
		if (ret == -EINVAL)
			log_err("compliance: [uplink] tz_offset or holidays invalid");
		if (ret)
			return ret;
		compliance_set_notify(gw->comp, gw_compliance_notify, gw);
	} else if (compliance_set_calendar(gw->comp, cfg->uplink.tz_offset_min,
					   cfg->uplink.holidays)) {
		log_err("compliance: [uplink] holidays invalid; keeping the calendar in force");
	}
	compliance_set_days(gw->comp, "registry", cfg->uplink.deadline_days);
	if (regdef_set(gw, cfg) && reload && gw->reg) {
		size_t n;
		struct registry_camera *c = registry_copy(gw, &n);

		log_notice("compliance: R2 defaults changed; every registry record is sent again");
		for (size_t i = 0; i < n; i++)
			gw_registry_queue(gw, c[i].name, time_now_ms());
		free(c);
	}
	return 0;
}

/* "registry/NAME.json" -> NAME; false for other objects. */
static bool registry_path_camera(const char *path, char *out, size_t cap)
{
	size_t n = strlen(path);

	if (strncmp(path, "registry/", 9) || n < 15 || strcmp(path + n - 5, ".json"))
		return false;
	snprintf(out, cap, "%.*s", (int)(n - 14), path + 9);
	return true;
}

void gw_compliance_acked(struct gw *gw, const char *path)
{
	char cam[REGISTRY_NAME_MAX + 8];

	if (gw->comp && registry_path_camera(path, cam, sizeof(cam)))
		compliance_close(gw->comp, "registry", cam, "acknowledged by central");
}

void gw_registry_queue(struct gw *gw, const char *camera, int64_t changed_ms)
{
	if (gw->comp)
		compliance_open(gw->comp, "registry", camera, changed_ms, "record queued");
	if (gw->up)
		uplink_registry_changed(gw->up, camera);
}

/* R2 mandatory fields, with the gateway's defaults filled in: the names
 * of the empty ones into @out ("" when none). */
void gw_registry_missing(struct gw *gw, const struct registry_camera *rc, char *out, size_t cap)
{
	struct registry_camera *c = malloc(sizeof(*c));
	size_t len = 0;

	out[0] = '\0';
	if (!c)
		return;
	*c = *rc;
	gw_registry_defaults(gw, c);
#define MISS(f, name)                                                                              \
	if (!c->f[0] && len < cap)                                                                 \
	len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", name)
	MISS(provider_unit, "unit");
	MISS(data_users, "users");
	MISS(owner, "owner");
	MISS(scope_location, "location");
#undef MISS
	free(c);
}

struct tick_ctx {
	struct gw *gw;
	int64_t now;
};

/* R2 fields and R11 maintenance of one registry camera. */
static void tick_registry(struct tick_ctx *t, const struct registry_camera *c)
{
	char missing[128], detail[160];

	gw_registry_missing(t->gw, c, missing, sizeof(missing));
	if (*missing) {
		snprintf(detail, sizeof(detail), "empty: %s", missing);
		compliance_open(t->gw->comp, "registry-fields", c->name, t->now, detail);
	} else {
		compliance_close(t->gw->comp, "registry-fields", c->name, "all set");
	}
}

struct maint {
	bool open;
	int64_t opened_ms;
};

static int maint_row(void *arg, const struct compliance_row *r)
{
	struct maint *m = arg;

	m->open = r->open;
	m->opened_ms = r->opened_ms;
	return 0;
}

static void tick_maintenance(struct tick_ctx *t, const char *camera)
{
	struct maint m = { 0 };
	int64_t last = 0;
	char detail[64];

	if (compliance_maintenance_last(t->gw->sdb, camera, &last) ||
	    compliance_get(t->gw->comp, "maintenance", camera, maint_row, &m) < 0)
		return;
	if (m.open && last <= m.opened_ms)
		return;
	if (m.open)
		compliance_close(t->gw->comp, "maintenance", camera, "maintenance done");
	if (last)
		format_time_ms(last, detail, sizeof(detail));
	compliance_open(t->gw->comp, "maintenance", camera, last ? last : t->now,
			last ? detail : "never recorded: counted from now");
}

/* The R11 health signals of @cam (firmware/compliance_health.h): its
 * stream's measurements, its main profile and clock as discovery last saw
 * them, its ONVIF refusals. */
static bool cam_unhealthy(struct gw *gw, struct gw_cam *cam, const struct stream_stats *st,
			  char *detail, size_t cap)
{
	const struct config_compliance *cc = &gw->cfg->compliance;
	const struct compliance_health_limits lim = {
		.fps_min_pct = cc->fps_min_pct,
		.bitrate_min_kbps = cc->bitrate_min_kbps,
		.clock_max_ms = cc->clock_max_ms,
		.auth_refused_max = cc->auth_refused_max,
		.gaps_max = cc->gaps_max,
	};
	struct compliance_health h = {
		.fps = st->fps,
		.bitrate_bps = st->bitrate_bps,
		.auth_refused = atomic_load(&cam->auth_refused),
		.gaps = compliance_gaps_hourly(&cam->gap_window, atomic_load(&cam->gaps),
					       time_now_ms()),
	};
	struct registry_camera *rc = gw->reg ? malloc(sizeof(*rc)) : NULL;

	if (rc && !registry_get(gw->reg, cam->name, rc)) {
		h.profile_fps = compliance_profile_fps(rc->profiles);
		h.clock_offset_ms = rc->clock_offset_ms;
	}
	free(rc);
	return compliance_health_check(&h, &lim, detail, cap);
}

/* R11 fault of a recording camera: its stream down, or a health signal
 * bad, for fault_after. A stream down names the other signals too (its
 * last fps and bitrate are stale): a camera refusing the credentials or
 * with its clock off is often why. */
static void tick_fault(struct tick_ctx *t, struct gw_cam *cam, int64_t fault_after)
{
	struct stream_stats st;
	char detail[256], health[128], when[32];

	stream_get_stats(cam->stream, &st);
	if (st.down_since_utc_ms) {
		cam->unhealthy_since_ms = 0;
		if (t->now - st.down_since_utc_ms < fault_after)
			return;
		st.fps = 0;
		st.bitrate_bps = 0;
		format_time_ms(st.down_since_utc_ms, when, sizeof(when));
		cam_unhealthy(t->gw, cam, &st, health, sizeof(health));
		snprintf(detail, sizeof(detail), "stream down since %s: %.64s%s%.120s", when,
			 st.last_error[0] ? st.last_error : "connecting", health[0] ? "; " : "",
			 health);
		compliance_open(t->gw->comp, "fault", cam->name, st.down_since_utc_ms + fault_after,
				detail);
		return;
	}
	if (!cam_unhealthy(t->gw, cam, &st, detail, sizeof(detail))) {
		cam->unhealthy_since_ms = 0;
		compliance_close(t->gw->comp, "fault", cam->name, "recording again");
		return;
	}
	if (!cam->unhealthy_since_ms)
		cam->unhealthy_since_ms = t->now;
	if (t->now - cam->unhealthy_since_ms >= fault_after)
		compliance_open(t->gw->comp, "fault", cam->name,
				cam->unhealthy_since_ms + fault_after, detail);
}

/* R2: a camera of the config file (added on the console, by hand in the
 * file, by a reload) is in the registry as a manual camera, so its
 * record goes to central like a discovered one's. Logged as the
 * installer's; the change log ships it. */
static void registry_manual(struct gw *gw)
{
	struct registry_camera *rc;

	if (!gw->reg || !gw->cfg->ncameras)
		return;
	rc = malloc(sizeof(*rc));
	if (!rc)
		return;
	for (size_t i = 0; i < gw->cfg->ncameras; i++) {
		const char *name = gw->cfg->cameras[i].name;

		if (registry_get(gw->reg, name, rc) != -ENOENT)
			continue;
		if (registry_set(gw->reg, name, "update_method", "manual", REGISTRY_CAUSE_INSTALLER,
				 time_now_ms()))
			log_warn("registry: camera %s of the config not registered", name);
	}
	free(rc);
}

struct stale_ctx {
	char (*names)[CONFIG_NAME_MAX];
	size_t n, cap;
};

static int stale_one(void *arg, const struct compliance_row *r)
{
	struct stale_ctx *x = arg;

	if (r->open && !strcmp(r->kind, "fault") && x->n < x->cap)
		snprintf(x->names[x->n++], CONFIG_NAME_MAX, "%s", r->camera);
	return 0;
}

/* A fault of a camera that is neither recorded nor gone any more (taken
 * out of the config, disabled): nothing is left to repair. */
static void close_stale_faults(struct gw *gw)
{
	char gone[CONFIG_CAMERAS_MAX][CONFIG_NAME_MAX];
	struct stale_ctx x = { .cap = CONFIG_CAMERAS_MAX };
	size_t ngone;

	x.names = malloc(x.cap * sizeof(*x.names));
	if (!x.names)
		return;
	ngone = gw_gone_names(gw, gone, CONFIG_CAMERAS_MAX);
	if (!compliance_list(gw->sdb, stale_one, &x)) {
		for (size_t i = 0; i < x.n; i++) {
			bool known = gw_cam_named(gw, x.names[i]);

			for (size_t j = 0; !known && j < ngone; j++)
				known = !strcmp(gone[j], x.names[i]);
			if (!known)
				compliance_close(gw->comp, "fault", x.names[i],
						 "no longer recorded");
		}
	}
	free(x.names);
}

void gw_compliance_tick(struct gw *gw)
{
	struct tick_ctx t = { gw, time_now_ms() };
	char gone[CONFIG_CAMERAS_MAX][CONFIG_NAME_MAX];
	size_t ngone, n;
	struct registry_camera *c;

	if (!gw->comp)
		return;
	registry_manual(gw);
	c = registry_copy(gw, &n);
	for (size_t i = 0; i < n; i++) {
		if (c[i].enabled && !c[i].gone)
			tick_registry(&t, &c[i]);
		else /* its record says it is not in service */
			compliance_close(gw->comp, "registry-fields", c[i].name, "not in service");
	}
	free(c);
	close_stale_faults(gw);
	for (size_t i = 0; i < gw->ncams; i++) {
		tick_fault(&t, gw->cams[i], gw->cfg->compliance.fault_after_ms);
		tick_maintenance(&t, gw->cams[i]->name);
	}
	/* A discovered camera gone is a fault too: it records nothing. */
	ngone = gw_gone_names(gw, gone, CONFIG_CAMERAS_MAX);
	for (size_t i = 0; i < ngone; i++)
		if (!gw_cam_named(gw, gone[i]))
			compliance_open(gw->comp, "fault", gone[i], t.now, "camera gone");
	compliance_evaluate(gw->comp);
}

int gw_cmd_holidays(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	const char *list = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "holidays"));
	struct workdays *w;
	int ret;

	if (!list) {
		snprintf(msg, cap, "args must hold \"holidays\": \"YYYY-MM-DD, ...\"");
		return -EINVAL;
	}
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	ret = workdays_init(w, 0, list);
	free(w);
	if (ret) {
		snprintf(
			msg, cap,
			"holidays: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, comma-separated, "
			"at most %d days",
			WORKDAYS_HOLIDAYS_MAX);
		return -EINVAL;
	}
	return gw_write_setting(gw, "uplink", "holidays", list, msg, cap);
}

int gw_cmd_maintenance_done(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	const char *cam = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "camera"));
	const char *note = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "note"));
	struct registry_camera *rc;
	int ret;

	if (!cam || !note || !*note) {
		snprintf(msg, cap, "args must hold \"camera\" and a non-empty \"note\"");
		return -EINVAL;
	}
	rc = malloc(sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	ret = gw->reg ? registry_get(gw->reg, cam, rc) : -ENOENT;
	free(rc);
	if (ret) {
		snprintf(msg, cap, "no camera '%.64s' in the registry", cam);
		return -ENOENT;
	}
	ret = compliance_maintenance_done(gw->sdb, cam, 0, "central", note);
	snprintf(msg, cap, ret ? "maintenance of %s not recorded" : "maintenance of %s recorded",
		 cam);
	return ret;
}
