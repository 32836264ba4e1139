// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif: the device client against the simulated camera, in-process on
 * 127.0.0.1 (no multicast here; discovery is onvif_discovery_test and the
 * namespace tests). Clock offsets, both auth methods, wrong passwords,
 * Media1/Media2, malformed, slow and redirected replies, URI rewriting.
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

#include "drivers/onvif/onvif.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "tests/camsim/onvif_simsrv.h"

struct fix {
	struct sim *sim;
	struct onvif_dev *dev;
};

/* Start a camera with @cfg and a client for it with @user/@pass. */
static void start(struct fix *f, const struct sim_cfg *cfg, const char *user, const char *pass)
{
	assert_int_equal(sim_create(cfg, false, &f->sim), 0);
	assert_int_equal(sim_start(f->sim), 0);
	assert_int_equal(onvif_dev_open(sim_xaddr(f->sim), NULL, &f->dev), 0);
	if (user)
		assert_int_equal(onvif_dev_set_credentials(f->dev, user, pass), 0);
	onvif_dev_set_timeout(f->dev, 2000);
}

static void stop(struct fix *f)
{
	onvif_dev_close(f->dev);
	sim_destroy(f->sim);
}

static void cfg_auth(struct sim_cfg *c)
{
	sim_cfg_default(c);
	snprintf(c->user, sizeof(c->user), "admin");
	snprintf(c->pass, sizeof(c->pass), "s3cret");
}

static void test_no_auth_camera(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;

	(void)state;
	sim_cfg_default(&c);
	start(&f, &c, NULL, NULL);
	assert_int_equal(onvif_sync_clock(f.dev, NULL), 0);
	assert_true(onvif_dev_clock_known(f.dev));
	assert_true(llabs(onvif_dev_clock_offset_ms(f.dev)) < 2000);
	assert_int_equal(onvif_get_device_info(f.dev, &di), 0);
	assert_string_equal(di.manufacturer, "Camsim");
	assert_string_equal(di.model, "SIM-1000");
	assert_string_equal(di.serial, "SN0001");
	assert_int_equal(onvif_dev_auth(f.dev), ONVIF_AUTH_NONE);
	stop(&f);
}

/* UsernameToken with a camera clock off by @skew_s, or reset to 1970. */
static void wsse_with_skew(int64_t skew_s, bool epoch1970)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;
	int64_t expect;

	cfg_auth(&c);
	c.auth = SIM_AUTH_WSSE;
	c.skew_ms = skew_s * 1000;
	c.epoch1970 = epoch1970;
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_sync_clock(f.dev, NULL), 0);
	expect = epoch1970 ? 60000 - time_now_ms() : skew_s * 1000;
	assert_true(llabs(onvif_dev_clock_offset_ms(f.dev) - expect) < 2500);
	assert_int_equal(onvif_get_device_info(f.dev, &di), 0);
	assert_int_equal(onvif_dev_auth(f.dev), ONVIF_AUTH_WSSE);
	stop(&f);
}

static void test_wsse_skew_plus_1h(void **state)
{
	(void)state;
	wsse_with_skew(3600, false);
}

static void test_wsse_skew_minus_1h(void **state)
{
	(void)state;
	wsse_with_skew(-3600, false);
}

static void test_wsse_1970(void **state)
{
	(void)state;
	wsse_with_skew(0, true);
}

/* Without measuring the clock first, a skewed camera refuses WS-Security;
 * with HTTP Digest available the call still succeeds. */
static void test_wsse_unsynced_falls_back(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;

	(void)state;
	cfg_auth(&c);
	c.skew_ms = 7200 * 1000;
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_get_device_info(f.dev, &di), 0);
	assert_int_equal(onvif_dev_auth(f.dev), ONVIF_AUTH_DIGEST);
	stop(&f);
}

static void test_digest_only(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;
	unsigned int before;

	(void)state;
	cfg_auth(&c);
	c.auth = SIM_AUTH_DIGEST;
	c.auth_datetime = true;
	c.skew_ms = -3600 * 1000;
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_sync_clock(f.dev, NULL), 0);
	assert_true(llabs(onvif_dev_clock_offset_ms(f.dev) + 3600000) < 2500);
	assert_int_equal(onvif_get_device_info(f.dev, &di), 0);
	assert_int_equal(onvif_dev_auth(f.dev), ONVIF_AUTH_DIGEST);
	/* Known method and nonce: one request per call from now on. */
	before = onvif_dev_requests(f.dev);
	assert_int_equal(onvif_get_device_info(f.dev, &di), 0);
	assert_int_equal(onvif_dev_requests(f.dev), before + 1);
	stop(&f);
}

static void test_wrong_password(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;
	unsigned int before;

	(void)state;
	cfg_auth(&c);
	start(&f, &c, "admin", "wrong");
	assert_int_equal(onvif_sync_clock(f.dev, NULL), 0);
	before = sim_requests(f.sim);
	assert_int_equal(onvif_get_device_info(f.dev, &di), -EACCES);
	assert_non_null(strstr(onvif_dev_error(f.dev), "credentials refused"));
	/* WS-Security, a bare request for the challenge, Digest: no more. */
	assert_true(sim_requests(f.sim) - before <= 3);
	stop(&f);
}

static void test_no_credentials(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;

	(void)state;
	cfg_auth(&c);
	start(&f, &c, NULL, NULL);
	assert_int_equal(onvif_get_device_info(f.dev, &di), -EACCES);
	assert_non_null(strstr(onvif_dev_error(f.dev), "requires credentials"));
	stop(&f);
}

static void check_profiles(struct onvif_dev *dev, const char *encoding)
{
	struct onvif_profile p[ONVIF_PROFILES_MAX];
	size_t n;

	assert_int_equal(onvif_get_profiles(dev, p, ONVIF_PROFILES_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].token, "prof0");
	assert_string_equal(p[0].encoding, encoding);
	assert_int_equal(p[0].width, 1920);
	assert_int_equal(p[1].height, 360);
	assert_int_equal(p[0].bitrate_kbps, 4096);
	assert_int_equal(onvif_get_stream_uri(dev, &p[1]), 0);
	assert_string_equal(p[1].stream_uri, "rtsp://127.0.0.1:8554/cam1");
}

static void test_media1_only(void **state)
{
	struct sim_cfg c;
	struct fix f;

	(void)state;
	cfg_auth(&c);
	c.no_media2 = true;
	c.nprofiles = 3;
	snprintf(c.rtsp, sizeof(c.rtsp), "rtsp://127.0.0.1:8554/cam1");
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_get_services(f.dev), 0);
	assert_false(onvif_dev_has_media2(f.dev));
	check_profiles(f.dev, "H264");
	stop(&f);
}

static void test_media2_only(void **state)
{
	struct sim_cfg c;
	struct fix f;

	(void)state;
	cfg_auth(&c);
	c.no_media1 = true;
	c.h265 = true;
	c.nprofiles = 3;
	snprintf(c.rtsp, sizeof(c.rtsp), "rtsp://127.0.0.1:8554/cam1");
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_get_services(f.dev), 0);
	assert_true(onvif_dev_has_media2(f.dev));
	check_profiles(f.dev, "H265");
	stop(&f);
}

static void test_rewrite(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_camera cam;

	(void)state;
	sim_cfg_default(&c);
	/* A camera that believes it is link-local and streams from there. */
	snprintf(c.advertise_host, sizeof(c.advertise_host), "169.254.10.20");
	snprintf(c.rtsp, sizeof(c.rtsp), "rtsp://169.254.10.20:554/live");
	assert_int_equal(sim_create(&c, false, &f.sim), 0);
	assert_int_equal(sim_start(f.sim), 0);
	/* Discovery gives the advertised XAddr and the address that answered. */
	assert_int_equal(onvif_dev_open(sim_xaddr(f.sim), "127.0.0.1", &f.dev), 0);
	assert_non_null(strstr(onvif_dev_xaddr(f.dev), "http://127.0.0.1:"));
	memset(&cam, 0, sizeof(cam));
	assert_int_equal(onvif_interrogate(f.dev, &cam), 0);
	assert_int_equal(cam.media_version, 2);
	assert_string_equal(cam.profiles[0].stream_uri, "rtsp://127.0.0.1:554/live");
	assert_string_equal(cam.profiles[0].stream_uri_raw, "rtsp://169.254.10.20:554/live");
	assert_non_null(strstr(cam.snapshot_uri, "http://127.0.0.1:"));
	assert_int_equal(strncmp(cam.net.mac, "02:", 3), 0);
	assert_string_equal(cam.found.scopes.name, "Camsim Camera");
	stop(&f);
}

static void malformed_case(const char *how, int expect)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;

	sim_cfg_default(&c);
	snprintf(c.malformed, sizeof(c.malformed), "GetDeviceInformation:%s", how);
	start(&f, &c, NULL, NULL);
	assert_int_equal(onvif_get_device_info(f.dev, &di), expect);
	if (expect)
		assert_string_not_equal(onvif_dev_error(f.dev), "");
	else
		assert_string_equal(di.serial, "SN0001");
	stop(&f);
}

static void test_malformed(void **state)
{
	(void)state;
	malformed_case("truncated", -EBADMSG);
	malformed_case("notxml", -EBADMSG);
	malformed_case("oversized", -E2BIG);
	malformed_case("soap11fault", -EOPNOTSUPP);
	malformed_case("redirect", 0);
}

static void test_slow_camera_times_out(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_device_info di;
	int64_t t0;

	(void)state;
	sim_cfg_default(&c);
	c.delay_ms = 1500;
	start(&f, &c, NULL, NULL);
	onvif_dev_set_timeout(f.dev, 300);
	t0 = time_mono_ms();
	assert_int_equal(onvif_get_device_info(f.dev, &di), -ETIMEDOUT);
	assert_true(time_mono_ms() - t0 < 1200);
	stop(&f);
}

static void test_ptz(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_ptz_node nodes[4];
	struct onvif_ptz_preset pr[4];
	size_t n;

	(void)state;
	cfg_auth(&c);
	c.ptz = true;
	start(&f, &c, "admin", "s3cret");
	assert_int_equal(onvif_ptz_get_nodes(f.dev, nodes, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].token, "ptz0");
	assert_true(nodes[0].home_supported);
	assert_int_equal(onvif_ptz_move(f.dev, "prof0", 0.5f, -0.5f, 0, 1000), 0);
	assert_int_equal(onvif_ptz_move(f.dev, "prof0", 2.0f, 0, 0, 0), -EINVAL);
	assert_int_equal(onvif_ptz_stop(f.dev, "prof0"), 0);
	assert_int_equal(onvif_ptz_get_presets(f.dev, "prof0", pr, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(onvif_ptz_goto_preset(f.dev, "prof0", pr[1].token), 0);
	assert_int_equal(onvif_ptz_goto_preset(f.dev, "prof0", "nope"), -EPROTO);
	stop(&f);
}

static void test_no_ptz(void **state)
{
	struct sim_cfg c;
	struct fix f;
	struct onvif_ptz_node nodes[4];
	size_t n;

	(void)state;
	sim_cfg_default(&c);
	start(&f, &c, NULL, NULL);
	assert_int_equal(onvif_ptz_get_nodes(f.dev, nodes, 4, &n), -EOPNOTSUPP);
	stop(&f);
}

static void test_refused_connection(void **state)
{
	struct onvif_dev *dev;
	struct onvif_device_info di;

	(void)state;
	/* Port 1 on loopback: nobody listens. */
	assert_int_equal(onvif_dev_open("http://127.0.0.1:1/onvif/device_service", NULL, &dev), 0);
	assert_int_equal(onvif_get_device_info(dev, &di), -ECONNREFUSED);
	onvif_dev_close(dev);
	assert_int_equal(onvif_dev_open("rtsp://127.0.0.1/x", NULL, &dev), -EINVAL);
	assert_int_equal(onvif_dev_open("http://", NULL, &dev), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_auth_camera),
		cmocka_unit_test(test_wsse_skew_plus_1h),
		cmocka_unit_test(test_wsse_skew_minus_1h),
		cmocka_unit_test(test_wsse_1970),
		cmocka_unit_test(test_wsse_unsynced_falls_back),
		cmocka_unit_test(test_digest_only),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_no_credentials),
		cmocka_unit_test(test_media1_only),
		cmocka_unit_test(test_media2_only),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_slow_camera_times_out),
		cmocka_unit_test(test_ptz),
		cmocka_unit_test(test_no_ptz),
		cmocka_unit_test(test_refused_connection),
	};

	log_init("onvif_client_test", LOG_DEST_PLAIN, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
