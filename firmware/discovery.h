/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * discovery - keeps the camera registry true by periodic ONVIF discovery.
 *
 * One thread runs a round at start and then every interval, at once after
 * a WS-Discovery Hello (a Bye marks its camera gone without waiting):
 * WS-Discovery probe on the configured
 * interfaces and CIDR sweeps, interrogation of every answer with the
 * [onvif] credentials (drivers/onvif pool), one registry_observe() per
 * camera, and registry_count_missed() for cameras that did not answer. A
 * camera that missed DISCOVERY_GONE_ROUNDS is asked directly (unicast
 * GetSystemDateAndTime at its stored XAddr) and its stream's health is
 * asked of the daemon; only when neither answers is it registry_set_gone().
 * A Bye is judged the same way, without the rounds.
 * Every change is reported through the callback, which the daemon uses to
 * start or restart recording and to queue the registry record for central.
 *
 * Threads: the discovery thread owns the round; the callback runs on it.
 * Ownership: cfg strings are copied; @reg is borrowed and must outlive
 * discovery_stop().
 */
#ifndef CAMGATE_FIRMWARE_DISCOVERY_H
#define CAMGATE_FIRMWARE_DISCOVERY_H

#include <stdint.h>

#include "firmware/registry.h"

struct discovery; /* opaque */

struct discovery_cfg {
	const char *username; /* NULL or "": interrogate without credentials */
	const char *password;
	const char *interfaces; /* comma-separated; "": every multicast interface */
	const char *cidrs;	/* comma-separated unicast sweeps; may be "" */
	int64_t interval_ms;
	int64_t probe_window_ms;
	int64_t call_timeout_ms;
	/* The stream's own health for camera @camera (any thread): 0 it
	 * delivers, 1 it does not (*down_since_utc_ms: since when), -ENOENT
	 * not recorded here. NULL: no stream evidence. Uses the callback's
	 * @arg. Must not block. */
	int (*stream_down)(void *arg, const char *camera, int64_t *down_since_utc_ms);
	/* R11 health: after each round, for every known camera that refused
	 * the [onvif] credentials (-EACCES) or was interrogated, how many
	 * rounds in a row it refused them (0: accepted). Runs on the
	 * discovery thread with the callback's @arg; must not block. NULL:
	 * not told. */
	void (*auth_refused)(void *arg, const char *camera, unsigned int rounds);
};

/* A camera is gone only when it missed this many rounds in a row AND its
 * ONVIF endpoint does not answer AND its stream does not deliver: one
 * lost multicast answer never stops recording. */
#define DISCOVERY_GONE_ROUNDS 3

/* @camera is the registry name. @why says what happened, for the audit and
 * the alarm ("" when there is nothing to say). */
typedef void (*discovery_changed_fn)(void *arg, const char *camera, enum registry_event ev,
				     const char *why);

/* -ENOMEM, -EINVAL (a list too long), or pthread's error. */
int discovery_start(const struct discovery_cfg *cfg, struct registry *reg, discovery_changed_fn fn,
		    void *arg, struct discovery **dp);
/* Ends the current round's waits, joins, frees. NULL is a no-op. */
void discovery_stop(struct discovery *d);

#endif /* CAMGATE_FIRMWARE_DISCOVERY_H */
