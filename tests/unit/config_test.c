// SPDX-License-Identifier: GPL-2.0-or-later
/* config: parsing, defaults, overrides and every class of error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/config.h"
#include "firmware/secrets.h"
#include "lib/log.h"

static char cfg_path[] = "/tmp/camgate-config-test-XXXXXX";
static char err_path[] = "/tmp/camgate-config-err-XXXXXX";
static char errbuf[8192];
static mode_t load_mode = 0600; /* of the file load() writes */

/* Loads @text; the error lines logged on the way land in errbuf. */
static int load(const char *text, struct config **cfgp)
{
	int fd = mkstemp(cfg_path), efd = mkstemp(err_path);
	int saved = dup(STDERR_FILENO);
	FILE *f;
	size_t n;
	int ret;

	assert_true(fd >= 0 && efd >= 0);
	assert_int_equal(fchmod(fd, load_mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	fflush(stderr);
	dup2(efd, STDERR_FILENO);
	ret = config_load(cfg_path, cfgp);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(efd, "r");
	rewind(f);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, f);
	errbuf[n] = '\0';
	fclose(f);
	unlink(cfg_path);
	unlink(err_path);
	memcpy(cfg_path + strlen(cfg_path) - 6, "XXXXXX", 6);
	memcpy(err_path + strlen(err_path) - 6, "XXXXXX", 6);
	return ret;
}

static void test_good_file(void **state)
{
	struct config *cfg = NULL;
	const struct config_camera *cam;

	(void)state;
	assert_int_equal(load("[gateway]\nid = gw-7\n"
			      "[storage]\ndir = /tmp/r\nextents = 4\nextent_size = 2M\n"
			      "retention_floor = 2h\non_full = stop\n"
			      "[stream]\nsegment_duration = 2s\nstall_timeout = 500ms\n"
			      "[camera:door]\nurl = rtsp://10.0.0.2/s1\nusername = u\n"
			      "password = p\n"
			      "[camera:yard]\nurl = rtsp://10.0.0.3/s1\nenabled = no\n"
			      "transport = udp\nsegment_duration = 6s\n",
			      &cfg),
			 0);
	assert_string_equal(cfg->gateway_id, "gw-7");
	assert_int_equal(cfg->extents, 4);
	assert_int_equal(cfg->extent_bytes, 2u << 20);
	assert_int_equal(cfg->retention_floor_ms, 7200000);
	assert_int_equal(cfg->on_full, CONFIG_ON_FULL_STOP);
	assert_int_equal(cfg->ncameras, 2);
	cam = config_camera_find(cfg, "door");
	assert_non_null(cam);
	assert_true(cam->enabled);
	assert_string_equal(cam->password, "p");
	assert_int_equal(cam->stream.segment_ms, 2000); /* from [stream] */
	assert_int_equal(cam->stream.stall_ms, 500);
	assert_int_equal(cam->stream.transport, 0);
	cam = config_camera_find(cfg, "yard");
	assert_false(cam->enabled);
	assert_int_equal(cam->stream.segment_ms, 6000); /* overridden */
	assert_int_equal(cam->stream.transport, 1);
	assert_int_equal(cam->stream.stall_ms, 500);
	assert_null(config_camera_find(cfg, "nope"));
	config_free(cfg);
}

static void test_defaults(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(load("[camera:a]\nurl = rtsp://h/a\n", &cfg), 0);
	assert_string_equal(cfg->gateway_id, "camgate");
	assert_int_equal(cfg->stream.segment_ms, 4000);
	assert_int_equal(cfg->stream.backoff_max_ms, 60000);
	/* R10: nothing under the floor goes unless the operator says evict. */
	assert_int_equal(cfg->on_full, CONFIG_ON_FULL_STOP);
	assert_true(cfg->cameras[0].enabled);
	config_free(cfg);
}

static void expect_error(const char *text, const char *needle)
{
	struct config *cfg = NULL;

	assert_int_equal(load(text, &cfg), -EINVAL);
	assert_null(cfg);
	if (!strstr(errbuf, needle))
		fail_msg("expected '%s' in: %s", needle, errbuf);
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("[gateway]\nid = a\ncolour = blue\n", ":3: colour: unknown key in [gateway]");
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A mistyped header is one error at the header, with a hint, however
 * many keys follow it. */
static void test_unknown_section(void **state)
{
	(void)state;
	expect_error(
		"[gatway]\nid = a\n",
		":1: gatway: unknown section: its keys are not read (did you mean [gateway]?)");
	expect_error("[uplnk]\nbase_url = https://a\nparallel = 2\nrate_limit = 0\n",
		     ":1: uplnk: unknown section: its keys are not read (did you mean [uplink]?)");
	assert_int_equal(count_of(errbuf, "unknown section"), 1);
	assert_int_equal(count_of(errbuf, "parallel"), 0);
	expect_error("[cameras]\nurl = rtsp://a/\n", "(a camera is [camera:NAME])");
}

/* A directory opens and reads as nothing: never an empty, valid config. */
static void test_directory_refused(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load("/tmp", &cfg), -EISDIR);
	assert_null(cfg);
	assert_int_equal(config_load("/dev/null", &cfg), -EINVAL);
	assert_null(cfg);
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("[storage]\nextents = 1\n", ":2: extents: must be between 2 and 65535");
	expect_error("[storage]\nextents = 12abc\n", ":2: extents: must be between");
	expect_error("[storage]\nextent_size = 10K\n", ":2: extent_size: must be between");
	expect_error("[stream]\nsegment_duration = 10 s\n",
		     "segment_duration: expected a duration");
	expect_error("[stream]\ntransport = sctp\n", "transport: expected tcp or udp");
	expect_error("[camera:a]\nurl = rtsp://x/y\nenabled = maybe\n",
		     ":3: enabled: expected yes or no");
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("[camera:a]\nurl = rtsp://x/1\n[camera:b]\nurl = rtsp://x/2\n"
		     "[camera:a]\nurl = rtsp://x/3\n",
		     ":5: a: duplicate camera name (first defined on line 1)");
	/* Adjacent, with keys that do not collide: still a duplicate. */
	expect_error("[camera:a]\nurl = rtsp://x/1\n[camera:a]\nusername = u\n",
		     ":3: a: duplicate camera name (first defined on line 1)");
	expect_error("[gateway]\nid = a\nid = b\n", ":3: id: set twice in [gateway]");
	/* A row past the 64th of the settings table (the seen bits were
	 * one 64-bit word: shifted past it, undefined, never caught). */
	expect_error("[camera:a]\nurl = rtsp://x/1\nretention_floor = 1h\nretention_floor = 2h\n",
		     ":4: retention_floor: set twice in [camera:a]");
}

static void test_camera_errors(void **state)
{
	(void)state;
	expect_error("[camera:a]\nenabled = yes\n", ":1: url: camera a has no url");
	expect_error("[camera:a]\nurl = http://x/\n", "url: not an rtsp:// URL");
	expect_error("[camera:bad/name]\nurl = rtsp://x/\n", "camera names are 1-31");
	expect_error("[camera:a]\nurl = rtsp://x/\nextents = 3\n",
		     ":3: extents: unknown key in [camera:a]");
}

static void test_all_errors_reported(void **state)
{
	(void)state;
	expect_error("[gateway]\nfoo = 1\nbar = 2\n", ":2: foo");
	assert_non_null(strstr(errbuf, ":3: bar"));
}

static void test_long_line_and_syntax(void **state)
{
	char text[600];

	(void)state;
	snprintf(text, sizeof(text), "[gateway]\nid = %0300d\n[storage]\nextents = 4\n", 7);
	expect_error(text, ":2: id: length must be 1 to 63 bytes");
	expect_error("[gateway\nid = a\n", ":1: -: syntax error");
}

/* "url = rtsp://h/" then @n - 15 'a' bytes, then @end: a line of exactly
 * @n bytes before its line end. */
static char *url_line_text(size_t n, const char *end, const char *after)
{
	size_t cap = n + 256;
	char *text = malloc(cap);
	int off;

	assert_non_null(text);
	off = snprintf(text, cap, "[camera:a]\nurl = rtsp://h/");
	memset(text + off, 'a', n - 15);
	snprintf(text + off + n - 15, cap - (size_t)off - (n - 15), "%s%s", end, after);
	return text;
}

/* The line limit is CONFIG_LINE_MAX bytes whatever the line end, and
 * nothing of an over-long line is taken as a key. */
static void test_line_limit(void **state)
{
	static const char *const ends[] = { "\n", "\r\n", "" };
	struct config *cfg = NULL;
	char *text;

	(void)state;
	for (size_t e = 0; e < 3; e++) {
		text = url_line_text(CONFIG_LINE_MAX, ends[e], "");
		/* Parses as a line, then url's own 1023 cap refuses it. */
		expect_error(text, ":2: url: length must be 8 to 1023 bytes");
		assert_null(strstr(errbuf, "line longer"));
		free(text);
		text = url_line_text(CONFIG_LINE_MAX + 1, ends[e], "");
		expect_error(text, ":2: -: line longer than 8192 bytes");
		free(text);
	}
	/* The tail of a long line is swallowed, the next line still counts. */
	text = url_line_text(3 * CONFIG_LINE_MAX, "\n", "bogus = 1\n");
	expect_error(text, ":2: -: line longer than 8192 bytes");
	assert_non_null(strstr(errbuf, ":3: bogus"));
	assert_null(strstr(errbuf, ":4:"));
	free(text);
	/* A long comment line is fine. */
	text = malloc(CONFIG_LINE_MAX + 64);
	assert_non_null(text);
	memset(text, '#', CONFIG_LINE_MAX);
	snprintf(text + CONFIG_LINE_MAX, 64, "\n[camera:a]\nurl = rtsp://h/\n");
	assert_int_equal(load(text, &cfg), 0);
	config_free(cfg);
	free(text);
}

/* The documented string limits hold: a value of the cap parses, one byte
 * more is refused by the setting, not by the line length. */
static void test_value_limits(void **state)
{
	struct config *cfg = NULL;
	char *text, *hol;
	size_t off;

	(void)state;
	text = url_line_text(1023 + 6, "\n", ""); /* "url = " is 6 bytes */
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(strlen(cfg->cameras[0].url), 1023);
	config_free(cfg);
	cfg = NULL;
	free(text);
	text = url_line_text(300 + 6, "\n", "");
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(strlen(cfg->cameras[0].url), 300);
	config_free(cfg);
	cfg = NULL;
	free(text);
	text = url_line_text(1024 + 6, "\n", "");
	expect_error(text, ":2: url: length must be 8 to 1023 bytes");
	free(text);

	/* 25 holidays on one line, then holidays at and over 4095 bytes. */
	text = malloc(8192);
	hol = malloc(8192);
	assert_non_null(text);
	assert_non_null(hol);
	off = 0;
	for (int i = 0; i < 25; i++)
		off += (size_t)snprintf(hol + off, 8192 - off, "%s2026-%02d-%02d", i ? "," : "",
					1 + i / 28, 1 + i % 28);
	snprintf(text, 8192, "[uplink]\nholidays = %s\n", hol);
	assert_int_equal(load(text, &cfg), 0);
	assert_string_equal(cfg->uplink.holidays, hol);
	config_free(cfg);
	cfg = NULL;
	memset(hol, 'x', 4095);
	hol[4095] = '\0';
	snprintf(text, 8192, "[uplink]\nholidays = %s\n", hol);
	assert_int_equal(load(text, &cfg), 0);
	assert_int_equal(strlen(cfg->uplink.holidays), 4095);
	config_free(cfg);
	cfg = NULL;
	memset(hol, 'x', 4096);
	hol[4096] = '\0';
	snprintf(text, 8192, "[uplink]\nholidays = %s\n", hol);
	expect_error(text, ":2: holidays: length must be 0 to 4095 bytes");
	free(hol);
	free(text);
}

static void test_missing_file(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load("/nonexistent/camgate.conf", &cfg), -ENOENT);
	assert_null(cfg);
}

static void test_uplink_section(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(load("[uplink]\nbase_url = https://central.example/x\nauth = sigv4\n"
			      "holidays = 2026-01-01\nholidays = 2026-04-30..2026-05-01\n"
			      "tz_offset = -60\n",
			      &cfg),
			 0);
	assert_string_equal(cfg->uplink.base_url, "https://central.example/x");
	assert_int_equal(cfg->uplink.auth, 3);
	assert_string_equal(cfg->uplink.holidays, "2026-01-01,2026-04-30..2026-05-01");
	assert_int_equal(cfg->uplink.tz_offset_min, -60);
	assert_int_equal(cfg->uplink.parallel, 4);
	config_free(cfg);
	expect_error("[uplink]\nbase_url = http://central.example/\n",
		     "base_url: central is reached over TLS only");
	expect_error("[uplink]\nauth = kerberos\n",
		     ":2: auth: expected none, bearer, basic or sigv4");
}

static void test_diff_helpers(void **state)
{
	struct config *a = NULL, *b = NULL;
	char buf[128];

	(void)state;
	assert_int_equal(load("[storage]\nextents = 4\n[camera:x]\nurl = rtsp://h/1\n"
			      "[camera:y]\nurl = rtsp://h/2\n",
			      &a),
			 0);
	assert_int_equal(load("[storage]\nextents = 5\nretention_floor = 1h\n"
			      "[camera:x]\nurl = rtsp://h/1\n"
			      "[camera:y]\nurl = rtsp://h/2\npassword = new\n",
			      &b),
			 0);
	assert_true(config_camera_same(config_camera_find(a, "x"), config_camera_find(b, "x")));
	assert_false(config_camera_same(config_camera_find(a, "y"), config_camera_find(b, "y")));
	/* extents needs a restart; retention_floor reloads. */
	assert_int_equal(config_restart_needed(a, b, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "storage.extents");
	config_free(a);
	config_free(b);
}

/* Who may set what comes from the table: the settings that decide where
 * accounts, secrets, the audit log or trust live are an admin's and never
 * central's; central's list is explicit and operational. */
static void test_setting_flags(void **state)
{
	static const char *const admin[][2] = {
		{ "gateway", "state_dir" },  { "gateway", "console_tty" }, { "storage", "dir" },
		{ "uplink", "base_url" },    { "uplink", "ca_file" },	   { "uplink", "pin" },
		{ "uplink", "client_cert" }, { "uplink", "client_key" },   { "uplink", "auth" },
		{ "uplink", "token" },	     { "uplink", "username" },	   { "uplink", "password" },
		{ "uplink", "sigv4" },
	};
	static const char *const central[][2] = {
		{ "storage", "retention_floor" },  { "stream", "segment_duration" },
		{ "gateway", "log_level" },	   { "uplink", "parallel" },
		{ "uplink", "commands_interval" },
	};
	static const char *const neither[][2] = {
		{ "gateway", "id" },  { "storage", "extents" },	     { "onvif", "password" },
		{ "onvif", "cidrs" }, { "uplink", "deadline_days" }, { "uplink", "holidays" },
		{ "camera", "url" },  { "camera", "password" },
	};
	static const char *const secret[][2] = {
		{ "uplink", "token" },
		{ "uplink", "password" },
		{ "onvif", "password" },
		{ "camera", "password" },
	};
	int fl;

	(void)state;
	for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++) {
		fl = config_setting_flags(admin[i][0], admin[i][1]);
		assert_true(fl >= 0);
		assert_true(fl & CONFIG_F_ADMIN);
		assert_false(fl & CONFIG_F_CENTRAL);
	}
	for (size_t i = 0; i < sizeof(central) / sizeof(central[0]); i++) {
		fl = config_setting_flags(central[i][0], central[i][1]);
		assert_int_equal(fl, CONFIG_F_CENTRAL);
	}
	for (size_t i = 0; i < sizeof(neither) / sizeof(neither[0]); i++) {
		fl = config_setting_flags(neither[i][0], neither[i][1]);
		assert_true(fl >= 0);
		assert_false(fl & (CONFIG_F_CENTRAL | CONFIG_F_ADMIN));
	}
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		assert_true(config_setting_flags(secret[i][0], secret[i][1]) & CONFIG_F_SECRET);
	assert_int_equal(config_setting_flags("uplink", "nosuch"), -ENOENT);
	assert_int_equal(config_setting_flags("nosuch", "dir"), -ENOENT);
}

/* A credential in the clear in a file others may read: loads, but
 * flagged (and warned); sealed, or owner-only, it is not. */
static void test_exposed_secret(void **state)
{
	static const char plain[] = "[onvif]\npassword = cam-pass\n";
	static const char cam[] = "[camera:c]\nurl = rtsp://h/x\npassword = p\n";
	static const char sealed[] = "[uplink]\ntoken = " SECRETS_PREFIX "AAAA\n";
	struct config *cfg;

	(void)state;
	log_set_level(LOG_WARNING);
	load_mode = 0644;
	assert_int_equal(load(plain, &cfg), 0);
	assert_true(cfg->secret_exposed);
	assert_non_null(strstr(errbuf, "onvif.password is stored unsealed"));
	config_free(cfg);
	load_mode = 0640;
	assert_int_equal(load(cam, &cfg), 0);
	assert_true(cfg->secret_exposed);
	assert_non_null(strstr(errbuf, "camera:c.password"));
	config_free(cfg);
	load_mode = 0644;
	assert_int_equal(load(sealed, &cfg), 0);
	assert_false(cfg->secret_exposed);
	config_free(cfg);
	load_mode = 0600;
	assert_int_equal(load(plain, &cfg), 0);
	assert_false(cfg->secret_exposed);
	assert_null(strstr(errbuf, "unsealed"));
	config_free(cfg);
	log_set_level(LOG_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_camera_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_long_line_and_syntax),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_value_limits),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_uplink_section),
		cmocka_unit_test(test_diff_helpers),
		cmocka_unit_test(test_setting_flags),
		cmocka_unit_test(test_exposed_secret),
		cmocka_unit_test(test_directory_refused),
	};

	log_init("config_test", LOG_DEST_PLAIN, LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
