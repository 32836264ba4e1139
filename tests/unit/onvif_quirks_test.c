// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif: replies as real camera firmware writes them, parsed by the same
 * path as a live call (onvif__replay). The fixtures are files in
 * tests/fuzz/corpus/onvif_reply/ (they seed the fuzzer too): first line the
 * operation, then the HTTP response. Run from the top of the tree, or set
 * ONVIF_FIXTURES to that folder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

#define FIXTURE_MAX (256 * 1024)

struct quirk {
	const char *file;
	int ret;
	const char *want; /* substring of the summary (ret 0) or error */
};

static const struct quirk quirks[] = {
	{ "GetDeviceInformation-camsim", 0, "Camsim|SIM-1000|1.0.0|SN0001|HW-1" },
	{ "GetSystemDateAndTime-camsim", 0, "" },
	{ "GetServices-camsim", 0, "media2=http://127.0.0.1:18091/onvif/media2_service" },
	{ "GetCapabilities-camsim", 0, "media_service|http" },
	{ "GetScopes-camsim", 0, "6" },
	{ "GetProfiles-camsim", 0, "prof2 H264 640x360 15fps 512kbps ptz=ptz0" },
	{ "GetProfiles2-camsim", 0, "prof0 H264 1920x1080 25fps 4096kbps" },
	{ "GetStreamUri-camsim", 0, "rtsp://10.0.0.5:554/Streaming/Channels/101" },
	{ "GetStreamUri2-camsim", 0, "rtsp://10.0.0.5:554/Streaming/Channels/101" },
	{ "GetNodes-camsim", 0, "1" },
	{ "GetPresets-camsim", 0, "2" },
	{ "quirk-devinfo-prefixes", 0, "HIKVISION|DS-2CD2143G2-I|V5.7.3 build 220112|DS-" },
	{ "quirk-devinfo-default-ns-missing", 0, "Axis|M3045-V|||" },
	{ "quirk-soap11-fault-auth", -EACCES, "Sender not Authorized" },
	{ "quirk-soap12-fault-notauthorized", -EACCES, "NotAuthorized" },
	{ "quirk-soap12-fault-actionnotsupported", -EOPNOTSUPP, "ActionNotSupported" },
	{ "quirk-profiles-substreams", 0,
	  "Profile_1 H264 2560x1440 25fps 6144kbps ptz=node0; Profile_2 H264 640x360 15fps "
	  "512kbps ptz=node0; Profile_3 H265 1280x720 0fps 0kbps; Profile_4  0x0 0fps 0kbps" },
	{ "quirk-profiles2-h265-extensions", 0,
	  "M H265 3840x2160 12.5fps 8192kbps; S  0x0 0fps 0kbps" },
	{ "quirk-uri-default-ns",
	  0, "rtsp://192.168.1.64:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1" },
	{ "quirk-uri2-chunked", 0, "rtsp://169.254.1.20/axis-media/media.amp" },
	{ "quirk-datetime-local-only", -EBADMSG, "incomplete" },
	{ "quirk-datetime-1970", 0, "192000" },
	{ "quirk-redirect", -EPROTO, "HTTP 307" },
	{ "quirk-html-error-page", -EBADMSG, "malformed" },
	{ "quirk-truncated", -EBADMSG, "" },
	{ "quirk-wrong-element", -EBADMSG, "malformed" },
};

static char *load_from(const char *sub, const char *name, const char *ext)
{
	const char *dir = getenv("ONVIF_FIXTURES");
	char path[512];
	char *buf = malloc(FIXTURE_MAX + 1);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s/%s%s", dir ? dir : "tests/fuzz/corpus", sub, name, ext);
	f = fopen(path, "rb");
	if (!f || !buf) {
		fprintf(stderr, "# cannot read %s\n", path);
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, FIXTURE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *load(const char *name)
{
	return load_from("onvif_reply", name, ".http");
}

static void test_fixtures(void **state)
{
	struct soap *soap = onvif__soap_new();
	char out[1024], err[ONVIF_ERR_MAX];
	int failures = 0;

	(void)state;
	assert_non_null(soap);
	for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
		const struct quirk *q = &quirks[i];
		char *buf = load(q->file), *nl;
		int op, ret;

		assert_non_null(buf);
		nl = strchr(buf, '\n');
		assert_non_null(nl);
		op = onvif__reply_lookup(buf, (size_t)(nl - buf));
		assert_true(op >= 0);
		ret = onvif__replay(soap, op, nl + 1, out, sizeof(out), err, sizeof(err));
		if (ret != q->ret || !strstr(ret ? err : out, q->want)) {
			fprintf(stderr, "# %s: got %d \"%s\" / \"%s\", want %d \"%s\"\n", q->file,
				ret, out, err, q->ret, q->want);
			failures++;
		}
		free(buf);
	}
	onvif__soap_free(soap);
	assert_int_equal(failures, 0);
}

/* Every prefix of a fixture that cuts into its envelope fails cleanly: no
 * crash, never a success. */
static void test_truncations(void **state)
{
	struct soap *soap = onvif__soap_new();
	char out[1024], err[ONVIF_ERR_MAX];
	char *buf = load("quirk-profiles-substreams"), *nl;
	size_t len;
	int op, ok = 0;

	(void)state;
	assert_non_null(buf);
	nl = strchr(buf, '\n');
	op = onvif__reply_lookup(buf, (size_t)(nl - buf));
	/* Up to the end of the closing tag (a cut after it only loses the
	 * final empty chunk, and the XML is whole). */
	len = (size_t)(strstr(nl + 1, "</SOAP-ENV:Envelope>") - (nl + 1)) + 19;
	for (size_t cut = 0; cut < len; cut += 7) {
		char *copy = strndup(nl + 1, cut);

		if (!onvif__replay(soap, op, copy, out, sizeof(out), err, sizeof(err)))
			ok++;
		free(copy);
	}
	assert_int_equal(ok, 0);
	free(buf);
	onvif__soap_free(soap);
}

struct matches {
	int n;
	struct onvif_found f[4];
};

static int keep(void *arg, const struct onvif__wsdd_msg *m, struct onvif_found *f)
{
	struct matches *ms = arg;
	bool rw;

	(void)m;
	if (ms->n < 4) {
		onvif__pick_xaddr(f->xaddrs_raw, "192.168.1.64", f->xaddr, sizeof(f->xaddr), &rw);
		ms->f[ms->n++] = *f;
	}
	return 0;
}

/* WS-Discovery as other stacks write it. */
static void test_wsdd_quirks(void **state)
{
	struct soap *soap = onvif__soap_new();
	struct onvif__wsdd_msg m;
	struct matches ms = { .n = 0 };
	char *buf;

	(void)state;
	/* WS-Addressing 2005/08, other prefixes, two matches (one HTTPS only),
	 * a link-local IPv6 XAddr, a vendor scope and element. */
	buf = load_from("onvif_wsdd", "quirk-probematches-wsa2005", ".xml");
	assert_non_null(buf);
	assert_int_equal(onvif__wsdd_parse(soap, buf, &m, keep, &ms), 0);
	assert_int_equal(m.kind, ONVIF__PROBE_MATCH);
	assert_string_equal(m.relates_to, "urn:uuid:11111111-2222-4333-8444-555555555555");
	assert_int_equal(ms.n, 2);
	assert_string_equal(ms.f[0].endpoint, "urn:uuid:cam-1");
	assert_string_equal(ms.f[0].xaddr, "http://192.168.1.64/onvif/device_service");
	assert_string_equal(ms.f[0].scopes.name, "HIKVISION DS-2CD2143G2-I");
	assert_string_equal(ms.f[0].scopes.location, "city/hangzhou");
	assert_string_equal(ms.f[0].scopes.profiles, "Streaming,T");
	assert_string_equal(ms.f[1].xaddr, "");
	free(buf);
	/* The same in a SOAP 1.1 envelope. */
	ms.n = 0;
	buf = load_from("onvif_wsdd", "quirk-soap11-probematches", ".xml");
	assert_int_equal(onvif__wsdd_parse(soap, buf, &m, keep, &ms), 0);
	assert_int_equal(ms.n, 2);
	free(buf);
	/* A Hello without XAddrs. */
	ms.n = 0;
	buf = load_from("onvif_wsdd", "quirk-hello-no-xaddrs", ".xml");
	assert_int_equal(onvif__wsdd_parse(soap, buf, &m, keep, &ms), 0);
	assert_int_equal(m.kind, ONVIF__HELLO);
	assert_int_equal(ms.n, 1);
	assert_string_equal(ms.f[0].endpoint, "urn:uuid:cam-3");
	assert_int_equal(ms.f[0].metadata_version, 2);
	free(buf);
	/* Not WS-Discovery at all, and not XML at all. */
	assert_int_equal(
		onvif__wsdd_parse(soap,
				  "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/"
				  "soap-envelope\"><s:Body><x:Y xmlns:x=\"urn:x\"/></s:Body>"
				  "</s:Envelope>",
				  &m, keep, &ms),
		-ENOMSG);
	assert_int_equal(onvif__wsdd_parse(soap, "M-SEARCH * HTTP/1.1\r\n\r\n", &m, keep, &ms),
			 -EBADMSG);
	onvif__soap_free(soap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_wsdd_quirks),
	};

	log_init("onvif_quirks_test", LOG_DEST_PLAIN, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
