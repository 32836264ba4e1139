// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_soap - gSOAP contexts with camgate's limits, the mapping of gSOAP
 * errors to errno, and the one call path every device operation takes:
 * timeouts, redirects and the authentication policy (onvif.h G4).
 *
 * Authentication, per request of a call:
 *   known method          use it; if refused, try the other ones once
 *   unknown, no creds     none
 *   unknown, creds        none first for GetSystemDateAndTime, else
 *                         WS-Security, then HTTP Digest once a challenge
 *                         arrived (a 401, or a bare request provoking one)
 * A call sends at most ONVIF_CALL_ATTEMPTS requests; when every method was
 * refused it fails with -EACCES and the camera is left alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"

/* The one definition of gSOAP's global namespace table. */
#include "onvif/Device.nsmap"

void onvif__copy(char *dst, size_t cap, const char *src)
{
	if (!cap)
		return;
	snprintf(dst, cap, "%s", src ? src : "");
}

int onvif__set_error(struct onvif_dev *dev, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->err, sizeof(dev->err), fmt, ap);
	va_end(ap);
	log_info("onvif %s: %s", dev->xaddr, dev->err);
	return ret;
}

/* Remember the camera's Digest challenge and Date; gSOAP's own handler
 * still sees every line. */
int onvif__parse_header(struct soap *soap, const char *key, const char *val)
{
	struct onvif_dev *dev = soap->user;

	if (dev && !soap_tag_cmp(key, "WWW-Authenticate")) {
		struct onvif_digest d = dev->digest;

		/* Several challenges: keep the strongest we can answer. */
		if (!onvif__digest_challenge(soap, val, &d) &&
		    (!dev->saw_challenge || !strncmp(d.algorithm, "SHA-256", 7) ||
		     strncmp(dev->digest.algorithm, "SHA-256", 7)))
			dev->digest = d;
		dev->saw_challenge = true;
	} else if (dev && !soap_tag_cmp(key, "Date")) {
		int64_t t;

		if (!onvif__parse_http_date(val, &t)) {
			dev->http_date_ms = t;
			dev->http_date_local_ms = time_now_ms();
		}
	}
	return dev && dev->parsehdr_next ? dev->parsehdr_next(soap, key, val) : SOAP_OK;
}

struct soap *onvif__soap_new(void)
{
	struct soap *soap = soap_new1(SOAP_C_UTFSTRING | SOAP_XML_TREE);

	if (!soap)
		return NULL;
	soap->recv_maxlength = ONVIF_REPLY_MAX;
	soap->maxlevel = ONVIF_MAX_DEPTH;
	soap->maxoccurs = ONVIF_MAX_ELEMENTS;
	soap->maxlength = ONVIF_MAX_STRING;
	return soap;
}

void onvif__soap_free(struct soap *soap)
{
	if (!soap)
		return;
	soap_destroy(soap);
	soap_end(soap);
	soap_free(soap);
}

static bool fault_is_auth(struct soap *soap)
{
	const char *sub = soap_fault_subcode(soap);
	const char *str = soap_fault_string(soap);

	if (sub && (strstr(sub, "NotAuthorized") || strstr(sub, "FailedAuthentication") ||
		    strstr(sub, "InvalidSecurity") || strstr(sub, "FailedCheck")))
		return true;
	return str && (strcasestr(str, "not authorized") || strcasestr(str, "unauthorized") ||
		       strcasestr(str, "authentication"));
}

static bool fault_is_unsupported(struct soap *soap)
{
	const char *sub = soap_fault_subcode(soap);
	const char *str = soap_fault_string(soap);

	if (sub && (strstr(sub, "ActionNotSupported") || strstr(sub, "NoSuchService") ||
		    strstr(sub, "NotSupported")))
		return true;
	return str && strcasestr(str, "not supported");
}

static int tcp_errno(struct soap *soap)
{
	switch (soap->errnum) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ETIMEDOUT:
	case ECONNRESET:
		return -soap->errnum;
	case 0:
		/* gSOAP reports its own timeouts with errnum 0. */
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

int onvif__soap_error(struct soap *soap, const char *what, char *err, size_t cap)
{
	int e = soap->error;
	char buf[ONVIF_ERR_MAX];
	const char *s;

	if (e == SOAP_OK)
		return 0;
	s = soap_fault_string(soap);
	if (e == SOAP_EOF || e == SOAP_TCP_ERROR) {
		int ret = tcp_errno(soap);

		snprintf(err, cap, "%s: %s", what,
			 ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
		return ret;
	}
	if (e == 401 || e == 403) {
		snprintf(err, cap, "%s: HTTP %d, credentials refused", what, e);
		return -EACCES;
	}
	if (e == SOAP_EOM || e == SOAP_LENGTH || e == SOAP_LEVEL) {
		snprintf(err, cap, "%s: reply over a size limit (%s)", what,
			 e == SOAP_LENGTH  ? "string or element count"
			 : e == SOAP_LEVEL ? "nesting"
					   : "total size");
		return -E2BIG;
	}
	if (soap_xml_error_check(e) || e == SOAP_NO_DATA) {
		snprintf(err, cap, "%s: malformed reply: %s", what, s ? s : "parse error");
		return -EBADMSG;
	}
	if (soap_soap_error_check(e)) {
		const char *sub = soap_fault_subcode(soap);

		snprintf(err, cap, "%s: fault %s: %s", what, sub ? sub : "", s ? s : "");
		if (fault_is_auth(soap))
			return -EACCES;
		if (fault_is_unsupported(soap))
			return -EOPNOTSUPP;
		return -EPROTO;
	}
	if (e >= 200 && e < 300) {
		/* gSOAP's status for "no fault, but not the element asked for". */
		snprintf(err, cap, "%s: malformed reply: not the expected response element", what);
		return -EBADMSG;
	}
	if (e >= 100 && e < 600) {
		snprintf(err, cap, "%s: HTTP %d", what, e);
		return e == 404 || e == 405 || e == 501 ? -EOPNOTSUPP : -EPROTO;
	}
	soap_sprint_fault(soap, buf, sizeof(buf));
	snprintf(err, cap, "%s: %s", what, buf);
	return -EPROTO;
}

static void set_timeouts(struct soap *soap, int timeout_ms)
{
	/* Negative gSOAP timeouts are microseconds. */
	int us = -(timeout_ms > 2000000 ? 2000000000 : timeout_ms * 1000);

	soap->connect_timeout = us;
	soap->send_timeout = us;
	soap->recv_timeout = us;
	soap->transfer_timeout = us;
}

/* Put credentials for @method on the next request. */
static int prepare(struct onvif_dev *dev, enum onvif_auth method, const char *endpoint)
{
	struct soap *soap = dev->soap;
	char path[ONVIF_URI_MAX], cnonce[17];
	unsigned char raw[8];
	int ret;

	soap->header = NULL;
	soap->http_extra_header = NULL;
	if (method == ONVIF_AUTH_WSSE)
		return onvif__wsse_header(dev);
	if (method != ONVIF_AUTH_DIGEST)
		return 0;
	ret = onvif__random(raw, sizeof(raw));
	if (ret)
		return ret;
	hex_encode(raw, sizeof(raw), cnonce);
	onvif__uri_path(endpoint, path, sizeof(path));
	ret = onvif__digest_authz(&dev->digest, dev->user, dev->pass, "POST", path, cnonce,
				  dev->authz, sizeof(dev->authz));
	if (ret)
		return ret;
	soap->http_extra_header = dev->authz;
	return 0;
}

struct attempt {
	enum onvif_auth tried[4];
	int ntried;
};

static bool tried(const struct attempt *a, enum onvif_auth m)
{
	for (int i = 0; i < a->ntried; i++)
		if (a->tried[i] == m)
			return true;
	return false;
}

/* The method for the next request, or UNKNOWN when all are spent. */
static enum onvif_auth next_method(struct onvif_dev *dev, const struct onvif_op *op,
				   const struct attempt *a)
{
	bool creds = dev->user[0] != '\0';

	if (!a->ntried) {
		if (op->unauth_first || !creds || dev->auth == ONVIF_AUTH_NONE)
			return ONVIF_AUTH_NONE;
		return dev->auth == ONVIF_AUTH_DIGEST ? ONVIF_AUTH_DIGEST : ONVIF_AUTH_WSSE;
	}
	if (!creds)
		return ONVIF_AUTH_UNKNOWN;
	if (dev->auth == ONVIF_AUTH_WSSE && !tried(a, ONVIF_AUTH_WSSE))
		return ONVIF_AUTH_WSSE;
	if (dev->digest.valid && !tried(a, ONVIF_AUTH_DIGEST))
		return ONVIF_AUTH_DIGEST;
	if (!tried(a, ONVIF_AUTH_WSSE))
		return ONVIF_AUTH_WSSE;
	/* WS-Security refused and no challenge seen: a bare request makes a
	 * Digest-capable camera send one. */
	if (!dev->saw_challenge && !tried(a, ONVIF_AUTH_NONE))
		return ONVIF_AUTH_NONE;
	return ONVIF_AUTH_UNKNOWN;
}

static int one_request(struct onvif_dev *dev, const struct onvif_op *op, const char *endpoint,
		       enum onvif_auth method, void *req, void *resp)
{
	struct soap *soap = dev->soap;
	int64_t t0;
	int ret;

	soap_destroy(soap);
	soap_end(soap);
	ret = prepare(dev, method, endpoint);
	if (ret)
		return onvif__set_error(dev, ret, "%s: cannot build credentials", op->name);
	set_timeouts(soap, dev->timeout_ms);
	dev->saw_challenge = false;
	dev->requests++;
	t0 = time_mono_ms();
	op->call(soap, endpoint, req, resp);
	if (method == ONVIF_AUTH_DIGEST)
		dev->digest.nc++;
	soap->http_extra_header = NULL;
	/* gSOAP says SOAP_EOF with errnum 0 both for its timeouts and for a
	 * peer that closed early: the clock tells them apart. */
	if (soap->error == SOAP_EOF && !soap->errnum &&
	    time_mono_ms() - t0 < (int64_t)dev->timeout_ms * 9 / 10) {
		snprintf(dev->err, sizeof(dev->err),
			 "%s: connection closed before a complete reply", op->name);
		return -EBADMSG;
	}
	return onvif__soap_error(soap, op->name, dev->err, sizeof(dev->err));
}

static bool is_redirect(struct soap *soap)
{
	return soap->error >= 301 && soap->error <= 308 && soap->endpoint[0];
}

int onvif__call(struct onvif_dev *dev, const struct onvif_op *op, const char *endpoint, void *req,
		void *resp)
{
	char url[ONVIF_URI_MAX];
	struct attempt a = { .ntried = 0 };
	int redirects = 0, ret = -EACCES;
	bool stale_retry = false, rw;

	onvif__copy(url, sizeof(url), endpoint);
	for (int sent = 0; sent < ONVIF_CALL_ATTEMPTS + ONVIF_REDIRECTS_MAX; sent++) {
		enum onvif_auth m = next_method(dev, op, &a);

		if (m == ONVIF_AUTH_UNKNOWN)
			break;
		ret = one_request(dev, op, url, m, req, resp);
		if (ret == -EPROTO && is_redirect(dev->soap) && redirects < ONVIF_REDIRECTS_MAX) {
			/* Follow, but keep the host that answered (G3). */
			redirects++;
			onvif__rewrite_uri(dev->soap->endpoint, dev->peer, url, sizeof(url), &rw);
			log_debug("onvif %s: %s redirected to %s", dev->xaddr, op->name, url);
			continue;
		}
		if (!ret) {
			if (m != ONVIF_AUTH_NONE || !op->unauth_first)
				dev->auth = m;
			dev->err[0] = '\0';
			return 0;
		}
		if (ret != -EACCES)
			break;
		if (m == ONVIF_AUTH_DIGEST && dev->digest.stale && !stale_retry) {
			stale_retry = true; /* a fresh nonce, not a refusal */
			continue;
		}
		a.tried[a.ntried++] = m;
	}
	if (ret == -EACCES && !dev->user[0])
		return onvif__set_error(dev, ret, "%s: the camera requires credentials", op->name);
	if (ret == -EACCES)
		return onvif__set_error(dev, ret, "%s: credentials refused (%d method%s tried)",
					op->name, a.ntried, a.ntried == 1 ? "" : "s");
	log_info("onvif %s: %s", dev->xaddr, dev->err);
	return ret;
}
