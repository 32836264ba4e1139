// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif: WS-Discovery against simulated cameras, in-process.
 *
 * Multicast must never leave the build machine, so main() first moves this
 * process into a network namespace of its own (unshare(CLONE_NEWNET): root
 * only) with just the loopback, and a multicast route on it. Without that
 * every test is skipped, never run outside. The cameras sit on
 * 127.0.0.10, .11, ... (all of 127/8 is local), each with its own unicast
 * discovery socket, as separate hosts would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/onvif/onvif.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "tests/camsim/onvif_simsrv.h"

#define CAMS_MAX 8

static bool in_netns;

static bool enter_netns(void)
{
	struct rtentry rt;
	struct ifreq ifr;
	struct sockaddr_in *a;
	int fd;
	bool ok;

	if (unshare(CLONE_NEWNET))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = !ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok = ok && !ioctl(fd, SIOCSIFFLAGS, &ifr);
	memset(&rt, 0, sizeof(rt));
	a = (struct sockaddr_in *)&rt.rt_dst;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = inet_addr("224.0.0.0");
	a = (struct sockaddr_in *)&rt.rt_genmask;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = inet_addr("240.0.0.0");
	rt.rt_flags = RTF_UP;
	rt.rt_dev = (char *)"lo";
	ok = ok && !ioctl(fd, SIOCADDRT, &rt);
	close(fd);
	return ok;
}

struct cams {
	struct sim *sim[CAMS_MAX];
	int n;
};

static void cams_start(struct cams *c, int n, const char *advertise)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < n; i++) {
		struct sim_cfg cfg;

		sim_cfg_default(&cfg);
		snprintf(cfg.ip, sizeof(cfg.ip), "127.0.0.%d", 10 + i);
		snprintf(cfg.serial, sizeof(cfg.serial), "SN%04d", i);
		if (advertise)
			snprintf(cfg.advertise_host, sizeof(cfg.advertise_host), "%s", advertise);
		cfg.probe_delay_max_ms = 20;
		assert_int_equal(sim_create(&cfg, true, &c->sim[i]), 0);
		assert_int_equal(sim_start(c->sim[i]), 0);
		c->n++;
	}
}

static void cams_stop(struct cams *c)
{
	for (int i = 0; i < c->n; i++)
		sim_destroy(c->sim[i]);
}

struct found_list {
	struct onvif_found f[CAMS_MAX * 2];
	int n;
};

static int on_found(void *arg, const struct onvif_found *f)
{
	struct found_list *l = arg;

	if (l->n < CAMS_MAX * 2)
		l->f[l->n++] = *f;
	return 0;
}

static int find_uuid(const struct found_list *l, const char *uuid)
{
	int hits = 0;

	for (int i = 0; i < l->n; i++)
		hits += !strcmp(l->f[i].endpoint, uuid);
	return hits;
}

static const char *const lo_only[] = { "lo" };

static void probe_n(int n)
{
	struct onvif_probe_opts o = { .window_ms = 400, .ifaces = lo_only, .nifaces = 1 };
	struct found_list l = { .n = 0 };
	struct cams c;

	if (!in_netns)
		skip();
	cams_start(&c, n, NULL);
	assert_int_equal(onvif_probe(&o, on_found, &l), 0);
	assert_int_equal(l.n, n);
	for (int i = 0; i < n; i++) {
		/* Found once, though every camera answered both probes. */
		assert_int_equal(find_uuid(&l, sim_uuid(c.sim[i])), 1);
	}
	for (int i = 0; i < l.n; i++) {
		assert_string_equal(l.f[i].iface, "lo");
		assert_false(l.f[i].xaddr_rewritten);
		assert_string_equal(l.f[i].scopes.name, "Camsim Camera");
		assert_string_equal(l.f[i].scopes.profiles, "Streaming,T");
		assert_non_null(strstr(l.f[i].xaddr, l.f[i].peer));
	}
	cams_stop(&c);
}

static void test_probe_one(void **state)
{
	(void)state;
	probe_n(1);
}

static void test_probe_eight(void **state)
{
	(void)state;
	probe_n(CAMS_MAX);
}

static void test_probe_rewrites_lying_xaddr(void **state)
{
	struct onvif_probe_opts o = { .window_ms = 300, .ifaces = lo_only, .nifaces = 1 };
	struct found_list l = { .n = 0 };
	struct cams c;
	char want[64];

	(void)state;
	if (!in_netns)
		skip();
	cams_start(&c, 2, "169.254.7.7");
	assert_int_equal(onvif_probe(&o, on_found, &l), 0);
	assert_int_equal(l.n, 2);
	for (int i = 0; i < l.n; i++) {
		assert_true(l.f[i].xaddr_rewritten);
		assert_non_null(strstr(l.f[i].xaddrs_raw, "169.254.7.7"));
		snprintf(want, sizeof(want), "http://%s:", l.f[i].peer);
		assert_int_equal(strncmp(l.f[i].xaddr, want, strlen(want)), 0);
	}
	cams_stop(&c);
}

static void test_cidr_sweep(void **state)
{
	const char *const cidrs[] = { "127.0.0.8/29", "127.0.0.12/32" };
	struct onvif_sweep_stats sw;
	struct onvif_probe_opts o = {
		.window_ms = 300, .cidrs = cidrs, .ncidrs = 2, .no_multicast = true, .sweep = &sw
	};
	struct found_list l = { .n = 0 };
	struct cams c;

	(void)state;
	if (!in_netns)
		skip();
	cams_start(&c, 3, NULL);
	assert_int_equal(onvif_probe(&o, on_found, &l), 0);
	assert_int_equal(l.n, 3);
	/* 6 hosts in the /29, 1 in the /32; loopback takes them all. */
	assert_int_equal(sw.addresses, 7);
	assert_int_equal(sw.probed, 7);
	assert_int_equal(sw.failed, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(find_uuid(&l, sim_uuid(c.sim[i])), 1);
	cams_stop(&c);
}

static void test_cidr_limits(void **state)
{
	const char *const big[] = { "10.0.0.0/8" };
	const char *const bad[] = { "10.0.0.0/33" };
	struct onvif_probe_opts o = {
		.window_ms = 10, .cidrs = big, .ncidrs = 1, .no_multicast = true
	};
	struct found_list l = { .n = 0 };

	(void)state;
	assert_int_equal(onvif_probe(&o, on_found, &l), -E2BIG);
	o.cidrs = bad;
	assert_int_equal(onvif_probe(&o, on_found, &l), -EINVAL);
	o.sweep_rate = ONVIF_SWEEP_RATE_MAX + 1;
	assert_int_equal(onvif_probe(&o, on_found, &l), -EINVAL);
	o.sweep_rate = -1;
	assert_int_equal(onvif_probe(&o, on_found, &l), -EINVAL);
	o.sweep_rate = 0;
	o.ncidrs = 0;
	assert_int_equal(onvif_probe(&o, on_found, &l), -ENODEV);
}

static void test_hello_bye(void **state)
{
	struct onvif_listener *lis;
	struct onvif_announce ev;
	struct cams c;
	int64_t end;
	int ret = -EAGAIN;

	(void)state;
	if (!in_netns)
		skip();
	assert_int_equal(onvif_listener_open(lo_only, 1, &lis), 0);
	cams_start(&c, 1, NULL);
	assert_int_equal(sim_announce(c.sim[0], true), 0);
	for (end = time_mono_ms() + 1000; ret && time_mono_ms() < end; usleep(5000))
		ret = onvif_listener_read(lis, &ev);
	assert_int_equal(ret, 0);
	assert_int_equal(ev.kind, ONVIF_HELLO);
	assert_string_equal(ev.dev.endpoint, sim_uuid(c.sim[0]));
	assert_string_equal(ev.dev.peer, "127.0.0.10");
	assert_non_null(strstr(ev.dev.xaddr, "http://127.0.0.10:"));
	assert_int_equal(sim_announce(c.sim[0], false), 0);
	for (ret = -EAGAIN, end = time_mono_ms() + 1000; ret && time_mono_ms() < end; usleep(5000))
		ret = onvif_listener_read(lis, &ev);
	assert_int_equal(ret, 0);
	assert_int_equal(ev.kind, ONVIF_BYE);
	assert_string_equal(ev.dev.endpoint, sim_uuid(c.sim[0]));
	cams_stop(&c);
	onvif_listener_close(lis);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_one),
		cmocka_unit_test(test_probe_eight),
		cmocka_unit_test(test_probe_rewrites_lying_xaddr),
		cmocka_unit_test(test_cidr_sweep),
		cmocka_unit_test(test_cidr_limits),
		cmocka_unit_test(test_hello_bye),
	};

	log_init("onvif_discovery_test", LOG_DEST_PLAIN, LOG_WARNING);
	in_netns = enter_netns();
	if (!in_netns)
		fprintf(stderr, "# no private network namespace (not root?): multicast tests "
				"skipped\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
