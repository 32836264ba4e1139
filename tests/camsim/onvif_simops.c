// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_simops - the simulated camera's SOAP operations: the server side
 * of drivers/onvif/onvif.gsoap.h, dispatched by the generated soap_serve().
 * Every handler starts with sim_begin() (delay, auth, malformed replies)
 * and clears soap->header so the request's Security header is not echoed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/camsim/onvif_sim_int.h"

#define SIM_PRESETS 2

static char *dupf(struct soap *soap, const char *fmt, const char *a, int b)
{
	char buf[600];

	snprintf(buf, sizeof(buf), fmt, a, b);
	return soap_strdup(soap, buf);
}

static char *service_url(struct soap *soap, const char *svc)
{
	struct sim *sim = soap->user;
	char buf[300];

	snprintf(buf, sizeof(buf), "http://%s:%d/onvif/%s", sim->host, sim_http_port(sim), svc);
	return soap_strdup(soap, buf);
}

static int unsupported(struct soap *soap)
{
	soap->header = NULL;
	return soap_sender_fault_subcode(soap,
					 "\"http://www.onvif.org/ver10/error\":ActionNotSupported",
					 "Optional Action Not Implemented", NULL);
}

static int done(struct soap *soap)
{
	soap->header = NULL;
	return SOAP_OK;
}

int SOAP_ENV__Fault(struct soap *soap, char *faultcode, char *faultstring, char *faultactor,
		    struct SOAP_ENV__Detail *detail, struct SOAP_ENV__Code *code,
		    struct SOAP_ENV__Reason *reason, char *node, char *role,
		    struct SOAP_ENV__Detail *detail12)
{
	(void)faultcode, (void)faultstring, (void)faultactor, (void)detail, (void)code;
	(void)reason, (void)node, (void)role, (void)detail12;
	return done(soap);
}

/* WS-Discovery arrives over UDP in onvif_simnet.c, never over HTTP. */
int __wsdd__Hello(struct soap *soap, struct wsdd__HelloType *m)
{
	(void)m;
	return unsupported(soap);
}

int __wsdd__Bye(struct soap *soap, struct wsdd__ByeType *m)
{
	(void)m;
	return unsupported(soap);
}

int __wsdd__Probe(struct soap *soap, struct wsdd__ProbeType *m)
{
	(void)m;
	return unsupported(soap);
}

int __wsdd__ProbeMatches(struct soap *soap, struct wsdd__ProbeMatchesType *m)
{
	(void)m;
	return unsupported(soap);
}

int __wsdd__Resolve(struct soap *soap, struct wsdd__ResolveType *m)
{
	(void)m;
	return unsupported(soap);
}

int __wsdd__ResolveMatches(struct soap *soap, struct wsdd__ResolveMatchesType *m)
{
	(void)m;
	return unsupported(soap);
}

/* ---- device ------------------------------------------------------------- */

static struct tt__DateTime *datetime(struct soap *soap, int64_t ms)
{
	struct tt__DateTime *dt = soap_new_tt__DateTime(soap, 1);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	dt->Date = soap_new_tt__Date(soap, 1);
	dt->Time = soap_new_tt__Time(soap, 1);
	dt->Date->Year = tm.tm_year + 1900;
	dt->Date->Month = tm.tm_mon + 1;
	dt->Date->Day = tm.tm_mday;
	dt->Time->Hour = tm.tm_hour;
	dt->Time->Minute = tm.tm_min;
	dt->Time->Second = tm.tm_sec;
	return dt;
}

int __tds__GetSystemDateAndTime(struct soap *soap, struct _tds__GetSystemDateAndTime *req,
				struct _tds__GetSystemDateAndTimeResponse *resp)
{
	struct sim *sim = soap->user;
	struct tt__SystemDateTime *s;
	int ret = sim_begin(soap, "GetSystemDateAndTime", sim->cfg.auth_datetime);

	(void)req;
	if (ret)
		return ret;
	s = soap_new_tt__SystemDateTime(soap, 1);
	s->DateTimeType = (char *)"Manual";
	s->DaylightSavings = (char *)"false";
	s->TimeZone = soap_new_tt__TimeZone(soap, 1);
	s->TimeZone->TZ = (char *)"UTC0";
	s->UTCDateTime = datetime(soap, sim_now_ms(sim));
	s->LocalDateTime = datetime(soap, sim_now_ms(sim));
	resp->SystemDateAndTime = s;
	return done(soap);
}

int __tds__GetDeviceInformation(struct soap *soap, struct _tds__GetDeviceInformation *req,
				struct _tds__GetDeviceInformationResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetDeviceInformation", true);

	(void)req;
	if (ret)
		return ret;
	resp->Manufacturer = sim->cfg.make;
	resp->Model = sim->cfg.model;
	resp->FirmwareVersion = sim->cfg.firmware;
	resp->SerialNumber = sim->cfg.serial;
	resp->HardwareId = sim->cfg.hwid;
	return done(soap);
}

static struct tt__XAddrCapability *xcap(struct soap *soap, const char *svc)
{
	struct tt__XAddrCapability *c = soap_new_tt__XAddrCapability(soap, 1);

	c->XAddr = service_url(soap, svc);
	return c;
}

int __tds__GetCapabilities(struct soap *soap, struct _tds__GetCapabilities *req,
			   struct _tds__GetCapabilitiesResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetCapabilities", true);

	(void)req;
	if (ret)
		return ret;
	resp->Capabilities = soap_new_tt__Capabilities(soap, 1);
	resp->Capabilities->Device = xcap(soap, "device_service");
	if (!sim->cfg.no_media1)
		resp->Capabilities->Media = xcap(soap, "media_service");
	if (sim->cfg.ptz)
		resp->Capabilities->PTZ = xcap(soap, "ptz_service");
	return done(soap);
}

int __tds__GetServices(struct soap *soap, struct _tds__GetServices *req,
		       struct _tds__GetServicesResponse *resp)
{
	struct sim *sim = soap->user;
	struct tds__Service *s = soap_new_tds__Service(soap, 4);
	int n = 0, ret = sim_begin(soap, "GetServices", true);

	(void)req;
	if (ret)
		return ret;
	s[n].Namespace = (char *)ONVIF_DEVICE_NS;
	s[n++].XAddr = service_url(soap, "device_service");
	if (!sim->cfg.no_media1) {
		s[n].Namespace = (char *)ONVIF_MEDIA_NS;
		s[n++].XAddr = service_url(soap, "media_service");
	}
	if (!sim->cfg.no_media2) {
		s[n].Namespace = (char *)ONVIF_MEDIA2_NS;
		s[n++].XAddr = service_url(soap, "media2_service");
	}
	if (sim->cfg.ptz) {
		s[n].Namespace = (char *)ONVIF_PTZ_NS;
		s[n++].XAddr = service_url(soap, "ptz_service");
	}
	for (int i = 0; i < n; i++) {
		s[i].Version = soap_new_tt__OnvifVersion(soap, 1);
		s[i].Version->Major = 2;
		s[i].Version->Minor = 60;
	}
	resp->__sizeService = n;
	resp->Service = s;
	return done(soap);
}

int __tds__GetNetworkInterfaces(struct soap *soap, struct _tds__GetNetworkInterfaces *req,
				struct _tds__GetNetworkInterfacesResponse *resp)
{
	struct sim *sim = soap->user;
	struct tt__NetworkInterface *ni = soap_new_tt__NetworkInterface(soap, 1);
	int ret = sim_begin(soap, "GetNetworkInterfaces", true);

	(void)req;
	if (ret)
		return ret;
	ni->token = (char *)"eth0";
	ni->Enabled = (char *)"true";
	ni->Info = soap_new_tt__NetworkInterfaceInfo(soap, 1);
	ni->Info->Name = (char *)"eth0";
	ni->Info->HwAddress = sim->cfg.mac;
	ni->IPv4 = soap_new_tt__IPv4NetworkInterface(soap, 1);
	ni->IPv4->Enabled = (char *)"true";
	ni->IPv4->Config = soap_new_tt__IPv4Configuration(soap, 1);
	ni->IPv4->Config->DHCP = (char *)"false";
	ni->IPv4->Config->__sizeManual = 1;
	ni->IPv4->Config->Manual = soap_new_tt__PrefixedIPv4Address(soap, 1);
	ni->IPv4->Config->Manual->Address = sim->host;
	ni->IPv4->Config->Manual->PrefixLength = 24;
	resp->__sizeNetworkInterfaces = 1;
	resp->NetworkInterfaces = ni;
	return done(soap);
}

int __tds__GetHostname(struct soap *soap, struct _tds__GetHostname *req,
		       struct _tds__GetHostnameResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetHostname", true);

	(void)req;
	if (ret)
		return ret;
	resp->HostnameInformation = soap_new_tt__HostnameInformation(soap, 1);
	resp->HostnameInformation->FromDHCP = (char *)"false";
	resp->HostnameInformation->Name = sim->cfg.hostname;
	return done(soap);
}

int __tds__GetScopes(struct soap *soap, struct _tds__GetScopes *req,
		     struct _tds__GetScopesResponse *resp)
{
	struct sim *sim = soap->user;
	struct onvif_found d;
	struct tt__Scope *sc = soap_new_tt__Scope(soap, 8);
	char *p, *save = NULL;
	int n = 0, ret = sim_begin(soap, "GetScopes", true);

	(void)req;
	if (ret)
		return ret;
	sim_found(sim, &d);
	for (p = strtok_r(d.scopes_raw, " ", &save); p && n < 8; p = strtok_r(NULL, " ", &save)) {
		sc[n].ScopeDef = (char *)"Fixed";
		sc[n++].ScopeItem = soap_strdup(soap, p);
	}
	resp->__sizeScopes = n;
	resp->Scopes = sc;
	return done(soap);
}

/* ---- media -------------------------------------------------------------- */

static bool main_profile(int i)
{
	return i == 0;
}

static char *stream_uri(struct soap *soap, const char *token)
{
	struct sim *sim = soap->user;

	(void)token;
	if (sim->cfg.rtsp[0])
		return sim->cfg.rtsp;
	return dupf(soap, "rtsp://%s:%d/stream", sim->host, 554);
}

static struct tt__VideoResolution *resolution(struct soap *soap, int i)
{
	struct tt__VideoResolution *r = soap_new_tt__VideoResolution(soap, 1);

	r->Width = main_profile(i) ? 1920 : 640;
	r->Height = main_profile(i) ? 1080 : 360;
	return r;
}

static struct tt__PTZConfiguration *ptzconf(struct soap *soap)
{
	struct tt__PTZConfiguration *c = soap_new_tt__PTZConfiguration(soap, 1);

	c->token = (char *)"ptzconf0";
	c->Name = (char *)"PTZ";
	c->UseCount = 1;
	c->NodeToken = (char *)"ptz0";
	return c;
}

int __trt__GetProfiles(struct soap *soap, struct _trt__GetProfiles *req,
		       struct _trt__GetProfilesResponse *resp)
{
	struct sim *sim = soap->user;
	int n = sim->cfg.nprofiles, ret = sim_begin(soap, "GetProfiles", true);
	struct tt__Profile *p;

	(void)req;
	if (ret)
		return ret;
	if (sim->cfg.no_media1)
		return unsupported(soap);
	p = n > 0 ? soap_new_tt__Profile(soap, n) : NULL;
	for (int i = 0; i < n; i++) {
		struct tt__VideoEncoderConfiguration *v =
			soap_new_tt__VideoEncoderConfiguration(soap, 1);

		p[i].token = dupf(soap, "%sprof%d", "", i);
		p[i].fixed = (char *)"true";
		p[i].Name = dupf(soap, "%sProfile %d", "", i);
		v->token = dupf(soap, "%svenc%d", "", i);
		v->Name = p[i].Name;
		v->UseCount = 1;
		v->Encoding = (char *)"H264";
		v->Resolution = resolution(soap, i);
		v->Quality = 5;
		v->RateControl = soap_new_tt__VideoRateControl(soap, 1);
		v->RateControl->FrameRateLimit = main_profile(i) ? 25 : 15;
		v->RateControl->EncodingInterval = 1;
		v->RateControl->BitrateLimit = main_profile(i) ? 4096 : 512;
		p[i].VideoEncoderConfiguration = v;
		if (sim->cfg.ptz)
			p[i].PTZConfiguration = ptzconf(soap);
	}
	resp->__sizeProfiles = n;
	resp->Profiles = p;
	return done(soap);
}

int __trt__GetStreamUri(struct soap *soap, struct _trt__GetStreamUri *req,
			struct _trt__GetStreamUriResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetStreamUri", true);

	if (ret)
		return ret;
	if (sim->cfg.no_media1)
		return unsupported(soap);
	resp->MediaUri = soap_new_tt__MediaUri(soap, 1);
	resp->MediaUri->Uri = stream_uri(soap, req->ProfileToken);
	resp->MediaUri->InvalidAfterConnect = (char *)"false";
	resp->MediaUri->InvalidAfterReboot = (char *)"false";
	resp->MediaUri->Timeout = (char *)"PT0S";
	return done(soap);
}

int __trt__GetSnapshotUri(struct soap *soap, struct _trt__GetSnapshotUri *req,
			  struct _trt__GetSnapshotUriResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetSnapshotUri", true);

	if (ret)
		return ret;
	if (sim->cfg.no_media1)
		return unsupported(soap);
	resp->MediaUri = soap_new_tt__MediaUri(soap, 1);
	resp->MediaUri->Uri = dupf(soap, "%s/snapshot/%d.jpg", service_url(soap, "x"), 0);
	(void)req;
	resp->MediaUri->InvalidAfterConnect = (char *)"false";
	resp->MediaUri->InvalidAfterReboot = (char *)"false";
	resp->MediaUri->Timeout = (char *)"PT0S";
	return done(soap);
}

int __tr2__GetProfiles(struct soap *soap, struct _tr2__GetProfiles *req,
		       struct _tr2__GetProfilesResponse *resp)
{
	struct sim *sim = soap->user;
	int n = sim->cfg.nprofiles, ret = sim_begin(soap, "GetProfiles2", true);
	struct tr2__MediaProfile *p;

	(void)req;
	if (ret)
		return ret;
	if (sim->cfg.no_media2)
		return unsupported(soap);
	p = n > 0 ? soap_new_tr2__MediaProfile(soap, n) : NULL;
	for (int i = 0; i < n; i++) {
		struct tt__VideoEncoder2Configuration *v =
			soap_new_tt__VideoEncoder2Configuration(soap, 1);

		p[i].token = dupf(soap, "%sprof%d", "", i);
		p[i].fixed = (char *)"true";
		p[i].Name = dupf(soap, "%sProfile %d", "", i);
		p[i].Configurations = soap_new_tr2__ConfigurationSet(soap, 1);
		v->token = dupf(soap, "%svenc%d", "", i);
		v->Name = p[i].Name;
		v->UseCount = 1;
		v->Encoding = (char *)(main_profile(i) && sim->cfg.h265 ? "H265" : "H264");
		v->Resolution = resolution(soap, i);
		v->Quality = 5;
		v->RateControl = soap_new_tt__VideoRateControl2(soap, 1);
		v->RateControl->FrameRateLimit = main_profile(i) ? 25 : 15;
		v->RateControl->BitrateLimit = main_profile(i) ? 4096 : 512;
		p[i].Configurations->VideoEncoder = v;
		if (sim->cfg.ptz)
			p[i].Configurations->PTZ = ptzconf(soap);
	}
	resp->__sizeProfiles = n;
	resp->Profiles = p;
	return done(soap);
}

int __tr2__GetStreamUri(struct soap *soap, struct _tr2__GetStreamUri *req,
			struct _tr2__GetStreamUriResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetStreamUri2", true);

	if (ret)
		return ret;
	if (sim->cfg.no_media2)
		return unsupported(soap);
	resp->Uri = stream_uri(soap, req->ProfileToken);
	return done(soap);
}

int __tr2__GetSnapshotUri(struct soap *soap, struct _tr2__GetSnapshotUri *req,
			  struct _tr2__GetSnapshotUriResponse *resp)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, "GetSnapshotUri2", true);

	(void)req;
	if (ret)
		return ret;
	if (sim->cfg.no_media2)
		return unsupported(soap);
	resp->Uri = dupf(soap, "%s/snapshot/%d.jpg", service_url(soap, "x"), 0);
	return done(soap);
}

/* ---- PTZ ---------------------------------------------------------------- */

static int ptz_begin(struct soap *soap, const char *op)
{
	struct sim *sim = soap->user;
	int ret = sim_begin(soap, op, true);

	if (!ret && !sim->cfg.ptz)
		return unsupported(soap);
	return ret;
}

int __tptz__GetNodes(struct soap *soap, struct _tptz__GetNodes *req,
		     struct _tptz__GetNodesResponse *resp)
{
	int ret = ptz_begin(soap, "GetNodes");

	(void)req;
	if (ret)
		return ret;
	resp->__sizePTZNode = 1;
	resp->PTZNode = soap_new_tt__PTZNode(soap, 1);
	resp->PTZNode->token = (char *)"ptz0";
	resp->PTZNode->Name = (char *)"PTZ head";
	resp->PTZNode->MaximumNumberOfPresets = 16;
	resp->PTZNode->HomeSupported = (char *)"true";
	return done(soap);
}

int __tptz__ContinuousMove(struct soap *soap, struct _tptz__ContinuousMove *req,
			   struct _tptz__ContinuousMoveResponse *resp)
{
	int ret = ptz_begin(soap, "ContinuousMove");

	(void)resp;
	if (ret)
		return ret;
	if (!req->Velocity)
		return soap_sender_fault(soap, "no velocity", NULL);
	return done(soap);
}

int __tptz__Stop(struct soap *soap, struct _tptz__Stop *req, struct _tptz__StopResponse *resp)
{
	int ret = ptz_begin(soap, "Stop");

	(void)req, (void)resp;
	return ret ? ret : done(soap);
}

int __tptz__GetPresets(struct soap *soap, struct _tptz__GetPresets *req,
		       struct _tptz__GetPresetsResponse *resp)
{
	int ret = ptz_begin(soap, "GetPresets");

	(void)req;
	if (ret)
		return ret;
	resp->__sizePreset = SIM_PRESETS;
	resp->Preset = soap_new_tt__PTZPreset(soap, SIM_PRESETS);
	for (int i = 0; i < SIM_PRESETS; i++) {
		resp->Preset[i].token = dupf(soap, "%spreset%d", "", i + 1);
		resp->Preset[i].Name = dupf(soap, "%sPreset %d", "", i + 1);
	}
	return done(soap);
}

int __tptz__GotoPreset(struct soap *soap, struct _tptz__GotoPreset *req,
		       struct _tptz__GotoPresetResponse *resp)
{
	int ret = ptz_begin(soap, "GotoPreset");

	(void)resp;
	if (ret)
		return ret;
	if (!req->PresetToken || strncmp(req->PresetToken, "preset", 6))
		return soap_sender_fault_subcode(soap,
						 "\"http://www.onvif.org/ver10/error\":NoToken",
						 "No such preset", NULL);
	return done(soap);
}
