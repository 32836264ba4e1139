// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lockorder_test - lib/lockorder.h: locks taken in the documented order
 * pass; waiting for a lock while holding one of the same or a later
 * level aborts (checked in a child: it must die of SIGABRT); a trylock
 * against the order is allowed; and statedb's real lock is checked.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_wrong_order_aborts),
		cmocka_unit_test(test_statedb_lock_checked),
	};

	log_init("lockorder_test", LOG_DEST_PLAIN, LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
