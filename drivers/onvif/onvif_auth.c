// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_auth - the two ways ONVIF cameras check credentials, with mbedtls:
 *  - WS-Security UsernameToken with PasswordDigest
 *    (Base64(SHA-1(nonce + created + password)), OASIS UsernameToken
 *    Profile 1.0), where "created" is our clock plus the camera's measured
 *    offset, so a camera whose clock is off still accepts it;
 *  - HTTP Digest (RFC 7616, RFC 2617 compatible): MD5, MD5-sess, SHA-256,
 *    SHA-256-sess, qop=auth or none. gSOAP's httpda plugin needs OpenSSL;
 *    this needs only a hash.
 * The challenge is parsed with gSOAP's own header attribute reader.
 */
#include <errno.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/hex.h"
#include "lib/parse.h"

#define WSSE_NONCE_BYTES 16
#define HASH_HEX_MAX	 65 /* SHA-256 in hex, NUL included */
#define DIGEST_INPUT_MAX 1024

int onvif__random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void onvif__format_utc(int64_t utc_ms, char *out, size_t cap)
{
	int64_t s = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
	time_t t = (time_t)s;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		onvif__copy(out, cap, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int onvif__parse_http_date(const char *s, int64_t *utc_msp)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -EINVAL;
	*utc_msp = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static int md_hash(mbedtls_md_type_t type, const void *in, size_t len, unsigned char *out)
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);

	if (!info || mbedtls_md(info, in, len, out))
		return -EINVAL;
	return 0;
}

int onvif__wsse_digest(const unsigned char *nonce, size_t nonce_len, const char *created,
		       const char *password, char *out, size_t cap)
{
	unsigned char buf[DIGEST_INPUT_MAX], sha[20];
	size_t clen = strlen(created), plen = strlen(password), olen;

	if (nonce_len + clen + plen > sizeof(buf))
		return -E2BIG;
	memcpy(buf, nonce, nonce_len);
	memcpy(buf + nonce_len, created, clen);
	memcpy(buf + nonce_len + clen, password, plen);
	if (md_hash(MBEDTLS_MD_SHA1, buf, nonce_len + clen + plen, sha))
		return -EINVAL;
	if (mbedtls_base64_encode((unsigned char *)out, cap, &olen, sha, sizeof(sha)))
		return -E2BIG;
	return 0;
}

int onvif__wsse_header(struct onvif_dev *dev)
{
	struct soap *soap = dev->soap;
	unsigned char nonce[WSSE_NONCE_BYTES];
	char created[32], digest[64], nonce64[32];
	struct SOAP_ENV__Header *h;
	struct _wsse__UsernameToken *tok;
	size_t olen;
	int ret;

	ret = onvif__random(nonce, sizeof(nonce));
	if (ret)
		return ret;
	onvif__format_utc(time_now_ms() + (dev->clock_known ? dev->clock_offset_ms : 0), created,
			  sizeof(created));
	ret = onvif__wsse_digest(nonce, sizeof(nonce), created, dev->pass, digest, sizeof(digest));
	if (ret)
		return ret;
	if (mbedtls_base64_encode((unsigned char *)nonce64, sizeof(nonce64), &olen, nonce,
				  sizeof(nonce)))
		return -E2BIG;
	h = soap_new_SOAP_ENV__Header(soap, 1);
	tok = soap_new__wsse__UsernameToken(soap, 1);
	if (!h || !tok)
		return -ENOMEM;
	h->wsse__Security = soap_new__wsse__Security(soap, 1);
	tok->Password = soap_new__wsse__Password(soap, 1);
	tok->Nonce = soap_new__wsse__Nonce(soap, 1);
	if (!h->wsse__Security || !tok->Password || !tok->Nonce)
		return -ENOMEM;
	h->wsse__Security->UsernameToken = tok;
	tok->Username = soap_strdup(soap, dev->user);
	tok->Password->__item = soap_strdup(soap, digest);
	tok->Password->Type = (char *)WSSE_PASSWORD_DIGEST;
	tok->Nonce->__item = soap_strdup(soap, nonce64);
	tok->Nonce->EncodingType = (char *)WSSE_BASE64;
	tok->wsu__Created = soap_strdup(soap, created);
	if (!tok->Username || !tok->Password->__item || !tok->Nonce->__item || !tok->wsu__Created)
		return -ENOMEM;
	soap->header = h;
	return 0;
}

static bool alg_known(const char *alg)
{
	return !strcasecmp(alg, "MD5") || !strcasecmp(alg, "MD5-sess") ||
	       !strcasecmp(alg, "SHA-256") || !strcasecmp(alg, "SHA-256-sess");
}

/* "auth" among the comma-separated qop options ("auth-int" is not it). */
static bool qop_has_auth(const char *qop)
{
	const char *p = qop;

	while (p && *p) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n == 4 && !strncasecmp(p, "auth", 4))
			return true;
		p += n;
	}
	return false;
}

int onvif__digest_challenge(struct soap *soap, const char *value, struct onvif_digest *d)
{
	struct onvif_digest n = { .valid = true, .nc = 1 };
	const char *v;

	if (strncasecmp(value, "Digest", 6) || (value[6] != ' ' && value[6] != '\t'))
		return -EINVAL;
	value += 7;
	/* soap_http_header_attribute() returns a buffer of @soap: copy each. */
	v = soap_http_header_attribute(soap, value, "algorithm");
	onvif__copy(n.algorithm, sizeof(n.algorithm), v ? v : "MD5");
	if (!alg_known(n.algorithm))
		return -EINVAL;
	v = soap_http_header_attribute(soap, value, "realm");
	onvif__copy(n.realm, sizeof(n.realm), v);
	v = soap_http_header_attribute(soap, value, "nonce");
	if (!v || !*v || strlen(v) >= sizeof(n.nonce))
		return -EINVAL;
	onvif__copy(n.nonce, sizeof(n.nonce), v);
	v = soap_http_header_attribute(soap, value, "opaque");
	onvif__copy(n.opaque, sizeof(n.opaque), v);
	v = soap_http_header_attribute(soap, value, "qop");
	n.qop_auth = v && qop_has_auth(v);
	v = soap_http_header_attribute(soap, value, "stale");
	n.stale = v && !strcasecmp(v, "true");
	*d = n;
	return 0;
}

int onvif__digest_hash(const char *alg, const char *in, size_t len, char *out)
{
	unsigned char h[32];
	bool sha = !strncasecmp(alg, "SHA-256", 7);
	size_t n = sha ? 32 : 16;

	if (md_hash(sha ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_MD5, in, len, h))
		return -EINVAL;
	hex_encode(h, n, out);
	return 0;
}

/* H(fmt...) into @out; @tmp is scratch for the formatted input. */
static int hash_fmt(const char *alg, char *out, const char *a, const char *b, const char *c)
{
	char tmp[DIGEST_INPUT_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", a, b, c);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -E2BIG;
	return onvif__digest_hash(alg, tmp, (size_t)n, out);
}

int onvif__digest_authz(struct onvif_digest *d, const char *user, const char *pass,
			const char *method, const char *uri_path, const char *cnonce, char *out,
			size_t cap)
{
	char ha1[HASH_HEX_MAX], ha2[HASH_HEX_MAX], resp[HASH_HEX_MAX], nc[9];
	char tmp[DIGEST_INPUT_MAX];
	const char *alg = d->algorithm;
	int n, ret;

	if (!d->valid)
		return -EINVAL;
	snprintf(nc, sizeof(nc), "%08x", d->nc);
	ret = hash_fmt(alg, ha1, user, d->realm, pass);
	if (!ret && strcasestr(alg, "-sess"))
		ret = hash_fmt(alg, ha1, ha1, d->nonce, cnonce);
	if (!ret) {
		n = snprintf(tmp, sizeof(tmp), "%s:%s", method, uri_path);
		ret = n < 0 || (size_t)n >= sizeof(tmp)
			      ? -E2BIG
			      : onvif__digest_hash(alg, tmp, (size_t)n, ha2);
	}
	if (ret)
		return ret;
	if (d->qop_auth)
		n = snprintf(tmp, sizeof(tmp), "%s:%s:%s:%s:auth:%s", ha1, d->nonce, nc, cnonce,
			     ha2);
	else
		n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", ha1, d->nonce, ha2);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -E2BIG;
	ret = onvif__digest_hash(alg, tmp, (size_t)n, resp);
	if (ret)
		return ret;
	n = snprintf(out, cap,
		     "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		     "uri=\"%s\", algorithm=%s, response=\"%s\"%s%s%s",
		     user, d->realm, d->nonce, uri_path, alg, resp,
		     d->opaque[0] ? ", opaque=\"" : "", d->opaque, d->opaque[0] ? "\"" : "");
	if (n < 0 || (size_t)n >= cap)
		return -E2BIG;
	if (d->qop_auth) {
		size_t used = (size_t)n;

		n = snprintf(out + used, cap - used, ", qop=auth, nc=%s, cnonce=\"%s\"", nc,
			     cnonce);
		if (n < 0 || (size_t)n >= cap - used)
			return -E2BIG;
	}
	return 0;
}
