// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TLS policy for every libcurl handle (rules T1-T6 in net/tls.h).
 */
#include "net/tls.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "lib/log.h"

bool tls_url_ok(const char *url)
{
	return url && !strncasecmp(url, "https://", 8) && url[8] && url[8] != '/';
}

static int file_check(const char *what, const char *path)
{
	if (!path || !*path)
		return 0;
	if (access(path, R_OK)) {
		int ret = -errno;

		log_err("uplink: %s %s: %m", what, path);
		return ret;
	}
	return 0;
}

/* "sha256//BASE64[;sha256//BASE64...]", the syntax libcurl accepts for
 * its OpenSSL and mbedtls back ends alike; a file name is not allowed so
 * the pin is data. */
static bool pin_ok(const char *pin)
{
	const char *p = pin;

	if (strlen(pin) >= TLS_PIN_MAX)
		return false;
	while (*p) {
		size_t n;

		if (strncmp(p, "sha256//", 8))
			return false;
		p += 8;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
		if (n != 44)
			return false;
		p += n;
		if (*p == ';')
			p++;
		else if (*p)
			return false;
	}
	return true;
}

int tls_cfg_check(const struct tls_cfg *cfg)
{
	int ret;

	if (cfg->pin && *cfg->pin && !pin_ok(cfg->pin)) {
		log_err("uplink: pin must be sha256//BASE64 (44 characters), ';'-separated");
		return -EINVAL;
	}
	if (cfg->key_file && *cfg->key_file && !(cfg->cert_file && *cfg->cert_file)) {
		log_err("uplink: a client key is set without a client certificate");
		return -EINVAL;
	}
	ret = file_check("CA file", cfg->ca_file);
	if (!ret)
		ret = file_check("client certificate", cfg->cert_file);
	if (!ret)
		ret = file_check("client key", cfg->key_file);
	return ret;
}

static bool cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
	unsigned long hw = getauxval(AT_HWCAP);

	return (hw & HWCAP_AES) && (hw & HWCAP_PMULL);
#else
	return false;
#endif
}

/*
 * T6. With AES instructions AES-128-GCM costs least (10 rounds to
 * AES-256's 14, the same GHASH; about 15 % less CPU per byte here, on
 * both ends). Without them OpenSSL runs AES in constant-time software
 * at a fraction of ChaCha20-Poly1305's speed: the Raspberry Pi 4's
 * Cortex-A72 has no crypto extensions. The lists only reorder what
 * OpenSSL enables: TLS 1.3 has these three suites, and the TLS 1.2 list
 * puts two forward-secret AEAD suites ahead of OpenSSL's DEFAULT, which
 * keeps the rest (duplicates keep their first place) and the system's
 * security level.
 *
 * On mbedtls (the images' lean runtime, docs/operations.md) there is
 * nothing to reorder: libcurl 7.88 takes no cipher list there, and
 * mbedtls 2.28's own order starts with ECDHE ChaCha20-Poly1305, which is
 * what both gateway boards want (neither core has AES instructions, and
 * mbedtls 2.28 has no ARMv8 AES code either). It speaks TLS 1.2 only,
 * T3's floor. T2's system store is Debian's CA bundle path, built in.
 * T2's host name check matches DNS names only: mbedtls 2.28 ignores IP
 * address SANs, so central is named by a host name on the images.
 * Client certificate and key (PEM, EC or RSA), CA file and pin are the
 * same options on both back ends (tests/integration/uplink/
 * test_lean_runtime.py).
 */
static const struct suite_order {
	const char *tls12, *tls13;
} suite_orders[2] = {
	{ "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DEFAULT",
	  "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384" },
	{ "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DEFAULT",
	  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256" },
};

static pthread_once_t suite_once = PTHREAD_ONCE_INIT;
static const struct suite_order *suite_chosen;

/* Neither the CPU nor libcurl's TLS back end changes while we run, and
 * tls_apply() runs for every request: decide once. */
static void suite_choose(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (v->ssl_version && !strncmp(v->ssl_version, "OpenSSL/", 8))
		suite_chosen = &suite_orders[cpu_has_aes()];
}

/* The order for this CPU, or NULL when libcurl's TLS back end is not
 * OpenSSL, whose cipher-string syntax the lists are written in. */
static const struct suite_order *suite_order(void)
{
	pthread_once(&suite_once, suite_choose);
	return suite_chosen;
}

static bool set(CURL *h, CURLoption opt, const char *val)
{
	return !val || !*val || curl_easy_setopt(h, opt, val) == CURLE_OK;
}

int tls_apply(CURL *h, const struct tls_cfg *cfg)
{
	const struct suite_order *order = suite_order();
	bool ok = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
		  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK &&
		  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		  curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) ==
			  CURLE_OK &&
		  set(h, CURLOPT_CAINFO, cfg->ca_file) &&
		  set(h, CURLOPT_PINNEDPUBLICKEY, cfg->pin) &&
		  set(h, CURLOPT_SSLCERT, cfg->cert_file) && set(h, CURLOPT_SSLKEY, cfg->key_file);

	if (!ok) {
		log_err("uplink: libcurl refused a TLS setting (built without https?)");
		return -EINVAL;
	}
	if (order && (curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, order->tls12) != CURLE_OK ||
		      curl_easy_setopt(h, CURLOPT_TLS13_CIPHERS, order->tls13) != CURLE_OK)) {
		log_err("uplink: libcurl refused the cipher order");
		return -EINVAL;
	}
	return 0;
}

bool tls_is_trust_error(int code)
{
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return true;
	default:
		return false;
	}
}

const char *tls_explain(int code)
{
	switch (code) {
	case CURLE_OK:
		return "ok";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "refused: the URL or a redirect is not https:// (plaintext is never used)";
	case CURLE_URL_MALFORMAT:
		return "the URL is malformed";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "the server's name does not resolve (DNS)";
	case CURLE_COULDNT_CONNECT:
		return "no TCP connection: the server is down or a firewall blocks the port";
	case CURLE_OPERATION_TIMEDOUT:
		return "timed out: the server stopped answering or the link is too slow";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "the server's certificate failed verification: not signed by the configured "
		       "CA, "
		       "expired, or issued for another host name";
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return "the server's public key does not match the configured pin";
	case CURLE_SSL_CACERT_BADFILE:
		return "the CA file cannot be read or holds no certificate";
	case CURLE_SSL_CERTPROBLEM:
		return "the client certificate cannot be loaded";
	case CURLE_SSL_CONNECT_ERROR:
		return "the TLS handshake failed (the server may require a client certificate, "
		       "or refused ours)";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return "the connection broke mid-transfer";
	case CURLE_GOT_NOTHING:
		return "the server closed the connection without an answer";
	case CURLE_TOO_MANY_REDIRECTS:
		return "too many redirects";
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return "the upload was stopped by the gateway";
	default:
		return curl_easy_strerror((CURLcode)code);
	}
}
