// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_reader_test - a segment's payload streamed out of the ring
 * (ring_reader_*, storage/ring.h) and the batched upload mark, on real
 * files: pieces of every size give back the appended bytes; a corrupt
 * byte anywhere withholds the last piece; rewinding starts over; an
 * evicted segment reads as gone, not corrupt; the record header carries
 * the XXH3-64 the reader checks, and records written before it had one
 * are checked with their SHA-256.
 *
 * Each test runs in its own mkdtemp() folder under /tmp, removed after.
 * Geometry: 2 extents of 1 MiB, 100000-byte segments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h> /* the plain build: checks the ring's dispatched one */

#include "lib/sha256.h"
#include "storage/ring.h"
#include "tests/unit/testutil.h"

#define EXTENTS	     2
#define EXTENT_BYTES (1024u * 1024u)
#define SEG_LEN	     100000
/* On-disk format (storage/ring_int.h): the record header before the
 * payload, its checks word, XXH3 field and self-hash. */
#define REC_HDR	       256
#define REC_CHECKS     60
#define REC_XXH3       72
#define REC_HDR_HASHED 224
#define T0	       1700000000000LL

struct fx {
	char tmp[64];
	char dir[96];
	struct ring *ring;
	uint64_t init;
	uint8_t want[SEG_LEN];
	uint8_t got[SEG_LEN + 1];
};

static int fx_setup(void **state)
{
	static const uint8_t init[] = "ftyp....moov reader test";
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->tmp, sizeof(fx->tmp), "ring_reader_test");
	snprintf(fx->dir, sizeof(fx->dir), "%s/ring", fx->tmp);
	assert_int_equal(ring_create(fx->dir, EXTENTS, EXTENT_BYTES), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_put_init(fx->ring, "cam", init, sizeof(init), &fx->init), 0);
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

/* Appends segment @n (bytes of seed @n, left in fx->want). */
static struct ring_seg_info put_seg(struct fx *fx, uint32_t n)
{
	struct ring_seg seg = {
		.camera = "cam",
		.init_id = fx->init,
		.start_utc_ms = T0 + 1000LL * n,
		.duration_ms = 1000,
	};
	struct ring_seg_info info;

	testutil_fill(fx->want, SEG_LEN, n);
	assert_int_equal(ring_append(fx->ring, &seg, fx->want, SEG_LEN, &info), 0);
	return info;
}

/* Flips the byte @at bytes into @in's record (header, then payload). */
static int ext_fd(struct fx *fx, const struct ring_seg_info *in)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/extent-%03u.dat", fx->dir, in->extent);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	return fd;
}

static void flip_byte(struct fx *fx, const struct ring_seg_info *in, uint64_t at)
{
	uint8_t b;
	int fd = ext_fd(fx, in);

	assert_int_equal(pread(fd, &b, 1, (off_t)(in->offset + at)), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(in->offset + at)), 1);
	close(fd);
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Reads @r to its end in pieces of @piece bytes into fx->got; returns
 * the first error, with *total the bytes handed over before it. */
static int drain(struct fx *fx, struct ring_reader *r, size_t piece, size_t *total)
{
	size_t got;
	int ret;

	*total = 0;
	for (;;) {
		size_t room = sizeof(fx->got) - *total;

		ret = ring_reader_read(r, fx->got + *total, piece < room ? piece : room, &got);
		if (ret)
			return ret;
		if (!got)
			return 0;
		*total += got;
	}
}

static void test_pieces(void **state)
{
	static const size_t pieces[] = { 1, 7, 4096, 65536, 99999, SEG_LEN, 1u << 20 };
	struct fx *fx = *state;
	struct ring_seg_info in = put_seg(fx, 3);
	struct ring_reader *r;
	size_t total;

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		assert_int_equal(ring_reader_open(fx->ring, in.id, &r), 0);
		assert_int_equal(ring_reader_info(r)->len, SEG_LEN);
		assert_memory_equal(ring_reader_info(r)->sha256, in.sha256, 32);
		memset(fx->got, 0, sizeof(fx->got));
		assert_int_equal(drain(fx, r, pieces[i], &total), 0);
		assert_int_equal(total, SEG_LEN);
		assert_memory_equal(fx->got, fx->want, SEG_LEN);
		/* At the end it stays at the end. */
		assert_int_equal(drain(fx, r, pieces[i], &total), 0);
		assert_int_equal(total, 0);
		ring_reader_close(r);
	}
}

/* A flipped byte, early or in the last piece: every piece before the
 * last is handed over, the last one never, and the error sticks. */
static void test_corrupt_withholds_end(void **state)
{
	static const uint64_t where[] = { 0, 5000, SEG_LEN - 4096, SEG_LEN - 1 };
	struct fx *fx = *state;
	struct ring_reader *r;
	size_t total, got;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		struct ring_seg_info in = put_seg(fx, 10 + (uint32_t)i);

		flip_byte(fx, &in, REC_HDR + where[i]);
		assert_int_equal(ring_reader_open(fx->ring, in.id, &r), 0);
		assert_int_equal(drain(fx, r, 4096, &total), -EBADMSG);
		assert_int_equal(total, SEG_LEN / 4096 * 4096);
		assert_int_equal(ring_reader_read(r, fx->got, 4096, &got), -EBADMSG);
		assert_int_equal(got, 0);
		assert_int_equal(ring_reader_rewind(r), -EBADMSG);
		ring_reader_close(r);
		assert_int_equal(ring_read(fx->ring, in.id, fx->got, sizeof(fx->got), &got),
				 -EBADMSG);
	}
}

static void test_rewind(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info in = put_seg(fx, 4);
	struct ring_reader *r;
	size_t total;

	assert_int_equal(ring_reader_open(fx->ring, in.id, &r), 0);
	assert_int_equal(ring_reader_read(r, fx->got, 30000, &total), 0);
	assert_int_equal(total, 30000);
	/* What curl does when it must send the body again. */
	assert_int_equal(ring_reader_rewind(r), 0);
	assert_int_equal(drain(fx, r, 65536, &total), 0);
	assert_int_equal(total, SEG_LEN);
	assert_memory_equal(fx->got, fx->want, SEG_LEN);
	ring_reader_close(r);
}

static void test_open_errors(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info in = put_seg(fx, 5);
	struct ring_reader *r = NULL;

	assert_int_equal(ring_reader_open(fx->ring, in.id + 100, &r), -ENOENT);
	assert_null(r);
	assert_int_equal(ring_reader_open(NULL, in.id, &r), -EINVAL);
	/* A broken record header is caught at open, before any byte. */
	flip_byte(fx, &in, 40); /* start time */
	assert_int_equal(ring_reader_open(fx->ring, in.id, &r), -EBADMSG);
	ring_reader_close(NULL);
}

/* Evicted under an open reader: the check fails and the reader finds the
 * row gone, so the segment is reported gone (-ENOENT), not corrupt. */
static void test_evicted_under_reader(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info first = put_seg(fx, 0);
	struct ring_reader *r;
	size_t total;

	assert_int_equal(ring_reader_open(fx->ring, first.id, &r), 0);
	/* Two extents of 10 segments: 20 more wrap over the first. */
	for (uint32_t n = 1; n <= 20; n++)
		put_seg(fx, n);
	assert_int_equal(drain(fx, r, 65536, &total), -ENOENT);
	assert_true(total < SEG_LEN);
	ring_reader_close(r);
	assert_int_equal(ring_reader_open(fx->ring, first.id, &r), -ENOENT);
}

/* The header holds the XXH3-64 of the payload, computed here by the
 * library on the appended bytes, and says so. */
static void test_header_has_xxh3(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info in = put_seg(fx, 6);
	uint8_t hdr[REC_HDR];
	int fd = ext_fd(fx, &in);

	assert_int_equal(pread(fd, hdr, sizeof(hdr), (off_t)in.offset), sizeof(hdr));
	close(fd);
	assert_int_equal(get_le(hdr + REC_CHECKS, 4), 1);
	assert_true(get_le(hdr + REC_XXH3, 8) == XXH3_64bits(fx->want, SEG_LEN));
}

/* A record from before the XXH3 field (checks 0, field 0, header re-hashed
 * as that version wrote it) still reads, checked with its SHA-256, which
 * also catches a flipped byte. */
static void test_record_without_xxh3(void **state)
{
	struct fx *fx = *state;
	struct ring_seg_info in = put_seg(fx, 7);
	struct ring_reader *r;
	uint8_t hdr[REC_HDR];
	size_t total;
	int fd = ext_fd(fx, &in);

	assert_int_equal(pread(fd, hdr, sizeof(hdr), (off_t)in.offset), sizeof(hdr));
	memset(hdr + REC_CHECKS, 0, 4);
	memset(hdr + REC_XXH3, 0, 8);
	assert_int_equal(sha256_oneshot(hdr, REC_HDR_HASHED, hdr + REC_HDR_HASHED), 0);
	assert_int_equal(pwrite(fd, hdr, sizeof(hdr), (off_t)in.offset), sizeof(hdr));
	close(fd);

	assert_int_equal(ring_reader_open(fx->ring, in.id, &r), 0);
	assert_int_equal(drain(fx, r, 8192, &total), 0);
	assert_int_equal(total, SEG_LEN);
	assert_memory_equal(fx->got, fx->want, SEG_LEN);
	ring_reader_close(r);

	flip_byte(fx, &in, REC_HDR + 777);
	assert_int_equal(ring_reader_open(fx->ring, in.id, &r), 0);
	assert_int_equal(drain(fx, r, 8192, &total), -EBADMSG);
	assert_int_equal(total, SEG_LEN / 8192 * 8192);
	ring_reader_close(r);
}

static int count_uploaded(void *arg, const struct ring_seg_info *info)
{
	*(unsigned int *)arg += info->uploaded;
	return 0;
}

static void test_mark_many(void **state)
{
	struct fx *fx = *state;
	uint64_t ids[4];
	unsigned int n = 0;

	for (uint32_t i = 0; i < 4; i++)
		ids[i] = put_seg(fx, i).id;
	ids[2] = ids[3] + 1000; /* unknown: skipped, the others marked */
	assert_int_equal(ring_mark_uploaded_many(fx->ring, ids, 3), 0);
	assert_int_equal(ring_list(fx->ring, NULL, INT64_MIN, INT64_MAX, count_uploaded, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ring_mark_uploaded_many(fx->ring, ids, 0), 0);
	assert_int_equal(ring_mark_uploaded_many(fx->ring, NULL, 1), -EINVAL);
	/* It lasts: reopen and count again. */
	ring_close(fx->ring);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	n = 0;
	assert_int_equal(ring_list(fx->ring, NULL, INT64_MIN, INT64_MAX, count_uploaded, &n), 0);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pieces, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_withholds_end, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rewind, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_evicted_under_reader, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mark_many, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_header_has_xxh3, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_record_without_xxh3, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
