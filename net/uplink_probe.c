// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_probe - the steps of `camgate uplink test` (net/uplink_probe.h).
 * Each step opens its own socket or curl handle, so one verdict never
 * rides on a connection an earlier step left open.
 */
#include "net/uplink_probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sha256.h"
#include "net/tls.h"
#include "net/uplink_int.h"

#define TEST_TIMEOUT_MS 10000
#define TEST_BODY_MAX	256

struct probe {
	struct uplink_cfg cfg; /* strings borrowed from the caller's */
	void (*fn)(void *arg, const struct uplink_probe_step *s);
	void *arg;
	struct uplink_probe_step step;
	char host[256];
	char port[8];
	char url[UPLINK_URL_MAX];
	char body[TEST_BODY_MAX];
	char got[TEST_BODY_MAX];
	size_t got_len;
	char suite[96]; /* "TLSv1.3 / TLS_AES_128_GCM_SHA256" as libcurl reports it */
};

static void verdict(struct probe *t, int ok, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ok: 1 pass, 0 fail, -1 skipped. */
static void verdict(struct probe *t, int ok, const char *step, const char *fmt, ...)
{
	va_list ap;

	t->step.name = step;
	t->step.verdict = ok;
	va_start(ap, fmt);
	vsnprintf(t->step.detail, sizeof(t->step.detail), fmt, ap);
	va_end(ap);
	t->fn(t->arg, &t->step);
	t->step.http_code = 0;
}

static int step_url(struct probe *t)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int ok = tls_url_ok(t->cfg.base_url) && u &&
		 curl_url_set(u, CURLUPART_URL, t->cfg.base_url, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;

	if (ok) {
		/* [v6] literals come back bracketed; getaddrinfo wants them bare. */
		size_t n = strlen(host);
		bool br = host[0] == '[' && n > 2;

		snprintf(t->host, sizeof(t->host), "%.*s", (int)(br ? n - 2 : n), host + br);
		snprintf(t->port, sizeof(t->port), "%s", port);
		verdict(t, 1, "url", "%s (https, host %s, port %s)", t->cfg.base_url, t->host,
			t->port);
	} else {
		verdict(t, 0, "url", "'%s' is not an https:// URL; plaintext is never used",
			t->cfg.base_url ? t->cfg.base_url : "");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok ? 0 : -EINVAL;
}

static int step_dns(struct probe *t, struct addrinfo **aip)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char addr[INET6_ADDRSTRLEN] = "?";
	int rc = getaddrinfo(t->host, t->port, &hints, aip);

	if (rc) {
		verdict(t, 0, "dns", "%s does not resolve: %s", t->host, gai_strerror(rc));
		return -ENOENT;
	}
	getnameinfo((*aip)->ai_addr, (*aip)->ai_addrlen, addr, sizeof(addr), NULL, 0,
		    NI_NUMERICHOST);
	verdict(t, 1, "dns", "%s is %s", t->host, addr);
	return 0;
}

static int tcp_connect(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		err = errno;
	else if (poll(&p, 1, TEST_TIMEOUT_MS) != 1)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	close(fd);
	return -err;
}

static int step_tcp(struct probe *t, const struct addrinfo *ai)
{
	int ret = tcp_connect(ai);

	if (ret)
		verdict(t, 0, "tcp", "cannot connect to %s port %s: %s%s", t->host, t->port,
			strerror(-ret),
			ret == -ECONNREFUSED ? " (nothing listens there)"
			: ret == -ETIMEDOUT  ? " (no answer: a firewall may drop it)"
					     : "");
	else
		verdict(t, 1, "tcp", "connected to %s port %s", t->host, t->port);
	return ret;
}

static size_t sink(char *data, size_t size, size_t nmemb, void *arg)
{
	struct probe *t = arg;
	size_t n = size * nmemb, take = n;

	if (take > sizeof(t->got) - 1 - t->got_len)
		take = sizeof(t->got) - 1 - t->got_len;
	memcpy(t->got + t->got_len, data, take);
	t->got_len += take;
	t->got[t->got_len] = '\0';
	return n;
}

static CURL *easy(struct probe *t, const char *url, const struct tls_cfg *tls, char *err)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	err[0] = '\0';
	t->got_len = 0;
	t->got[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)TEST_TIMEOUT_MS) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, t) != CURLE_OK || tls_apply(h, tls)) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

/* libcurl names the protocol and suite it got in one informational line,
 * whatever its TLS library; camgate does not link that library itself. */
static int note_suite(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	static const char tag[] = "SSL connection using ";
	struct probe *t = arg;
	size_t n;

	(void)h;
	if (type != CURLINFO_TEXT || size <= sizeof(tag) - 1 || memcmp(data, tag, sizeof(tag) - 1))
		return 0;
	data += sizeof(tag) - 1;
	size -= sizeof(tag) - 1;
	/* Not NUL-terminated: bounded by @size. */
	for (n = 0; n < size && data[n] != '\r' && data[n] != '\n'; n++)
		;
	snprintf(t->suite, sizeof(t->suite), "%.*s", (int)n, data);
	return 0;
}

/* A TLS handshake only (CONNECT_ONLY) with @tls. */
static CURLcode handshake(struct probe *t, const struct tls_cfg *tls, char *err)
{
	CURL *h = easy(t, t->cfg.base_url, tls, err);
	CURLcode rc;

	if (!h)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, note_suite);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, t);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return rc;
}

static int step_tls(struct probe *t)
{
	struct tls_cfg chain = { .ca_file = t->cfg.tls.ca_file };
	char err[CURL_ERROR_SIZE];
	CURLcode rc = handshake(t, &chain, err);
	const char *ca = chain.ca_file && *chain.ca_file ? chain.ca_file : "the system CA store";

	if (rc != CURLE_OK) {
		verdict(t, 0, "tls", "%s (%s); CA: %s", tls_explain(rc), err, ca);
		return -EPROTO;
	}
	verdict(t, 1, "tls", "certificate chain valid against %s, host name matches%s%s", ca,
		t->suite[0] ? "; " : "", t->suite);
	if (t->cfg.tls.pin && *t->cfg.tls.pin) {
		chain.pin = t->cfg.tls.pin;
		rc = handshake(t, &chain, err);
		if (rc != CURLE_OK) {
			verdict(t, 0, "pin", "%s (%s)", tls_explain(rc), err);
			return -EPROTO;
		}
		verdict(t, 1, "pin", "server public key matches the pin");
	} else {
		verdict(t, -1, "pin", "no pin configured");
	}
	if (!t->cfg.tls.cert_file || !*t->cfg.tls.cert_file) {
		verdict(t, -1, "client-cert", "none configured (central may not need one)");
		return 0;
	}
	rc = handshake(t, &t->cfg.tls, err);
	if (rc != CURLE_OK) {
		verdict(t, 0, "client-cert", "%s (%s)", tls_explain(rc), err);
		return -EPROTO;
	}
	verdict(t, 1, "client-cert", "%s loaded and offered", t->cfg.tls.cert_file);
	return 0;
}

/* SigV4 over a body libcurl hashes but does not announce: an S3 server
 * (radosgw) then assumes UNSIGNED-PAYLOAD and the signatures differ.
 * Sending x-amz-content-sha256 makes both sides hash the same. */
static struct curl_slist *payload_hash(const struct probe *t, const char *body)
{
	uint8_t sum[SHA256_LEN];
	char line[40 + 2 * SHA256_LEN + 1];

	if (t->cfg.auth != UPLINK_AUTH_SIGV4 || sha256_oneshot(body, strlen(body), sum))
		return NULL;
	hex_encode(sum, sizeof(sum), line + snprintf(line, 40, "x-amz-content-sha256: "));
	return curl_slist_append(NULL, line);
}

static long request(struct probe *t, const char *method, CURLcode *rcp, char *err)
{
	CURL *h = easy(t, t->url, &t->cfg.tls, err);
	struct curl_slist *hdrs = payload_hash(t, strcmp(method, "PUT") ? "" : t->body);
	long code = 0;

	*rcp = CURLE_OUT_OF_MEMORY;
	if (!h) {
		curl_slist_free_all(hdrs);
		return 0;
	}
	if (!uplink__auth_apply(&t->cfg, h)) {
		if (hdrs)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (!strcmp(method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
		}
		*rcp = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return code;
}

static const char *refusal(long code, const char *body)
{
	if (code == 401 || code == 403)
		return "central refused the credentials";
	if (code == 400 && strstr(body, "SSL certificate"))
		return "central requires a client certificate it accepts";
	if (code == 404 || code == 405 || code == 409)
		return "central does not accept PUT under this URL";
	if (code == 413)
		return "central refuses the body size";
	return "central refused the request";
}

static int step_roundtrip(struct probe *t)
{
	static const char *const auth_names[] = { "none", "bearer", "basic", "sigv4" };
	char err[CURL_ERROR_SIZE], name[32];
	uint32_t rnd = 0;
	CURLcode rc;
	long code;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)time_mono_ms();
	snprintf(name, sizeof(name), "%08x.txt", rnd);
	snprintf(t->body, sizeof(t->body), "camgate uplink test %s %lld\n", t->cfg.gateway_id,
		 (long long)time_now_ms());
	if (snprintf(t->url, sizeof(t->url), "%s%sgateways/%s/uplink-test/%s", t->cfg.base_url,
		     t->cfg.base_url[strlen(t->cfg.base_url) - 1] == '/' ? "" : "/",
		     t->cfg.gateway_id, name) >= (int)sizeof(t->url))
		return -E2BIG;
	code = request(t, "PUT", &rc, err);
	if (rc != CURLE_OK || code < 200 || code > 299) {
		if (rc == CURLE_OK)
			t->step.http_code = code;
		verdict(t, 0, "put", "%s: %s (auth %s)", t->url,
			rc != CURLE_OK ? tls_explain(rc) : refusal(code, t->got),
			auth_names[t->cfg.auth]);
		return -EACCES;
	}
	verdict(t, 1, "put", "HTTP %ld, auth %s accepted", code, auth_names[t->cfg.auth]);
	code = request(t, "GET", &rc, err);
	if (rc != CURLE_OK || code != 200 || strcmp(t->got, t->body))
		verdict(t, 0, "get", "reading it back gave %s%ld%s", rc ? tls_explain(rc) : "HTTP ",
			rc ? 0L : code, code == 200 ? " with different bytes" : "");
	else
		verdict(t, 1, "get", "read back, %zu bytes identical", strlen(t->body));
	code = request(t, "DELETE", &rc, err);
	verdict(t, rc == CURLE_OK && code >= 200 && code < 300 ? 1 : -1, "delete", "clean-up %s",
		rc == CURLE_OK && code < 300 ? "done" : "not allowed (harmless)");
	return 0;
}

static void run_steps(struct probe *t)
{
	struct addrinfo *ai = NULL;
	int ret;

	ret = step_url(t);
	if (!ret && tls_cfg_check(&t->cfg.tls)) {
		verdict(t, 0, "settings", "the TLS files or the pin are unusable (see above)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = step_dns(t, &ai);
	if (!ret)
		ret = step_tcp(t, ai);
	if (ai)
		freeaddrinfo(ai);
	if (!ret)
		ret = step_tls(t);
	if (!ret)
		step_roundtrip(t);
}

int uplink_probe(const struct uplink_cfg *cfg,
		 void (*fn)(void *arg, const struct uplink_probe_step *s), void *arg)
{
	struct probe *t;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("uplink test: libcurl cannot be set up");
		return -EIO;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	t->cfg = *cfg;
	t->fn = fn;
	t->arg = arg;
	run_steps(t);
	free(t);
	curl_global_cleanup();
	return 0;
}
