/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onvif_int.h - shared inside drivers/onvif (and by its tests, fuzz targets
 * and the camera simulator); not part of the module's interface. This is
 * the only header that includes the generated soapH.h.
 */
#ifndef CAMGATE_DRIVERS_ONVIF_INT_H
#define CAMGATE_DRIVERS_ONVIF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/onvif/onvif.h"
#include "onvif/soapH.h"

#define ONVIF_USER_MAX	      64
#define ONVIF_PASS_MAX	      128
#define ONVIF_AUTHZ_MAX	      1024 /* one Authorization header line */
#define ONVIF_MAX_ELEMENTS    1024 /* of any repeated element in a reply */
#define ONVIF_MAX_DEPTH	      64   /* XML nesting */
#define ONVIF_MAX_STRING      (64 * 1024)
#define ONVIF_CALL_ATTEMPTS   4 /* requests per call, auth fallbacks included */
#define ONVIF_REDIRECTS_MAX   2
#define ONVIF_DISCOVERY_PORT  3702
#define ONVIF_DISCOVERY_GROUP "239.255.255.250"

#define WSDD_NS		"http://schemas.xmlsoap.org/ws/2005/04/discovery"
#define WSDD_TO		"urn:schemas-xmlsoap-org:ws:2005:04:discovery"
#define WSA_ANONYMOUS	"http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
#define ONVIF_NVT_TYPE	"dn:NetworkVideoTransmitter"
#define ONVIF_MEDIA_NS	"http://www.onvif.org/ver10/media/wsdl"
#define ONVIF_MEDIA2_NS "http://www.onvif.org/ver20/media/wsdl"
#define ONVIF_PTZ_NS	"http://www.onvif.org/ver20/ptz/wsdl"
#define ONVIF_DEVICE_NS "http://www.onvif.org/ver10/device/wsdl"

#define WSSE_PASSWORD_DIGEST                                                                       \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"       \
	"#PasswordDigest"
#define WSSE_PASSWORD_TEXT                                                                         \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"       \
	"#PasswordText"
#define WSSE_BASE64                                                                                \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"        \
	"#Base64Binary"

/* The last HTTP Digest challenge a camera sent (RFC 7616). */
struct onvif_digest {
	bool valid;
	bool stale;
	char realm[ONVIF_TEXT_MAX];
	char nonce[ONVIF_TEXT_MAX];
	char opaque[ONVIF_TEXT_MAX];
	char algorithm[24]; /* MD5, MD5-sess, SHA-256, SHA-256-sess */
	bool qop_auth;
	unsigned int nc;
};

struct onvif_dev {
	struct soap *soap;
	char xaddr[ONVIF_URI_MAX];
	char peer[ONVIF_ADDR_MAX];
	char media_xaddr[ONVIF_URI_MAX];
	char media2_xaddr[ONVIF_URI_MAX];
	char ptz_xaddr[ONVIF_URI_MAX];
	bool services_known;
	char user[ONVIF_USER_MAX];
	char pass[ONVIF_PASS_MAX];
	enum onvif_auth auth;
	int64_t clock_offset_ms;
	bool clock_known;
	int64_t http_date_ms;	    /* camera's Date header, 0 if none */
	int64_t http_date_local_ms; /* our clock when it arrived */
	int timeout_ms;
	unsigned int requests;
	struct onvif_digest digest;
	bool saw_challenge; /* this request got WWW-Authenticate */
	char authz[ONVIF_AUTHZ_MAX];
	int (*parsehdr_next)(struct soap *, const char *, const char *);
	char err[ONVIF_ERR_MAX];
};

/* One SOAP operation: a wrapper around soap_call___X. */
struct onvif_op {
	const char *name;
	int (*call)(struct soap *soap, const char *endpoint, void *req, void *resp);
	bool unauth_first; /* try without credentials first */
};

/* ---- onvif_soap.c ---- */
/* A context with our limits, timeouts and hooks; NULL on ENOMEM. */
struct soap *onvif__soap_new(void);
void onvif__soap_free(struct soap *soap);
/* Run @op against @endpoint with the auth policy of G4. The response is
 * valid until the next call on @dev. */
int onvif__call(struct onvif_dev *dev, const struct onvif_op *op, const char *endpoint, void *req,
		void *resp);
/* gSOAP fparsehdr hook: keeps Digest challenges and the Date header. */
int onvif__parse_header(struct soap *soap, const char *key, const char *val);
/* Map a finished gSOAP call to an errno, writing the reason into @err. */
int onvif__soap_error(struct soap *soap, const char *what, char *err, size_t cap);
int onvif__set_error(struct onvif_dev *dev, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Copy @src (may be NULL) into @dst of @cap bytes, truncating. */
void onvif__copy(char *dst, size_t cap, const char *src);

/* ---- onvif_auth.c ---- */
/* PasswordDigest = Base64(SHA1(nonce + created + password)); @nonce raw. */
int onvif__wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created,
		       const char *password, char *out, size_t cap);
/* Build the Security header for @dev (now + clock offset) on soap->header. */
int onvif__wsse_header(struct onvif_dev *dev);
/* Parse a WWW-Authenticate value into @d; -EINVAL if it is not Digest or
 * names an algorithm we lack (the old challenge is kept then). */
int onvif__digest_challenge(struct soap *soap, const char *value, struct onvif_digest *d);
/* The Authorization header line (no CRLF) for POST @uri_path. */
int onvif__digest_authz(struct onvif_digest *d, const char *user, const char *pass,
			const char *method, const char *uri_path, const char *cnonce, char *out,
			size_t cap);
/* Hex digest of @in with @alg ("MD5", "SHA-256"); @out >= 65 bytes. */
int onvif__digest_hash(const char *alg, const char *in, size_t len, char *out);
/* @len random bytes (getrandom). */
int onvif__random(void *buf, size_t len);
/* xs:dateTime UTC "2024-01-31T12:00:00Z" of @utc_ms. */
void onvif__format_utc(int64_t utc_ms, char *out, size_t cap);
/* HTTP-date (RFC 7231 IMF-fixdate) to UTC ms; -EINVAL. */
int onvif__parse_http_date(const char *s, int64_t *utc_msp);

/* ---- onvif_uri.c ---- */
/* G3 on @uri given the answering @peer; writes @out, sets *rewrittenp. A
 * URI that cannot be parsed is copied unchanged. */
int onvif__rewrite_uri(const char *uri, const char *peer, char *out, size_t cap, bool *rewrittenp);
/* Pick the XAddr to use from a space-separated list (the one on @peer's
 * host first, then the first http one) and rewrite it. -ENOENT: none. */
int onvif__pick_xaddr(const char *xaddrs, const char *peer, char *out, size_t cap,
		      bool *rewrittenp);
/* Host of an http(s)/rtsp URL into @out; -EINVAL. */
int onvif__uri_host(const char *uri, char *out, size_t cap);
/* Path and query of a URL ("/" when empty). */
int onvif__uri_path(const char *uri, char *out, size_t cap);

/* ---- onvif_wsdd.c: WS-Discovery messages as bytes, no sockets ---- */
enum onvif__wsdd_kind {
	ONVIF__NONE = -1,
	ONVIF__PROBE,
	ONVIF__PROBE_MATCH,
	ONVIF__HELLO,
	ONVIF__BYE,
};

struct onvif__wsdd_msg {
	enum onvif__wsdd_kind kind;
	char msgid[ONVIF_URI_MAX];
	char relates_to[ONVIF_URI_MAX]; /* "" when absent */
	char types[ONVIF_TEXT_MAX];	/* Probe: the types asked for */
	unsigned int instance_id;	/* Hello/Bye AppSequence */
	unsigned int message_number;
};

/* Serialise @m (with @dev for ProbeMatches, Hello, Bye) into a string
 * owned by @soap, valid until its next use. -ENOMEM, -EIO. */
int onvif__wsdd_build(struct soap *soap, const struct onvif__wsdd_msg *m,
		      const struct onvif_found *dev, const char **xmlp, size_t *lenp);
/* Called per device of a valid message, after the whole of it parsed;
 * peer, iface and xaddr are left to the caller. Non-zero stops (returned
 * as is when negative, 0 when positive). */
typedef int (*onvif__match_fn)(void *arg, const struct onvif__wsdd_msg *m, struct onvif_found *f);
/* Parse one NUL-terminated datagram. -EBADMSG malformed or over a cap;
 * -ENOMSG a valid SOAP message that is not WS-Discovery. */
int onvif__wsdd_parse(struct soap *soap, const char *buf, struct onvif__wsdd_msg *m,
		      onvif__match_fn fn, void *arg);
/* "urn:uuid:..." (version 4) from getrandom(). @out >= 46 bytes. */
int onvif__uuid(char *out, size_t cap);

/* ---- onvif_device.c / onvif_media.c (response conversions, fuzzed) ---- */
int onvif__conv_datetime(const struct _tds__GetSystemDateAndTimeResponse *r, int64_t *utc_msp);
int onvif__conv_device_info(const struct _tds__GetDeviceInformationResponse *r,
			    struct onvif_device_info *out);
int onvif__conv_profiles1(const struct _trt__GetProfilesResponse *r, struct onvif_profile *out,
			  size_t cap, size_t *np);
int onvif__conv_profiles2(const struct _tr2__GetProfilesResponse *r, struct onvif_profile *out,
			  size_t cap, size_t *np);

/* ---- onvif_replay.c: recorded replies, for fuzzing and fixtures ---- */
enum onvif__reply {
	ONVIF__R_DATETIME,
	ONVIF__R_DEVINFO,
	ONVIF__R_SERVICES,
	ONVIF__R_CAPS,
	ONVIF__R_SCOPES,
	ONVIF__R_PROFILES1,
	ONVIF__R_PROFILES2,
	ONVIF__R_URI1,
	ONVIF__R_URI2,
	ONVIF__R_NODES,
	ONVIF__R_PRESETS,
	ONVIF__R_COUNT,
};

/* The operation named @name (@len bytes: "GetDeviceInformation",
 * "GetProfiles2" for Media2 ...); -ENOENT. */
int onvif__reply_lookup(const char *name, size_t len);
/* Parse NUL-terminated @text (HTTP response or bare envelope) as the reply
 * to @which, as a live call would. 0 with a one-line summary in @out, or
 * the errno a call would return with the reason in @err. */
int onvif__replay(struct soap *soap, enum onvif__reply which, const char *text, char *out,
		  size_t cap, char *err, size_t errcap);

#endif /* CAMGATE_DRIVERS_ONVIF_INT_H */
