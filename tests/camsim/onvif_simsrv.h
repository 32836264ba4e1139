/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onvif_simsrv - a simulated ONVIF camera: the server side generated from
 * drivers/onvif/onvif.gsoap.h plus behaviour real firmware shows (clock
 * skew down to 1970, digest-only auth, no Media1, slow and malformed
 * replies, lying XAddrs). Used by tests/camsim/onvif_sim.c (a process per
 * camera, in a network namespace) and in-process by the unit tests.
 *
 * Threads: a struct sim is served by one thread (sim_serve_http,
 * sim_serve_udp, or the thread sim_start() creates).
 */
#ifndef CAMGATE_TESTS_ONVIF_SIMSRV_H
#define CAMGATE_TESTS_ONVIF_SIMSRV_H

#include <stdbool.h>
#include <stdint.h>

enum sim_auth {
	SIM_AUTH_ANY,	 /* WS-Security or HTTP Digest */
	SIM_AUTH_WSSE,	 /* WS-Security only (faults, no 401) */
	SIM_AUTH_DIGEST, /* HTTP Digest only (WS-Security ignored) */
};

struct sim_cfg {
	char ip[64];		 /* HTTP and unicast discovery address */
	int port;		 /* 0: any */
	char advertise_host[64]; /* host written into XAddrs; "" = ip */
	char uuid[80];		 /* endpoint reference; "" = random */
	char make[64], model[64], firmware[64], serial[64], hwid[64];
	char mac[32], hostname[64];
	char scope_name[64], scope_location[64], scope_hardware[64];
	char scopes[512];	 /* sent verbatim instead of the encoded ones; "" = built */
	char user[64], pass[64]; /* "" user: no auth at all */
	enum sim_auth auth;
	bool auth_datetime; /* GetSystemDateAndTime needs auth too */
	int64_t skew_ms;    /* camera clock minus real clock */
	bool epoch1970;	    /* clock restarted at 1970-01-01 00:01 */
	int wsse_window_s;  /* Created accepted within +- this */
	bool no_media1, no_media2, ptz;
	bool h265; /* main profile's encoding in Media2 */
	int nprofiles;
	int delay_ms;		/* before every HTTP reply */
	char malformed[64];	/* "Op" or "Op:kind" or "all[:kind]";
					 * kind: truncated, notxml, oversized,
					 * soap11fault, redirect */
	char rtsp[512];		/* stream URI; "" = rtsp://HOST:554/stream */
	int probe_delay_max_ms; /* WS-Discovery answer jitter */
	int probe_delay_min_ms; /* and a fixed delay before it */
	char iface_ip[64];	/* join the group here; "" = ip */
};

struct sim;

/* Defaults for every field (auth any, 2 profiles, window 300 s). */
void sim_cfg_default(struct sim_cfg *cfg);
/* Bind HTTP (and discovery unless @discovery is false). 0 or -errno. */
int sim_create(const struct sim_cfg *cfg, bool discovery, struct sim **simp);
void sim_destroy(struct sim *sim);
int sim_http_port(const struct sim *sim);
const char *sim_xaddr(const struct sim *sim);
const char *sim_uuid(const struct sim *sim);
/* HTTP requests served so far. */
unsigned int sim_requests(const struct sim *sim);
/* Serve until sim_stop() or a signal sets *@stop; polls every socket. */
int sim_run(struct sim *sim, volatile int *stop);
/* Run sim_run() in a thread (unit tests). */
int sim_start(struct sim *sim);
void sim_stop(struct sim *sim);
/* On: WS-Discovery and HTTP go unanswered (a wedged ONVIF stack); off:
 * served again. Async-signal-safe (one volatile store). */
void sim_set_mute(struct sim *sim, bool on);
/* Multicast a Hello or a Bye. */
int sim_announce(struct sim *sim, bool hello);

#endif /* CAMGATE_TESTS_ONVIF_SIMSRV_H */
