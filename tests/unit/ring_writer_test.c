// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_writer_test - segments stored piecewise (storage/ring.h,
 * ring_writer_*): interleaved writers, growth in place and by moving,
 * abort, a writer's torn region after a crash, the room writers leave
 * without a header (a rebuild from the extents still finds every record
 * past it), an extent held by an open writer, and ring_verify() clean
 * after each. Power cuts at every step of a streamed segment are in
 * ring_fault_test.c.
 *
 * Geometry: 3 extents of 1 MiB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "tests/unit/testutil.h"

#define EXTENTS	     3
#define EXTENT_BYTES (1024u * 1024u)
#define CHUNK	     10000
#define T0	     1700000000000LL

struct fx {
	char tmp[64];
	char dir[96];
	struct ring *ring;
	uint64_t init_a, init_b, init_c;
};

static const uint8_t init_a[] = "ftyp....moov camera a";
static const uint8_t init_b[] = "ftyp....moov camera b";
static const uint8_t init_c[] = "ftyp....moov camera c";

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->tmp, sizeof(fx->tmp), "ring_writer_test");
	snprintf(fx->dir, sizeof(fx->dir), "%s/ring", fx->tmp);
	assert_int_equal(ring_create(fx->dir, EXTENTS, EXTENT_BYTES), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_int_equal(ring_put_init(fx->ring, "cam-a", init_a, sizeof(init_a), &fx->init_a), 0);
	assert_int_equal(ring_put_init(fx->ring, "cam-b", init_b, sizeof(init_b), &fx->init_b), 0);
	assert_int_equal(ring_put_init(fx->ring, "cam-c", init_c, sizeof(init_c), &fx->init_c), 0);
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

static void assert_clean(struct ring *ring)
{
	struct ring_verify_report rep;

	assert_int_equal(ring_verify(ring, &rep), 0);
	assert_int_equal(rep.unindexed, 0);
}

/* Chunk @i of segment @seed. */
static void add_chunk(struct ring_writer *w, uint32_t seed, int i)
{
	uint8_t buf[CHUNK];

	testutil_fill(buf, sizeof(buf), seed * 1000 + (uint32_t)i);
	assert_int_equal(ring_writer_add(w, buf, sizeof(buf)), 0);
}

static void assert_seg(struct ring *ring, uint64_t id, uint32_t seed, int chunks)
{
	size_t len = (size_t)chunks * CHUNK, got_len = 0;
	uint8_t *got = malloc(len), want[CHUNK];

	assert_non_null(got);
	assert_int_equal(ring_read(ring, id, got, len, &got_len), 0);
	assert_int_equal(got_len, len);
	for (int i = 0; i < chunks; i++) {
		testutil_fill(want, sizeof(want), seed * 1000 + (uint32_t)i);
		assert_memory_equal(got + (size_t)i * CHUNK, want, CHUNK);
	}
	free(got);
}

static int commit(struct fx *fx, struct ring_writer *w, const char *cam, uint32_t n,
		  struct ring_seg_info *info)
{
	struct ring_seg seg = {
		.camera = cam,
		.init_id = !strcmp(cam, "cam-a")   ? fx->init_a
			   : !strcmp(cam, "cam-b") ? fx->init_b
						   : fx->init_c,
		.start_utc_ms = T0 + 1000LL * n,
		.duration_ms = 1000,
	};

	return ring_writer_commit(w, &seg, info);
}

/* Two cameras at once, each outgrowing its hint: the first one moves,
 * the later one grows in place; both read back whole, also after a
 * reopen (recovery). */
static void test_interleaved(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *a, *b;
	struct ring_seg_info ia, ib;

	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 2 * CHUNK, &a), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, 2 * CHUNK, &b), 0);
	for (int i = 0; i < 8; i++) {
		add_chunk(a, 1, i);
		add_chunk(b, 2, i);
	}
	assert_int_equal(commit(fx, a, "cam-a", 1, &ia), 0);
	assert_int_equal(commit(fx, b, "cam-b", 2, &ib), 0);
	assert_int_equal(ia.len, 8 * CHUNK);
	assert_true(ia.id != ib.id);
	assert_seg(fx->ring, ia.id, 1, 8);
	assert_seg(fx->ring, ib.id, 2, 8);
	assert_clean(fx->ring);
	ring_close(fx->ring);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	assert_seg(fx->ring, ia.id, 1, 8);
	assert_seg(fx->ring, ib.id, 2, 8);
	assert_clean(fx->ring);
}

/* A writer alone at the head grows in place and gives back what it did
 * not use: the next record follows it directly. */
static void test_grow_in_place(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *w;
	struct ring_seg_info i1, i2;

	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, CHUNK, &w), 0);
	for (int i = 0; i < 5; i++)
		add_chunk(w, 3, i);
	assert_int_equal(commit(fx, w, "cam-a", 1, &i1), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 4, 0);
	assert_int_equal(commit(fx, w, "cam-a", 2, &i2), 0);
	assert_int_equal(i2.extent, i1.extent);
	assert_int_equal(i2.offset, i1.offset + ((256 + 5 * CHUNK + 4095) / 4096) * 4096);
	assert_seg(fx->ring, i1.id, 3, 5);
	assert_seg(fx->ring, i2.id, 4, 1);
	assert_clean(fx->ring);
}

/* Hint 0: room for the larger of the camera's last two segments and
 * 1/16 more, so a camera close to a constant bit rate neither moves nor
 * leaves much room unused behind the next camera's record. */
static void test_hint_from_last(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *a, *b;
	struct ring_seg_info i1, i2, ia, ib;
	uint64_t room = 8 * CHUNK + 8 * CHUNK / 16;

	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, CHUNK, &a), 0);
	for (int i = 0; i < 8; i++)
		add_chunk(a, 30, i);
	assert_int_equal(commit(fx, a, "cam-a", 1, &i1), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, CHUNK, &a), 0);
	for (int i = 0; i < 5; i++)
		add_chunk(a, 31, i);
	assert_int_equal(commit(fx, a, "cam-a", 2, &i2), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 0, &a), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, CHUNK, &b), 0);
	for (int i = 0; i < 8; i++)
		add_chunk(a, 32, i);
	add_chunk(b, 33, 0);
	assert_int_equal(commit(fx, a, "cam-a", 3, &ia), 0);
	assert_int_equal(commit(fx, b, "cam-b", 4, &ib), 0);
	assert_int_equal(ia.offset, i2.offset + ((256 + 5 * CHUNK + 4095) / 4096) * 4096);
	/* b's init record, then b, right after a's room: a did not move */
	assert_int_equal(ib.offset, ia.offset + ((256 + room + 4095) / 4096) * 4096 + 4096);
	assert_seg(fx->ring, ia.id, 32, 8);
	assert_clean(fx->ring);
}

/* An aborted writer leaves nothing indexed, and its room is reused. */
static void test_abort(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *w;
	struct ring_seg_info i1, i2;
	struct ring_stat st;

	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 5, 0);
	assert_int_equal(commit(fx, w, "cam-a", 1, &i1), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 6, 0);
	ring_writer_abort(w);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 7, 0);
	assert_int_equal(commit(fx, w, "cam-a", 2, &i2), 0);
	assert_int_equal(i2.offset, i1.offset + ((256 + CHUNK + 4095) / 4096) * 4096);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs, 2);
	assert_seg(fx->ring, i2.id, 7, 1);
	assert_clean(fx->ring);
	/* Wrong camera or nothing written: refused, the writer is freed. */
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	assert_int_equal(commit(fx, w, "cam-a", 3, NULL), -EINVAL);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 8, 0);
	assert_int_equal(commit(fx, w, "cam-b", 3, NULL), -EINVAL);
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", 999, 4 * CHUNK, &w), -ENOENT);
}

/* What a power cut leaves: the files as they are now (the lock aside). */
static void copy_dir(const char *from, const char *to)
{
	static uint8_t buf[1 << 16];
	DIR *d = opendir(from);
	struct dirent *de;

	assert_non_null(d);
	assert_int_equal(mkdir(to, 0700), 0);
	while ((de = readdir(d))) {
		char src[512], dst[512];
		ssize_t n;
		int in, out;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "ring.lock"))
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
		in = open(src, O_RDONLY);
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(in >= 0 && out >= 0);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			assert_int_equal(write(out, buf, (size_t)n), n);
		close(in);
		close(out);
	}
	closedir(d);
}

/* Power cut while segments are being written, one of them behind a
 * record committed after it was opened: a copy of the files taken then
 * opens clean with everything committed before, also when its index is
 * rebuilt from the extents. */
static void test_torn_writer(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *w, *v;
	struct ring_seg_info i1, i2;
	struct ring *copy;
	char dir2[128];
	struct ring_stat st;

	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
	add_chunk(w, 9, 0);
	assert_int_equal(commit(fx, w, "cam-a", 1, &i1), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, 4 * CHUNK, &w), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-c", fx->init_c, 4 * CHUNK, &v), 0);
	add_chunk(v, 11, 0);
	assert_int_equal(commit(fx, v, "cam-c", 2, &i2), 0);
	for (int i = 0; i < 4; i++)
		add_chunk(w, 10, i);
	snprintf(dir2, sizeof(dir2), "%s/copy", fx->tmp);
	copy_dir(fx->dir, dir2);
	ring_writer_abort(w);
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			assert_int_equal(ring_rebuild(dir2, NULL), 0);
		assert_int_equal(ring_open(dir2, NULL, &copy), 0);
		assert_int_equal(ring_stat(copy, &st), 0);
		assert_int_equal(st.segs, 2);
		assert_seg(copy, i1.id, 9, 1);
		assert_seg(copy, i2.id, 11, 1);
		assert_clean(copy);
		ring_close(copy);
	}
}

struct seglist {
	struct ring_seg_info s[64];
	size_t n;
};

static int collect(void *arg, const struct ring_seg_info *in)
{
	struct seglist *l = arg;

	assert_true(l->n < sizeof(l->s) / sizeof(l->s[0]));
	l->s[l->n++] = *in;
	return 0;
}

static void list_all(struct ring *ring, struct seglist *l)
{
	l->n = 0;
	assert_int_equal(ring_list(ring, NULL, INT64_MIN, INT64_MAX, collect, l), 0);
}

static void assert_same_lists(const struct seglist *a, const struct seglist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->s[i].id, b->s[i].id);
		assert_int_equal(a->s[i].seq, b->s[i].seq);
		assert_int_equal(a->s[i].extent, b->s[i].extent);
		assert_int_equal(a->s[i].offset, b->s[i].offset);
		assert_int_equal(a->s[i].len, b->s[i].len);
		assert_memory_equal(a->s[i].sha256, b->s[i].sha256, 32);
	}
}

/* Room without a header between records: a writer aborted while another
 * followed it, a writer that moved away from its first region, and room
 * reserved and not used. A rebuild from the extents alone must still
 * find every record past those gaps. */
static void test_rebuild_past_gaps(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *a, *b, *c;
	struct ring_seg_info in;
	struct seglist before, after;

	/* a aborted behind b. */
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 2 * CHUNK, &a), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, 2 * CHUNK, &b), 0);
	add_chunk(a, 11, 0);
	add_chunk(b, 12, 0);
	ring_writer_abort(a);
	assert_int_equal(commit(fx, b, "cam-b", 1, &in), 0);
	/* a moves away from behind b; b leaves half its room unused
	 * behind c. */
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, CHUNK, &a), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, 4 * CHUNK, &b), 0);
	assert_int_equal(ring_writer_open(fx->ring, "cam-c", fx->init_c, CHUNK, &c), 0);
	for (int i = 0; i < 3; i++)
		add_chunk(a, 13, i);
	add_chunk(b, 14, 0);
	add_chunk(b, 14, 1);
	add_chunk(c, 15, 0);
	assert_int_equal(commit(fx, b, "cam-b", 2, &in), 0);
	assert_int_equal(commit(fx, c, "cam-c", 3, &in), 0);
	assert_int_equal(commit(fx, a, "cam-a", 4, &in), 0);
	assert_seg(fx->ring, in.id, 13, 3);
	list_all(fx->ring, &before);
	assert_int_equal(before.n, 4);
	assert_clean(fx->ring);

	ring_close(fx->ring);
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &fx->ring), 0);
	list_all(fx->ring, &after);
	assert_same_lists(&before, &after);
	assert_clean(fx->ring);
	assert_seg(fx->ring, in.id, 13, 3);
}

/* The extent an open writer has its region in is not reused: appends
 * that need it fail with -ENOSPC until the writer is done. */
static void test_extent_held(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *w, *x = NULL;
	struct ring_seg_info held, in;
	int ret = 0;
	uint32_t n;

	assert_int_equal(ring_writer_open(fx->ring, "cam-b", fx->init_b, CHUNK, &w), 0);
	add_chunk(w, 20, 0);
	/* cam-a fills extents 0, 1 and 2; extent 0 is next and held. */
	for (n = 1; n < 100 && !ret; n++) {
		ret = ring_writer_open(fx->ring, "cam-a", fx->init_a, 10 * CHUNK, &x);
		for (int i = 0; !ret && i < 10; i++) {
			uint8_t buf[CHUNK];

			testutil_fill(buf, sizeof(buf), n * 1000 + (uint32_t)i);
			ret = ring_writer_add(x, buf, sizeof(buf));
		}
		if (!ret)
			ret = commit(fx, x, "cam-a", n, &in);
		else if (x)
			ring_writer_abort(x);
		x = NULL;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_true(in.extent == EXTENTS - 1);
	assert_int_equal(commit(fx, w, "cam-b", 1, &held), 0);
	assert_int_equal(held.extent, 0);
	assert_seg(fx->ring, held.id, 20, 1);
	assert_clean(fx->ring);
	/* Now extent 0 can go. */
	assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 10 * CHUNK, &x), 0);
	for (int i = 0; i < 10; i++)
		add_chunk(x, 21, i);
	assert_int_equal(commit(fx, x, "cam-a", n, &in), 0);
	assert_int_equal(in.extent, 0);
	assert_seg(fx->ring, in.id, 21, 10);
	assert_int_equal(ring_read(fx->ring, held.id, NULL, 0, &(size_t){ 0 }), -ENOENT);
	assert_clean(fx->ring);
}

/* Many segments through writers wrap the ring like ring_append(). */
static void test_wrap(void **state)
{
	struct fx *fx = *state;
	struct ring_writer *w;
	struct ring_seg_info in;
	struct ring_stat st;

	for (uint32_t n = 1; n <= 60; n++) {
		assert_int_equal(ring_writer_open(fx->ring, "cam-a", fx->init_a, 4 * CHUNK, &w), 0);
		for (int i = 0; i < 10; i++)
			add_chunk(w, n, i);
		assert_int_equal(commit(fx, w, "cam-a", n, &in), 0);
	}
	assert_seg(fx->ring, in.id, 60, 10);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_true(st.evicted_segs > 0);
	assert_clean(fx->ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_interleaved), T(test_grow_in_place),  T(test_abort),
		T(test_torn_writer), T(test_wrap),	     T(test_rebuild_past_gaps),
		T(test_extent_held), T(test_hint_from_last),
#undef T
	};

	log_init("ring_writer_test", LOG_DEST_PLAIN,
		 getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
