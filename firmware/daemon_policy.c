// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_policy - central's commands that are the gateway's policy rather
 * than the uplink's transport (docs/uplink.md, "Commands"): the blocklist
 * (R9), PTZ (R1), resending a time range of a camera, and (in their own
 * files) the compliance commands, footage export and firmware update. The uplink runs
 * its own (resend-registry, set-setting) and hands the rest here through
 * uplink_hooks.command. Each command is one row of the table below.
 *
 * Threads: gw_command() runs on the uplink thread. It reaches the uplink
 * only by trying gw->up_lock for reading (the main thread may be
 * stopping this very uplink, and waits for this thread). The main thread
 * applies a new blocklist at once (disc_dirty), and an override written
 * by a console process at its next status tick (gw_blocklist_watch()).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/blocklist.h"
#include "firmware/daemon_int.h"
#include "firmware/ptz.h"
#include "firmware/retention.h"
#include "firmware/secevent.h"
#include "firmware/sharing.h"
#include "firmware/registry.h"
#include "lib/parse.h"
#include "lib/log.h"
#include "net/uplink.h"
#include "storage/ring.h"

/* Bound on one resend-range: the uplink's note queue takes this many at
 * once; central asks again for the next part. */
#define RESEND_MAX (UPLINK_QUEUE_MAX / 2)

typedef int (*gw_cmd_fn)(struct gw *gw, const cJSON *args, char *msg, size_t cap);

static int cmd_blocklist(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	int ret = blocklist_set(gw->sdb, cJSON_GetObjectItemCaseSensitive(args, "entries"),
				"central", msg, cap);

	/* The main thread applies it at once rather than at its next tick. */
	if (!ret)
		atomic_store(&gw->disc_dirty, true);
	return ret;
}

static int cmd_ptz(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	return ptz_central(gw->sdb, gw->acc, gw->reg, gw->cfg, args, msg, cap);
}

struct resend_ctx {
	struct ring_seg_info *segs;
	size_t n;
};

static int resend_one(void *arg, const struct ring_seg_info *info)
{
	struct resend_ctx *r = arg;

	if (r->n == RESEND_MAX)
		return 1;
	r->segs[r->n++] = *info;
	return 0;
}

/* The segments of a camera in [from_ms, to_ms) queued again, whether
 * central acknowledged them before or not (a copy central lost). */
static int cmd_resend_range(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	const char *camera = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "camera"));
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(args, "from_ms");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(args, "to_ms");
	struct resend_ctx r = { 0 };
	size_t queued = 0;
	int ret;

	if (!camera || !uplink_id_ok(camera) || !cJSON_IsNumber(from) || !cJSON_IsNumber(to) ||
	    from->valuedouble >= to->valuedouble) {
		snprintf(msg, cap,
			 "args must hold \"camera\" (a camera name) and \"from_ms\" < "
			 "\"to_ms\" (UTC milliseconds)");
		return -EINVAL;
	}
	r.segs = calloc(RESEND_MAX, sizeof(*r.segs));
	if (!r.segs)
		return -ENOMEM;
	/* Copied out first: ring_list() runs @fn between its batches, but
	 * the uplink's queue is better filled without the ring in hand. */
	ret = ring_list(gw->ring, camera, (int64_t)from->valuedouble, (int64_t)to->valuedouble,
			resend_one, &r);
	if (ret >= 0 && gw_up_tryrdlock(gw)) {
		for (size_t i = 0; gw->up && i < r.n; i++)
			queued += !uplink_segment_added(gw->up, &r.segs[i]);
		gw_up_unlock(gw);
	}
	if (ret < 0)
		snprintf(msg, cap, "the ring could not be read: %s", strerror(-ret));
	else if (!r.n)
		snprintf(msg, cap, "no segment of %s in that range", camera);
	else
		snprintf(msg, cap, "%zu segments of %s queued again%s", queued, camera,
			 ret == 1 ? "; more in the range: ask again from after the last one" : "");
	if (ret > 0)
		ret = 0;
	if (!ret && r.n && queued < r.n)
		ret = -EBUSY;
	free(r.segs);
	return ret;
}

static const struct {
	const char *name;
	gw_cmd_fn fn;
} gw_cmds[] = {
	{ "blocklist", cmd_blocklist },
	{ "export", gw_cmd_export },			 /* daemon_export.c */
	{ "holidays", gw_cmd_holidays },		 /* daemon_compliance.c */
	{ "maintenance-done", gw_cmd_maintenance_done }, /* daemon_compliance.c */
	{ "ptz", cmd_ptz },
	{ "resend-range", cmd_resend_range },
	{ "update", gw_cmd_update }, /* daemon_update.c */
};

int gw_command(void *arg, const char *name, const cJSON *args, char *msg, size_t cap)
{
	struct gw *gw = arg;

	for (size_t i = 0; i < sizeof(gw_cmds) / sizeof(gw_cmds[0]); i++)
		if (!strcmp(gw_cmds[i].name, name))
			return gw_cmds[i].fn(gw, args, msg, cap);
	return -ENOSYS;
}

void gw_blocklist_watch(struct gw *gw)
{
	int64_t gen = 0;

	if (blocklist_generation(gw->sdb, &gen) || gen == gw->blocklist_gen)
		return;
	if (gw->blocklist_gen >= 0)
		log_notice("blocklist or its overrides changed: cameras applied again");
	gw->blocklist_gen = gen;
	gw_apply_all(gw, gw->cfg);
}

bool gw_blocked(struct gw *gw, const char *camera, char *why, size_t cap)
{
	return blocklist_camera(gw->sdb, gw->reg, camera, why, cap) > 0;
}

/* R16: security events ahead of everything queued. The audit chain is
 * verified at start and every SECEVENT_VERIFY_MS; the audit rows since
 * the last pass are read for what central must hear (secevent.h). Main
 * thread, each status tick. */
void gw_ship_security(struct gw *gw)
{
	struct secevent_batch *b = malloc(sizeof(*b));
	struct uplink_ev evs[SECEVENT_BATCH + 1];
	struct secevent chain;
	size_t n = 0;
	int64_t now = time_mono_ms();

	if (!b)
		return;
	if (now >= gw->audit_verify_at) {
		gw->audit_verify_at = now + SECEVENT_VERIFY_MS;
		if (secevent_audit_check(gw->sdb, &chain) == 1)
			evs[n++] = (struct uplink_ev){ "security", chain.camera, chain.message };
	}
	if (secevent_scan(gw->sdb, b)) {
		b->n = 0;
		b->to = b->from;
		b->reg_to = b->reg_from;
	}
	for (size_t i = 0; i < b->n; i++)
		evs[n++] = (struct uplink_ev){ "security", b->ev[i].camera, b->ev[i].message };
	for (size_t i = 0; i < n; i++)
		log_warn("security event: %s", evs[i].message);
	if (!n && b->to == b->from)
		;	 /* nothing new */
	else if (gw->up) /* cursor and rows in one transaction */
		uplink_events(gw->up, evs, n, b->to != b->from ? secevent_advance : NULL, b);
	else
		secevent_skip(gw->sdb, b);
	free(b);
}

/* R10: the retention forecast, its alarms, and its table for central's
 * status object (handed over under cams_lock: the uplink thread reads it
 * in gw_status_fill()). Main thread, each tick. */
void gw_watch_retention(struct gw *gw)
{
	struct ring_stat st;
	int64_t now = time_now_ms();
	char *text = NULL, *old;
	cJSON *o;

	if (ring_stat(gw->ring, &st))
		return;
	retention_watch(gw->sdb, &st, gw->cfg, now);
	o = retention_json(&st, gw->cfg, now);
	if (o)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	gw_cams_lock(gw);
	old = gw->retention_text;
	gw->retention_text = text;
	gw_cams_unlock(gw);
	cJSON_free(old);
}

void gw_watch_sharing(struct gw *gw)
{
	struct registry_camera *rc = malloc(sizeof(*rc));

	for (size_t i = 0; rc && i < gw->ncams; i++) {
		struct gw_cam *cam = gw->cams[i];
		const char *stored =
			gw->reg && !registry_get(gw->reg, cam->name, rc) ? rc->sharing_class : "";
		bool share = sharing_media(stored);

		if (share != atomic_load(&cam->share_media))
			log_notice("camera %s: sharing class %s: live and segments %s central",
				   cam->name, sharing_class_name(stored),
				   share ? "go to" : "no longer go to");
		atomic_store(&cam->share_media, share);
		gw_cams_lock(gw);
		snprintf(cam->sharing_class, sizeof(cam->sharing_class), "%s",
			 sharing_class_name(stored));
		gw_cams_unlock(gw);
	}
	free(rc);
}
