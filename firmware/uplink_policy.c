// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_policy - alarms, audit rows and the R2 deadline for what the
 * uplink reports (firmware/uplink_policy.h).
 */
#include "firmware/uplink_policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "lib/log.h"
#include "lib/parse.h"

#define CMD_DETAIL_MAX 320

int uplink_policy_init(struct uplink_policy *p, struct statedb *sdb, unsigned int deadline_days,
		       int tz_offset_min, const char *holidays)
{
	if (workdays_init(&p->cal, tz_offset_min, holidays)) {
		log_err("uplink: holidays: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, "
			"comma-separated, at most %d days",
			WORKDAYS_HOLIDAYS_MAX);
		return -EINVAL;
	}
	p->sdb = sdb;
	p->deadline_days = deadline_days;
	return 0;
}

int64_t uplink_policy_deadline(const struct uplink_policy *p, int64_t changed_ms)
{
	return workdays_deadline(&p->cal, changed_ms, p->deadline_days);
}

/* R2: half the update window after the change, the alarm. */
static int64_t alarm_at(const struct uplink_policy *p, int64_t changed_ms)
{
	return changed_ms ? workdays_deadline(&p->cal, changed_ms, p->deadline_days / 2) : 0;
}

void uplink_policy_outcome(const struct uplink_policy *p, const struct uplink_outcome *o)
{
	char detail[CMD_DETAIL_MAX];

	switch (o->kind) {
	case UPLINK_OUT_TRUST_FAILED:
		/* A fault of trust (a wrong CA, an expired certificate, a
		 * stale pin, or someone in the middle), not of the network:
		 * an error and an alarm until a request verifies again. */
		log_err("uplink: central's identity does not verify, nothing is sent: %s",
			o->detail);
		alarm_raise(p->sdb, "uplink-tls", "", o->detail);
		break;
	case UPLINK_OUT_TRUST_OK:
		alarm_clear(p->sdb, "uplink-tls", ""); /* logs when one was raised */
		break;
	case UPLINK_OUT_REFUSED:
		/* Once per object: its retries are logged, not alarmed. */
		if (!o->tries)
			alarm_raise(p->sdb, "uplink-refused", o->camera, o->detail);
		break;
	case UPLINK_OUT_CORRUPT_SEGMENT:
		alarm_raise(p->sdb, "uplink-corrupt-segment", o->camera, o->path);
		break;
	case UPLINK_OUT_COMMAND:
		/* R8: commands from central are audited like the console's. */
		snprintf(detail, sizeof(detail), "%s %s: %s", o->command, o->status, o->detail);
		audit_record(p->sdb, o->time_ms, "central", "command", o->id, detail);
		break;
	case UPLINK_OUT_ACKED:
		break; /* the duty it closes is the daemon's (daemon_compliance.c) */
	}
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[32];

	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	format_time_ms(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

/* R2: an alarm once half the update window of the oldest pending
 * registry change has passed; cleared when central has them all. */
static void deadline_check(const struct uplink_policy *p, const struct uplink_figures *fig)
{
	char msg[512], t[32];

	if (!fig->registry_oldest_ms) {
		alarm_clear(p->sdb, "registry-deadline", "");
		return;
	}
	if (fig->now_ms < alarm_at(p, fig->registry_oldest_ms))
		return;
	format_time_ms(fig->registry_deadline_ms, t, sizeof(t));
	snprintf(msg, sizeof(msg), "%s not yet acknowledged by central; %s %s", fig->registry_path,
		 fig->now_ms >= fig->registry_deadline_ms ? "deadline missed at" : "deadline", t);
	alarm_raise(p->sdb, "registry-deadline", "", msg);
}

void uplink_policy_status(const struct uplink_policy *p, cJSON *status,
			  const struct uplink_figures *fig)
{
	cJSON *reg = cJSON_GetObjectItemCaseSensitive(status, "registry");
	cJSON *alarms = NULL;

	deadline_check(p, fig);
	if (reg)
		add_time(reg, "alarm_at", alarm_at(p, fig->registry_oldest_ms));
	if (!alarm_active_json(p->sdb, &alarms))
		cJSON_AddItemToObject(status, "alarms", alarms);
}
