// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * outbox_test - the durable outbox (net/outbox.h) on a real state.db in a
 * temporary folder: priorities (O3, live newest first per camera), keep
 * and replace (O4), acknowledged versions one by one and in a batch (O2),
 * retries and their reset on open (O5), demotion out of the live window,
 * durability across close/open (O1), rows put with acknowledgements in
 * one commit, outbox_next() beside another thread's open transaction,
 * its order kept between writes (and dropped on each write and when a
 * waiting row comes due), segments queued with their init segments in
 * one transaction, the record of a segment's upload (S1-S3), and the
 * small tables.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/log.h"
#include "net/outbox.h"
#include "storage/statedb.h"

struct fx {
	char dir[64];
	struct statedb *db;
	struct outbox *ob;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	log_init("outbox_test", LOG_DEST_PLAIN, LOG_CRIT);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/outbox_test.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(outbox_open(fx->db, &fx->ob), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const files[] = { "", "-wal", "-shm" };
	char path[128];

	outbox_close(fx->ob);
	statedb_close(fx->db);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/state.db%s", fx->dir, files[i]);
		unlink(path);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void reopen(struct fx *fx)
{
	outbox_close(fx->ob);
	statedb_close(fx->db);
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(outbox_open(fx->db, &fx->ob), 0);
}

static void put(struct fx *fx, int prio, int kind, const char *cam, uint64_t seq, int64_t start,
		const char *body, bool replace)
{
	struct outbox_item it = { .prio = prio,
				  .kind = kind,
				  .seq = seq,
				  .start_ms = start,
				  .created_ms = start,
				  .len = 100 };

	snprintf(it.camera, sizeof(it.camera), "%s", cam);
	snprintf(it.path, sizeof(it.path), "media/%s/%llu", cam, (unsigned long long)seq);
	if (kind != OUTBOX_SEGMENT)
		snprintf(it.path, sizeof(it.path), "%s-%s", kind == OUTBOX_REGISTRY ? "reg" : "x",
			 cam);
	it.body = (char *)body;
	it.deadline_ms = kind == OUTBOX_REGISTRY ? start + 1000 : 0;
	assert_int_equal(outbox_put(fx->ob, &it, replace), 0);
}

/* Path of the next due row, skipping none; "" when none. */
static const char *next_path(struct fx *fx, int64_t now, struct outbox_item *it)
{
	static char path[OUTBOX_PATH_MAX];
	int ret = outbox_next(fx->ob, now, NULL, 0, it);

	if (ret == -ENOENT)
		return "";
	assert_int_equal(ret, 0);
	snprintf(path, sizeof(path), "%s", it->path);
	outbox_item_clear(it);
	return path;
}

static void test_priorities(void **state)
{
	struct fx *fx = *state;
	struct outbox_item it;
	int64_t busy[3];
	const char *want[] = { "reg-cam1", "media/cam2/9", "media/cam1/2", "media/cam2/1",
			       "media/cam1/3" };

	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 3, 3000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 2, 2000, NULL, false);
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam2", 9, 9000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam2", 1, 2500, NULL, false);
	put(fx, OUTBOX_URGENT, OUTBOX_REGISTRY, "cam1", 0, 9500, "{}", true);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(outbox_next(fx->ob, 0, busy, (size_t)(i < 3 ? i : 3), &it), 0);
		assert_string_equal(it.path, want[i]);
		if (i < 3)
			busy[i] = it.id;
		else
			assert_int_equal(outbox_done(fx->ob, it.id, it.version), 0);
		outbox_item_clear(&it);
	}
	assert_int_equal(outbox_next(fx->ob, 0, busy, 3, &it), -ENOENT);
}

static void test_keep_and_replace(void **state)
{
	struct fx *fx = *state;
	struct outbox_item it, it2;
	struct outbox_stat st;

	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 1, 1000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 1, 1000, NULL, false);
	put(fx, OUTBOX_URGENT, OUTBOX_REGISTRY, "cam1", 0, 5000, "{\"v\":1}", true);
	assert_int_equal(outbox_next(fx->ob, 0, NULL, 0, &it), 0);
	assert_string_equal(it.body, "{\"v\":1}");
	/* A newer record while the first is in flight: the 2xx of the old
	 * body must not delete the new one. */
	put(fx, OUTBOX_URGENT, OUTBOX_REGISTRY, "cam1", 0, 7000, "{\"v\":2}", true);
	assert_int_equal(outbox_done(fx->ob, it.id, it.version), 0);
	assert_int_equal(outbox_next(fx->ob, 0, NULL, 0, &it2), 0);
	assert_int_equal(it2.id, it.id);
	assert_int_equal(it2.version, it.version + 1);
	assert_string_equal(it2.body, "{\"v\":2}");
	/* The R2 clock runs from the first unacknowledged change. */
	assert_int_equal(it2.created_ms, 5000);
	assert_int_equal(it2.deadline_ms, 6000);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 1);
	assert_int_equal(st.rows[OUTBOX_LIVE], 1); /* kept, not doubled */
	assert_int_equal(st.registry_created_ms, 5000);
	assert_string_equal(st.registry_path, "reg-cam1");
	assert_int_equal(outbox_done(fx->ob, it2.id, it2.version), 0);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 0);
	assert_int_equal(st.registry_created_ms, 0);
	outbox_item_clear(&it);
	outbox_item_clear(&it2);
}

static void test_retry_and_reopen(void **state)
{
	struct fx *fx = *state;
	struct outbox_item it;

	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 1, 1000, NULL, false);
	assert_int_equal(outbox_next(fx->ob, 100, NULL, 0, &it), 0);
	assert_int_equal(outbox_retry(fx->ob, it.id, 5000), 0);
	assert_string_equal(next_path(fx, 4999, &it), "");
	assert_string_equal(next_path(fx, 5000, &it), "media/cam1/1");
	assert_int_equal(outbox_next(fx->ob, 5000, NULL, 0, &it), 0);
	assert_int_equal(it.tries, 1);
	assert_int_equal(outbox_retry(fx->ob, it.id, 1000000), 0);
	/* O1 + O5: the row survives a restart and is due at once. */
	reopen(fx);
	assert_string_equal(next_path(fx, 0, &it), "media/cam1/1");
}

static void media(struct outbox_media *m, const char *cam, uint64_t seq, uint64_t init_id, int prio)
{
	memset(m, 0, sizeof(*m));
	m->seg = (struct outbox_item){ .prio = prio,
				       .kind = OUTBOX_SEGMENT,
				       .seq = seq,
				       .start_ms = 1000 + (int64_t)seq,
				       .created_ms = 1,
				       .init_id = init_id,
				       .ref = 100 + seq };
	snprintf(m->seg.camera, sizeof(m->seg.camera), "%s", cam);
	snprintf(m->seg.path, sizeof(m->seg.path), "media/%s/%llu", cam, (unsigned long long)seq);
	m->init = (struct outbox_item){ .prio = OUTBOX_URGENT,
					.kind = OUTBOX_INIT,
					.ref = init_id,
					.start_ms = 1,
					.created_ms = 1 };
	snprintf(m->init.camera, sizeof(m->init.camera), "%s", cam);
	snprintf(m->init.path, sizeof(m->init.path), "media/%s/init-%llu.mp4", cam,
		 (unsigned long long)init_id);
}

static void test_demote(void **state)
{
	struct fx *fx = *state;
	struct outbox_media m;
	struct outbox_stat st;
	struct outbox_item it;
	int64_t init_row;

	for (uint64_t s = 1; s <= 5; s++)
		put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", s, (int64_t)s * 1000, NULL, false);
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam2", 1, 500, NULL, false);
	/* cam1's sixth segment, with a window of two: 1-4 leave it. */
	media(&m, "cam1", 6, 7, OUTBOX_LIVE);
	m.seg.start_ms = 6000;
	assert_int_equal(outbox_put_media(fx->ob, &m, 1, 2), 0);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 1); /* its init */
	assert_int_equal(st.rows[OUTBOX_LIVE], 3);
	assert_int_equal(st.rows[OUTBOX_BACKLOG], 4);
	assert_int_equal(st.oldest_ms[OUTBOX_BACKLOG], 1000);
	/* Past the init, live view first: each camera's newest (the newer
	 * start first), then cam1's second newest. */
	assert_string_equal(next_path(fx, 0, &it), "media/cam1/init-7.mp4");
	assert_int_equal(outbox_next(fx->ob, 0, NULL, 0, &it), 0);
	init_row = it.id;
	outbox_item_clear(&it);
	assert_int_equal(outbox_next(fx->ob, 0, &init_row, 1, &it), 0);
	assert_string_equal(it.path, "media/cam1/6");
	outbox_item_clear(&it);
	/* Fewer rows than the window: nothing moves. */
	media(&m, "cam2", 2, 8, OUTBOX_LIVE);
	assert_int_equal(outbox_put_media(fx->ob, &m, 1, 2), 0);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_LIVE], 4);
	assert_int_equal(st.rows[OUTBOX_BACKLOG], 4);
}

/* Takes the next due row, skipping those in @busy, and adds it there. */
static const char *take(struct fx *fx, int64_t *busy, size_t *nbusy)
{
	static char path[OUTBOX_PATH_MAX];
	struct outbox_item it;

	assert_int_equal(outbox_next(fx->ob, 0, busy, *nbusy, &it), 0);
	busy[(*nbusy)++] = it.id;
	snprintf(path, sizeof(path), "%s", it.path);
	outbox_item_clear(&it);
	return path;
}

static void test_live_newest_first(void **state)
{
	struct fx *fx = *state;
	static const char *const want[] = { "media/cam2/12", "media/cam1/5", "media/cam3/40",
					    "media/cam2/11", "media/cam1/4", "media/cam2/10",
					    "media/cam1/3",  "media/cam1/1", "media/cam2/2" };
	struct outbox_item it;
	int64_t busy[16];
	size_t nbusy = 0;

	/* After an outage: each camera's live rows, oldest put first. */
	for (uint64_t s = 3; s <= 5; s++)
		put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", s, 100000 + (int64_t)s * 2000, NULL,
		    false);
	for (uint64_t s = 10; s <= 12; s++)
		put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam2", s, 100500 + (int64_t)s * 1000, NULL,
		    false);
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam3", 40, 50000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam2", 2, 90000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 1, 80000, NULL, false);
	/* Round 1: every camera's newest, newer start first; round 2 ... */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(take(fx, busy, &nbusy), want[i]);
	assert_int_equal(outbox_next(fx->ob, 0, busy, nbusy, &it), -ENOENT);
}

static void test_live_new_segment_goes_first(void **state)
{
	struct fx *fx = *state;
	int64_t busy[8];
	size_t nbusy = 0;

	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 1, 1000, NULL, false);
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 2, 2000, NULL, false);
	assert_string_equal(take(fx, busy, &nbusy), "media/cam1/2");
	/* A segment recorded meanwhile outranks the older one still due;
	 * the newest in flight still counts for the ranks. */
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 3, 3000, NULL, false);
	assert_string_equal(take(fx, busy, &nbusy), "media/cam1/3");
	assert_string_equal(take(fx, busy, &nbusy), "media/cam1/1");
}

static void test_done_many(void **state)
{
	struct fx *fx = *state;
	struct outbox_ack acks[3];
	struct outbox_item it[3];
	struct outbox_stat st;
	bool acked = false;

	put(fx, OUTBOX_URGENT, OUTBOX_REGISTRY, "cam1", 0, 1000, "{\"v\":1}", true);
	put(fx, OUTBOX_URGENT, OUTBOX_INIT, "cam1", 0, 1500, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 7, 2000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 8, 3000, NULL, false);
	for (int i = 0; i < 3; i++) {
		int64_t busy[3] = { i > 0 ? it[0].id : 0, i > 1 ? it[1].id : 0 };

		assert_int_equal(outbox_next(fx->ob, 0, busy, (size_t)i, &it[i]), 0);
		acks[i] = (struct outbox_ack){ .id = it[i].id,
					       .version = it[i].version,
					       .init = it[i].kind == OUTBOX_INIT,
					       .ref = 33 };
	}
	assert_string_equal(it[2].path, "media/cam1/7");
	/* The registry record changed while its old body was in flight. */
	put(fx, OUTBOX_URGENT, OUTBOX_REGISTRY, "cam1", 0, 4000, "{\"v\":2}", true);
	assert_int_equal(outbox_commit(fx->ob, NULL, 0, acks, 3), 0);
	assert_int_equal(outbox_commit(fx->ob, NULL, 0, acks, 0), 0);
	/* O1 for the whole batch: it holds across a reopen. */
	reopen(fx);
	assert_int_equal(outbox_init_acked(fx->ob, 33, &acked), 0);
	assert_true(acked);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 1); /* the new registry body */
	assert_int_equal(st.rows[OUTBOX_BACKLOG], 1);
	for (int i = 0; i < 3; i++)
		outbox_item_clear(&it[i]);
	assert_string_equal(next_path(fx, 0, &it[0]), "reg-cam1");
}

/* A playlist put and an acknowledgement commit together, or neither. */
static void test_commit_puts_and_acks(void **state)
{
	struct fx *fx = *state;
	struct outbox_item seg, pl = { .prio = OUTBOX_URGENT, .kind = OUTBOX_PLAYLIST };
	struct outbox_item big = pl;
	struct outbox_ack ack;
	char *body = NULL;
	struct outbox_stat st;
	char *huge = malloc(OUTBOX_BODY_MAX + 2);

	assert_non_null(huge);
	put(fx, OUTBOX_LIVE, OUTBOX_SEGMENT, "cam1", 7, 2000, NULL, false);
	assert_int_equal(outbox_next(fx->ob, 0, NULL, 0, &seg), 0);
	ack = (struct outbox_ack){ .id = seg.id, .version = seg.version };
	snprintf(pl.path, sizeof(pl.path), "media/cam1/live.m3u8");
	snprintf(pl.camera, sizeof(pl.camera), "cam1");
	pl.body = "#EXTM3U\n";
	/* A body over the limit fails the put: nothing of the batch stays. */
	big = pl;
	memset(huge, 'x', OUTBOX_BODY_MAX + 1);
	huge[OUTBOX_BODY_MAX + 1] = '\0';
	big.body = huge;
	assert_int_equal(outbox_commit(fx->ob, &big, 1, &ack, 1), -E2BIG);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_LIVE], 1);
	assert_int_equal(st.rows[OUTBOX_URGENT], 0);
	free(huge);
	assert_int_equal(outbox_commit(fx->ob, &pl, 1, &ack, 1), 0);
	reopen(fx);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_LIVE], 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 1);
	assert_int_equal(outbox_next(fx->ob, 0, NULL, 0, &seg), 0);
	assert_string_equal(seg.path, "media/cam1/live.m3u8");
	assert_string_equal(seg.body, "#EXTM3U\n");
	/* The playlist outlives its row: kept for the next start. */
	ack = (struct outbox_ack){ .id = seg.id, .version = seg.version };
	outbox_item_clear(&seg);
	assert_int_equal(outbox_commit(fx->ob, NULL, 0, &ack, 1), 0);
	reopen(fx);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 0);
	assert_int_equal(outbox_live_get(fx->ob, "cam1", &body), 0);
	assert_string_equal(body, "#EXTM3U\n");
	free(body);
	assert_int_equal(outbox_live_get(fx->ob, "cam2", &body), -ENOENT);
}

struct next_call {
	struct outbox *ob;
	struct outbox_item it;
	int ret;
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *next_thread(void *arg)
{
	struct next_call *c = arg;
	int ret = outbox_next(c->ob, 0, NULL, 0, &c->it);

	pthread_mutex_lock(&c->lock);
	c->ret = ret;
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* While another thread holds the database in a write transaction (as the
 * uplink's ack thread does through a commit and its sync), outbox_next()
 * answers at once, from what was committed. */
static void test_next_beside_commit(void **state)
{
	struct fx *fx = *state;
	struct next_call c = { .ob = fx->ob, .ret = 1 };
	struct timespec until;
	pthread_t t;
	sqlite3 *db;
	bool done;

	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 7, 2000, NULL, false);
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	db = statedb_lock(fx->db);
	assert_int_equal(sqlite3_exec(db,
				      "BEGIN IMMEDIATE; DELETE FROM outbox;"
				      " INSERT INTO outbox(prio, kind, path, start_ms, created_ms)"
				      " VALUES (0, 6, 'events/uncommitted', 1, 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(pthread_create(&t, NULL, next_thread, &c), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&c.lock);
	while (!c.done && pthread_cond_timedwait(&c.cond, &c.lock, &until) == 0)
		;
	done = c.done;
	pthread_mutex_unlock(&c.lock);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	statedb_unlock(fx->db);
	pthread_join(t, NULL);
	assert_true(done); /* did not wait for the writer */
	assert_int_equal(c.ret, 0);
	assert_string_equal(c.it.path, "media/cam1/7");
	outbox_item_clear(&c.it);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
}

/* outbox_next() keeps the O3 order between writes: every write, and the
 * time when a waiting row comes due, must show at the next call. */
static void test_next_follows_writes_and_time(void **state)
{
	struct fx *fx = *state;
	struct outbox_item a, b, u;
	int64_t busy[2];

	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 1, 1000, NULL, false);
	put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", 2, 2000, NULL, false);
	assert_int_equal(outbox_next(fx->ob, 100, NULL, 0, &a), 0);
	assert_string_equal(a.path, "media/cam1/1");
	busy[0] = a.id;
	assert_int_equal(outbox_next(fx->ob, 100, busy, 1, &b), 0);
	assert_string_equal(b.path, "media/cam1/2");
	/* A new urgent row goes first at once. */
	put(fx, OUTBOX_URGENT, OUTBOX_EVENT, "cam1", 0, 3000, "{}", false);
	assert_int_equal(outbox_next(fx->ob, 100, busy, 1, &u), 0);
	assert_int_equal(u.kind, OUTBOX_EVENT);
	outbox_item_clear(&u);
	/* Retried to later: the others go; due again exactly at its time. */
	assert_int_equal(outbox_retry(fx->ob, u.id, 5000), 0);
	assert_string_equal(next_path(fx, 4999, &u), "media/cam1/1");
	assert_string_equal(next_path(fx, 4999, &u), "media/cam1/1");
	assert_string_equal(next_path(fx, 5000, &u), "x-cam1");
	/* Acknowledged rows are gone from the next answer. */
	assert_int_equal(outbox_done(fx->ob, a.id, a.version), 0);
	assert_int_equal(outbox_retry(fx->ob, u.id, 1000000), 0);
	assert_string_equal(next_path(fx, 6000, &u), "media/cam1/2");
	assert_int_equal(outbox_done(fx->ob, b.id, b.version), 0);
	assert_string_equal(next_path(fx, 6000, &u), "");
}

/* More due rows than outbox_next() keeps in order, most of them busy:
 * the first free one in O3 order is still found. */
static void test_next_past_many_busy(void **state)
{
	struct fx *fx = *state;
	enum { N = 300, NBUSY = 200 };
	int64_t *busy = calloc(NBUSY, sizeof(*busy));
	struct outbox_item it;

	assert_non_null(busy);
	for (int i = 0; i < N; i++)
		put(fx, OUTBOX_BACKLOG, OUTBOX_SEGMENT, "cam1", (uint64_t)i, 1000 + i, NULL, false);
	for (int i = 0; i < NBUSY; i++) {
		assert_int_equal(outbox_next(fx->ob, 0, busy, (size_t)i, &it), 0);
		assert_int_equal(it.seq, (uint64_t)i);
		busy[i] = it.id;
		outbox_item_clear(&it);
	}
	assert_int_equal(outbox_next(fx->ob, 0, busy, NBUSY, &it), 0);
	assert_int_equal(it.seq, NBUSY);
	outbox_item_clear(&it);
	free(busy);
}

/* Segments and their init segments in one transaction: each init once,
 * all or nothing, the live window kept per camera in the same commit. */
static void test_put_media(void **state)
{
	struct fx *fx = *state;
	struct outbox_media m[4];
	struct outbox_stat st;

	media(&m[0], "cam1", 1, 7, OUTBOX_LIVE);
	media(&m[1], "cam1", 2, 7, OUTBOX_LIVE);
	media(&m[2], "cam2", 1, 8, OUTBOX_LIVE);
	/* A path too long fails the batch: not even its inits are seen. */
	media(&m[3], "cam2", 2, 9, OUTBOX_LIVE);
	memset(m[3].seg.path, 'p', sizeof(m[3].seg.path));
	assert_int_equal(outbox_put_media(fx->ob, m, 4, 1), -E2BIG);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT] + st.rows[OUTBOX_LIVE], 0);
	/* Two cameras, cam1 with two segments and a window of one. */
	assert_int_equal(outbox_put_media(fx->ob, m, 3, 1), 0);
	reopen(fx);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 2);  /* init 7 once, init 8 */
	assert_int_equal(st.rows[OUTBOX_LIVE], 2);    /* cam1/2, cam2/1 */
	assert_int_equal(st.rows[OUTBOX_BACKLOG], 1); /* cam1/1 left the window */
	/* Again: nothing new, no init twice (it was seen). */
	assert_int_equal(outbox_put_media(fx->ob, m, 3, 0), 0);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 2);
	assert_int_equal(st.rows[OUTBOX_LIVE] + st.rows[OUTBOX_BACKLOG], 3);
	/* The failed batch left init 9 unseen: it comes with cam2/2. */
	snprintf(m[3].seg.path, sizeof(m[3].seg.path), "media/cam2/2");
	assert_int_equal(outbox_put_media(fx->ob, &m[3], 1, 1), 0);
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT], 3);
}

static bool owed(struct outbox *ob, const char *cam, uint64_t seq)
{
	bool v = false;

	assert_int_equal(outbox_seg_owed(ob, cam, seq, 100 + seq, &v), 0);
	return v;
}

/* Acknowledges every due row, as the uplink's ack thread does. */
static void ack_all(struct fx *fx)
{
	struct outbox_item it;

	while (outbox_next(fx->ob, 1LL << 40, NULL, 0, &it) == 0) {
		const struct outbox_ack a = { .id = it.id,
					      .version = it.version,
					      .init = it.kind == OUTBOX_INIT,
					      .ref = it.ref };

		assert_int_equal(outbox_commit(fx->ob, NULL, 0, &a, 1), 0);
		outbox_item_clear(&it);
	}
}

/* S1-S3: the outbox is the one record of a segment's upload. Owed while
 * its row exists or while it is above its camera's queued mark; the
 * deletion of its row is the whole acknowledgement; a corrupt one stays
 * owed, out of the send order, until pruned. */
static void test_segment_record(void **state)
{
	struct fx *fx = *state;
	struct outbox_media m[3];
	struct outbox_item it;
	struct outbox_stat st;
	struct outbox *rd;
	uint64_t segs, bytes, mark;

	media(&m[0], "cam1", 1, 7, OUTBOX_BACKLOG);
	media(&m[1], "cam1", 2, 7, OUTBOX_BACKLOG);
	media(&m[2], "cam1", 3, 7, OUTBOX_BACKLOG);
	m[0].seg.len = 10;
	m[1].seg.len = 20;
	m[0].queued = true; /* seq 2 comes after a hole the caller knows of */
	assert_int_equal(outbox_seg_queued(fx->ob, "cam1", &mark), -ENOENT);
	assert_true(owed(fx->ob, "cam1", 1)); /* S3: nothing known, owed */
	assert_int_equal(outbox_put_media(fx->ob, m, 2, 0), 0);
	assert_int_equal(outbox_seg_queued(fx->ob, "cam1", &mark), 0);
	assert_int_equal(mark, 1);
	assert_true(owed(fx->ob, "cam1", 1) && owed(fx->ob, "cam1", 2));
	assert_int_equal(outbox_seg_pending(fx->ob, 1002, &segs, &bytes), 0);
	assert_int_equal(segs, 2);
	assert_int_equal(bytes, 10); /* only seq 1 starts before 1002 */
	ack_all(fx);
	/* Acknowledged under the mark: central holds it. Above it, with no
	 * row, it may never have had one: owed (the ring scan queues it). */
	assert_false(owed(fx->ob, "cam1", 1));
	assert_true(owed(fx->ob, "cam1", 2));
	assert_true(owed(fx->ob, "cam1", 3));
	m[2].queued = true;
	assert_int_equal(outbox_put_media(fx->ob, &m[2], 1, 0), 0);
	assert_false(owed(fx->ob, "cam1", 2));
	assert_true(owed(fx->ob, "cam1", 3));

	/* Corrupt: dead, never handed out again, not even after a reopen,
	 * and still owed. */
	assert_int_equal(outbox_next(fx->ob, 1LL << 40, NULL, 0, &it), 0);
	assert_int_equal(it.seq, 3);
	assert_int_equal(outbox_seg_dead(fx->ob, it.id), 0);
	outbox_item_clear(&it);
	reopen(fx);
	assert_int_equal(outbox_next(fx->ob, 1LL << 40, NULL, 0, &it), -ENOENT);
	assert_true(owed(fx->ob, "cam1", 3));
	assert_int_equal(outbox_stat(fx->ob, &st), 0);
	assert_int_equal(st.rows[OUTBOX_URGENT] + st.rows[OUTBOX_LIVE] + st.rows[OUTBOX_BACKLOG],
			 0);
	assert_int_equal(outbox_seg_pending(fx->ob, INT64_MAX, &segs, &bytes), 0);
	assert_int_equal(segs, 1);
	assert_int_equal(outbox_seg_prune(fx->ob, 103), 0); /* still in the ring */
	assert_int_equal(outbox_seg_pending(fx->ob, INT64_MAX, &segs, &bytes), 0);
	assert_int_equal(segs, 1);
	assert_int_equal(outbox_seg_prune(fx->ob, 104), 0);
	assert_int_equal(outbox_seg_pending(fx->ob, INT64_MAX, &segs, &bytes), 0);
	assert_int_equal(segs, 0);

	/* A reader answers the same and writes nothing. */
	assert_int_equal(outbox_open_reader(fx->db, &rd), 0);
	assert_false(owed(rd, "cam1", 2));
	assert_true(owed(rd, "cam1", 4));
	assert_int_equal(outbox_put(rd, &m[0].seg, false), -EROFS);
	assert_int_equal(outbox_put_media(rd, m, 1, 0), -EROFS);
	outbox_close(rd);
}

static void test_small_tables(void **state)
{
	struct fx *fx = *state;
	bool b = false;
	struct outbox_ack ack;

	assert_int_equal(outbox_init_acked(fx->ob, 7, &b), 0);
	assert_false(b);
	/* An acknowledged init segment (its row already gone) is known. */
	ack = (struct outbox_ack){ .id = -1, .init = true, .ref = 7 };
	assert_int_equal(outbox_commit(fx->ob, NULL, 0, &ack, 1), 0);
	assert_int_equal(outbox_init_acked(fx->ob, 7, &b), 0);
	assert_true(b);
	assert_int_equal(outbox_cmd_known(fx->ob, "c1", &b), 0);
	assert_false(b);
	assert_int_equal(outbox_cmd_seen(fx->ob, "c1", 1, &b), 0);
	assert_true(b);
	assert_int_equal(outbox_cmd_seen(fx->ob, "c1", 2, &b), 0);
	assert_false(b);
	reopen(fx);
	assert_int_equal(outbox_cmd_known(fx->ob, "c1", &b), 0);
	assert_true(b);
}

static void test_limits(void **state)
{
	struct fx *fx = *state;
	struct outbox_item it = { .kind = OUTBOX_STATUS };
	char *big = malloc(OUTBOX_BODY_MAX + 2);

	memset(big, 'x', OUTBOX_BODY_MAX + 1);
	big[OUTBOX_BODY_MAX + 1] = '\0';
	snprintf(it.path, sizeof(it.path), "status.json");
	it.body = big;
	assert_int_equal(outbox_put(fx->ob, &it, true), -E2BIG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_new_segment_goes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_puts_and_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_beside_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_follows_writes_and_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_past_many_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_media, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
