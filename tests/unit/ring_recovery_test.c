// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_recovery_test - the footage ring (storage/ring.h) put back
 * together from its extents: an init record in every extent, so media
 * finds its init after extent 0 is reused; ring_rebuild() lists what the
 * index did; corrupt payloads (kept, read as -EBADMSG) and headers (one
 * record cut, not the rest of the extent); stale records past the write
 * position; new ids above every valid header left past a cut, also far
 * into a 4 MiB extent, over a short file and a read error; a damaged init
 * record; index rows lost (orphans re-indexed), made up, or the whole
 * index gone. Power cuts at every write step are in ring_fault_test.c.
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
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "storage/ring_io.h"
#include "tests/unit/ring_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_init_in_every_extent), T(test_rebuild_same_list),
		T(test_corrupt_payload),      T(test_corrupt_header_cut),
		T(test_stale_record_ignored), T(test_rebuild_past_bad_header),
		T(test_newer_ids_past_cut),   T(test_init_record_damaged),
		T(test_orphans_reindexed),    T(test_ids_past_cut_far_in_tail),
#undef T
	};

	log_init("ring_recovery_test", LOG_DEST_PLAIN,
		 getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
