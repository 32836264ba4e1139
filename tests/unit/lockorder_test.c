// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lockorder_test - lib/lockorder.h: locks taken in the documented order
 * pass; waiting for a lock while holding one of the same or a later
 * level aborts (checked in a child: it must die of SIGABRT); a trylock
 * against the order is allowed; and the real locks are checked: statedb's,
 * the ring's (with state.db taken inside it by an upload owner, as the
 * outbox does) and the outbox's read connection's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/lockorder.h"
#include "lib/log.h"
#include "net/outbox.h"
#include "storage/ring.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

/* Runs @fn in a child; its wait status. */
static int in_child(void (*fn)(void *arg), void *arg)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		/* The abort's message is expected; keep the output clean. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static bool died_of_abort(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void in_order(void *arg)
{
	(void)arg;
	lockorder_wait(LOCK_GW_UP);
	lockorder_wait(LOCK_GW_CAMS);
	lockorder_wait(LOCK_STATEDB);
	lockorder_wait(LOCK_UPLINK);
	lockorder_release(LOCK_UPLINK);
	lockorder_release(LOCK_STATEDB);
	/* Released: the same level again is fine. */
	lockorder_wait(LOCK_STATEDB);
	lockorder_release(LOCK_STATEDB);
	lockorder_release(LOCK_GW_CAMS);
	lockorder_release(LOCK_GW_UP);
}

static void reversed(void *arg)
{
	(void)arg;
	lockorder_wait(LOCK_STATEDB);
	lockorder_wait(LOCK_GW_UP); /* aborts */
}

static void same_level(void *arg)
{
	(void)arg;
	lockorder_wait(LOCK_GW_CAMS);
	lockorder_wait(LOCK_GW_CAMS); /* aborts: a second one could deadlock */
}

static void tried_against_order(void *arg)
{
	(void)arg;
	lockorder_wait(LOCK_RING);
	lockorder_tried(LOCK_GW_UP); /* never waits: allowed */
	lockorder_wait(LOCK_STATEDB);
	lockorder_release(LOCK_STATEDB);
	lockorder_release(LOCK_GW_UP);
	lockorder_release(LOCK_RING);
}

/* statedb_lock() held, then the daemon's up_lock: the inversion. */
static void statedb_then_up(void *arg)
{
	struct statedb *db = arg;

	statedb_lock(db);
	lockorder_wait(LOCK_GW_UP); /* aborts */
}

static void statedb_in_order(void *arg)
{
	struct statedb *db = arg;

	lockorder_wait(LOCK_GW_UP);
	statedb_lock(db);
	statedb_unlock(db);
	lockorder_release(LOCK_GW_UP);
	/* After the unlock nothing is held: an outer lock is fine again. */
	statedb_lock(db);
	statedb_unlock(db);
	lockorder_wait(LOCK_GW_CAMS);
	lockorder_release(LOCK_GW_CAMS);
}

struct real {
	struct statedb *db;
	struct ring *ring;
	struct outbox *ob;
};

/* An upload owner that takes state.db's lock inside the ring's, as the
 * outbox's does (its reader connection is at the same level). */
static int owner_pending(void *arg, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp)
{
	struct real *r = arg;

	(void)before_ms;
	statedb_lock(r->db);
	statedb_unlock(r->db);
	*segsp = *bytesp = 0;
	return 0;
}

static void ring_in_order(void *arg)
{
	struct real *r = arg;
	const struct ring_upload_owner owner = { .pending = owner_pending, .arg = r };
	struct ring_stat st;

	ring_set_upload_owner(r->ring, &owner);
	lockorder_wait(LOCK_GW_CAMS);
	if (ring_stat(r->ring, &st))
		_exit(4);
	lockorder_release(LOCK_GW_CAMS);
}

/* state.db held, then a ring call: the inversion. */
static void statedb_then_ring(void *arg)
{
	struct real *r = arg;
	struct ring_stat st;

	statedb_lock(r->db);
	ring_stat(r->ring, &st); /* aborts */
}

/* state.db held, then the outbox's reader: the same level. */
static void statedb_then_reader(void *arg)
{
	struct real *r = arg;
	uint64_t seq;

	statedb_lock(r->db);
	outbox_seg_queued(r->ob, "cam1", &seq); /* aborts */
}

static void test_order_kept(void **state)
{
	int st;

	(void)state;
	st = in_child(in_order, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = in_child(tried_against_order, NULL);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_wrong_order_aborts(void **state)
{
	(void)state;
	if (!LOCKORDER_ON)
		skip();
	assert_true(died_of_abort(in_child(reversed, NULL)));
	assert_true(died_of_abort(in_child(same_level, NULL)));
}

static void test_statedb_lock_checked(void **state)
{
	char dir[64];
	struct statedb *db;
	int st;

	(void)state;
	if (!LOCKORDER_ON)
		skip();
	testutil_mkdtemp(dir, sizeof(dir), "lockorder_test");
	assert_int_equal(statedb_open(dir, &db), 0);
	st = in_child(statedb_in_order, db);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(died_of_abort(in_child(statedb_then_up, db)));
	statedb_close(db);
	testutil_rmtree(dir);
}

static void test_ring_and_outbox_locks_checked(void **state)
{
	char dir[64], rdir[96];
	struct real r;
	int st;

	(void)state;
	if (!LOCKORDER_ON)
		skip();
	testutil_mkdtemp(dir, sizeof(dir), "lockorder_test");
	snprintf(rdir, sizeof(rdir), "%s/ring", dir);
	assert_int_equal(statedb_open(dir, &r.db), 0);
	assert_int_equal(outbox_open(r.db, &r.ob), 0);
	assert_int_equal(ring_create(rdir, 2, 1 << 20), 0);
	assert_int_equal(ring_open(rdir, NULL, &r.ring), 0);
	st = in_child(ring_in_order, &r);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(died_of_abort(in_child(statedb_then_ring, &r)));
	assert_true(died_of_abort(in_child(statedb_then_reader, &r)));
	ring_close(r.ring);
	outbox_close(r.ob);
	statedb_close(r.db);
	testutil_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_wrong_order_aborts),
		cmocka_unit_test(test_statedb_lock_checked),
		cmocka_unit_test(test_ring_and_outbox_locks_checked),
	};

	log_init("lockorder_test", LOG_DEST_PLAIN, LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
