// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/ptz.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif.h"
#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/config.h"
#include "firmware/registry.h"
#include "lib/parse.h"

#define PTZ_MOVE_TIMEOUT_MS 1000 /* a move lasts this long unless stopped earlier */
#define PTZ_PROFILES_MAX    8

bool ptz_may(const struct account *who, const char *camera)
{
	if (who->role == ROLE_AUDITOR || who->role >= ROLE__COUNT)
		return false;
	return account_may_camera(who, camera);
}

static int velocity(const char *s, float *v, const char *name, char *msg, size_t cap)
{
	char *end;
	double d = s ? strtod(s, &end) : 0;

	if (!s || end == s || *end || d < -1.0 || d > 1.0) {
		snprintf(msg, cap, "%s must be a number from -1 to 1", name);
		return -EINVAL;
	}
	*v = (float)d;
	return 0;
}

int ptz_parse(int argc, char *const *argv, struct ptz_req *r, char *msg, size_t cap)
{
	*r = (struct ptz_req){ .timeout_ms = PTZ_MOVE_TIMEOUT_MS };
	if (argc >= 1 && !strcmp(argv[0], "stop") && argc == 1) {
		r->action = PTZ_STOP;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[0], "preset")) {
		if (!*argv[1] || strlen(argv[1]) >= sizeof(r->preset)) {
			snprintf(msg, cap, "a preset token of 1 to %d bytes", PTZ_PRESET_MAX - 1);
			return -EINVAL;
		}
		r->action = PTZ_PRESET;
		snprintf(r->preset, sizeof(r->preset), "%s", argv[1]);
		return 0;
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[0], "move")) {
		r->action = PTZ_MOVE;
		if (velocity(argv[1], &r->pan, "pan", msg, cap) ||
		    velocity(argv[2], &r->tilt, "tilt", msg, cap) ||
		    (argc == 4 && velocity(argv[3], &r->zoom, "zoom", msg, cap)))
			return -EINVAL;
		return 0;
	}
	snprintf(msg, cap, "expected: move PAN TILT [ZOOM] | stop | preset TOKEN");
	return -EINVAL;
}

static const char *action_name(const struct ptz_req *r, char *buf, size_t cap)
{
	if (r->action == PTZ_STOP)
		snprintf(buf, cap, "stop");
	else if (r->action == PTZ_PRESET)
		snprintf(buf, cap, "preset %s", r->preset);
	else
		snprintf(buf, cap, "move pan %.2f tilt %.2f zoom %.2f", r->pan, r->tilt, r->zoom);
	return buf;
}

/* The first profile with a PTZ configuration, into @token. */
static int ptz_profile(struct onvif_dev *dev, char *token, size_t cap)
{
	struct onvif_profile *p = calloc(PTZ_PROFILES_MAX, sizeof(*p));
	size_t n = 0;
	int ret = p ? onvif_get_profiles(dev, p, PTZ_PROFILES_MAX, &n) : -ENOMEM;

	if (!ret)
		ret = -EOPNOTSUPP;
	for (size_t i = 0; i < n && ret == -EOPNOTSUPP; i++)
		if (p[i].ptz_node[0]) {
			snprintf(token, cap, "%s", p[i].token);
			ret = 0;
		}
	free(p);
	return ret;
}

static int ptz_call(const char *xaddr, const char *user, const char *pass, const struct ptz_req *r,
		    char *msg, size_t cap)
{
	struct onvif_dev *dev = NULL;
	char token[ONVIF_TOKEN_MAX];
	int ret = onvif_dev_open(xaddr, NULL, &dev);

	if (ret) {
		snprintf(msg, cap, "bad ONVIF address %s", xaddr);
		return ret;
	}
	onvif_dev_set_timeout(dev, PTZ_TIMEOUT_MS);
	if (user && *user)
		ret = onvif_dev_set_credentials(dev, user, pass);
	if (!ret)
		ret = ptz_profile(dev, token, sizeof(token));
	if (!ret && r->action == PTZ_MOVE)
		ret = onvif_ptz_move(dev, token, r->pan, r->tilt, r->zoom, r->timeout_ms);
	else if (!ret && r->action == PTZ_STOP)
		ret = onvif_ptz_stop(dev, token);
	else if (!ret)
		ret = onvif_ptz_goto_preset(dev, token, r->preset);
	if (ret == -EOPNOTSUPP)
		snprintf(msg, cap, "the camera has no PTZ");
	else if (ret)
		snprintf(msg, cap, "the camera refused: %s",
			 *onvif_dev_error(dev) ? onvif_dev_error(dev) : strerror(-ret));
	onvif_dev_close(dev);
	return ret;
}

int ptz_run(struct statedb *sdb, struct registry *reg, const struct config *cfg,
	    const struct account *who, const char *camera, const struct ptz_req *r, char *msg,
	    size_t cap)
{
	const struct config_camera *cc = config_camera_find(cfg, camera);
	struct registry_camera *rc;
	char what[96], detail[320];
	int ret;

	action_name(r, what, sizeof(what));
	if (!ptz_may(who, camera)) {
		snprintf(msg, cap, "%s (%s) may not steer %s", who->name,
			 account_role_name(who->role), camera);
		audit_record(sdb, 0, who->name, "ptz-refused", camera, what);
		return -EPERM;
	}
	rc = malloc(sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	ret = registry_get(reg, camera, rc);
	if (!ret && !rc->xaddr[0])
		ret = -ENOENT;
	if (ret) {
		snprintf(msg, cap, "%s: no ONVIF address known (not in the registry)", camera);
	} else {
		const char *user =
			cc && cc->username && *cc->username ? cc->username : cfg->onvif.username;
		const char *pass =
			cc && cc->username && *cc->username ? cc->password : cfg->onvif.password;

		ret = ptz_call(rc->xaddr, user, pass, r, msg, cap);
	}
	free(rc);
	snprintf(detail, sizeof(detail), "%s: %s", what, ret ? msg : "done");
	audit_record(sdb, 0, who->name, ret ? "ptz-failed" : "ptz", camera, detail);
	if (!ret)
		snprintf(msg, cap, "%s: %s", camera, what);
	return ret;
}

int ptz_central(struct statedb *sdb, struct accounts *acc, struct registry *reg,
		const struct config *cfg, const cJSON *args, char *msg, size_t cap)
{
	const char *user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "user"));
	const char *camera = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "camera"));
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "action"));
	const char *preset = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "preset"));
	char *argv[4], nums[3][32];
	const char *const keys[] = { "pan", "tilt", "zoom" };
	struct account who;
	struct ptz_req r;
	int argc = 0, ret;

	if (!user || !camera || !action || !acc || !reg) {
		snprintf(msg, cap, "args must hold \"user\", \"camera\" and \"action\" strings");
		return -EINVAL;
	}
	if (accounts_get(acc, user, time_now_ms(), &who)) {
		snprintf(msg, cap, "no account '%s' on this gateway", user);
		audit_record(sdb, 0, "central", "ptz-refused", camera, "unknown account");
		return -ENOTSUP;
	}
	argv[argc++] = (char *)action;
	if (!strcmp(action, "preset"))
		argv[argc++] = (char *)(preset ? preset : "");
	for (int i = 0; !strcmp(action, "move") && i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, keys[i]);

		snprintf(nums[i], sizeof(nums[i]), "%g", cJSON_IsNumber(v) ? v->valuedouble : 0.0);
		argv[argc++] = nums[i];
	}
	ret = ptz_parse(argc, argv, &r, msg, cap);
	if (!ret)
		ret = ptz_run(sdb, reg, cfg, &who, camera, &r, msg, cap);
	return ret == -EPERM ? -ENOTSUP : ret;
}
