// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_test - the footage ring (storage/ring.h) on real files: append and
 * read back, wrap-around and eviction order, the pins of G2 and the evict
 * hook, init records in every extent, rebuild from extents, corrupt
 * payloads and headers, orphans, the writer lock and read-only opens.
 * Power cuts at every write step are in ring_fault_test.c.
 *
 * Each test runs in its own mkdtemp() folder under /tmp, removed after.
 * Geometry: 3 extents of 1 MiB; a 100000-byte segment takes 102400 bytes
 * on disk and a small init record 4096, so an extent holds 10 segments.
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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "storage/ring_io.h"
#include "tests/unit/testutil.h"

#define EXTENTS	     3
#define EXTENT_BYTES (1024u * 1024u)
#define SEG_LEN	     100000
#define PER_EXTENT   10
#define SEGS_MAX     256
#define T0	     1700000000000LL /* start of the first segment */

struct fx {
	char tmp[64];
	char dir[96];
	struct ring *ring;
	uint64_t init_a; /* camera "cam-a" */
	uint64_t init_b; /* camera "cam_b.2" */
};

struct seglist {
	struct ring_seg_info s[SEGS_MAX];
	size_t n;
};

static const uint8_t init_bytes_a[] = "ftyp....moov camera a, 1080p";
static const uint8_t init_bytes_b[] = "ftyp....moov camera b, 720p, audio";

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->tmp, sizeof(fx->tmp), "ring_test");
	snprintf(fx->dir, sizeof(fx->dir), "%s/ring", fx->tmp);
	assert_int_equal(ring_create(fx->dir, EXTENTS, EXTENT_BYTES), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(
		ring_put_init(fx->ring, "cam-a", init_bytes_a, sizeof(init_bytes_a), &fx->init_a),
		0);
	assert_int_equal(
		ring_put_init(fx->ring, "cam_b.2", init_bytes_b, sizeof(init_bytes_b), &fx->init_b),
		0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	ring_close(fx->ring);
	testutil_rmtree(fx->tmp);
	free(fx);
	return 0;
}

static void fx_reopen(struct fx *fx)
{
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
}

/* Appends segment @n of camera a (seed n, start T0 + n s). */
static int put_seg(struct fx *fx, uint32_t n, struct ring_seg_info *info)
{
	static uint8_t buf[SEG_LEN];
	struct ring_seg seg = {
		.camera = "cam-a",
		.init_id = fx->init_a,
		.start_utc_ms = T0 + 1000LL * n,
		.duration_ms = 1000,
		.media_start_us = 90000LL * n,
		.flags = n % 2 ? RING_F_AUDIO : 0,
		.utc_src = RING_UTC_RTCP,
	};

	testutil_fill(buf, sizeof(buf), n);
	return ring_append(fx->ring, &seg, buf, sizeof(buf), info);
}

static void put_ok(struct fx *fx, uint32_t n, struct ring_seg_info *info)
{
	struct ring_seg_info tmp;

	assert_int_equal(put_seg(fx, n, info ? info : &tmp), 0);
}

/* The segment's bytes are there and are those of seed @n. */
static void assert_seg(struct fx *fx, uint64_t id, uint32_t n)
{
	static uint8_t want[SEG_LEN], got[SEG_LEN];
	size_t len = 0;

	testutil_fill(want, sizeof(want), n);
	assert_int_equal(ring_read(fx->ring, id, got, sizeof(got), &len), 0);
	assert_int_equal(len, SEG_LEN);
	assert_memory_equal(got, want, SEG_LEN);
}

static int collect(void *arg, const struct ring_seg_info *info)
{
	struct seglist *l = arg;

	assert_true(l->n < SEGS_MAX);
	l->s[l->n++] = *info;
	return 0;
}

static void list_all(struct fx *fx, struct seglist *l)
{
	l->n = 0;
	assert_int_equal(ring_list(fx->ring, NULL, INT64_MIN, INT64_MAX, collect, l), 0);
}

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

/* Fills the ring until it has wrapped; segment n is seed n. */
static void fill_ring(struct fx *fx, uint32_t count, struct seglist *l)
{
	for (uint32_t n = 0; n < count; n++) {
		put_ok(fx, n, &l->s[n]);
		l->n = n + 1;
	}
}

static void test_wrap_evicts_oldest_first(void **state)
{
	struct fx *fx = *state;
	static struct seglist put, now;
	struct ring_stat st;
	const uint32_t count = EXTENTS * PER_EXTENT + 5;

	fill_ring(fx, count, &put);
	/* 10 per extent; the 31st reused extent 0, the 36th is its 5th. */
	assert_int_equal(put.s[9].extent, 0);
	assert_int_equal(put.s[10].extent, 1);
	assert_int_equal(put.s[29].extent, 2);
	assert_int_equal(put.s[30].extent, 0);
	assert_int_equal(put.s[30].offset, 4096 + 4096); /* after init */

	list_all(fx, &now);
	assert_int_equal(now.n, count - PER_EXTENT);
	for (size_t i = 0; i < now.n; i++) { /* the newest, in order */
		assert_int_equal(now.s[i].id, put.s[PER_EXTENT + i].id);
		assert_true(i == 0 || now.s[i].seq == now.s[i - 1].seq + 1);
	}
	for (uint32_t n = 0; n < PER_EXTENT; n++) {
		uint8_t b[1];
		size_t len;

		assert_int_equal(ring_read(fx->ring, put.s[n].id, b, 1, &len), -ENOENT);
	}
	assert_seg(fx, put.s[10].id, 10);
	assert_seg(fx, put.s[count - 1].id, count - 1);

	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, PER_EXTENT);
	assert_int_equal(st.evicted_pinned, 0);
	assert_int_equal(st.segs, count - PER_EXTENT);
	assert_int_equal(st.oldest_utc_ms, T0 + 1000LL * PER_EXTENT);
	assert_int_equal(st.newest_utc_ms, T0 + 1000LL * (count - 1));

	/* Wrap again across a reopen: ids keep rising, extent 1 goes. The
	 * eviction counters are the index's, so a reopen keeps them. */
	fx_reopen(fx);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, PER_EXTENT);
	for (uint32_t n = count; n < count + 6; n++)
		put_ok(fx, n, &put.s[n]);
	assert_int_equal(put.s[count + 5].extent, 1);
	assert_true(put.s[count + 5].id > put.s[count - 1].id);
	list_all(fx, &now);
	assert_int_equal(now.s[0].id, put.s[2 * PER_EXTENT].id);
}

struct hook_log {
	int calls;
	int veto_after; /* veto from this call on; -1 never */
	char why[32];
	uint64_t last_id;
};

static int hook(void *arg, const struct ring_seg_info *info, const char *why)
{
	struct hook_log *h = arg;

	snprintf(h->why, sizeof(h->why), "%s", why);
	h->last_id = info->id;
	h->calls++;
	return h->veto_after >= 0 && h->calls > h->veto_after ? -1 : 0;
}

/* With everything pinned, appending into a full ring must not lose a
 * segment unless the hook agrees. */
static void test_floor_protects(void **state)
{
	struct fx *fx = *state;
	static struct seglist put, before, after;
	struct hook_log h = { .veto_after = -1 };
	struct ring_stat st;
	const uint32_t full = EXTENTS * PER_EXTENT;

	fill_ring(fx, full, &put);
	ring_set_floor(fx->ring, T0); /* every segment is in the floor */
	list_all(fx, &before);

	/* No hook: pinned segments are never overwritten. */
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	list_all(fx, &after);
	assert_int_equal(after.n, before.n);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, 0);
	assert_int_equal(st.bytes_pinned, st.bytes_used - 4096 * EXTENTS);

	/* A hook that vetoes the third: -ENOSPC, nothing evicted. */
	h.veto_after = 2;
	ring_set_evict_hook(fx->ring, hook, &h);
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 3);
	assert_string_equal(h.why, "retention-floor");
	assert_int_equal(h.last_id, put.s[2].id);
	list_all(fx, &after);
	assert_int_equal(after.n, before.n);
	assert_seg(fx, put.s[0].id, 0);

	/* A hook that accepts: the oldest extent goes, each one counted. */
	h = (struct hook_log){ .veto_after = -1 };
	put_ok(fx, full, NULL);
	assert_int_equal(h.calls, PER_EXTENT);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_pinned, PER_EXTENT);
	assert_int_equal(st.evicted_segs, PER_EXTENT);

	/* Below the floor segments go silently. */
	ring_set_floor(fx->ring, T0 + 1000LL * (2 * PER_EXTENT));
	h.calls = 0;
	for (uint32_t n = full + 1; n < full + 1 + PER_EXTENT; n++)
		put_ok(fx, n, NULL);
	assert_int_equal(h.calls, 0);
}

static void test_unuploaded_protects(void **state)
{
	struct fx *fx = *state;
	static struct seglist put;
	struct hook_log h = { .veto_after = 0 };
	struct ring_stat st;
	const uint32_t full = EXTENTS * PER_EXTENT;

	fill_ring(fx, full, &put);
	ring_set_evict_hook(fx->ring, hook, &h);

	/* Uploads required: an un-uploaded segment is pinned. */
	ring_set_upload_required(fx->ring, true);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_true(st.upload_required);
	assert_int_equal(st.segs_pending_upload, full);
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 1);
	assert_string_equal(h.why, "not-uploaded");

	/* Acknowledged by central: the extent may go, no hook asked. */
	for (uint32_t n = 0; n < PER_EXTENT; n++)
		assert_int_equal(ring_mark_uploaded(fx->ring, put.s[n].id), 0);
	assert_int_equal(ring_mark_uploaded(fx->ring, 987654), -ENOENT);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs_pending_upload, full - PER_EXTENT);
	h.calls = 0;
	put_ok(fx, full, NULL);
	assert_int_equal(h.calls, 0);

	/* Uploads not required: no pin, even with nothing uploaded. */
	ring_set_upload_required(fx->ring, false);
	for (uint32_t n = full + 1; n < full + 1 + PER_EXTENT; n++)
		put_ok(fx, n, NULL);
	assert_int_equal(h.calls, 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, 2 * PER_EXTENT);
	assert_int_equal(st.evicted_pinned, 0);
}

static void assert_same_lists(const struct seglist *a, const struct seglist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct ring_seg_info *x = &a->s[i], *y = &b->s[i];

		assert_int_equal(x->id, y->id);
		assert_string_equal(x->camera, y->camera);
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->init_id, y->init_id);
		assert_int_equal(x->start_utc_ms, y->start_utc_ms);
		assert_int_equal(x->duration_ms, y->duration_ms);
		assert_int_equal(x->media_start_us, y->media_start_us);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->utc_src, y->utc_src);
		assert_int_equal(x->len, y->len);
		assert_int_equal(x->extent, y->extent);
		assert_int_equal(x->offset, y->offset);
		assert_memory_equal(x->sha256, y->sha256, 32);
	}
}

static void verify_clean(struct fx *fx)
{
	struct ring_verify_report rep;

	assert_int_equal(ring_verify(fx->ring, &rep), 0);
	assert_int_equal(rep.bad_header + rep.bad_hash + rep.missing_init + rep.unindexed, 0);
}

/* The init was first written into extent 0; after extent 0 is reused and
 * the index rebuilt, media in extents 1 and 2 still find it. */
static void test_init_in_every_extent(void **state)
{
	struct fx *fx = *state;
	static struct seglist put, before, after;
	struct ring_verify_report rep;
	uint8_t buf[64];
	size_t len;

	fill_ring(fx, EXTENTS * PER_EXTENT + 3, &put);
	for (uint32_t n = 0; n < put.n; n++)
		assert_int_equal(put.s[n].offset % 4096, 0);
	/* One init record at the head of each extent, media after it. */
	assert_int_equal(put.s[10].offset, 8192);
	assert_int_equal(put.s[20].offset, 8192);
	assert_int_equal(ring_mark_uploaded(fx->ring, put.s[12].id), 0);
	list_all(fx, &before);
	assert_int_equal(ring_verify(fx->ring, &rep), 0);
	assert_int_equal(rep.checked, before.n + EXTENTS); /* + inits */

	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx, &after);
	assert_same_lists(&before, &after);
	for (size_t i = 0; i < after.n; i++) /* not restored by design */
		assert_false(after.s[i].uploaded);
	assert_int_equal(ring_read_init(fx->ring, fx->init_a, buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, init_bytes_a, sizeof(init_bytes_a));
	assert_seg(fx, put.s[10].id, 10);
	verify_clean(fx);

	/* Seq and ids continue after the rebuild. */
	put_ok(fx, 100, &put.s[0]);
	assert_int_equal(put.s[0].seq, EXTENTS * PER_EXTENT + 4);
	assert_true(put.s[0].id > after.s[after.n - 1].id);
}

static void test_rebuild_same_list(void **state)
{
	struct fx *fx = *state;
	static struct seglist before, after;
	struct ring_seg segb = { .camera = "cam_b.2",
				 .init_id = fx->init_b,
				 .start_utc_ms = T0,
				 .duration_ms = 40,
				 .flags = RING_F_DISCONT | RING_F_AUDIO };
	struct ring_stat st;

	for (uint32_t n = 0; n < 14; n++) {
		put_ok(fx, n, NULL);
		segb.start_utc_ms += 40;
		assert_int_equal(ring_append(fx->ring, &segb, &n, sizeof(n), NULL), 0);
	}
	list_all(fx, &before);
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx, &after);
	assert_same_lists(&before, &after);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 0); /* done by rebuild */
	verify_clean(fx);
}

static void flip_byte(struct fx *fx, uint32_t extent, uint64_t off)
{
	char path[160];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/extent-%03u.dat", fx->dir, extent);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void test_corrupt_payload(void **state)
{
	struct fx *fx = *state;
	static uint8_t buf[SEG_LEN];
	struct ring_seg_info s[3];
	struct ring_verify_report rep;
	size_t len;

	for (uint32_t n = 0; n < 3; n++)
		put_ok(fx, n, &s[n]);
	verify_clean(fx);
	flip_byte(fx, s[1].extent, s[1].offset + 256 + 5000);

	assert_int_equal(ring_read(fx->ring, s[1].id, buf, sizeof(buf), &len), -EBADMSG);
	assert_int_equal(ring_verify(fx->ring, &rep), -EBADMSG);
	assert_int_equal(rep.bad_hash, 1);
	assert_int_equal(rep.bad_header, 0);
	assert_int_equal(rep.unindexed, 0);
	assert_seg(fx, s[0].id, 0);
	assert_seg(fx, s[2].id, 2);

	/* Recovery does not drop acknowledged footage for a bad payload:
	 * it stays listed (evidence), and still reads as -EBADMSG. */
	fx_reopen(fx);
	assert_int_equal(ring_read(fx->ring, s[1].id, buf, sizeof(buf), &len), -EBADMSG);
	assert_seg(fx, s[2].id, 2);
}

static void test_corrupt_header_cut(void **state)
{
	struct fx *fx = *state;
	static uint8_t buf[SEG_LEN];
	struct ring_seg_info s[4], more;
	struct ring_stat st;
	struct seglist l;
	size_t len;

	struct ring_verify_report rep;

	for (uint32_t n = 0; n < 4; n++)
		put_ok(fx, n, &s[n]);
	flip_byte(fx, s[1].extent, s[1].offset + 40); /* start time */
	assert_int_equal(ring_verify(fx->ring, &rep), -EBADMSG);
	assert_int_equal(rep.bad_header, 1);
	assert_int_equal(rep.checked, 4 + 1);
	assert_int_equal(rep.bad_hash + rep.unindexed + rep.missing_init, 0);
	fx_reopen(fx);

	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_cut, 1);
	assert_int_equal(st.recovered_orphans, 0);
	assert_int_equal(ring_read(fx->ring, s[1].id, buf, sizeof(buf), &len), -ENOENT);
	/* One bad header costs one record, not the rest of the extent. */
	assert_seg(fx, s[0].id, 0);
	assert_seg(fx, s[2].id, 2);
	assert_seg(fx, s[3].id, 3);
	list_all(fx, &l);
	assert_int_equal(l.n, 3);
	verify_clean(fx);
	put_ok(fx, 4, &more);
	assert_true(more.offset > s[3].offset);
	fx_reopen(fx);
	assert_seg(fx, more.id, 4);
	assert_seg(fx, s[3].id, 3);
}

/* A whole, valid record of an older id lying after the newest one (what
 * a reused extent holds past its write position) is stale, not an orphan. */
static void test_stale_record_ignored(void **state)
{
	struct fx *fx = *state;
	static uint8_t rec[4096 * 25];
	static struct seglist before, after;
	struct ring_seg_info s[3], more;
	struct ring_stat st;
	char path[160];
	int fd;

	for (uint32_t n = 0; n < 3; n++)
		put_ok(fx, n, &s[n]);
	list_all(fx, &before);
	ring_close(fx->ring);
	fx->ring = NULL;
	snprintf(path, sizeof(path), "%s/extent-000.dat", fx->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, rec, sizeof(rec), (off_t)s[0].offset), (ssize_t)sizeof(rec));
	assert_int_equal(pwrite(fd, rec, sizeof(rec), (off_t)(s[2].offset + sizeof(rec))),
			 (ssize_t)sizeof(rec));
	close(fd);

	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 0);
	assert_int_equal(st.recovered_cut, 0);
	list_all(fx, &after);
	assert_same_lists(&before, &after);
	verify_clean(fx);
	put_ok(fx, 3, &more); /* goes over the stale copy */
	assert_int_equal(more.offset, s[2].offset + sizeof(rec));
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx, &after);
	assert_int_equal(after.n, 4);
	assert_seg(fx, s[0].id, 0);
	assert_seg(fx, more.id, 3);
}

/* Rebuilt with a bad header in the middle of the head extent: the whole
 * records past it come back (with no index to jump by, the walk looks at
 * every slot past a bad header; a streamed segment can leave room without
 * a header, storage/ring_writer.c), and the index lists what the extents
 * hold. */
static void test_rebuild_past_bad_header(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info s[4], more;
	struct seglist l;

	for (uint32_t n = 0; n < 4; n++)
		put_ok(fx, n, &s[n]);
	ring_close(fx->ring);
	fx->ring = NULL;
	flip_byte(fx, s[1].extent, s[1].offset + 40);
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx, &l);
	assert_int_equal(l.n, 3);
	assert_seg(fx, s[0].id, 0);
	assert_seg(fx, s[2].id, 2);
	assert_seg(fx, s[3].id, 3);
	verify_clean(fx);
	put_ok(fx, 4, &more);
	assert_true(more.offset > s[3].offset);
	fx_reopen(fx);
	list_all(fx, &l);
	assert_int_equal(l.n, 4);
	verify_clean(fx);
}

/* Rebuilt with a bad header and, past it, records whose payloads are
 * torn: those are cut, and the head goes back to the bad header. New ids
 * must exceed those of the valid headers left behind, or the next walk
 * would take them for live records that follow the new one (found by
 * tests/fuzz/ring_record_fuzz.c). */
static void test_newer_ids_past_cut(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info s[4], more;
	struct seglist l;

	for (uint32_t n = 0; n < 4; n++)
		put_ok(fx, n, &s[n]);
	ring_close(fx->ring);
	fx->ring = NULL;
	flip_byte(fx, s[1].extent, s[1].offset + 40);
	flip_byte(fx, s[2].extent, s[2].offset + 256 + 1000);
	flip_byte(fx, s[3].extent, s[3].offset + 256 + 1000);
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	put_ok(fx, 4, &more);
	assert_int_equal(more.offset, s[1].offset);
	assert_true(more.id > s[3].id);
	verify_clean(fx);
	fx_reopen(fx);
	list_all(fx, &l);
	assert_int_equal(l.n, 2);
	assert_seg(fx, s[0].id, 0);
	assert_seg(fx, more.id, 4);
	verify_clean(fx);
}

/* The init record at the head of an extent is damaged: its media still
 * read (the init bytes live in the index too), verify names the gap. */
static void test_init_record_damaged(void **state)
{
	struct fx *fx = *state;
	struct ring_verify_report rep;
	struct ring_seg_info s[2];
	struct ring_stat st;
	uint8_t buf[64];
	size_t len;

	put_ok(fx, 0, &s[0]);
	put_ok(fx, 1, &s[1]);
	flip_byte(fx, 0, 4096 + 100); /* init record header */
	assert_int_equal(ring_verify(fx->ring, &rep), -EBADMSG);
	assert_int_equal(rep.bad_header, 1);
	assert_int_equal(rep.missing_init, 2);
	assert_int_equal(rep.bad_hash + rep.unindexed, 0);

	fx_reopen(fx);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_cut, 1);
	assert_int_equal(st.segs, 2);
	assert_seg(fx, s[1].id, 1);
	assert_int_equal(ring_read_init(fx->ring, fx->init_a, buf, sizeof(buf), &len), 0);
	assert_int_equal(ring_verify(fx->ring, &rep), -EBADMSG);
	assert_int_equal(rep.missing_init, 2);
	assert_int_equal(rep.bad_header, 0);
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

static void db_exec(struct fx *fx, const char *sql)
{
	char path[160];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/index.db", fx->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_orphans_reindexed(void **state)
{
	struct fx *fx = *state;
	static struct seglist before, after;
	struct ring_seg_info s[5];
	struct ring_verify_report rep;
	struct ring_stat st;
	char sql[128], path[160];

	for (uint32_t n = 0; n < 5; n++)
		put_ok(fx, n, &s[n]);
	list_all(fx, &before);

	/* A row lost from the index: verify sees the record it lacks... */
	snprintf(sql, sizeof(sql), "DELETE FROM segs WHERE id = %llu", (unsigned long long)s[2].id);
	db_exec(fx, sql);
	assert_int_equal(ring_verify(fx->ring, &rep), -EBADMSG);
	assert_int_equal(rep.unindexed, 1);
	assert_int_equal(rep.bad_header + rep.bad_hash + rep.missing_init, 0);
	assert_int_equal(rep.checked, 4 + 1);

	/* ...and the next open puts it back. */
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 1);
	assert_int_equal(st.recovered_cut, 0);
	assert_seg(fx, s[2].id, 2);

	/* A row the extents do not back goes. */
	ring_close(fx->ring);
	fx->ring = NULL;
	db_exec(fx, "INSERT INTO segs(id, camera, seq, init_id, start_utc_ms,"
		    " duration_ms, media_start_us, flags, utc_src, len, extent, off,"
		    " sha256) VALUES(900, 'cam-a', 99, 1, 0, 0, 0, 0, 0, 10, 2,"
		    " 4096, zeroblob(32))");
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_cut, 1);
	list_all(fx, &after);
	assert_same_lists(&before, &after);

	/* The index lost altogether: open rebuilds it. */
	ring_close(fx->ring);
	fx->ring = NULL;
	snprintf(path, sizeof(path), "%s/index.db", fx->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 5 + 1); /* + init record */
	list_all(fx, &after);
	assert_same_lists(&before, &after);
	verify_clean(fx);
}

/*
 * Records past the write position of a 4 MiB head extent, over several
 * chunks of the tail walk (storage/ring_scan.c reads them 1 MiB at a
 * time): segments 3.. were appended but their index rows are gone, and
 * segment 3 is torn, so with the index kept the walk stops there.
 */
#define TAIL_EXTENT (4u * 1024u * 1024u)
#define TAIL_SEGS   36 /* 3.7 MB of the head extent */

enum tail_damage {
	TAIL_WHOLE,	 /* the tail reads back whole */
	TAIL_SHORT_FILE, /* the extent file ends in segment 20's header */
	TAIL_READ_ERROR, /* reads over a byte between headers fail */
	TAIL_REBUILD,	 /* the index is rebuilt instead */
};

static uint64_t tail_bad_off = UINT64_MAX;

/* pread() of the plain table, failing over tail_bad_off like a bad
 * sector would. */
static ssize_t tail_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	if (off <= tail_bad_off && tail_bad_off - off < len)
		return -EIO;
	return ring_io_posix()->pread(ctx, fd, buf, len, off);
}

static void tail_setup(struct fx *fx, const char *name, struct ring_seg_info *s)
{
	char sql[128];

	ring_close(fx->ring);
	fx->ring = NULL;
	snprintf(fx->dir, sizeof(fx->dir), "%s/%s", fx->tmp, name);
	assert_int_equal(ring_create(fx->dir, 2, TAIL_EXTENT), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(
		ring_put_init(fx->ring, "cam-a", init_bytes_a, sizeof(init_bytes_a), &fx->init_a),
		0);
	for (uint32_t n = 0; n < TAIL_SEGS; n++)
		put_ok(fx, n, &s[n]);
	assert_int_equal(s[TAIL_SEGS - 1].extent, 0);
	ring_close(fx->ring);
	fx->ring = NULL;
	snprintf(sql, sizeof(sql), "DELETE FROM segs WHERE id >= %llu",
		 (unsigned long long)s[3].id);
	db_exec(fx, sql);
	flip_byte(fx, 0, s[3].offset + 256 + 1000);
}

static void tail_case(struct fx *fx, const char *name, enum tail_damage damage)
{
	static struct ring_seg_info s[TAIL_SEGS];
	static struct seglist l;
	static struct ring_io bad_io;
	const struct ring_io *io = NULL;
	struct ring_seg_info more;
	struct ring_stat st;
	size_t last = TAIL_SEGS - 1; /* the valid header with the top id */
	char path[160];

	tail_setup(fx, name, s);
	if (damage == TAIL_SHORT_FILE) {
		snprintf(path, sizeof(path), "%s/extent-000.dat", fx->dir);
		assert_int_equal(truncate(path, (off_t)(s[20].offset + 100)), 0);
		last = 19;
	} else if (damage == TAIL_READ_ERROR) {
		/* 1000 bytes into segment 10's second slot, in its payload:
		 * no header read covers it. */
		tail_bad_off = s[10].offset + 4096 + 1000;
		bad_io = *ring_io_posix();
		bad_io.pread = tail_pread;
		io = &bad_io;
	} else if (damage == TAIL_REBUILD) {
		assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	}
	assert_int_equal(ring_open(fx->dir, io, &fx->ring), 0);
	/* Kept, the index stops the walk at the torn record; rebuilt, it
	 * has all there is: this open re-indexes nothing. */
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 0);
	put_ok(fx, 100, &more);
	/* New ids go above every valid header left past the write position
	 * (I1), the last one included. */
	assert_int_equal(more.id, s[last].id + 1);
	ring_close(fx->ring);
	fx->ring = NULL;
	tail_bad_off = UINT64_MAX;
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx, &l);
	if (damage == TAIL_REBUILD) {
		/* No index to stop by: every whole record past the torn one
		 * comes back, and the head is after the last. */
		assert_int_equal(more.offset, s[TAIL_SEGS - 1].offset + 102400);
		assert_int_equal(l.n, TAIL_SEGS - 1 + 1);
		assert_seg(fx, s[TAIL_SEGS - 1].id, TAIL_SEGS - 1);
	} else {
		/* The head goes back to the torn record, and the records
		 * past the new one stay stale. */
		assert_int_equal(more.offset, s[3].offset);
		assert_int_equal(l.n, 3 + 1);
	}
	assert_seg(fx, s[2].id, 2);
	assert_seg(fx, more.id, 100);
	verify_clean(fx);
}

static void test_ids_past_cut_far_in_tail(void **state)
{
	struct fx *fx = *state;

	tail_case(fx, "whole", TAIL_WHOLE);
	tail_case(fx, "short", TAIL_SHORT_FILE);
	tail_case(fx, "ioerr", TAIL_READ_ERROR);
	tail_case(fx, "rebuilt", TAIL_REBUILD);
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
		T(test_create_rules),
		T(test_open_not_a_ring),
		T(test_second_writer_and_ro),
		T(test_roundtrip),
		T(test_bad_appends),
		T(test_init_registry),
		T(test_list_filters),
		T(test_list_stops),
		T(test_wrap_evicts_oldest_first),
		T(test_floor_protects),
		T(test_unuploaded_protects),
		T(test_init_in_every_extent),
		T(test_rebuild_same_list),
		T(test_corrupt_payload),
		T(test_corrupt_header_cut),
		T(test_stale_record_ignored),
		T(test_rebuild_past_bad_header),
		T(test_newer_ids_past_cut),
		T(test_init_record_damaged),
		T(test_oversize),
		T(test_orphans_reindexed),
		T(test_ids_past_cut_far_in_tail),
		T(test_stat_bytes),
		T(test_threads),
#undef T
	};

	log_init("ring_test", LOG_DEST_PLAIN, getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
