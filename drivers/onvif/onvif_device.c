// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_device - one camera's device service (ver10): its clock, identity,
 * services, network and scopes. The struct onvif_dev keeps what later
 * calls need: the auth method that worked, the clock offset, the service
 * URLs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"
#include "lib/parse.h"

const char *onvif_auth_name(enum onvif_auth auth)
{
	switch (auth) {
	case ONVIF_AUTH_NONE:
		return "none";
	case ONVIF_AUTH_WSSE:
		return "ws-security";
	case ONVIF_AUTH_DIGEST:
		return "http-digest";
	default:
		return "unknown";
	}
}

static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
			return false;
	return true;
}

int onvif_dev_open(const char *xaddr, const char *peer, struct onvif_dev **devp)
{
	struct onvif_dev *dev;
	char host[ONVIF_TEXT_MAX];
	bool rw;

	if (!xaddr || strncasecmp(xaddr, "http://", 7) || strlen(xaddr) >= ONVIF_URI_MAX ||
	    onvif__uri_host(xaddr, host, sizeof(host)) || (peer && strlen(peer) >= ONVIF_ADDR_MAX))
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->soap = onvif__soap_new();
	if (!dev->soap) {
		free(dev);
		return -ENOMEM;
	}
	dev->soap->user = dev;
	dev->parsehdr_next = dev->soap->fparsehdr;
	dev->soap->fparsehdr = onvif__parse_header;
	onvif__copy(dev->peer, sizeof(dev->peer), peer ? peer : host);
	if (onvif__rewrite_uri(xaddr, dev->peer, dev->xaddr, sizeof(dev->xaddr), &rw)) {
		onvif_dev_close(dev);
		return -EINVAL;
	}
	dev->timeout_ms = ONVIF_CALL_TIMEOUT_MS;
	*devp = dev;
	return 0;
}

void onvif_dev_close(struct onvif_dev *dev)
{
	if (!dev)
		return;
	onvif__soap_free(dev->soap);
	explicit_bzero(dev->pass, sizeof(dev->pass));
	free(dev);
}

int onvif_dev_set_credentials(struct onvif_dev *dev, const char *user, const char *pass)
{
	if (user && *user &&
	    (strlen(user) >= sizeof(dev->user) || !pass || strlen(pass) >= sizeof(dev->pass) ||
	     !header_safe(user)))
		return -EINVAL;
	onvif__copy(dev->user, sizeof(dev->user), user && *user ? user : "");
	explicit_bzero(dev->pass, sizeof(dev->pass));
	onvif__copy(dev->pass, sizeof(dev->pass), user && *user ? pass : "");
	dev->auth = ONVIF_AUTH_UNKNOWN;
	dev->digest.valid = false;
	return 0;
}

void onvif_dev_set_timeout(struct onvif_dev *dev, int timeout_ms)
{
	dev->timeout_ms = timeout_ms > 0 ? timeout_ms : ONVIF_CALL_TIMEOUT_MS;
}

void onvif_dev_set_clock_offset(struct onvif_dev *dev, int64_t offset_ms)
{
	dev->clock_offset_ms = offset_ms;
	dev->clock_known = true;
}

const char *onvif_dev_xaddr(const struct onvif_dev *dev)
{
	return dev->xaddr;
}

enum onvif_auth onvif_dev_auth(const struct onvif_dev *dev)
{
	return dev->auth;
}

int64_t onvif_dev_clock_offset_ms(const struct onvif_dev *dev)
{
	return dev->clock_offset_ms;
}

bool onvif_dev_clock_known(const struct onvif_dev *dev)
{
	return dev->clock_known;
}

const char *onvif_dev_error(const struct onvif_dev *dev)
{
	return dev->err;
}

unsigned int onvif_dev_requests(const struct onvif_dev *dev)
{
	return dev->requests;
}

/* ---- GetSystemDateAndTime ---------------------------------------------- */

static int call_datetime(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetSystemDateAndTime(s, ep, NULL, req, resp);
}

static const struct onvif_op op_datetime = { "GetSystemDateAndTime", call_datetime, true };

int onvif__conv_datetime(const struct _tds__GetSystemDateAndTimeResponse *r, int64_t *utc_msp)
{
	const struct tt__DateTime *dt =
		r->SystemDateAndTime ? r->SystemDateAndTime->UTCDateTime : NULL;
	struct tm tm;

	if (!dt || !dt->Date || !dt->Time)
		return -EBADMSG;
	if (dt->Date->Year < 1970 || dt->Date->Year > 9999 || dt->Date->Month < 1 ||
	    dt->Date->Month > 12 || dt->Date->Day < 1 || dt->Date->Day > 31 || dt->Time->Hour < 0 ||
	    dt->Time->Hour > 23 || dt->Time->Minute < 0 || dt->Time->Minute > 59 ||
	    dt->Time->Second < 0 || dt->Time->Second > 60)
		return -EBADMSG;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->Date->Year - 1900;
	tm.tm_mon = dt->Date->Month - 1;
	tm.tm_mday = dt->Date->Day;
	tm.tm_hour = dt->Time->Hour;
	tm.tm_min = dt->Time->Minute;
	tm.tm_sec = dt->Time->Second;
	*utc_msp = (int64_t)timegm(&tm) * 1000;
	return 0;
}

int onvif_sync_clock(struct onvif_dev *dev, int64_t *camera_utc_msp)
{
	struct _tds__GetSystemDateAndTime req;
	struct _tds__GetSystemDateAndTimeResponse resp;
	int64_t t0, t1, cam;
	int ret;

	soap_default__tds__GetSystemDateAndTime(dev->soap, &req);
	dev->http_date_ms = 0;
	t0 = time_now_ms();
	ret = onvif__call(dev, &op_datetime, dev->xaddr, &req, &resp);
	t1 = time_now_ms();
	if (ret == -EACCES && dev->http_date_ms && !dev->clock_known) {
		/* Refused even this: the Date of the refusal is the camera's
		 * clock, good enough for WS-Security's window. */
		onvif_dev_set_clock_offset(dev, dev->http_date_ms - dev->http_date_local_ms);
		log_info("onvif %s: clock offset %lld ms from the HTTP Date header", dev->xaddr,
			 (long long)dev->clock_offset_ms);
	}
	if (ret)
		return ret;
	ret = onvif__conv_datetime(&resp, &cam);
	if (ret)
		return onvif__set_error(dev, ret, "GetSystemDateAndTime: no valid UTCDateTime");
	/* The camera read its clock about half way through; its resolution is
	 * a second, so add half of one. */
	onvif_dev_set_clock_offset(dev, cam + 500 - (t0 + (t1 - t0) / 2));
	if (camera_utc_msp)
		*camera_utc_msp = cam;
	return 0;
}

/* ---- GetDeviceInformation ---------------------------------------------- */

static int call_devinfo(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetDeviceInformation(s, ep, NULL, req, resp);
}

static const struct onvif_op op_devinfo = { "GetDeviceInformation", call_devinfo, false };

int onvif__conv_device_info(const struct _tds__GetDeviceInformationResponse *r,
			    struct onvif_device_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!r->Manufacturer && !r->Model && !r->SerialNumber)
		return -EBADMSG;
	onvif__copy(out->manufacturer, sizeof(out->manufacturer), r->Manufacturer);
	onvif__copy(out->model, sizeof(out->model), r->Model);
	onvif__copy(out->firmware, sizeof(out->firmware), r->FirmwareVersion);
	onvif__copy(out->serial, sizeof(out->serial), r->SerialNumber);
	onvif__copy(out->hardware_id, sizeof(out->hardware_id), r->HardwareId);
	return 0;
}

int onvif_get_device_info(struct onvif_dev *dev, struct onvif_device_info *out)
{
	struct _tds__GetDeviceInformation req;
	struct _tds__GetDeviceInformationResponse resp;
	int ret;

	soap_default__tds__GetDeviceInformation(dev->soap, &req);
	ret = onvif__call(dev, &op_devinfo, dev->xaddr, &req, &resp);
	if (ret)
		return ret;
	ret = onvif__conv_device_info(&resp, out);
	if (ret)
		return onvif__set_error(dev, ret, "GetDeviceInformation: no identity in reply");
	return 0;
}

/* ---- GetServices / GetCapabilities ------------------------------------- */

static int call_services(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetServices(s, ep, NULL, req, resp);
}

static int call_caps(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetCapabilities(s, ep, NULL, req, resp);
}

static const struct onvif_op op_services = { "GetServices", call_services, false };
static const struct onvif_op op_caps = { "GetCapabilities", call_caps, false };

static void set_service(struct onvif_dev *dev, char *dst, const char *xaddr)
{
	bool rw;

	if (xaddr && *xaddr && onvif__rewrite_uri(xaddr, dev->peer, dst, ONVIF_URI_MAX, &rw) == 0 &&
	    rw)
		log_debug("onvif %s: service %s rewritten to %s", dev->xaddr, xaddr, dst);
}

static int services_from_caps(struct onvif_dev *dev)
{
	struct _tds__GetCapabilities req;
	struct _tds__GetCapabilitiesResponse resp;
	char *all = (char *)"All";
	int ret;

	soap_default__tds__GetCapabilities(dev->soap, &req);
	req.__sizeCategory = 1;
	req.Category = &all;
	ret = onvif__call(dev, &op_caps, dev->xaddr, &req, &resp);
	if (ret)
		return ret;
	if (!resp.Capabilities)
		return onvif__set_error(dev, -EBADMSG, "GetCapabilities: empty reply");
	if (resp.Capabilities->Media)
		set_service(dev, dev->media_xaddr, resp.Capabilities->Media->XAddr);
	if (resp.Capabilities->PTZ)
		set_service(dev, dev->ptz_xaddr, resp.Capabilities->PTZ->XAddr);
	return 0;
}

int onvif_get_services(struct onvif_dev *dev)
{
	struct _tds__GetServices req;
	struct _tds__GetServicesResponse resp;
	int ret;

	dev->media_xaddr[0] = dev->media2_xaddr[0] = dev->ptz_xaddr[0] = '\0';
	soap_default__tds__GetServices(dev->soap, &req);
	req.IncludeCapability = (char *)"false";
	ret = onvif__call(dev, &op_services, dev->xaddr, &req, &resp);
	if (ret == -EOPNOTSUPP || ret == -EPROTO || ret == -EBADMSG)
		ret = services_from_caps(dev); /* GetServices is newer (2.0) */
	else if (!ret)
		for (int i = 0; i < resp.__sizeService; i++) {
			const struct tds__Service *s = &resp.Service[i];

			if (!s->Namespace || !s->XAddr)
				continue;
			if (!strcmp(s->Namespace, ONVIF_MEDIA_NS))
				set_service(dev, dev->media_xaddr, s->XAddr);
			else if (!strcmp(s->Namespace, ONVIF_MEDIA2_NS))
				set_service(dev, dev->media2_xaddr, s->XAddr);
			else if (!strcmp(s->Namespace, ONVIF_PTZ_NS))
				set_service(dev, dev->ptz_xaddr, s->XAddr);
		}
	if (ret)
		return ret;
	dev->services_known = true;
	return 0;
}

bool onvif_dev_has_media2(const struct onvif_dev *dev)
{
	return dev->media2_xaddr[0] != '\0';
}

bool onvif_dev_has_ptz(const struct onvif_dev *dev)
{
	return dev->ptz_xaddr[0] != '\0';
}

/* ---- GetHostname, GetNetworkInterfaces, GetScopes ---------------------- */

static int call_hostname(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetHostname(s, ep, NULL, req, resp);
}

static int call_netifs(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetNetworkInterfaces(s, ep, NULL, req, resp);
}

static int call_scopes(struct soap *s, const char *ep, void *req, void *resp)
{
	return soap_call___tds__GetScopes(s, ep, NULL, req, resp);
}

static const struct onvif_op op_hostname = { "GetHostname", call_hostname, false };
static const struct onvif_op op_netifs = { "GetNetworkInterfaces", call_netifs, false };
static const struct onvif_op op_scopes = { "GetScopes", call_scopes, false };

static bool xs_true(const char *s)
{
	return s && (!strcasecmp(s, "true") || !strcmp(s, "1"));
}

static void first_ipv4(const struct tt__IPv4NetworkInterface *v4, char *out, size_t cap)
{
	const struct tt__IPv4Configuration *c = v4 ? v4->Config : NULL;

	if (!c)
		return;
	if (c->__sizeManual > 0 && c->Manual[0].Address)
		onvif__copy(out, cap, c->Manual[0].Address);
	else if (c->FromDHCP && c->FromDHCP->Address)
		onvif__copy(out, cap, c->FromDHCP->Address);
	else if (c->LinkLocal && c->LinkLocal->Address)
		onvif__copy(out, cap, c->LinkLocal->Address);
}

int onvif_get_net_info(struct onvif_dev *dev, struct onvif_net_info *out)
{
	struct _tds__GetHostname hreq;
	struct _tds__GetHostnameResponse hresp;
	struct _tds__GetNetworkInterfaces nreq;
	struct _tds__GetNetworkInterfacesResponse nresp;
	int ret, ret2;

	memset(out, 0, sizeof(*out));
	soap_default__tds__GetHostname(dev->soap, &hreq);
	ret = onvif__call(dev, &op_hostname, dev->xaddr, &hreq, &hresp);
	if (!ret && hresp.HostnameInformation)
		onvif__copy(out->hostname, sizeof(out->hostname), hresp.HostnameInformation->Name);
	soap_default__tds__GetNetworkInterfaces(dev->soap, &nreq);
	ret2 = onvif__call(dev, &op_netifs, dev->xaddr, &nreq, &nresp);
	for (int i = 0; !ret2 && i < nresp.__sizeNetworkInterfaces; i++) {
		const struct tt__NetworkInterface *ni = &nresp.NetworkInterfaces[i];

		if (!xs_true(ni->Enabled) || !ni->Info || !ni->Info->HwAddress)
			continue;
		onvif__copy(out->mac, sizeof(out->mac), ni->Info->HwAddress);
		first_ipv4(ni->IPv4, out->ipv4, sizeof(out->ipv4));
		break;
	}
	return ret && ret2 ? ret2 : 0;
}

int onvif_get_scopes(struct onvif_dev *dev, struct onvif_scopes *out, char *raw, size_t rawcap)
{
	struct _tds__GetScopes req;
	struct _tds__GetScopesResponse resp;
	char list[ONVIF_SCOPES_MAX] = "";
	size_t len = 0;
	int ret;

	soap_default__tds__GetScopes(dev->soap, &req);
	ret = onvif__call(dev, &op_scopes, dev->xaddr, &req, &resp);
	if (ret)
		return ret;
	for (int i = 0; i < resp.__sizeScopes && len + 1 < sizeof(list); i++) {
		int n;

		if (!resp.Scopes[i].ScopeItem)
			continue;
		n = snprintf(list + len, sizeof(list) - len, "%s%s", len ? " " : "",
			     resp.Scopes[i].ScopeItem);
		if (n < 0 || (size_t)n >= sizeof(list) - len)
			break; /* keep whole items only */
		len += (size_t)n;
	}
	list[len] = '\0';
	onvif_scopes_parse(list, out);
	if (raw)
		onvif__copy(raw, rawcap, list);
	return 0;
}
