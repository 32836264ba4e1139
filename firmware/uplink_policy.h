/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uplink_policy - what the gateway decides about what the uplink reports
 * (net/uplink.h only reports; these are the decisions):
 *  - R2: the deadline stamped on a registry record (working days after the
 *    change, lib/workdays.h) and the registry-deadline alarm, raised once
 *    half the update window of the oldest unacknowledged record has
 *    passed and cleared when central holds them all;
 *  - alarms: uplink-tls while central's identity does not verify,
 *    uplink-refused at an object's first refusal, uplink-corrupt-segment;
 *  - R8: an audit row for every command central sent, as for the
 *    console's;
 *  - status.json: the registry's "alarm_at" and the active "alarms".
 *
 * A struct uplink_policy is caller-embedded: filled by
 * uplink_policy_init() before the uplink starts, read-only while it runs
 * (its hooks call in on the uplink thread and on the registry's). The
 * hook functions below take it as their first argument; a caller with
 * its own hook arg forwards to them.
 */
#ifndef CAMGATE_FIRMWARE_UPLINK_POLICY_H
#define CAMGATE_FIRMWARE_UPLINK_POLICY_H

#include <stdint.h>

#include "lib/workdays.h"
#include "net/uplink.h"

struct statedb;
struct cJSON;

struct uplink_policy {
	struct statedb *sdb; /* borrowed: alarms and audit rows */
	unsigned int deadline_days;
	struct workdays cal;
};

/* @deadline_days working days in the legal time zone @tz_offset_min,
 * minus @holidays (workdays_init() syntax). -EINVAL (logged, naming the
 * setting): a bad holiday list; @p is then unchanged. */
int uplink_policy_init(struct uplink_policy *p, struct statedb *sdb, unsigned int deadline_days,
		       int tz_offset_min, const char *holidays);

/* uplink_hooks.registry_deadline: the R2 deadline of a change at @changed_ms. */
int64_t uplink_policy_deadline(const struct uplink_policy *p, int64_t changed_ms);
/* uplink_hooks.outcome: alarms and audit rows for what the uplink met. */
void uplink_policy_outcome(const struct uplink_policy *p, const struct uplink_outcome *o);
/* uplink_hooks.status_fill, first part: the registry-deadline alarm from
 * @fig, then "alarm_at" into status.registry and the active "alarms". */
void uplink_policy_status(const struct uplink_policy *p, struct cJSON *status,
			  const struct uplink_figures *fig);

#endif /* CAMGATE_FIRMWARE_UPLINK_POLICY_H */
