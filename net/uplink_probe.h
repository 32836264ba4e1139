/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uplink_probe - is central reachable, and safely? The steps behind
 * `camgate uplink test` (firmware/cmd_uplink.c prints them), each built
 * on the one before, each with one verdict in plain words, so an
 * installer can tell a DNS problem from a firewall, a wrong CA, a stale
 * pin, a missing client certificate or bad credentials:
 *
 *   url, settings (only when the TLS files or pin are unusable), dns,
 *   tcp, tls (chain + host name), pin, client-cert, put (auth), get
 *   (round trip, bytes compared), delete (clean-up).
 *
 * A step that fails ends the probe, except get and delete, which only
 * report. The probe decides nothing beyond the verdicts; the caller
 * prints them and picks the exit code. It PUTs one small object below
 * {base}/gateways/{gateway}/uplink-test/ and DELETEs it again.
 */
#ifndef CAMGATE_NET_UPLINK_PROBE_H
#define CAMGATE_NET_UPLINK_PROBE_H

#include "net/uplink.h"

#define UPLINK_PROBE_DETAIL_MAX 1024

enum uplink_probe_verdict {
	UPLINK_PROBE_FAIL = 0,
	UPLINK_PROBE_OK = 1,
	UPLINK_PROBE_SKIP = -1,
};

struct uplink_probe_step {
	const char *name; /* "url", "dns", ... as listed above; static */
	int verdict;	  /* enum uplink_probe_verdict */
	/* Plain words; may quote what central or its TLS stack said
	 * (certificate names, errors): escape it before printing. */
	char detail[UPLINK_PROBE_DETAIL_MAX];
	long http_code; /* put refused by central: its HTTP status; else 0 */
};

/* Run the steps against @cfg's central (base_url, gateway_id, tls, auth
 * and credentials are used; the rest is ignored) and call @fn with each
 * verdict as it comes (@s borrowed for the call), so slow steps show
 * progress. Blocks up to about 10 s per step. Returns 0 when the probe
 * ran, whatever the verdicts; -ENOMEM or -EIO when libcurl could not be
 * set up. Calls curl_global_init() itself: not while another thread
 * uses libcurl. */
int uplink_probe(const struct uplink_cfg *cfg,
		 void (*fn)(void *arg, const struct uplink_probe_step *s), void *arg);

#endif /* CAMGATE_NET_UPLINK_PROBE_H */
