// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_media - profiles and stream/snapshot URIs from Media2 (ver20) where
 * the camera has it, else Media (ver10); and onvif_interrogate(), the whole
 * sequence a newly found camera goes through.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

static int call_profiles1(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___trt__GetProfiles(s, ep, NULL, req, resp);
}

static int call_profiles2(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tr2__GetProfiles(s, ep, NULL, req, resp);
}

static int call_uri1(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___trt__GetStreamUri(s, ep, NULL, req, resp);
}

static int call_uri2(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tr2__GetStreamUri(s, ep, NULL, req, resp);
}

static int call_snap1(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___trt__GetSnapshotUri(s, ep, NULL, req, resp);
}

static int call_snap2(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tr2__GetSnapshotUri(s, ep, NULL, req, resp);
}

static const struct onvif_op op_profiles1 = { "GetProfiles", call_profiles1, false };
static const struct onvif_op op_profiles2 = { "GetProfiles (Media2)", call_profiles2, false };
static const struct onvif_op op_uri1 = { "GetStreamUri", call_uri1, false };
static const struct onvif_op op_uri2 = { "GetStreamUri (Media2)", call_uri2, false };
static const struct onvif_op op_snap1 = { "GetSnapshotUri", call_snap1, false };
static const struct onvif_op op_snap2 = { "GetSnapshotUri (Media2)", call_snap2, false };

static int need_services(struct onvif_dev *dev)
{
	int ret;

	if (dev->services_known)
		return 0;
	ret = onvif_get_services(dev);
	/* A camera that answers neither still has Media on the device URL
	 * more often than not. */
	if (ret && ret != -EACCES && ret != -ETIMEDOUT) {
		onvif__copy(dev->media_xaddr, sizeof(dev->media_xaddr), dev->xaddr);
		dev->services_known = true;
		ret = 0;
	}
	return ret;
}

static int clamp_int(float v)
{
	return isfinite(v) && v > 0 && v < 1e9f ? (int)v : 0;
}

/* One profile as either Media version describes it, before it is copied
 * out; the strings are borrowed from the response. */
struct profile_view {
	const char *token;
	const char *name;
	const char *encoding;
	const struct tt__VideoResolution *res;
	float fps;	   /* range-checked by the view (rules differ); 0 when not given */
	int bitrate_limit; /* as the camera sent it; 0 when not given */
	const char *ptz_node;
};

/* Fills @pv from profile @i of a response's Profiles array. */
typedef void (*profile_view_fn)(const void *profiles, int i, struct profile_view *pv);

static void view_profile1(const void *profiles, int i, struct profile_view *pv)
{
	const struct tt__Profile *p = (const struct tt__Profile *)profiles + i;
	const struct tt__VideoEncoderConfiguration *v = p->VideoEncoderConfiguration;

	pv->token = p->token;
	pv->name = p->Name;
	if (v) {
		pv->encoding = v->Encoding;
		pv->res = v->Resolution;
		if (v->RateControl) {
			/* Media (ver10) counts whole frames per second. */
			pv->fps = (float)clamp_int((float)v->RateControl->FrameRateLimit);
			pv->bitrate_limit = v->RateControl->BitrateLimit;
		}
	}
	if (p->PTZConfiguration)
		pv->ptz_node = p->PTZConfiguration->NodeToken;
}

static void view_profile2(const void *profiles, int i, struct profile_view *pv)
{
	const struct tr2__MediaProfile *p = (const struct tr2__MediaProfile *)profiles + i;
	const struct tr2__ConfigurationSet *c = p->Configurations;
	const struct tt__VideoEncoder2Configuration *v = c ? c->VideoEncoder : NULL;

	pv->token = p->token;
	pv->name = p->Name;
	if (v) {
		pv->encoding = v->Encoding;
		pv->res = v->Resolution;
		if (v->RateControl) {
			/* Media2 allows fractional rates such as 29.97. */
			float f = v->RateControl->FrameRateLimit;

			pv->fps = isfinite(f) && f > 0 && f < 1e6f ? f : 0;
			pv->bitrate_limit = v->RateControl->BitrateLimit;
		}
	}
	if (c && c->PTZ)
		pv->ptz_node = c->PTZ->NodeToken;
}

/* Profiles without a token are skipped: nothing could be asked about them.
 * -EBADMSG when the camera listed profiles and none was usable. */
static int conv_profiles(const void *profiles, int count, profile_view_fn view,
			 struct onvif_profile *out, size_t cap, size_t *np)
{
	size_t n = 0;

	for (int i = 0; i < count && n < cap; i++) {
		struct profile_view pv = { 0 };
		struct onvif_profile *o = &out[n];

		view(profiles, i, &pv);
		if (!pv.token || !*pv.token)
			continue;
		memset(o, 0, sizeof(*o));
		onvif__copy(o->token, sizeof(o->token), pv.token);
		onvif__copy(o->name, sizeof(o->name), pv.name);
		onvif__copy(o->encoding, sizeof(o->encoding), pv.encoding);
		if (pv.res) {
			o->width = pv.res->Width > 0 ? pv.res->Width : 0;
			o->height = pv.res->Height > 0 ? pv.res->Height : 0;
		}
		o->fps = pv.fps;
		o->bitrate_kbps = clamp_int((float)pv.bitrate_limit);
		onvif__copy(o->ptz_node, sizeof(o->ptz_node), pv.ptz_node);
		n++;
	}
	*np = n;
	return count > 0 && !n ? -EBADMSG : 0;
}

int onvif__conv_profiles1(const struct _trt__GetProfilesResponse *r, struct onvif_profile *out,
			  size_t cap, size_t *np)
{
	return conv_profiles(r->Profiles, r->__sizeProfiles, view_profile1, out, cap, np);
}

int onvif__conv_profiles2(const struct _tr2__GetProfilesResponse *r, struct onvif_profile *out,
			  size_t cap, size_t *np)
{
	return conv_profiles(r->Profiles, r->__sizeProfiles, view_profile2, out, cap, np);
}

static int profiles2(struct onvif_dev *dev, struct onvif_profile *out, size_t cap, size_t *np)
{
	struct _tr2__GetProfiles req;
	struct _tr2__GetProfilesResponse resp;
	char *types[] = { (char *)"VideoEncoder", (char *)"PTZ" };
	int ret;

	soap_default__tr2__GetProfiles(dev->soap, &req);
	req.__sizeType = 2;
	req.Type = types;
	ret = onvif__call(dev, &op_profiles2, dev->media2_xaddr, &req, &resp);
	if (ret)
		return ret;
	ret = onvif__conv_profiles2(&resp, out, cap, np);
	return ret ? onvif__set_error(dev, ret, "GetProfiles (Media2): no usable profile") : 0;
}

static int profiles1(struct onvif_dev *dev, struct onvif_profile *out, size_t cap, size_t *np)
{
	struct _trt__GetProfiles req;
	struct _trt__GetProfilesResponse resp;
	int ret;

	soap_default__trt__GetProfiles(dev->soap, &req);
	ret = onvif__call(dev, &op_profiles1, dev->media_xaddr, &req, &resp);
	if (ret)
		return ret;
	ret = onvif__conv_profiles1(&resp, out, cap, np);
	return ret ? onvif__set_error(dev, ret, "GetProfiles: no usable profile") : 0;
}

int onvif_get_profiles(struct onvif_dev *dev, struct onvif_profile *out, size_t cap, size_t *np)
{
	int ret = need_services(dev);

	*np = 0;
	if (ret)
		return ret;
	if (dev->media2_xaddr[0]) {
		ret = profiles2(dev, out, cap, np);
		if (ret != -EOPNOTSUPP || !dev->media_xaddr[0])
			return ret;
		dev->media2_xaddr[0] = '\0'; /* advertised but not there */
	}
	if (!dev->media_xaddr[0])
		return onvif__set_error(dev, -EOPNOTSUPP, "no Media or Media2 service");
	return profiles1(dev, out, cap, np);
}

static int keep_uri(struct onvif_dev *dev, const char *what, const char *uri, char *out, size_t cap,
		    char *raw, size_t rawcap)
{
	bool rw;

	if (!uri || !*uri)
		return onvif__set_error(dev, -EBADMSG, "%s: empty URI", what);
	if (raw)
		onvif__copy(raw, rawcap, uri);
	if (onvif__rewrite_uri(uri, dev->peer, out, cap, &rw))
		return onvif__set_error(dev, -E2BIG, "%s: URI too long", what);
	if (rw)
		log_debug("onvif %s: %s %s rewritten to %s", dev->xaddr, what, uri, out);
	return 0;
}

static int stream_uri1(struct onvif_dev *dev, struct onvif_profile *p)
{
	struct _trt__GetStreamUri req;
	struct _trt__GetStreamUriResponse resp;
	struct tt__StreamSetup setup = { .Stream = (char *)"RTP-Unicast" };
	struct tt__Transport transport = { .Protocol = (char *)"RTSP" };
	int ret;

	soap_default__trt__GetStreamUri(dev->soap, &req);
	setup.Transport = &transport;
	req.StreamSetup = &setup;
	req.ProfileToken = p->token;
	ret = onvif__call(dev, &op_uri1, dev->media_xaddr, &req, &resp);
	if (ret)
		return ret;
	return keep_uri(dev, "GetStreamUri", resp.MediaUri ? resp.MediaUri->Uri : NULL,
			p->stream_uri, sizeof(p->stream_uri), p->stream_uri_raw,
			sizeof(p->stream_uri_raw));
}

static int stream_uri2(struct onvif_dev *dev, struct onvif_profile *p)
{
	struct _tr2__GetStreamUri req;
	struct _tr2__GetStreamUriResponse resp;
	int ret;

	soap_default__tr2__GetStreamUri(dev->soap, &req);
	req.Protocol = (char *)"RtspUnicast";
	req.ProfileToken = p->token;
	ret = onvif__call(dev, &op_uri2, dev->media2_xaddr, &req, &resp);
	if (ret)
		return ret;
	return keep_uri(dev, "GetStreamUri (Media2)", resp.Uri, p->stream_uri,
			sizeof(p->stream_uri), p->stream_uri_raw, sizeof(p->stream_uri_raw));
}

int onvif_get_stream_uri(struct onvif_dev *dev, struct onvif_profile *p)
{
	int ret = need_services(dev);

	if (ret)
		return ret;
	if (dev->media2_xaddr[0])
		return stream_uri2(dev, p);
	if (!dev->media_xaddr[0])
		return onvif__set_error(dev, -EOPNOTSUPP, "no Media or Media2 service");
	return stream_uri1(dev, p);
}

int onvif_get_snapshot_uri(struct onvif_dev *dev, const char *token, char *uri, size_t cap)
{
	int ret = need_services(dev);

	if (ret)
		return ret;
	if (dev->media2_xaddr[0]) {
		struct _tr2__GetSnapshotUri req;
		struct _tr2__GetSnapshotUriResponse resp;

		soap_default__tr2__GetSnapshotUri(dev->soap, &req);
		req.ProfileToken = (char *)token;
		ret = onvif__call(dev, &op_snap2, dev->media2_xaddr, &req, &resp);
		return ret ? ret : keep_uri(dev, "GetSnapshotUri", resp.Uri, uri, cap, NULL, 0);
	}
	if (dev->media_xaddr[0]) {
		struct _trt__GetSnapshotUri req;
		struct _trt__GetSnapshotUriResponse resp;

		soap_default__trt__GetSnapshotUri(dev->soap, &req);
		req.ProfileToken = (char *)token;
		ret = onvif__call(dev, &op_snap1, dev->media_xaddr, &req, &resp);
		return ret ? ret
			   : keep_uri(dev, "GetSnapshotUri",
				      resp.MediaUri ? resp.MediaUri->Uri : NULL, uri, cap, NULL, 0);
	}
	return onvif__set_error(dev, -EOPNOTSUPP, "no Media or Media2 service");
}

/* ---- the whole sequence ------------------------------------------------ */

static void optional_parts(struct onvif_dev *dev, struct onvif_camera *cam)
{
	char raw[ONVIF_SCOPES_MAX];
	struct onvif_scopes sc;

	onvif_get_net_info(dev, &cam->net);
	if (!onvif_get_scopes(dev, &sc, raw, sizeof(raw))) {
		/* The device's own list is fresher than discovery's. */
		cam->found.scopes = sc;
		onvif__copy(cam->found.scopes_raw, sizeof(cam->found.scopes_raw), raw);
	}
}

int onvif_interrogate(struct onvif_dev *dev, struct onvif_camera *cam)
{
	size_t ok = 0;
	int ret;

	memset(&cam->info, 0, sizeof(*cam) - offsetof(struct onvif_camera, info));
	ret = onvif_sync_clock(dev, NULL);
	if (ret == -ETIMEDOUT || ret == -ECONNREFUSED || ret == -EHOSTUNREACH ||
	    ret == -ENETUNREACH)
		goto out;
	ret = onvif_get_device_info(dev, &cam->info);
	if (ret)
		goto out;
	ret = need_services(dev);
	if (ret)
		goto out;
	optional_parts(dev, cam);
	ret = onvif_get_profiles(dev, cam->profiles, ONVIF_PROFILES_MAX, &cam->nprofiles);
	if (ret)
		goto out;
	for (size_t i = 0; i < cam->nprofiles; i++)
		if (!onvif_get_stream_uri(dev, &cam->profiles[i]))
			ok++;
	if (!ok) {
		ret = cam->nprofiles ? -EBADMSG : -ENOENT;
		if (!cam->nprofiles)
			onvif__set_error(dev, ret, "the camera has no media profile");
		goto out;
	}
	if (cam->nprofiles)
		onvif_get_snapshot_uri(dev, cam->profiles[0].token, cam->snapshot_uri,
				       sizeof(cam->snapshot_uri));
	ret = 0;
out:
	cam->auth = dev->auth;
	cam->clock_offset_ms = dev->clock_offset_ms;
	cam->clock_known = dev->clock_known;
	cam->media_version = dev->media2_xaddr[0] ? 2 : dev->media_xaddr[0] ? 1 : 0;
	cam->has_ptz = onvif_dev_has_ptz(dev);
	onvif__copy(cam->error, sizeof(cam->error), ret ? dev->err : "");
	return ret;
}
