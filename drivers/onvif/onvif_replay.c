// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_replay - parse a recorded camera reply (an HTTP response or a bare
 * SOAP envelope) exactly as a live call would: the generated receive
 * function, then our conversion, then the error mapping. The fuzz targets
 * and the vendor-quirk fixtures go through here, so what they test is the
 * code that talks to cameras.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"

static const char *const reply_names[ONVIF__R_COUNT] = {
	[ONVIF__R_DATETIME] = "GetSystemDateAndTime",
	[ONVIF__R_DEVINFO] = "GetDeviceInformation",
	[ONVIF__R_SERVICES] = "GetServices",
	[ONVIF__R_CAPS] = "GetCapabilities",
	[ONVIF__R_SCOPES] = "GetScopes",
	[ONVIF__R_PROFILES1] = "GetProfiles",
	[ONVIF__R_PROFILES2] = "GetProfiles2",
	[ONVIF__R_URI1] = "GetStreamUri",
	[ONVIF__R_URI2] = "GetStreamUri2",
	[ONVIF__R_NODES] = "GetNodes",
	[ONVIF__R_PRESETS] = "GetPresets",
};

int onvif__reply_lookup(const char *name, size_t len)
{
	for (int i = 0; i < ONVIF__R_COUNT; i++)
		if (strlen(reply_names[i]) == len && !strncmp(reply_names[i], name, len))
			return i;
	return -ENOENT;
}

/* "a|b|c" of up to 5 strings into @out. */
static void join(char *out, size_t cap, const char *a, const char *b, const char *c, const char *d,
		 const char *e)
{
	snprintf(out, cap, "%s|%s|%s|%s|%s", a ? a : "", b ? b : "", c ? c : "", d ? d : "",
		 e ? e : "");
}

static int profiles_summary(struct onvif_profile *p, size_t n, int ret, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; !ret && i < n && len < cap; i++) {
		int k = snprintf(out + len, cap - len, "%s%s %s %dx%d %gfps %dkbps%s%s",
				 i ? "; " : "", p[i].token, p[i].encoding, p[i].width, p[i].height,
				 (double)p[i].fps, p[i].bitrate_kbps,
				 p[i].ptz_node[0] ? " ptz=" : "", p[i].ptz_node);

		if (k < 0)
			break;
		len += (size_t)k;
	}
	return ret;
}

static int device_reply(struct soap *soap, enum onvif__reply which, char *out, size_t cap)
{
	union {
		struct _tds__GetSystemDateAndTimeResponse dt;
		struct _tds__GetDeviceInformationResponse di;
		struct _tds__GetServicesResponse sv;
		struct _tds__GetCapabilitiesResponse cp;
		struct _tds__GetScopesResponse sc;
	} r;
	struct onvif_device_info info;
	int64_t t;
	int ret = 0;

	switch (which) {
	case ONVIF__R_DATETIME:
		if (soap_recv___tds__GetSystemDateAndTime(soap, &r.dt))
			return 1;
		ret = onvif__conv_datetime(&r.dt, &t);
		snprintf(out, cap, "%lld", ret ? 0LL : (long long)t);
		return ret;
	case ONVIF__R_DEVINFO:
		if (soap_recv___tds__GetDeviceInformation(soap, &r.di))
			return 1;
		ret = onvif__conv_device_info(&r.di, &info);
		join(out, cap, info.manufacturer, info.model, info.firmware, info.serial,
		     info.hardware_id);
		return ret;
	case ONVIF__R_SERVICES:
		if (soap_recv___tds__GetServices(soap, &r.sv))
			return 1;
		snprintf(out, cap, "%d", r.sv.__sizeService);
		for (int i = 0; i < r.sv.__sizeService; i++)
			if (r.sv.Service[i].XAddr && r.sv.Service[i].Namespace &&
			    !strcmp(r.sv.Service[i].Namespace, ONVIF_MEDIA2_NS))
				snprintf(out, cap, "%d media2=%s", r.sv.__sizeService,
					 r.sv.Service[i].XAddr);
		return 0;
	case ONVIF__R_CAPS:
		if (soap_recv___tds__GetCapabilities(soap, &r.cp))
			return 1;
		join(out, cap,
		     r.cp.Capabilities && r.cp.Capabilities->Media ? r.cp.Capabilities->Media->XAddr
								   : NULL,
		     r.cp.Capabilities && r.cp.Capabilities->PTZ ? r.cp.Capabilities->PTZ->XAddr
								 : NULL,
		     NULL, NULL, NULL);
		return r.cp.Capabilities ? 0 : -EBADMSG;
	case ONVIF__R_SCOPES:
		if (soap_recv___tds__GetScopes(soap, &r.sc))
			return 1;
		snprintf(out, cap, "%d", r.sc.__sizeScopes);
		return 0;
	default:
		return -EINVAL;
	}
}

static int media_reply(struct soap *soap, enum onvif__reply which, char *out, size_t cap)
{
	union {
		struct _trt__GetProfilesResponse p1;
		struct _tr2__GetProfilesResponse p2;
		struct _trt__GetStreamUriResponse u1;
		struct _tr2__GetStreamUriResponse u2;
	} r;
	struct onvif_profile p[ONVIF_PROFILES_MAX];
	size_t n = 0;
	int ret;

	switch (which) {
	case ONVIF__R_PROFILES1:
		if (soap_recv___trt__GetProfiles(soap, &r.p1))
			return 1;
		ret = onvif__conv_profiles1(&r.p1, p, ONVIF_PROFILES_MAX, &n);
		return profiles_summary(p, n, ret, out, cap);
	case ONVIF__R_PROFILES2:
		if (soap_recv___tr2__GetProfiles(soap, &r.p2))
			return 1;
		ret = onvif__conv_profiles2(&r.p2, p, ONVIF_PROFILES_MAX, &n);
		return profiles_summary(p, n, ret, out, cap);
	case ONVIF__R_URI1:
		if (soap_recv___trt__GetStreamUri(soap, &r.u1))
			return 1;
		snprintf(out, cap, "%s",
			 r.u1.MediaUri && r.u1.MediaUri->Uri ? r.u1.MediaUri->Uri : "");
		return out[0] ? 0 : -EBADMSG;
	case ONVIF__R_URI2:
		if (soap_recv___tr2__GetStreamUri(soap, &r.u2))
			return 1;
		snprintf(out, cap, "%s", r.u2.Uri ? r.u2.Uri : "");
		return out[0] ? 0 : -EBADMSG;
	default:
		return -EINVAL;
	}
}

static int ptz_reply(struct soap *soap, enum onvif__reply which, char *out, size_t cap)
{
	union {
		struct _tptz__GetNodesResponse nodes;
		struct _tptz__GetPresetsResponse presets;
	} r;

	if (which == ONVIF__R_NODES) {
		if (soap_recv___tptz__GetNodes(soap, &r.nodes))
			return 1;
		snprintf(out, cap, "%d", r.nodes.__sizePTZNode);
		return 0;
	}
	if (soap_recv___tptz__GetPresets(soap, &r.presets))
		return 1;
	snprintf(out, cap, "%d", r.presets.__sizePreset);
	return 0;
}

int onvif__replay(struct soap *soap, enum onvif__reply which, const char *text, char *out,
		  size_t cap, char *err, size_t errcap)
{
	int ret;

	if (which < 0 || which >= ONVIF__R_COUNT)
		return -EINVAL;
	out[0] = err[0] = '\0';
	soap_destroy(soap);
	soap_end(soap);
	soap->header = NULL;
	soap->is = text;
	if (which <= ONVIF__R_SCOPES)
		ret = device_reply(soap, which, out, cap);
	else if (which <= ONVIF__R_URI2)
		ret = media_reply(soap, which, out, cap);
	else
		ret = ptz_reply(soap, which, out, cap);
	/* 1: gSOAP refused it; map as a live call would. Without a network,
	 * an early end is a truncated reply, never a timeout. */
	if (ret == 1 && soap->error == SOAP_EOF) {
		snprintf(err, errcap, "reply: ended early");
		ret = -EBADMSG;
	} else if (ret == 1) {
		ret = onvif__soap_error(soap, "reply", err, errcap);
	} else if (ret)
		snprintf(err, errcap, "reply: incomplete (%s)", strerror(-ret));
	soap->is = NULL;
	return ret;
}
