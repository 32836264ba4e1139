// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update_health - the trial boot's decision (firmware/update_health.h).
 */
#include "firmware/update_health.h"

#include <stdio.h>
#include <string.h>

#include "firmware/update.h"

bool update_healthy(const struct update_signals *s, char *why, size_t cap)
{
	if (!s->live_ok)
		snprintf(why, cap, "a critical thread stalls: %s",
			 s->live_why && *s->live_why ? s->live_why : "liveness");
	else if (s->uplink && !s->central_reached)
		snprintf(why, cap, "central not reached since the trial began");
	else if (s->cameras && !s->recording)
		snprintf(why, cap, "none of %zu cameras records", s->cameras);
	else
		return true;
	return false;
}

enum update_boot update_boot_kind(const struct update_record *rec, const char *running,
				  bool rauc_known, bool rauc_good)
{
	int st = rec ? update_state_parse(rec->state) : -1;
	bool this = rec && !strcmp(rec->version, running);

	if ((st == UPDATE_INSTALLED || st == UPDATE_TRIAL) && this)
		return UPDATE_BOOT_TRIAL;
	if (st == UPDATE_TRIAL)
		return UPDATE_BOOT_FELL_BACK;
	/* Installed by other means (rauc install by hand): RAUC's word. */
	if (rauc_known && !rauc_good)
		return UPDATE_BOOT_TRIAL;
	if (st == UPDATE_INSTALLED)
		return UPDATE_BOOT_PENDING;
	return UPDATE_BOOT_NORMAL;
}

void update_trial_init(struct update_trial *t, int64_t now_ms, int64_t elapsed_ms,
		       int64_t healthy_after_ms, int64_t timeout_ms)
{
	if (elapsed_ms < 0)
		elapsed_ms = 0; /* a clock set back */
	if (elapsed_ms > timeout_ms)
		elapsed_ms = timeout_ms;
	t->start_ms = now_ms - elapsed_ms;
	t->healthy_after_ms = healthy_after_ms;
	t->timeout_ms = timeout_ms;
	t->healthy_since_ms = -1;
}

enum update_verdict update_trial_step(struct update_trial *t, int64_t now_ms, bool healthy)
{
	if (!healthy)
		t->healthy_since_ms = -1;
	else if (t->healthy_since_ms < 0)
		t->healthy_since_ms = now_ms;
	if (healthy && now_ms - t->healthy_since_ms >= t->healthy_after_ms)
		return UPDATE_MARK_GOOD;
	if (now_ms - t->start_ms >= t->timeout_ms)
		return UPDATE_MARK_BAD;
	return UPDATE_WAIT;
}
