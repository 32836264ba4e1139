// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_ptz - PTZ service (ver20): nodes, continuous move, stop, presets.
 * These are the control rights of R1; the caller checks the operator's
 * role before calling.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "drivers/onvif/onvif_int.h"

static int call_nodes(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tptz__GetNodes(s, ep, NULL, req, resp);
}

static int call_move(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tptz__ContinuousMove(s, ep, NULL, req, resp);
}

static int call_stop(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tptz__Stop(s, ep, NULL, req, resp);
}

static int call_presets(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tptz__GetPresets(s, ep, NULL, req, resp);
}

static int call_goto(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tptz__GotoPreset(s, ep, NULL, req, resp);
}

static const struct onvif_op op_nodes = { "GetNodes", call_nodes, false };
static const struct onvif_op op_move = { "ContinuousMove", call_move, false };
static const struct onvif_op op_stop = { "Stop", call_stop, false };
static const struct onvif_op op_presets = { "GetPresets", call_presets, false };
static const struct onvif_op op_goto = { "GotoPreset", call_goto, false };

static int need_ptz(struct onvif_dev *dev)
{
	int ret = 0;

	if (!dev->services_known)
		ret = onvif_get_services(dev);
	if (ret)
		return ret;
	if (!dev->ptz_xaddr[0])
		return onvif__set_error(dev, -EOPNOTSUPP, "the camera has no PTZ service");
	return 0;
}

int onvif_ptz_get_nodes(struct onvif_dev *dev, struct onvif_ptz_node *out, size_t cap, size_t *np)
{
	struct _tptz__GetNodes req;
	struct _tptz__GetNodesResponse resp;
	size_t n = 0;
	int ret = need_ptz(dev);

	*np = 0;
	if (ret)
		return ret;
	soap_default__tptz__GetNodes(dev->soap, &req);
	ret = onvif__call(dev, &op_nodes, dev->ptz_xaddr, &req, &resp);
	if (ret)
		return ret;
	for (int i = 0; i < resp.__sizePTZNode && n < cap; i++) {
		const struct tt__PTZNode *nd = &resp.PTZNode[i];

		if (!nd->token)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		onvif__copy(out[n].token, sizeof(out[n].token), nd->token);
		onvif__copy(out[n].name, sizeof(out[n].name), nd->Name);
		out[n].max_presets = nd->MaximumNumberOfPresets;
		out[n].home_supported =
			nd->HomeSupported &&
			(!strcasecmp(nd->HomeSupported, "true") || !strcmp(nd->HomeSupported, "1"));
		n++;
	}
	*np = n;
	return 0;
}

static bool unit_range(float v)
{
	return isfinite(v) && v >= -1.0f && v <= 1.0f;
}

int onvif_ptz_move(struct onvif_dev *dev, const char *profile, float pan, float tilt, float zoom,
		   int timeout_ms)
{
	struct _tptz__ContinuousMove req;
	struct _tptz__ContinuousMoveResponse resp;
	struct tt__PTZSpeed v = { 0 };
	struct tt__Vector2D pt = { .x = pan, .y = tilt };
	struct tt__Vector1D z = { .x = zoom };
	char timeout[32];
	int ret;

	if (!profile || !unit_range(pan) || !unit_range(tilt) || !unit_range(zoom))
		return -EINVAL;
	ret = need_ptz(dev);
	if (ret)
		return ret;
	soap_default__tptz__ContinuousMove(dev->soap, &req);
	v.PanTilt = &pt;
	v.Zoom = &z;
	req.ProfileToken = (char *)profile;
	req.Velocity = &v;
	if (timeout_ms > 0) {
		snprintf(timeout, sizeof(timeout), "PT%d.%03dS", timeout_ms / 1000,
			 timeout_ms % 1000);
		req.Timeout = timeout;
	}
	return onvif__call(dev, &op_move, dev->ptz_xaddr, &req, &resp);
}

int onvif_ptz_stop(struct onvif_dev *dev, const char *profile)
{
	struct _tptz__Stop req;
	struct _tptz__StopResponse resp;
	int ret;

	if (!profile)
		return -EINVAL;
	ret = need_ptz(dev);
	if (ret)
		return ret;
	soap_default__tptz__Stop(dev->soap, &req);
	req.ProfileToken = (char *)profile;
	req.PanTilt = (char *)"true";
	req.Zoom = (char *)"true";
	return onvif__call(dev, &op_stop, dev->ptz_xaddr, &req, &resp);
}

int onvif_ptz_get_presets(struct onvif_dev *dev, const char *profile, struct onvif_ptz_preset *out,
			  size_t cap, size_t *np)
{
	struct _tptz__GetPresets req;
	struct _tptz__GetPresetsResponse resp;
	size_t n = 0;
	int ret;

	*np = 0;
	if (!profile)
		return -EINVAL;
	ret = need_ptz(dev);
	if (ret)
		return ret;
	soap_default__tptz__GetPresets(dev->soap, &req);
	req.ProfileToken = (char *)profile;
	ret = onvif__call(dev, &op_presets, dev->ptz_xaddr, &req, &resp);
	if (ret)
		return ret;
	for (int i = 0; i < resp.__sizePreset && n < cap; i++) {
		if (!resp.Preset[i].token)
			continue;
		onvif__copy(out[n].token, sizeof(out[n].token), resp.Preset[i].token);
		onvif__copy(out[n].name, sizeof(out[n].name), resp.Preset[i].Name);
		n++;
	}
	*np = n;
	return 0;
}

int onvif_ptz_goto_preset(struct onvif_dev *dev, const char *profile, const char *preset)
{
	struct _tptz__GotoPreset req;
	struct _tptz__GotoPresetResponse resp;
	int ret;

	if (!profile || !preset)
		return -EINVAL;
	ret = need_ptz(dev);
	if (ret)
		return ret;
	soap_default__tptz__GotoPreset(dev->soap, &req);
	req.ProfileToken = (char *)profile;
	req.PresetToken = (char *)preset;
	return onvif__call(dev, &op_goto, dev->ptz_xaddr, &req, &resp);
}
