// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_sim - one simulated ONVIF camera per process, for the integration
 * tests, the benchmark and the demo. Run it inside a network namespace the
 * test created (tests/camsim/netns.sh): it answers WS-Discovery multicast.
 *
 * Prints "READY <device service URL> <endpoint reference>" on stdout once
 * it listens; SIGTERM or SIGINT stop it (after a Bye with --hello).
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "tests/camsim/onvif_simsrv.h"

static volatile int stop;
static struct sim *the_sim;

/* SIGUSR1: the ONVIF stack stops answering, SIGUSR2: it answers again. */
static void on_mute(int sig)
{
	if (the_sim)
		sim_set_mute(the_sim, sig == SIGUSR1);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
	"usage: onvif_sim [options]\n"
	"  --ip A              HTTP and unicast discovery address (127.0.0.1)\n"
	"  --port N            HTTP port (0: any)\n"
	"  --iface-ip A        join the discovery group on this address (--ip)\n"
	"  --no-discovery      no WS-Discovery sockets\n"
	"  --hello             multicast Hello on start, Bye on exit\n"
	"  --advertise-host H  host written into XAddrs (lying cameras)\n"
	"  --uuid U            endpoint reference (urn:uuid:...; random)\n"
	"  --make M --model M --firmware F --serial S --hwid H --mac M --hostname H\n"
	"  --name N --location L --hardware H   scopes\n"
	"  --scopes S          the Scopes text verbatim, not percent-encoded (hostile cameras)\n"
	"  --user U --pass P   credentials (none: no auth)\n"
	"  --auth any|wsse|digest   accepted methods (any)\n"
	"  --auth-datetime     GetSystemDateAndTime needs auth too\n"
	"  --skew S            camera clock minus real clock, seconds\n"
	"  --epoch1970         camera clock restarted at 1970-01-01\n"
	"  --no-media1 --no-media2 --ptz --h265\n"
	"  --profiles N        media profiles (2)\n"
	"  --delay-ms N        before every HTTP reply\n"
	"  --malformed OP[:KIND]  OP or all; KIND truncated|notxml|oversized|soap11fault|redirect\n"
	"  --rtsp URL          stream URI of every profile\n"
	"  --probe-delay-ms N  max random WS-Discovery answer delay (50)\n"
	"  --probe-delay-min-ms N  fixed delay before that (0): fixes the answer order\n"
	"SIGUSR1 mutes WS-Discovery and ONVIF (a wedged camera), SIGUSR2 unmutes.\n";

struct str_opt {
	const char *name;
	size_t off, cap;
};

#define FIELD(f) offsetof(struct sim_cfg, f), sizeof(((struct sim_cfg *)0)->f)

static const struct str_opt str_opts[] = {
	{ "ip", FIELD(ip) },
	{ "iface-ip", FIELD(iface_ip) },
	{ "advertise-host", FIELD(advertise_host) },
	{ "uuid", FIELD(uuid) },
	{ "make", FIELD(make) },
	{ "model", FIELD(model) },
	{ "firmware", FIELD(firmware) },
	{ "serial", FIELD(serial) },
	{ "hwid", FIELD(hwid) },
	{ "mac", FIELD(mac) },
	{ "hostname", FIELD(hostname) },
	{ "name", FIELD(scope_name) },
	{ "location", FIELD(scope_location) },
	{ "hardware", FIELD(scope_hardware) },
	{ "scopes", FIELD(scopes) },
	{ "user", FIELD(user) },
	{ "pass", FIELD(pass) },
	{ "malformed", FIELD(malformed) },
	{ "rtsp", FIELD(rtsp) },
};
#define NSTR (sizeof(str_opts) / sizeof(str_opts[0]))

static int set_str(struct sim_cfg *cfg, const char *name, const char *val)
{
	for (size_t i = 0; i < NSTR; i++) {
		if (strcmp(str_opts[i].name, name))
			continue;
		if (strlen(val) >= str_opts[i].cap)
			return -E2BIG;
		memcpy((char *)cfg + str_opts[i].off, val, strlen(val) + 1);
		return 0;
	}
	return -ENOENT;
}

static int num(const char *s, int64_t min, int64_t max, int64_t *v)
{
	int ret = parse_i64(s, min, max, v);

	if (ret)
		fprintf(stderr, "onvif_sim: bad number '%s'\n", s);
	return ret;
}

static int set_other(struct sim_cfg *cfg, const char *name, const char *val, bool *discovery,
		     bool *hello)
{
	int64_t v = 0;

	if (!strcmp(name, "no-discovery"))
		*discovery = false;
	else if (!strcmp(name, "hello"))
		*hello = true;
	else if (!strcmp(name, "auth-datetime"))
		cfg->auth_datetime = true;
	else if (!strcmp(name, "epoch1970"))
		cfg->epoch1970 = true;
	else if (!strcmp(name, "no-media1"))
		cfg->no_media1 = true;
	else if (!strcmp(name, "no-media2"))
		cfg->no_media2 = true;
	else if (!strcmp(name, "ptz"))
		cfg->ptz = true;
	else if (!strcmp(name, "h265"))
		cfg->h265 = true;
	else if (!strcmp(name, "auth"))
		cfg->auth = !strcmp(val, "wsse")     ? SIM_AUTH_WSSE
			    : !strcmp(val, "digest") ? SIM_AUTH_DIGEST
						     : SIM_AUTH_ANY;
	else if (!strcmp(name, "port") && !num(val, 0, 65535, &v))
		cfg->port = (int)v;
	else if (!strcmp(name, "skew") && !num(val, -4000000000LL, 4000000000LL, &v))
		cfg->skew_ms = v * 1000;
	else if (!strcmp(name, "profiles") && !num(val, 0, 16, &v))
		cfg->nprofiles = (int)v;
	else if (!strcmp(name, "delay-ms") && !num(val, 0, 600000, &v))
		cfg->delay_ms = (int)v;
	else if (!strcmp(name, "probe-delay-ms") && !num(val, 0, 10000, &v))
		cfg->probe_delay_max_ms = (int)v;
	else if (!strcmp(name, "probe-delay-min-ms") && !num(val, 0, 10000, &v))
		cfg->probe_delay_min_ms = (int)v;
	else
		return -EINVAL;
	return 0;
}

static const struct option long_opts[] = {
	{ "ip", required_argument, NULL, 0 },
	{ "iface-ip", required_argument, NULL, 0 },
	{ "advertise-host", required_argument, NULL, 0 },
	{ "uuid", required_argument, NULL, 0 },
	{ "make", required_argument, NULL, 0 },
	{ "model", required_argument, NULL, 0 },
	{ "firmware", required_argument, NULL, 0 },
	{ "serial", required_argument, NULL, 0 },
	{ "hwid", required_argument, NULL, 0 },
	{ "mac", required_argument, NULL, 0 },
	{ "hostname", required_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "location", required_argument, NULL, 0 },
	{ "hardware", required_argument, NULL, 0 },
	{ "scopes", required_argument, NULL, 0 },
	{ "user", required_argument, NULL, 0 },
	{ "pass", required_argument, NULL, 0 },
	{ "malformed", required_argument, NULL, 0 },
	{ "rtsp", required_argument, NULL, 0 },
	{ "port", required_argument, NULL, 0 },
	{ "auth", required_argument, NULL, 0 },
	{ "skew", required_argument, NULL, 0 },
	{ "profiles", required_argument, NULL, 0 },
	{ "delay-ms", required_argument, NULL, 0 },
	{ "probe-delay-ms", required_argument, NULL, 0 },
	{ "probe-delay-min-ms", required_argument, NULL, 0 },
	{ "no-discovery", no_argument, NULL, 0 },
	{ "hello", no_argument, NULL, 0 },
	{ "auth-datetime", no_argument, NULL, 0 },
	{ "epoch1970", no_argument, NULL, 0 },
	{ "no-media1", no_argument, NULL, 0 },
	{ "no-media2", no_argument, NULL, 0 },
	{ "ptz", no_argument, NULL, 0 },
	{ "h265", no_argument, NULL, 0 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sim_cfg cfg;
	struct sim *sim;
	bool discovery = true, hello = false;
	int idx, c, ret;

	log_init("onvif_sim", LOG_DEST_PLAIN, LOG_NOTICE);
	sim_cfg_default(&cfg);
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		const char *name = long_opts[idx].name;

		if (c != 0) {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
		ret = set_str(&cfg, name, optarg ? optarg : "");
		if (ret == -ENOENT)
			ret = set_other(&cfg, name, optarg, &discovery, &hello);
		if (ret) {
			fprintf(stderr, "onvif_sim: bad --%s\n%s", name, usage);
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = sim_create(&cfg, discovery, &sim);
	if (ret) {
		fprintf(stderr, "onvif_sim: cannot start: %s\n", strerror(-ret));
		return 1;
	}
	the_sim = sim;
	sa.sa_handler = on_mute;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	if (hello)
		sim_announce(sim, true);
	printf("READY %s %s\n", sim_xaddr(sim), sim_uuid(sim));
	fflush(stdout);
	ret = sim_run(sim, &stop);
	if (hello)
		sim_announce(sim, false);
	sim_destroy(sim);
	return ret ? 1 : 0;
}
