/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls - the one place where a libcurl handle gets its transport security.
 *
 * Every handle that talks to central goes through tls_apply(), so the
 * rules hold for the uplink, `camgate uplink test` and anything later:
 *  T1  https only: CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR
 *      are "https", so neither the URL nor a redirect can reach plaintext.
 *  T2  The peer is always verified: chain (CA bundle or the system store)
 *      and host name. There is no switch to turn this off.
 *  T3  TLS 1.2 or newer.
 *  T4  Optional public-key pin (CURLOPT_PINNEDPUBLICKEY): the server's key
 *      must match one of the "sha256//BASE64" hashes, on top of T2.
 *  T5  Optional client certificate and key (mTLS), PEM.
 *  T6  Cipher suites in the order this CPU runs fastest: AES-128-GCM
 *      first when it has AES and carry-less multiply instructions,
 *      ChaCha20-Poly1305 first when it does not. Only the order changes,
 *      not which suites are allowed; the server may impose its own.
 *
 * Ownership: the strings in struct tls_cfg are borrowed; libcurl copies
 * them in tls_apply(), so they need not outlive the call.
 */
#ifndef CAMGATE_NET_TLS_H
#define CAMGATE_NET_TLS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#define TLS_PIN_MAX 512 /* "sha256//...;sha256//..." bytes */

struct tls_cfg {
	const char *ca_file;   /* PEM bundle; NULL or "": system store */
	const char *pin;       /* NULL or "": no pin */
	const char *cert_file; /* PEM client certificate; NULL: none */
	const char *key_file;  /* PEM key; NULL: key is in cert_file */
};

/* True when @url is an absolute https:// URL with a host. */
bool tls_url_ok(const char *url);

/* Check @cfg without touching the network: files readable, pin syntax,
 * key given only with a certificate. Logs the first problem.
 * -EINVAL: bad pin or key without cert. -ENOENT/-EACCES: file. */
int tls_cfg_check(const struct tls_cfg *cfg);

/* Set T1-T6 on @h. -EINVAL: libcurl refused an option (logged). */
int tls_apply(CURL *h, const struct tls_cfg *cfg);

/* True when libcurl's @curl_code says central's identity did not verify
 * (chain, host name, pin) or our own trust files are unusable: a fault of
 * configuration or an attack, never of the network, so it is an alarm. */
bool tls_is_trust_error(int curl_code);

/* Plain words for a failed transfer's libcurl code, for logs and for
 * `camgate uplink test` ("the server's certificate is not signed by the
 * configured CA"). Never NULL. */
const char *tls_explain(int curl_code);

#endif /* CAMGATE_NET_TLS_H */
