/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock - the process's wall and monotonic clocks, in milliseconds, with
 * one seam for tests.
 *
 * Wall time (UTC since the epoch) is for what is recorded and for
 * deadlines counted in days; monotonic time is for timeouts and rates.
 * By default both read clock_gettime(). A test that must run on a fixed
 * date, or step time, installs its own source with clock_set_source().
 *
 * Threads: any. The source is swapped atomically; a test sets it before
 * it starts the threads that read it, and clears it after they stop.
 * Hot paths that need a cheaper clock (CLOCK_MONOTONIC_COARSE in the
 * stream thread) read it themselves: they measure, they decide nothing
 * a test needs to steer.
 */
#ifndef CAMGATE_LIB_CLOCK_H
#define CAMGATE_LIB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock_source {
	int64_t (*wall_ms)(void *arg); /* UTC milliseconds since the epoch */
	int64_t (*mono_ms)(void *arg); /* milliseconds, never going back */
	void *arg;
};

int64_t clock_wall_ms(void);
int64_t clock_mono_ms(void);

/* Tests: read time from @src (borrowed; it must outlive its use) from
 * now on; NULL restores the system clocks. */
void clock_set_source(const struct clock_source *src);

/* TEST SEAM for integration tests of day-long deadlines: when the
 * environment names CAMGATE_TEST_CLOCK_FILE, the wall clock becomes the
 * system's plus the offset in milliseconds that file holds (one integer;
 * re-read at most every 200 ms, so a test moves a running daemon days
 * ahead by rewriting it; a missing or unreadable file counts as 0). The
 * monotonic clock is untouched. Returns true when the seam is on (the
 * caller logs it: a gateway in the field never has it set). Call once,
 * before other threads start. */
bool clock_test_seam(void);

#endif /* CAMGATE_LIB_CLOCK_H */
