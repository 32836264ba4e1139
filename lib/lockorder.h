/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lockorder - the process's lock order, checked at run time.
 *
 * Every mutex or rwlock that another can be taken under has a level; a
 * thread takes locks in increasing level only (docs/architecture.md, "Lock
 * order"), so two threads can never wait for each other. The check keeps,
 * per thread, how many locks of each level it holds; taking a lock
 * (waiting for it) while holding one of the same or a later level is a
 * bug, and aborts with both named, in the build that wants to hear it
 * (not -DNDEBUG, or -DCAMGATE_LOCK_CHECK). A trylock never waits, so it
 * may go against the order; it is only recorded.
 *
 * Threads: per-thread state; no locks of its own. Never fails.
 */
#ifndef CAMGATE_LIB_LOCKORDER_H
#define CAMGATE_LIB_LOCKORDER_H

#include <pthread.h>

/* Outermost first. The order is the design: change it only with the
 * table in docs/architecture.md. */
enum lock_level {
	LOCK_GW_UP = 1, /* firmware: gw->up_lock (replacing the uplink) */
	LOCK_GW_CAMS,	/* firmware: gw->cams_lock (the camera table) */
	LOCK_RING,	/* storage/ring: the ring's mutex (its evict hook writes state.db) */
	LOCK_STATEDB,	/* storage/statedb: the state.db connection */
	LOCK_UPLINK,	/* net/uplink: the uplink's own mutexes, innermost */
	LOCK_LEVEL_MAX,
};

#if defined(CAMGATE_LOCK_CHECK) || !defined(NDEBUG)
#define LOCKORDER_ON 1
/* Before waiting for a lock of @level: aborts when this thread holds a
 * lock of @level or a later one. */
void lockorder_wait(enum lock_level level);
/* A lock of @level was taken without waiting (trylock): recorded only. */
void lockorder_tried(enum lock_level level);
/* A lock of @level was released. */
void lockorder_release(enum lock_level level);
#else
#define LOCKORDER_ON 0
static inline void lockorder_wait(enum lock_level level)
{
	(void)level;
}
static inline void lockorder_tried(enum lock_level level)
{
	(void)level;
}
static inline void lockorder_release(enum lock_level level)
{
	(void)level;
}
#endif

/* A mutex at @level, taken and released with the check around it: what
 * every module's lock helper does (ring__lock(), outbox__rd_lock(),
 * uplink__lock(), statedb_lock()). */
static inline void lockorder_lock(pthread_mutex_t *m, enum lock_level level)
{
	lockorder_wait(level);
	pthread_mutex_lock(m);
}

static inline void lockorder_unlock(pthread_mutex_t *m, enum lock_level level)
{
	pthread_mutex_unlock(m);
	lockorder_release(level);
}

#endif /* CAMGATE_LIB_LOCKORDER_H */
