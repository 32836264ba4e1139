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
#include <stdlib.h>
#include <string.h>

#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/discovery.h"
#include "firmware/registry.h"
#include "lib/log.h"
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
