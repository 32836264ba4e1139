// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_basic_test - the footage ring (storage/ring.h) on real files:
 * create and open rules, a damaged ring.meta, the writer lock and
 * read-only opens, append and read back, bad appends, the init registry,
 * listing by camera and time span and a listing stopped early, segments
 * too large for an extent, ring_stat()'s byte counts, and appends from
 * several threads at once. Wrap-around and eviction are in
 * ring_evict_test.c, rebuilds, corruption and orphans in
 * ring_recovery_test.c, power cuts at every write step in
 * ring_fault_test.c.
 *
 * Folders and geometry are those of tests/unit/ring_fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "tests/unit/ring_fixture.h"

static void test_create_rules(void **state)
{
	struct fx *fx = *state;
	char other[128];

	assert_true(ring_exists(fx->dir));
	assert_int_equal(ring_create(fx->dir, EXTENTS, EXTENT_BYTES), -EEXIST);
	snprintf(other, sizeof(other), "%s/other", fx->tmp);
	assert_false(ring_exists(other));
	assert_int_equal(ring_create(other, 1, EXTENT_BYTES), -EINVAL);
	assert_int_equal(ring_create(other, 2, EXTENT_BYTES / 2), -EINVAL);
	assert_int_equal(ring_create(other, 2, EXTENT_BYTES + 100), -EINVAL);
	assert_false(ring_exists(other));
}

static void test_open_not_a_ring(void **state)
{
	struct fx *fx = *state;
	struct ring *r = NULL;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/empty", fx->tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ring_open(path, NULL, &r), -ENOENT);
	assert_int_equal(ring_open_ro(path, &r), -ENOENT);
	snprintf(path, sizeof(path), "%s/missing", fx->tmp);
	assert_int_equal(ring_open(path, NULL, &r), -ENOENT);
	assert_null(r);

	/* A damaged ring.meta is -EBADMSG, not "no ring". */
	ring_close(fx->ring);
	fx->ring = NULL;
	snprintf(path, sizeof(path), "%s/ring.meta", fx->dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 20), 1);
	close(fd);
	assert_int_equal(ring_open(fx->dir, NULL, &r), -EBADMSG);
	assert_null(r);
}

static void test_second_writer_and_ro(void **state)
{
	struct fx *fx = *state;
	struct ring *r2 = NULL, *ro = NULL;
	struct ring_seg_info a;
	struct seglist l;
	struct ring_seg seg = { .camera = "cam-a", .init_id = fx->init_a };
	uint64_t id;

	put_ok(fx, 1, &a);
	assert_int_equal(ring_open(fx->dir, NULL, &r2), -EBUSY);
	assert_null(r2);
	assert_int_equal(ring_rebuild(fx->dir, NULL), -EBUSY);

	assert_int_equal(ring_open_ro(fx->dir, &ro), 0);
	assert_int_equal(ring_append(ro, &seg, "x", 1, NULL), -EROFS);
	assert_int_equal(ring_put_init(ro, "cam-a", "y", 1, &id), -EROFS);
	assert_int_equal(ring_mark_uploaded(ro, a.id), -EROFS);
	l.n = 0;
	assert_int_equal(ring_list(ro, NULL, INT64_MIN, INT64_MAX, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.s[0].id, a.id);
	/* The reader sees what the writer commits after it opened. */
	put_ok(fx, 2, NULL);
	l.n = 0;
	assert_int_equal(ring_list(ro, "cam-a", INT64_MIN, INT64_MAX, collect, &l), 0);
	assert_int_equal(l.n, 2);
	{
		static uint8_t got[SEG_LEN], want[SEG_LEN];
		size_t len;

		testutil_fill(want, sizeof(want), 2);
		assert_int_equal(ring_read(ro, l.s[1].id, got, sizeof(got), &len), 0);
		assert_memory_equal(got, want, SEG_LEN);
	}
	ring_close(ro);

	/* Closing releases the lock. */
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_open(fx->dir, NULL, &r2), 0);
	ring_close(r2);
}

static void test_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info a1, a2, b1;
	struct ring_seg segb = {
		.camera = "cam_b.2",
		.init_id = fx->init_b,
		.start_utc_ms = T0 + 500,
		.duration_ms = 2000,
		.media_start_us = -5,
		.flags = RING_F_DISCONT,
		.utc_src = RING_UTC_ARRIVAL,
	};
	static uint8_t big[SEG_LEN];
	uint8_t small[16];
	size_t len = 0;

	put_ok(fx, 1, &a1);
	assert_int_equal(ring_append(fx->ring, &segb, "bbbbbbbb", 8, &b1), 0);
	put_ok(fx, 2, &a2);

	/* ids rise across the ring; seq rises per camera from 1. */
	assert_true(a1.id < b1.id && b1.id < a2.id);
	assert_int_equal(a1.seq, 1);
	assert_int_equal(a2.seq, 2);
	assert_int_equal(b1.seq, 1);
	assert_string_equal(b1.camera, "cam_b.2");
	assert_int_equal(b1.init_id, fx->init_b);
	assert_int_equal(b1.start_utc_ms, T0 + 500);
	assert_int_equal(b1.duration_ms, 2000);
	assert_int_equal(b1.media_start_us, -5);
	assert_int_equal(b1.flags, RING_F_DISCONT);
	assert_int_equal(b1.len, 8);
	assert_int_equal(a1.extent, 0);
	assert_false(a1.uploaded);

	assert_seg(fx, a1.id, 1);
	assert_seg(fx, a2.id, 2);
	assert_int_equal(ring_read(fx->ring, b1.id, small, sizeof(small), &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(small, "bbbbbbbb", 8);

	/* Too small a buffer says how big; unknown ids are -ENOENT. */
	len = 0;
	assert_int_equal(ring_read(fx->ring, a1.id, small, sizeof(small), &len), -E2BIG);
	assert_int_equal(len, SEG_LEN);
	assert_int_equal(ring_read(fx->ring, 999999, big, sizeof(big), &len), -ENOENT);

	/* The same survives a reopen. */
	fx_reopen(fx);
	assert_seg(fx, a2.id, 2);
	put_ok(fx, 3, &a1);
	assert_int_equal(a1.seq, 3);
	assert_true(a1.id > a2.id);
}

static void test_bad_appends(void **state)
{
	struct fx *fx = *state;
	struct ring_seg seg = { .camera = "cam-a", .init_id = 12345 };
	struct seglist l;

	assert_int_equal(ring_append(fx->ring, &seg, "x", 1, NULL), -ENOENT);
	seg.init_id = fx->init_b; /* another camera's init */
	assert_int_equal(ring_append(fx->ring, &seg, "x", 1, NULL), -EINVAL);
	seg.init_id = fx->init_a;
	seg.camera = "cam a"; /* not a valid name */
	assert_int_equal(ring_append(fx->ring, &seg, "x", 1, NULL), -EINVAL);
	seg.camera = "0123456789012345678901234567890123";
	assert_int_equal(ring_append(fx->ring, &seg, "x", 1, NULL), -EINVAL);
	list_all(fx, &l);
	assert_int_equal(l.n, 0);
}

static void test_init_registry(void **state)
{
	struct fx *fx = *state;
	static uint8_t huge[1024 * 1024 + 1];
	uint8_t buf[64];
	uint64_t id;
	size_t len = 0;

	/* Same bytes, same camera: same id. Other camera: another id. */
	assert_int_equal(ring_put_init(fx->ring, "cam-a", init_bytes_a, sizeof(init_bytes_a), &id),
			 0);
	assert_int_equal(id, fx->init_a);
	assert_int_equal(ring_put_init(fx->ring, "cam-c", init_bytes_a, sizeof(init_bytes_a), &id),
			 0);
	assert_true(id != fx->init_a && id != fx->init_b);
	assert_int_equal(ring_put_init(fx->ring, "cam-a", huge, sizeof(huge), &id), -E2BIG);

	assert_int_equal(ring_read_init(fx->ring, fx->init_b, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(init_bytes_b));
	assert_memory_equal(buf, init_bytes_b, len);
	assert_int_equal(ring_read_init(fx->ring, fx->init_b, buf, 4, &len), -E2BIG);
	assert_int_equal(len, sizeof(init_bytes_b));
	assert_int_equal(ring_read_init(fx->ring, 777, buf, sizeof(buf), &len), -ENOENT);
}

static void test_list_filters(void **state)
{
	struct fx *fx = *state;
	struct ring_seg segb = { .camera = "cam_b.2",
				 .init_id = fx->init_b,
				 .start_utc_ms = T0 + 1500,
				 .duration_ms = 1000 };
	struct seglist l;

	for (uint32_t n = 0; n < 4; n++) /* [T0 + n s, +1 s) */
		put_ok(fx, n, NULL);
	assert_int_equal(ring_append(fx->ring, &segb, "b", 1, NULL), 0);

	list_all(fx, &l); /* (camera, seq) order */
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(l.s[i].camera, "cam-a");
		assert_int_equal(l.s[i].seq, i + 1);
	}
	assert_string_equal(l.s[4].camera, "cam_b.2");

	l.n = 0; /* spans meeting [T0 + 1.5 s, T0 + 3 s) */
	assert_int_equal(ring_list(fx->ring, "cam-a", T0 + 1500, T0 + 3000, collect, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.s[0].start_utc_ms, T0 + 1000);
	assert_int_equal(l.s[1].start_utc_ms, T0 + 2000);
	l.n = 0;
	assert_int_equal(ring_list(fx->ring, "nobody", INT64_MIN, INT64_MAX, collect, &l), 0);
	assert_int_equal(l.n, 0);
}

static int stop_at_two(void *arg, const struct ring_seg_info *info)
{
	int *seen = arg;

	(void)info;
	return ++*seen == 2 ? 42 : 0;
}

static void test_list_stops(void **state)
{
	struct fx *fx = *state;
	int seen = 0;

	for (uint32_t n = 0; n < 4; n++)
		put_ok(fx, n, NULL);
	assert_int_equal(ring_list(fx->ring, NULL, INT64_MIN, INT64_MAX, stop_at_two, &seen), 42);
	assert_int_equal(seen, 2);
}

static void test_oversize(void **state)
{
	struct fx *fx = *state;
	struct ring_seg seg = { .camera = "cam-a", .init_id = fx->init_a };
	struct seglist l;
	uint8_t *big = calloc(1, EXTENT_BYTES);

	assert_non_null(big);
	put_ok(fx, 0, NULL);
	assert_int_equal(ring_append(fx->ring, &seg, big, EXTENT_BYTES, NULL), -ENOSPC);
	assert_int_equal(ring_append(fx->ring, &seg, big, SIZE_MAX, NULL), -ENOSPC);
	/* Fits an extent alone, but not with header and its init record. */
	assert_int_equal(ring_append(fx->ring, &seg, big, EXTENT_BYTES - 4096 - 256, NULL),
			 -ENOSPC);
	/* The largest that fits goes into a fresh extent. */
	assert_int_equal(ring_append(fx->ring, &seg, big, EXTENT_BYTES - 3 * 4096 - 256, NULL), 0);
	list_all(fx, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.s[1].extent, 1);
	free(big);
}

static void test_stat_bytes(void **state)
{
	struct fx *fx = *state;
	struct ring_stat st;

	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.extents, EXTENTS);
	assert_int_equal(st.extent_bytes, EXTENT_BYTES);
	assert_int_equal(st.bytes_total, EXTENTS * EXTENT_BYTES);
	assert_int_equal(st.bytes_used, 0);
	assert_int_equal(st.segs, 0);
	assert_int_equal(st.oldest_utc_ms, 0);
	put_ok(fx, 0, NULL);
	put_ok(fx, 1, NULL);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs, 2);
	assert_int_equal(st.bytes_used, 2 * 102400 + 4096);
	assert_int_equal(st.bytes_pinned, 0);
	ring_set_upload_required(fx->ring, true);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.bytes_pinned, 2 * 102400);
	assert_int_equal(st.segs_pending_upload, 2);
}

#define THREADS	   4
#define PER_THREAD 6

struct worker {
	struct fx *fx;
	int idx;
	int failures;
	struct ring_seg_info info[PER_THREAD];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char cam[16] = { 0 };
	uint64_t init;
	uint32_t payload[64];

	snprintf(cam, sizeof(cam), "cam-t%d", w->idx);
	if (ring_put_init(w->fx->ring, cam, cam, sizeof(cam), &init))
		w->failures++;
	for (int i = 0; i < PER_THREAD; i++) {
		struct ring_seg seg = { .camera = cam, .init_id = init, .start_utc_ms = T0 + i };

		for (size_t k = 0; k < 64; k++)
			payload[k] = (uint32_t)(w->idx * 1000 + i);
		if (ring_append(w->fx->ring, &seg, payload, sizeof(payload), &w->info[i]))
			w->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *fx = *state;
	static struct worker w[THREADS];
	pthread_t t[THREADS];
	struct seglist l;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .fx = fx, .idx = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		for (int k = 0; k < PER_THREAD; k++) {
			uint32_t got[64];
			size_t len;

			assert_int_equal(w[i].info[k].seq, k + 1);
			assert_int_equal(
				ring_read(fx->ring, w[i].info[k].id, got, sizeof(got), &len), 0);
			assert_int_equal(got[63], i * 1000 + k);
		}
	}
	list_all(fx, &l);
	assert_int_equal(l.n, THREADS * PER_THREAD);
	verify_clean(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_create_rules), T(test_open_not_a_ring), T(test_second_writer_and_ro),
		T(test_roundtrip),    T(test_bad_appends),     T(test_init_registry),
		T(test_list_filters), T(test_list_stops),      T(test_oversize),
		T(test_stat_bytes),   T(test_threads),
#undef T
	};

	log_init("ring_basic_test", LOG_DEST_PLAIN, getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
