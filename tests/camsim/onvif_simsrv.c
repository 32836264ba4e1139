// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_simsrv - the simulated camera's sockets, authentication and
 * WS-Discovery. One thread serves everything through poll(): the HTTP
 * listener (one request per connection, as many cameras do) and two UDP
 * sockets on port 3702, one bound to the camera's own address for unicast
 * probes and one to the multicast group.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/base64.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "tests/camsim/onvif_sim_int.h"

void sim_cfg_default(struct sim_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->ip, sizeof(cfg->ip), "127.0.0.1");
	snprintf(cfg->make, sizeof(cfg->make), "Camsim");
	snprintf(cfg->model, sizeof(cfg->model), "SIM-1000");
	snprintf(cfg->firmware, sizeof(cfg->firmware), "1.0.0");
	snprintf(cfg->serial, sizeof(cfg->serial), "SN0001");
	snprintf(cfg->hwid, sizeof(cfg->hwid), "HW-1");
	snprintf(cfg->hostname, sizeof(cfg->hostname), "camsim");
	snprintf(cfg->scope_name, sizeof(cfg->scope_name), "Camsim Camera");
	snprintf(cfg->scope_location, sizeof(cfg->scope_location), "lab");
	snprintf(cfg->scope_hardware, sizeof(cfg->scope_hardware), "SIM-1000");
	cfg->wsse_window_s = 300;
	cfg->nprofiles = 2;
	cfg->probe_delay_max_ms = 50;
}

int64_t sim_now_ms(const struct sim *sim)
{
	if (sim->cfg.epoch1970)
		return 60000 + time_mono_ms() - sim->start_mono_ms;
	return time_now_ms() + sim->cfg.skew_ms;
}

/* ---- HTTP hooks --------------------------------------------------------- */

int sim_parsehdr(struct soap *soap, const char *key, const char *val)
{
	struct sim *sim = soap->user;

	if (!soap_tag_cmp(key, "Authorization") && !strncasecmp(val, "Digest ", 7))
		snprintf(sim->authz, sizeof(sim->authz), "%s", val + 7);
	return sim->parsehdr_next(soap, key, val);
}

int sim_posthdr(struct soap *soap, const char *key, const char *val)
{
	struct sim *sim = soap->user;
	char buf[256];

	if (key && !strcmp(key, "WWW-Authenticate")) {
		snprintf(buf, sizeof(buf),
			 "Digest realm=\"camsim\", qop=\"auth\", nonce=\"%s\", algorithm=MD5",
			 sim->nonce);
		return sim->posthdr_next(soap, key, buf);
	}
	if (key && !strcmp(key, "Server")) {
		/* The camera's own (possibly wrong) clock, as real ones send. */
		time_t t = (time_t)(sim_now_ms(sim) / 1000);
		struct tm tm;
		int ret = sim->posthdr_next(soap, key, val);

		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		return ret ? ret : sim->posthdr_next(soap, "Date", buf);
	}
	return sim->posthdr_next(soap, key, val);
}

/* ---- authentication ---------------------------------------------------- */

static int parse_created(const char *s, int64_t *msp)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -EINVAL;
	if (*end == '.')
		end += 1 + strspn(end + 1, "0123456789");
	if (strcmp(end, "Z"))
		return -EINVAL;
	*msp = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static bool wsse_ok(struct sim *sim, const struct _wsse__UsernameToken *t)
{
	unsigned char nonce[64];
	char digest[64];
	int64_t created;
	size_t nlen;

	if (!t || !t->Username || strcmp(t->Username, sim->cfg.user) || !t->Password ||
	    !t->Password->__item)
		return false;
	if (t->Password->Type && strstr(t->Password->Type, "#PasswordText"))
		return !strcmp(t->Password->__item, sim->cfg.pass);
	if (!t->Nonce || !t->Nonce->__item || parse_created(t->wsu__Created, &created))
		return false;
	if (llabs(created - sim_now_ms(sim)) > (int64_t)sim->cfg.wsse_window_s * 1000) {
		log_info("camsim: WS-Security Created %s outside the window", t->wsu__Created);
		return false;
	}
	if (mbedtls_base64_decode(nonce, sizeof(nonce), &nlen,
				  (const unsigned char *)t->Nonce->__item,
				  strlen(t->Nonce->__item)))
		return false;
	if (onvif__wsse_digest(nonce, nlen, t->wsu__Created, sim->cfg.pass, digest, sizeof(digest)))
		return false;
	return !strcmp(digest, t->Password->__item);
}

static const char *attr(struct soap *soap, const char *line, const char *key, char *buf, size_t cap)
{
	const char *v = soap_http_header_attribute(soap, line, key);

	snprintf(buf, cap, "%s", v ? v : "");
	return buf;
}

static bool digest_ok(struct sim *sim, struct soap *soap)
{
	char user[64], realm[64], nonce[64], uri[256], resp[80], qop[16], nc[16], cnonce[64];
	char alg[24], ha1[65], ha2[65], want[65], tmp[1024];
	const char *a = sim->authz;
	int n;

	if (!a[0])
		return false;
	attr(soap, a, "username", user, sizeof(user));
	attr(soap, a, "realm", realm, sizeof(realm));
	attr(soap, a, "nonce", nonce, sizeof(nonce));
	attr(soap, a, "uri", uri, sizeof(uri));
	attr(soap, a, "response", resp, sizeof(resp));
	attr(soap, a, "qop", qop, sizeof(qop));
	attr(soap, a, "nc", nc, sizeof(nc));
	attr(soap, a, "cnonce", cnonce, sizeof(cnonce));
	attr(soap, a, "algorithm", alg, sizeof(alg));
	if (strcmp(user, sim->cfg.user) || strcmp(realm, "camsim") || strcmp(nonce, sim->nonce))
		return false;
	if (!alg[0])
		snprintf(alg, sizeof(alg), "MD5");
	n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", user, realm, sim->cfg.pass);
	onvif__digest_hash(alg, tmp, (size_t)n, ha1);
	n = snprintf(tmp, sizeof(tmp), "POST:%s", uri);
	onvif__digest_hash(alg, tmp, (size_t)n, ha2);
	if (qop[0])
		n = snprintf(tmp, sizeof(tmp), "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop,
			     ha2);
	else
		n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", ha1, nonce, ha2);
	onvif__digest_hash(alg, tmp, (size_t)n, want);
	return !strcmp(want, resp);
}

static int not_authorized(struct soap *soap)
{
	soap->header = NULL;
	return soap_sender_fault_subcode(soap, "\"http://www.onvif.org/ver10/error\":NotAuthorized",
					 "Sender not authorized", NULL);
}

int sim_check_auth(struct soap *soap, bool needed)
{
	struct sim *sim = soap->user;
	const struct _wsse__UsernameToken *t = soap->header && soap->header->wsse__Security
						       ? soap->header->wsse__Security->UsernameToken
						       : NULL;

	if (!sim->cfg.user[0])
		return SOAP_OK;
	if (sim->cfg.auth != SIM_AUTH_WSSE && digest_ok(sim, soap))
		return SOAP_OK;
	if (sim->cfg.auth != SIM_AUTH_DIGEST && t) {
		if (wsse_ok(sim, t))
			return SOAP_OK;
		return not_authorized(soap);
	}
	if (!needed)
		return SOAP_OK;
	soap->header = NULL;
	if (sim->cfg.auth == SIM_AUTH_WSSE)
		return not_authorized(soap);
	return 401;
}

/* ---- malformed replies -------------------------------------------------- */

static int raw_reply(struct soap *soap, int status, const char *extra, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
			 "%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, extra, len);

	if (write(soap->socket, head, (size_t)n) < 0 || (len && write(soap->socket, body, len) < 0))
		log_info("camsim: write: %m");
	return SOAP_STOP;
}

static int malformed(struct soap *soap, const char *kind)
{
	static const char trunc[] =
		"<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="
		"\"http://www.w3.org/2003/05/soap-envelope\"><SOAP-ENV:Body><tds:GetDevice";
	static const char huge[] =
		"<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="
		"\"http://www.w3.org/2003/05/soap-envelope\" "
		"xmlns:tds=\"http://www.onvif.org/ver10/"
		"device/wsdl\"><SOAP-ENV:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>";
	static const char fault11[] =
		"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/"
		"envelope/\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>"
		"Action not supported</faultstring></s:Fault></s:Body></s:Envelope>";
	struct sim *sim = soap->user;

	if (!strcmp(kind, "notxml"))
		return raw_reply(soap, 200, "", "<html><body>Hello</body></html>", 31);
	if (!strcmp(kind, "soap11fault"))
		return raw_reply(soap, 500, "", fault11, sizeof(fault11) - 1);
	if (!strcmp(kind, "redirect")) {
		char loc[300];

		snprintf(loc, sizeof(loc), "Location: http://%s:%d/onvif/moved\r\n", sim->host,
			 sim_http_port(sim));
		sim->cfg.malformed[0] = '\0'; /* the new location answers */
		return raw_reply(soap, 307, loc, "", 0);
	}
	if (!strcmp(kind, "oversized")) {
		size_t len = 2 * 1024 * 1024;
		char *big = malloc(len);
		int ret;

		if (!big)
			return SOAP_EOM;
		/* A well-formed start with a 2 MiB string in it. */
		memset(big, 'A', len);
		memcpy(big, huge, sizeof(huge) - 1);
		ret = raw_reply(soap, 200, "", big, len);
		free(big);
		return ret;
	}
	return raw_reply(soap, 200, "", trunc, sizeof(trunc) - 1);
}

int sim_begin(struct soap *soap, const char *op, bool auth_needed)
{
	struct sim *sim = soap->user;
	const char *m = sim->cfg.malformed;
	size_t n = strcspn(m, ":");
	int ret;

	if (sim->cfg.delay_ms > 0)
		usleep((useconds_t)sim->cfg.delay_ms * 1000);
	ret = sim_check_auth(soap, auth_needed);
	if (ret)
		return ret;
	if (n && ((n == 3 && !strncmp(m, "all", 3)) || (n == strlen(op) && !strncmp(m, op, n))))
		return malformed(soap, m[n] == ':' ? m + n + 1 : "truncated");
	return SOAP_OK;
}
