// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_export - central's `export` command (docs/integrity.md, "Export
 * requested by central"): the same R12 path as `camgate export`
 * (cmd_export_audited(): refusal, audit row, hold), the package built on
 * the gateway from the daemon's own ring, chain and key, and its signed
 * manifest sent to central as exports/{id}/ objects that refer to the
 * media and checkpoints central already holds.
 *
 * Threads: the uplink thread (gw_command()). The package is built there:
 * reading the ring and remuxing blocks uplink traffic for that long, so
 * one command covers at most EXPORT_CENTRAL_MAX_MS.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/daemon_int.h"
#include "firmware/export_pkg.h"
#include "firmware/integrity.h"
#include "lib/clock.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/uplink.h"

#define EXPORT_CENTRAL_MAX_MS (60 * 60 * 1000)

/* What goes to central: the signed manifest and what checks it. The
 * footage.mp4 and segment copies stay out (central holds the originals
 * under media/, the checkpoints under chain/). */
static const char *const sent[] = { "manifest.json", "manifest.sig", "public_key.pem",
				    "README.txt" };

struct gw_build {
	struct gw *gw;
};

static int build(void *arg, const struct export_pkg_req *rq, struct export_pkg_report *rep,
		 char *why, size_t cap)
{
	struct gw *gw = ((struct gw_build *)arg)->gw;
	int64_t now = time_now_ms();

	if (!gw->integ) {
		snprintf(why, cap, "the hash chain is not running");
		return -ENODEV;
	}
	/* The range's newest entries covered by a checkpoint now; the next
	 * status tick queues it to central's chain/. */
	integrity_checkpoint_now(gw->integ, rq->camera, now);
	return export_pkg_write(gw->ring, integrity_chain(gw->integ), integrity_identity(gw->integ),
				rq, now, rep, why, cap);
}

/* The sent files as outbox rows (their bodies copied into state.db). */
static int send_pkg(struct gw *gw, const char *dir, const char *id)
{
	char path[UPLINK_URL_MAX], obj[256];
	int ret = -ENOTCONN;

	if (!gw_up_tryrdlock(gw))
		return -EBUSY;
	for (size_t i = 0; gw->up && i < sizeof(sent) / sizeof(sent[0]); i++) {
		char *body;

		snprintf(path, sizeof(path), "%s/%s", dir, sent[i]);
		snprintf(obj, sizeof(obj), "exports/%s/%s", id, sent[i]);
		body = fs_read_all(path, NULL);
		ret = body ? uplink_put_object(gw->up, obj, body, time_now_ms()) : -EIO;
		free(body);
		if (ret)
			break;
	}
	gw_up_unlock(gw);
	return ret;
}

static bool time_arg(const cJSON *v, int64_t now, int64_t *out)
{
	if (cJSON_IsNumber(v)) {
		*out = (int64_t)v->valuedouble;
		return true;
	}
	return cJSON_IsString(v) && !parse_time_ms(v->valuestring, now, out);
}

static const char *str_arg(const cJSON *args, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, k));

	return s && *s ? s : NULL;
}

int gw_cmd_export(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	const char *camera = str_arg(args, "camera"), *purpose = str_arg(args, "purpose");
	const char *requester = str_arg(args, "requester"), *performer = str_arg(args, "performer");
	struct export_pkg_report rep = { 0 };
	struct gw_build b = { gw };
	struct export_pkg_req rq;
	char dir[512], id[UPLINK_ID_MAX], why[256] = "", missing[64] = "";
	int64_t now = time_now_ms(), from = 0, to = 0, hold = 0;
	int ret;

	if (!camera || !uplink_id_ok(camera) ||
	    !time_arg(cJSON_GetObjectItemCaseSensitive(args, "from"), now, &from) ||
	    !time_arg(cJSON_GetObjectItemCaseSensitive(args, "to"), now, &to) || from >= to ||
	    to - from > EXPORT_CENTRAL_MAX_MS) {
		snprintf(msg, cap,
			 "args must hold \"camera\" (a camera name) and \"from\" < \"to\" (UTC "
			 "milliseconds or ISO 8601), at most 1 h apart");
		return -EINVAL;
	}
	/* R12: every missing field named at once, before the account check. */
	snprintf(missing, sizeof(missing), "%s%s%s", purpose ? "" : " purpose",
		 requester ? "" : " requester", performer ? "" : " performer");
	rq = (struct export_pkg_req){ .gateway = gw->cfg->gateway_id,
				      .camera = camera,
				      .from_ms = from,
				      .to_ms = to,
				      .purpose = purpose,
				      .requester = requester,
				      .performer = performer };
	snprintf(id, sizeof(id), "%s-%lld", camera, (long long)now);
	snprintf(dir, sizeof(dir), "%s/exports/%s", gw->cfg->state_dir, id);
	rq.dir = dir;
	ret = cmd_export_audited(gw->sdb, &rq, "requested by central", build, &b, &rep, &hold, why,
				 sizeof(why));
	if (ret == -EPERM) {
		if (missing[0])
			snprintf(msg, cap, "export refused: args lack%s (R12)", missing);
		else
			snprintf(msg, cap, "export refused: %s", why);
		return -ENOTSUP;
	}
	if (!ret)
		ret = send_pkg(gw, dir, id);
	else
		snprintf(msg, cap, "export failed: %s", why);
	if (ret && !msg[0])
		snprintf(msg, cap, "export of %s written but not queued for central: %s", id,
			 strerror(-ret));
	if (!ret)
		snprintf(msg, cap,
			 "exports/%s/: %llu segments, %.1f s; manifest sha256 %s; hold %lld", id,
			 (unsigned long long)rep.segments, (double)rep.duration_ms / 1000,
			 rep.manifest_sha256, (long long)hold);
	/* The footage stays held in the ring; the local copy is not kept on
	 * the state partition (camgate export writes it again). */
	if (fs_remove_tree(dir))
		log_warn("export %s: could not remove %s", id, dir);
	return ret;
}
