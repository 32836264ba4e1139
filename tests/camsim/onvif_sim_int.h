/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by onvif_simsrv.c (sockets, auth, discovery) and onvif_simops.c
 * (the SOAP operations). Test code only. */
#ifndef CAMGATE_TESTS_ONVIF_SIM_INT_H
#define CAMGATE_TESTS_ONVIF_SIM_INT_H

#include <pthread.h>
#include <sys/socket.h>

#include "drivers/onvif/onvif_int.h"
#include "tests/camsim/onvif_simsrv.h"

#define SIM_PENDING_MAX 32
#define SIM_AUTHZ_MAX	1024

struct sim_pending {
	int64_t due_ms;
	struct sockaddr_storage to;
	socklen_t tolen;
	char relates_to[ONVIF_URI_MAX];
};

struct sim {
	struct sim_cfg cfg;
	struct soap *soap; /* HTTP */
	struct soap *wsdd; /* discovery messages */
	int udp_fd, mc_fd; /* -1 without discovery */
	char xaddr[256];
	char host[64]; /* advertised host */
	char uuid[80];
	char nonce[40]; /* HTTP Digest nonce */
	int64_t start_mono_ms;
	unsigned int requests;
	unsigned int instance_id, msg_number;
	char authz[SIM_AUTHZ_MAX]; /* Authorization of this request */
	int (*parsehdr_next)(struct soap *, const char *, const char *);
	int (*posthdr_next)(struct soap *, const char *, const char *);
	struct sim_pending pend[SIM_PENDING_MAX];
	int npend;
	pthread_t thread;
	bool running;
	volatile int stop;
	/* Set (SIGUSR1 in onvif_sim): a wedged ONVIF stack. WS-Discovery
	 * probes are read and dropped, HTTP connections closed unanswered;
	 * what streams the camera serves is not ours and goes on. */
	volatile int mute;
};

/* What WS-Discovery says about this camera (also GetScopes' source). */
void sim_found(struct sim *sim, struct onvif_found *d);
/* gSOAP HTTP hooks: keep the Authorization header; send the Digest
 * challenge and the camera's own Date. */
int sim_parsehdr(struct soap *soap, const char *key, const char *val);
int sim_posthdr(struct soap *soap, const char *key, const char *val);
/* The camera's clock, UTC ms. */
int64_t sim_now_ms(const struct sim *sim);
/* SOAP_OK, or what the handler returns: 401 (Digest challenge follows) or
 * a NotAuthorized fault. @needed false: only a present but wrong WS-Security
 * header is refused. */
int sim_check_auth(struct soap *soap, bool needed);
/* Common start of every handler: delay, auth, malformed replies. Returns
 * SOAP_OK to go on, or the handler's return value. */
int sim_begin(struct soap *soap, const char *op, bool auth_needed);

#endif /* CAMGATE_TESTS_ONVIF_SIM_INT_H */
