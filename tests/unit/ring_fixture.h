/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ring_fixture - the footage ring on real files, as ring_basic_test.c,
 * ring_evict_test.c and ring_recovery_test.c set it up: each test runs in
 * its own mkdtemp() folder under /tmp, removed after, with a ring of 3
 * extents of 1 MiB in it, open for writing, and the init records of two
 * cameras, "cam-a" and "cam_b.2". A 100000-byte segment takes 102400
 * bytes on disk and a small init record 4096, so an extent holds 10
 * segments.
 *
 * Header only, of static inline functions: the Makefile links each unit
 * test with tests/unit/testutil.c alone, and that cannot hold these, as
 * code it calls into the ring would pull the ring's objects into every
 * test, export_test.c's stand-ins for ring_list() and ring_read() among
 * them.
 */
#ifndef CAMGATE_TESTS_UNIT_RING_FIXTURE_H
#define CAMGATE_TESTS_UNIT_RING_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "storage/ring.h"
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

/* The folder is named for the test program, so one left behind says
 * whose it is. */
static inline int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->tmp, sizeof(fx->tmp), program_invocation_short_name);
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

static inline int fx_teardown(void **state)
{
	struct fx *fx = *state;

	ring_close(fx->ring);
	testutil_rmtree(fx->tmp);
	free(fx);
	return 0;
}

static inline void fx_reopen(struct fx *fx)
{
	ring_close(fx->ring);
	fx->ring = NULL;
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
}

/* Appends segment @n of camera a (seed n, start T0 + n s). */
static inline int put_seg(struct fx *fx, uint32_t n, struct ring_seg_info *info)
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

static inline void put_ok(struct fx *fx, uint32_t n, struct ring_seg_info *info)
{
	struct ring_seg_info tmp;

	assert_int_equal(put_seg(fx, n, info ? info : &tmp), 0);
}

/* The segment's bytes are there and are those of seed @n. */
static inline void assert_seg(struct fx *fx, uint64_t id, uint32_t n)
{
	static uint8_t want[SEG_LEN], got[SEG_LEN];
	size_t len = 0;

	testutil_fill(want, sizeof(want), n);
	assert_int_equal(ring_read(fx->ring, id, got, sizeof(got), &len), 0);
	assert_int_equal(len, SEG_LEN);
	assert_memory_equal(got, want, SEG_LEN);
}

static inline int collect(void *arg, const struct ring_seg_info *info)
{
	struct seglist *l = arg;

	assert_true(l->n < SEGS_MAX);
	l->s[l->n++] = *info;
	return 0;
}

static inline void list_all(struct fx *fx, struct seglist *l)
{
	l->n = 0;
	assert_int_equal(ring_list(fx->ring, NULL, INT64_MIN, INT64_MAX, collect, l), 0);
}

/* Fills the ring until it has wrapped; segment n is seed n. */
static inline void fill_ring(struct fx *fx, uint32_t count, struct seglist *l)
{
	for (uint32_t n = 0; n < count; n++) {
		put_ok(fx, n, &l->s[n]);
		l->n = n + 1;
	}
}

static inline void verify_clean(struct fx *fx)
{
	struct ring_verify_report rep;

	assert_int_equal(ring_verify(fx->ring, &rep), 0);
	assert_int_equal(rep.bad_header + rep.bad_hash + rep.missing_init + rep.unindexed, 0);
}

#endif /* CAMGATE_TESTS_UNIT_RING_FIXTURE_H */
