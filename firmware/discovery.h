/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * discovery - keeps the camera registry true by periodic ONVIF discovery.
 *
 * One thread runs a round at start and then every interval, at once after
 * discovery_kick() or a WS-Discovery Hello (a Bye marks its camera gone
 * without waiting): WS-Discovery probe on the configured
 * interfaces and CIDR sweeps, interrogation of every answer with the
 * [onvif] credentials (drivers/onvif pool), one registry_observe() per
 * camera, and registry_mark_missing() for cameras that did not answer.
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
};

/* @camera is the registry name; NULL with REGISTRY_GONE after a sweep
 * that marked cameras missing. */
typedef void (*discovery_changed_fn)(void *arg, const char *camera, enum registry_event ev);

/* -ENOMEM, -EINVAL (a list too long), or pthread's error. */
int discovery_start(const struct discovery_cfg *cfg, struct registry *reg, discovery_changed_fn fn,
		    void *arg, struct discovery **dp);
/* Wake the thread for a round now (e.g. after a config reload). */
void discovery_kick(struct discovery *d);
/* Ends the current round's waits, joins, frees. NULL is a no-op. */
void discovery_stop(struct discovery *d);

#endif /* CAMGATE_FIRMWARE_DISCOVERY_H */
