// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * liveness - progress reports of the daemon's critical threads
 * (liveness.h). Operations take one of a fixed set of slots holding their
 * start time, claimed with a compare-and-swap: a stream thread never waits
 * here, whatever the others do.
 */
#include "firmware/liveness.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

/* More than the cameras that may write at once (CONFIG_CAMERAS_MAX). */
#define LIVE_SLOTS 128

static const char *const live_names[LIVE_NPARTS] = {
	[LIVE_STORAGE] = "storage",
	[LIVE_UPLINK] = "uplink",
};
/* How each part reports (liveness.h): operations in flight, or beats. */
static const bool live_by_ops[LIVE_NPARTS] = {
	[LIVE_STORAGE] = true,
	[LIVE_UPLINK] = false,
};
static const char *const seam_names[] = {
	[LIVE_SEAM_STORAGE] = "storage",
	[LIVE_SEAM_UPLINK] = "uplink",
	[LIVE_SEAM_CAMERA] = "camera",
};

struct liveness {
	_Atomic int64_t deadline_ms[LIVE_NPARTS]; /* 0: not watched */
	_Atomic int64_t beat_ms[LIVE_NPARTS];
	/* Start (mono ms, never 0 once taken) of each operation in flight
	 * and its part, set before the start is published. */
	_Atomic int64_t slot_start[LIVE_SLOTS];
	_Atomic int slot_part[LIVE_SLOTS];
	int64_t test_deadline_ms; /* CAMGATE_TEST_LIVENESS_MS, or 0 */
	int test_stall;		  /* enum liveness_seam from CAMGATE_TEST_STALL, or -1 */
};

static int64_t live_now(void)
{
	int64_t t = clock_mono_ms();

	return t > 0 ? t : 1; /* 0 marks a free slot */
}

int liveness_new(struct liveness **lp)
{
	struct liveness *l = calloc(1, sizeof(*l));
	const char *stall = getenv("CAMGATE_TEST_STALL");
	const char *ms = getenv("CAMGATE_TEST_LIVENESS_MS");

	*lp = NULL;
	if (!l)
		return -ENOMEM;
	l->test_stall = -1;
	for (size_t i = 0; stall && i < sizeof(seam_names) / sizeof(seam_names[0]); i++)
		if (!strcmp(stall, seam_names[i]))
			l->test_stall = (int)i;
	if (stall && l->test_stall < 0)
		log_warn("liveness: CAMGATE_TEST_STALL=%s is not storage, uplink or camera", stall);
	if (ms)
		l->test_deadline_ms = strtoll(ms, NULL, 10);
	if (l->test_stall >= 0 || l->test_deadline_ms > 0)
		log_warn("liveness: TEST SEAM active (CAMGATE_TEST_STALL=%s, "
			 "CAMGATE_TEST_LIVENESS_MS=%s): not for a gateway",
			 stall ? stall : "", ms ? ms : "");
	liveness_expect(l, LIVE_STORAGE, LIVE_STORAGE_DEADLINE_MS);
	*lp = l;
	return 0;
}

void liveness_free(struct liveness *l)
{
	free(l);
}

void liveness_expect(struct liveness *l, enum liveness_part part, int64_t deadline_ms)
{
	if (!l)
		return;
	if (deadline_ms > 0 && l->test_deadline_ms > 0)
		deadline_ms = l->test_deadline_ms;
	atomic_store(&l->beat_ms[part], live_now());
	atomic_store(&l->deadline_ms[part], deadline_ms);
}

int64_t liveness_beats_deadline(int64_t interval_ms)
{
	return 3 * interval_ms > LIVE_UPLINK_DEADLINE_MS ? 3 * interval_ms
							 : LIVE_UPLINK_DEADLINE_MS;
}

void liveness_beat(struct liveness *l, enum liveness_part part)
{
	if (l)
		atomic_store(&l->beat_ms[part], live_now());
}

int liveness_enter(struct liveness *l, enum liveness_part part)
{
	int64_t now = live_now();

	for (int i = 0; l && i < LIVE_SLOTS; i++) {
		int64_t free_slot = 0;

		if (atomic_load(&l->slot_start[i]))
			continue;
		atomic_store(&l->slot_part[i], part);
		if (atomic_compare_exchange_strong(&l->slot_start[i], &free_slot, now))
			return i;
	}
	return -1;
}

void liveness_leave(struct liveness *l, int token)
{
	if (l && token >= 0 && token < LIVE_SLOTS)
		atomic_store(&l->slot_start[token], 0);
}

bool liveness_ok(struct liveness *l, char *why, size_t cap)
{
	int64_t now = live_now();

	for (int p = 0; p < LIVE_NPARTS; p++) {
		int64_t dl = atomic_load(&l->deadline_ms[p]);
		int64_t age = now - atomic_load(&l->beat_ms[p]);

		if (!dl)
			continue;
		if (!live_by_ops[p] && age > dl) {
			snprintf(why, cap, "%s: no progress for %lld ms", live_names[p],
				 (long long)age);
			return false;
		}
		for (int i = 0; live_by_ops[p] && i < LIVE_SLOTS; i++) {
			int64_t start = atomic_load(&l->slot_start[i]);

			if (start && atomic_load(&l->slot_part[i]) == p && now - start > dl) {
				snprintf(why, cap, "%s: an operation stuck for %lld ms",
					 live_names[p], (long long)(now - start));
				return false;
			}
		}
	}
	return true;
}

void liveness_test_stall(struct liveness *l, enum liveness_seam where)
{
	if (!l || l->test_stall != (int)where)
		return;
	log_warn("liveness: TEST SEAM: the %s thread stalls here for good", seam_names[where]);
	for (;;)
		sleep(3600);
}
