// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate uplink test`: is central reachable, and safely? Each step
 * builds on the one before and prints one verdict in plain words, so an
 * installer at the serial console can tell a DNS problem from a firewall,
 * a wrong CA, a stale pin, a missing client certificate or bad
 * credentials:
 *   url, dns, tcp, tls (chain + host name), pin, client certificate,
 *   auth + PUT, GET (round trip, bytes compared), DELETE (clean-up).
 * Settings come from the config file's [gateway] and [uplink] sections
 * (the link `camgate run` would use); options override them.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "net/tls.h"
#include "net/uplink.h"

#define TEST_TIMEOUT_MS 10000
#define TEST_BODY_MAX	256

struct test {
	struct uplink_cfg cfg;
	char host[256];
	char port[8];
	char url[UPLINK_URL_MAX];
	char body[TEST_BODY_MAX];
	char got[TEST_BODY_MAX];
	size_t got_len;
	char suite[96]; /* "TLSv1.3 / TLS_AES_128_GCM_SHA256" as libcurl reports it */
	int failed;
};

static void verdict(struct test *t, int ok, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ok: 1 pass, 0 fail, -1 skipped. The detail can quote what central or
 * its TLS stack said (certificate names, errors): escaped. */
static void verdict(struct test *t, int ok, const char *step, const char *fmt, ...)
{
	char msg[1024], safe[TERMSAFE_CAP(256)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("%-6s %-12s %s\n",
	       ok > 0	 ? "ok"
	       : ok == 0 ? "FAIL"
			 : "skip",
	       step, termsafe(msg, safe, sizeof(safe), NULL));
	fflush(stdout);
	if (!ok)
		t->failed++;
}

static int step_url(struct test *t)
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

static int step_dns(struct test *t, struct addrinfo **aip)
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

static int step_tcp(struct test *t, const struct addrinfo *ai)
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
	struct test *t = arg;
	size_t n = size * nmemb, take = n;

	if (take > sizeof(t->got) - 1 - t->got_len)
		take = sizeof(t->got) - 1 - t->got_len;
	memcpy(t->got + t->got_len, data, take);
	t->got_len += take;
	t->got[t->got_len] = '\0';
	return n;
}

static CURL *easy(struct test *t, const char *url, const struct tls_cfg *tls, char *err)
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
	struct test *t = arg;
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
static CURLcode handshake(struct test *t, const struct tls_cfg *tls, char *err)
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

static int step_tls(struct test *t)
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

static long request(struct test *t, const char *method, CURLcode *rcp, char *err)
{
	CURL *h = easy(t, t->url, &t->cfg.tls, err);
	long code = 0;

	*rcp = CURLE_OUT_OF_MEMORY;
	if (!h)
		return 0;
	if (!uplink_auth_apply(&t->cfg, h)) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (!strcmp(method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
		}
		*rcp = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	}
	curl_easy_cleanup(h);
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

static int step_roundtrip(struct test *t)
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
		verdict(t, 0, "put", "%s: %s (auth %s)", t->url,
			rc != CURLE_OK ? tls_explain(rc) : refusal(code, t->got),
			auth_names[t->cfg.auth]);
		if (rc == CURLE_OK)
			printf("                    HTTP %ld\n", code);
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

static const char usage_text[] =
	"usage: camgate [-c FILE] uplink test [--url URL] [--gateway ID] [--ca FILE]\n"
	"       [--pin sha256//B64] [--cert FILE] [--key FILE]\n"
	"       [--auth none|bearer|basic|sigv4] [--token T] [--user U] [--password P]\n"
	"       [--sigv4 aws:amz:REGION:SERVICE]\n\n"
	"Checks the link to central step by step (DNS, TCP, TLS chain and host\n"
	"name, pin, client certificate, authentication, PUT/GET round trip) and\n"
	"prints a verdict for each. Exit 0 when every step passed.\n\n"
	"Tests the central of the config file's [gateway] and [uplink] sections,\n"
	"with its sealed token or password opened as the daemon opens them; each\n"
	"option given overrides its setting. Without a config file, --url is\n"
	"required.\n";

static int parse_auth(const char *s)
{
	static const char *const names[] = { "none", "bearer", "basic", "sigv4" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Options into @o, whose NULL strings (and auth -1) mean "not given".
 * Returns a CMD_* code when done (help, usage error), -1 to go on. */
static int parse_args(struct uplink_cfg *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", 1, NULL, 'u' },      { "gateway", 1, NULL, 'g' }, { "ca", 1, NULL, 'C' },
		{ "pin", 1, NULL, 'p' },      { "cert", 1, NULL, 'c' },	   { "key", 1, NULL, 'k' },
		{ "auth", 1, NULL, 'a' },     { "token", 1, NULL, 't' },   { "user", 1, NULL, 'U' },
		{ "password", 1, NULL, 'P' }, { "sigv4", 1, NULL, 's' },   { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->auth = -1;
	optind = 1;
	while ((c = cmd_getopt("uplink test", argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'u':
			o->base_url = optarg;
			break;
		case 'g':
			o->gateway_id = optarg;
			break;
		case 'C':
			o->tls.ca_file = optarg;
			break;
		case 'p':
			o->tls.pin = optarg;
			break;
		case 'c':
			o->tls.cert_file = optarg;
			break;
		case 'k':
			o->tls.key_file = optarg;
			break;
		case 'a':
			o->auth = parse_auth(optarg);
			if (o->auth < 0) {
				log_err("uplink test: unknown auth '%s'", optarg);
				return CMD_USAGE;
			}
			break;
		case 't':
			o->token = optarg;
			break;
		case 'U':
			o->username = optarg;
			break;
		case 'P':
			o->password = optarg;
			break;
		case 's':
			o->sigv4 = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		log_err("uplink test: unexpected argument '%s'", argv[optind]);
		return CMD_USAGE;
	}
	return -1;
}

/* The options given win over the file's settings. */
static void apply_overrides(struct uplink_cfg *u, const struct uplink_cfg *o)
{
	const char **dst[] = { &u->base_url,	  &u->gateway_id,   &u->tls.ca_file, &u->tls.pin,
			       &u->tls.cert_file, &u->tls.key_file, &u->token,	     &u->username,
			       &u->password,	  &u->sigv4 };
	const char *const src[] = { o->base_url,      o->gateway_id,   o->tls.ca_file, o->tls.pin,
				    o->tls.cert_file, o->tls.key_file, o->token,       o->username,
				    o->password,      o->sigv4 };

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (src[i])
			*dst[i] = src[i];
	if (o->auth >= 0)
		u->auth = o->auth;
}

/* The config file's [uplink], when there is a file, with its sealed
 * values opened as the daemon opens them; *cfgp owns the strings @u
 * borrows. Without a file only the options count, and they must name
 * central. Returns a CMD_* code to stop with, or -1 to go on. */
static int load_settings(const struct cmd_ctx *ctx, const struct uplink_cfg *o,
			 struct uplink_cfg *u, struct config **cfgp)
{
	struct secrets *sec = NULL;
	struct config *cfg;
	int ret;

	uplink_cfg_defaults(u);
	u->gateway_id = "camgate";
	if (access(ctx->config_path, F_OK) && errno == ENOENT) {
		if (!o->base_url) {
			log_err("uplink test: no config file %s and no --url", ctx->config_path);
			return CMD_USAGE;
		}
		return -1;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	*cfgp = cfg;
	if (secrets_is_sealed(cfg->uplink.token) || secrets_is_sealed(cfg->uplink.password)) {
		ret = secrets_open(cfg->state_dir, &sec);
		if (!ret)
			ret = secrets_config_reveal(sec, cfg);
		secrets_close(sec);
		if (ret)
			return CMD_FAIL;
	}
	config_uplink_fill(cfg, u);
	if (!*u->base_url && !o->base_url) {
		log_err("uplink test: %s has no [uplink] base_url, and no --url was given",
			ctx->config_path);
		return CMD_USAGE;
	}
	return -1;
}

static int run_test(struct test *t)
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
	printf("%s\n", t->failed ? "verdict: central is NOT usable (see FAIL above)"
				 : "verdict: central is reachable and accepts our uploads");
	return t->failed ? CMD_FAIL : CMD_OK;
}

int cmd_uplink(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct uplink_cfg over = { 0 };
	struct config *cfg = NULL;
	struct test *t;
	int ret;

	if (argc < 2 || strcmp(argv[1], "test")) {
		fputs(usage_text, argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? CMD_OK : CMD_USAGE;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return CMD_FAIL;
	ret = parse_args(&over, argc - 1, argv + 1);
	if (ret < 0)
		ret = load_settings(ctx, &over, &t->cfg, &cfg);
	if (ret >= 0)
		goto out;
	apply_overrides(&t->cfg, &over);
	if (!uplink_id_ok(t->cfg.gateway_id)) {
		log_err("uplink test: gateway id '%s' is not [A-Za-z0-9._-]", t->cfg.gateway_id);
		ret = CMD_USAGE;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ret = CMD_FAIL;
		goto out;
	}
	ret = run_test(t);
	curl_global_cleanup();
out:
	config_free(cfg);
	free(t);
	return ret;
}
