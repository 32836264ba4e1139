// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_discovery - ONVIF discovery in `camgate run`: starting the
 * discovery thread, hearing its changes, and the discovered cameras to
 * record, built from the registry.
 *
 * Threads: gw_discovered() runs on the discovery thread; it only sets
 * gw->disc_dirty and tells the uplink (read lock tried, never waited
 * for). The main thread sees disc_dirty in its loop and rebuilds the
 * discovered set (gw_dcams_build) there; starting and stopping discovery
 * is the main thread's too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/stream/stream.h"
#include "firmware/alarm.h"
#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/discovery.h"
#include "firmware/registry.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/uplink.h"

void gw_dcams_free(struct config_camera *d, size_t n)
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

struct config_camera *gw_dcams_build(struct gw *gw, const struct config *cfg, size_t *np)
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

/* Discovery thread: something in the registry changed. A camera gone
 * raises "camera-gone" (R13) until it answers again; central gets the
 * record either way (R2). */
static void gw_discovered(void *arg, const char *camera, enum registry_event ev, const char *why)
{
	struct gw *gw = arg;
	char msg[192];

	atomic_store(&gw->disc_dirty, true);
	if (ev == REGISTRY_GONE) {
		snprintf(msg, sizeof(msg), "camera gone: %s", why);
		alarm_raise(gw->sdb, "camera-gone", camera, msg);
	} else if (ev == REGISTRY_RETURNED || ev == REGISTRY_NEW || ev == REGISTRY_REPLACED) {
		alarm_clear(gw->sdb, "camera-gone", camera);
	}
	/* On contention gw_ship_registry() sends it from the change log. */
	if (!gw_up_tryrdlock(gw))
		return;
	gw_registry_queue(gw, camera, time_now_ms());
	gw_up_unlock(gw);
}

/* Discovery thread: does @camera's stream deliver? Its own health
 * (drivers/stream: stall watchdog, reconnect state), never the
 * discovery interval. */
static int gw_stream_down(void *arg, const char *camera, int64_t *down_since_utc_ms)
{
	struct gw *gw = arg;
	struct stream_stats st;
	int ret = -ENOENT;

	gw_cams_lock(gw);
	for (size_t i = 0; i < gw->ncams; i++) {
		if (strcmp(gw->cams[i]->name, camera))
			continue;
		stream_get_stats(gw->cams[i]->stream, &st);
		ret = st.down_since_utc_ms ? 1 : 0;
		*down_since_utc_ms = st.down_since_utc_ms;
		break;
	}
	gw_cams_unlock(gw);
	return ret;
}

/* Discovery thread: R11 health, @camera refused the [onvif] credentials
 * @rounds rounds in a row (daemon_compliance.c judges it). */
static void gw_auth_refused(void *arg, const char *camera, unsigned int rounds)
{
	struct gw *gw = arg;

	gw_cams_lock(gw);
	for (size_t i = 0; i < gw->ncams; i++)
		if (!strcmp(gw->cams[i]->name, camera))
			atomic_store(&gw->cams[i]->auth_refused, rounds);
	gw_cams_unlock(gw);
}

void gw_discovery_start(struct gw *gw, const struct config *cfg)
{
	struct discovery_cfg dc = {
		.username = cfg->onvif.username,
		.password = cfg->onvif.password,
		.interfaces = cfg->onvif.interfaces,
		.cidrs = cfg->onvif.cidrs,
		.interval_ms = cfg->onvif.interval_ms,
		.probe_window_ms = cfg->onvif.probe_window_ms,
		.call_timeout_ms = cfg->onvif.call_timeout_ms,
		.stream_down = gw_stream_down,
		.auth_refused = gw_auth_refused,
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

#define GW_SHIP_MAX 64 /* change rows per pass; the rest next pass */

struct ship_ctx {
	int64_t last;
	size_t n;
	char names[2 * GW_SHIP_MAX][REGISTRY_NAME_MAX];
	int64_t ts[2 * GW_SHIP_MAX]; /* the first change of each: the R2 clock */
};

static void ship_add(struct ship_ctx *x, const char *camera, int64_t ts)
{
	if (x->n == 2 * GW_SHIP_MAX)
		return; /* only at start, when nothing is sent */
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->names[i], camera))
			return;
	x->ts[x->n] = ts;
	snprintf(x->names[x->n++], REGISTRY_NAME_MAX, "%s", camera);
}

/* Runs with the statedb locked: only collects (the record is read after). */
static int gw_ship_one(void *arg, const struct registry_change *ch)
{
	struct ship_ctx *x = arg;

	x->last = ch->id;
	ship_add(x, ch->camera, ch->ts_ms);
	/* A rename: the old name's record says it is no more. */
	if (!strcmp(ch->field, "name") && ch->old_value && *ch->old_value)
		ship_add(x, ch->old_value, ch->ts_ms);
	return 0;
}

void gw_ship_registry(struct gw *gw)
{
	struct ship_ctx *x;

	if (!gw->reg)
		return;
	x = malloc(sizeof(*x));
	if (!x)
		return;
	x->n = 0;
	x->last = gw->reg_shipped < 0 ? 0 : gw->reg_shipped;
	if (gw->reg_shipped < 0) {
		/* At start only skip what was logged before: central has it,
		 * or gets it by `uplink resend`. */
		registry_changes(gw->reg, 0, 0, gw_ship_one, x);
		x->n = 0;
	} else {
		registry_changes(gw->reg, x->last, GW_SHIP_MAX, gw_ship_one, x);
	}
	gw->reg_shipped = x->last;
	/* Main thread: gw->up changes only here, no lock needed to read it. */
	for (size_t i = 0; i < x->n; i++)
		gw_registry_queue(gw, x->names[i], x->ts[i]);
	free(x);
}

struct gone_ctx {
	char (*out)[CONFIG_NAME_MAX];
	size_t cap, n;
};

static int gw_gone_one(void *arg, const struct registry_camera *c)
{
	struct gone_ctx *g = arg;

	if (c->gone && c->enabled && !strcmp(c->update_method, "onvif-auto") && g->n < g->cap)
		snprintf(g->out[g->n++], CONFIG_NAME_MAX, "%s", c->name);
	return 0;
}

size_t gw_gone_names(struct gw *gw, char (*out)[CONFIG_NAME_MAX], size_t cap)
{
	struct gone_ctx g = { out, cap, 0 };

	if (gw->reg)
		registry_list(gw->reg, gw_gone_one, &g);
	return g.n;
}
