// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the small text parsers cameras feed: scope lists,
 * XAddr lists and URI rewriting, HTTP Digest challenges (then a response
 * built from them) and HTTP dates. The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap *soap;
	struct onvif_scopes sc;
	struct onvif_digest d = { 0 };
	char out[ONVIF_URI_MAX], authz[ONVIF_AUTHZ_MAX];
	int64_t t;
	bool rw;
	char *s;

	if (!soap) {
		log_init("fuzz", LOG_DEST_PLAIN, LOG_CRIT);
		soap = onvif__soap_new();
		if (!soap)
			abort();
	}
	if (size < 1 || size > 8192)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		onvif_scopes_parse(s, &sc);
		break;
	case 1:
		onvif__pick_xaddr(s, "192.168.1.10", out, sizeof(out), &rw);
		break;
	case 2:
		onvif__rewrite_uri(s, "fe80::1", out, sizeof(out), &rw);
		onvif__rewrite_uri(s, "10.1.2.3", out, sizeof(out), &rw);
		break;
	case 3:
		if (!onvif__digest_challenge(soap, s, &d))
			onvif__digest_authz(&d, "admin", "pass", "POST", "/onvif/device_service",
					    "0a4f113b", authz, sizeof(authz));
		break;
	default:
		onvif__parse_http_date(s, &t);
		break;
	}
	free(s);
	return 0;
}
