/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * liveness - which of the daemon's threads are making progress; the
 * watchdog is petted only while every critical one is (daemon_watchdog.c).
 *
 * Critical parts and how each reports:
 *   LIVE_STORAGE  an operation: every ring write (stream threads, in the
 *                 sink) is bracketed by liveness_enter()/liveness_leave();
 *                 stalled when one has been inside for longer than its
 *                 deadline (a hung disk, a stuck fsync). Idle is healthy.
 *   LIVE_UPLINK   a heartbeat: the uplink thread calls liveness_beat() at
 *                 each status tick; stalled when the last beat is older
 *                 than the deadline. Watched only while an uplink runs
 *                 (liveness_expect()).
 * The main thread is critical by construction: it is the one that pets.
 * A camera thread is not: one camera blocked on its network does not stop
 * the petting; a camera blocked inside a storage operation does, through
 * LIVE_STORAGE.
 *
 * TEST SEAMS (environment, read once at liveness_new()):
 *   CAMGATE_TEST_STALL=storage|uplink|camera  liveness_test_stall() blocks
 *       the calling thread for good at the matching point (daemon_stream.c:
 *       inside a storage write, and before it for "camera"; daemon_uplink.c:
 *       in the status tick), as a hung thread would;
 *   CAMGATE_TEST_LIVENESS_MS=N  every deadline becomes N ms.
 * Never set on a gateway; tests/integration/test_watchdog.py sets them.
 *
 * Thread-safe (atomics, no locks): any thread may report, the main thread
 * judges. liveness_new() allocates, liveness_free() frees. The reporting
 * calls and liveness_test_stall() take a NULL @l as "not watched".
 */
#ifndef CAMGATE_FIRMWARE_LIVENESS_H
#define CAMGATE_FIRMWARE_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum liveness_part { LIVE_STORAGE = 0, LIVE_UPLINK, LIVE_NPARTS };

/* Where liveness_test_stall() may block (the seams above). */
enum liveness_seam { LIVE_SEAM_STORAGE = 0, LIVE_SEAM_UPLINK, LIVE_SEAM_CAMERA };

/* Default deadlines: a ring write bounded by a slow USB disk's fsync, and
 * a few status ticks of the uplink (its transfers are non-blocking). */
#define LIVE_STORAGE_DEADLINE_MS (2 * 60 * 1000)
#define LIVE_UPLINK_DEADLINE_MS	 (5 * 60 * 1000)

struct liveness;

/* LIVE_STORAGE is watched from the start, LIVE_UPLINK only once expected. */
int liveness_new(struct liveness **lp);
void liveness_free(struct liveness *l); /* NULL is a no-op */

/* Watch @part with @deadline_ms from now (0: stop watching it). */
void liveness_expect(struct liveness *l, enum liveness_part part, int64_t deadline_ms);
/* The deadline of a part that beats every @interval_ms: three beats
 * missed, and never under LIVE_UPLINK_DEADLINE_MS. */
int64_t liveness_beats_deadline(int64_t interval_ms);
/* A heartbeat of @part. */
void liveness_beat(struct liveness *l, enum liveness_part part);
/* An operation of @part begins; returns the token for liveness_leave()
 * (-1 when every slot is taken: that operation is not tracked). */
int liveness_enter(struct liveness *l, enum liveness_part part);
void liveness_leave(struct liveness *l, int token);

/* True when every watched part progresses; otherwise false, with the
 * first stalled part's name ("storage", "uplink") and how long it has
 * stalled in @why. Main thread. */
bool liveness_ok(struct liveness *l, char *why, size_t cap);

/* The test seam: blocks for good when CAMGATE_TEST_STALL names @where;
 * returns at once otherwise. */
void liveness_test_stall(struct liveness *l, enum liveness_seam where);

#endif /* CAMGATE_FIRMWARE_LIVENESS_H */
