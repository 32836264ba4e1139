// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_fault_test - G1 and G3 of storage/ring.h under injected faults.
 *
 * A fault-injecting struct ring_io counts the ring's steps (every pwrite,
 * every fdatasync, every index commit) and fails step N:
 *  - once:        that step fails (a pwrite tears: half its bytes land),
 *                 later ones work; the same ring must carry on;
 *  - cut-keep:    power goes at step N; every later step fails; what was
 *                 written but not synced survives (the page cache made it);
 *  - cut-drop-*:  the same, but all / the even / the odd unsynced writes
 *                 are rolled back, as a disk that lost its cache would.
 * For N = 1, 2, ... until the workload runs with no fault, each run starts
 * from the same populated ring, and afterwards (reopened with plain I/O)
 * every acknowledged segment reads back with its bytes, the failed one is
 * absent or whole, nothing else appeared, ring_verify() is clean, further
 * appends work, and a rebuild from the extents lists the same segments.
 * Every mode runs the workload twice: through ring_append(), and streamed
 * through a ring_writer whose pieces make it grow in place and, once,
 * move to the extent it makes the ring reuse.
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
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "storage/ring_io.h"
#include "tests/unit/testutil.h"

#define EXTENTS	     2
#define EXTENT_BYTES (1024u * 1024u)
#define SEG_LEN	     100000 /* 102400 on disk: 10 per extent */
#define SMALL_LEN    5000
#define BIG_LEN	     120000 /* does not fit what W1 leaves in extent 1 */
#define POPULATED    19	    /* extent 1 keeps room for 1 + a bit */
#define VICTIMS	     10	    /* the populated segments of extent 0 */
#define MORE	     2	    /* appended after each run */
/* W3's steps that reuse extent 0: header pwrite, its sync, the commit
 * that deletes the victims' rows; and the workload's steps in all. */
#define STEP_EVICT_HDR	  11
#define STEP_EVICT_COMMIT 13
#define STEPS		  19
/* The same, streamed: W1 7 steps, W2 6; W3's first piece, the eviction,
 * the copy of that piece, two pieces, init (2), header, sync, commit. */
#define STEP_EVICT_HDR_W    15
#define STEP_EVICT_COMMIT_W 17
#define STEPS_W		    25
#define PIECE_FIRST	    2500 /* fits every writer's hint */
#define PIECE		    48750
#define KNOWN_MAX	    64
#define T0		    1700000000000LL

enum fault_mode {
	FAULT_ONCE,
	FAULT_CUT_KEEP,
	FAULT_CUT_DROP_ALL,
	FAULT_CUT_DROP_EVEN,
	FAULT_CUT_DROP_ODD,
};

static const char *const mode_name[] = {
	"once", "cut-keep", "cut-drop-all", "cut-drop-even", "cut-drop-odd",
};

/* A write not yet synced: the bytes it replaced. */
struct undo {
	int fd;
	uint64_t off;
	size_t len;
	uint8_t *old;
	struct undo *next;
};

struct fault {
	struct ring_io io;
	enum fault_mode mode;
	int fail_at; /* step to fail, 1-based; 0: none */
	int steps;
	bool fired;
	bool dead;	   /* power is off */
	struct undo *undo; /* newest first */
};

static const struct ring_io *posix;

static void undo_free(struct fault *f, int fd)
{
	struct undo **p = &f->undo, *u;

	while ((u = *p)) {
		if (fd >= 0 && u->fd != fd) {
			p = &u->next;
			continue;
		}
		*p = u->next;
		free(u->old);
		free(u);
	}
}

static void undo_record(struct fault *f, int fd, size_t len, uint64_t off)
{
	struct undo *u = calloc(1, sizeof(*u));

	assert_non_null(u);
	u->old = malloc(len);
	assert_non_null(u->old);
	u->fd = fd;
	u->off = off;
	u->len = len;
	assert_int_equal(ring_io_read_full(posix, fd, u->old, len, off), 0);
	u->next = f->undo;
	f->undo = u;
}

/* Power goes: roll back the unsynced writes the mode says were lost,
 * newest first so overlapping writes unwind in order. */
static void power_cut(struct fault *f)
{
	size_t n = 0, i = 0;
	bool drop;

	f->dead = true;
	for (struct undo *u = f->undo; u; u = u->next)
		n++;
	for (struct undo *u = f->undo; u; u = u->next, i++) {
		size_t age = n - 1 - i; /* 0: the oldest write */

		drop = f->mode == FAULT_CUT_DROP_ALL ||
		       (f->mode == FAULT_CUT_DROP_EVEN && age % 2 == 0) ||
		       (f->mode == FAULT_CUT_DROP_ODD && age % 2 == 1);
		if (drop)
			assert_int_equal(ring_io_write_full(posix, u->fd, u->old, u->len, u->off),
					 0);
	}
	undo_free(f, -1);
}

/* Counts a step; true when it must fail. */
static bool step_fails(struct fault *f)
{
	if (f->dead)
		return true;
	if (++f->steps != f->fail_at)
		return false;
	f->fired = true;
	return true;
}

static void after_fault(struct fault *f)
{
	if (f->mode != FAULT_ONCE && !f->dead)
		power_cut(f);
}

static int f_open(void *ctx, const char *path, int flags, int *fdp)
{
	(void)ctx;
	return posix->open(NULL, path, flags, fdp);
}

static int f_close(void *ctx, int fd)
{
	undo_free(ctx, fd);
	return posix->close(NULL, fd);
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	(void)ctx;
	return posix->pread(NULL, fd, buf, len, off);
}

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct fault *f = ctx;
	bool dead = f->dead;

	if (!step_fails(f)) {
		undo_record(f, fd, len, off);
		return posix->pwrite(NULL, fd, buf, len, off);
	}
	if (!dead && len > 1) { /* torn: the first half lands */
		undo_record(f, fd, len / 2, off);
		assert_int_equal(ring_io_write_full(posix, fd, buf, len / 2, off), 0);
	}
	after_fault(f);
	return -EIO;
}

static int f_fdatasync(void *ctx, int fd)
{
	struct fault *f = ctx;

	if (step_fails(f)) {
		after_fault(f);
		return -EIO;
	}
	undo_free(f, fd);
	return posix->fdatasync(NULL, fd);
}

static int f_fallocate(void *ctx, int fd, uint64_t len)
{
	(void)ctx;
	return posix->fallocate(NULL, fd, len);
}

static int f_ftruncate(void *ctx, int fd, uint64_t len)
{
	(void)ctx;
	return posix->ftruncate(NULL, fd, len);
}

static int f_commit(void *ctx)
{
	struct fault *f = ctx;

	if (!step_fails(f))
		return 0;
	after_fault(f);
	return -EIO;
}

static void fault_init(struct fault *f, enum fault_mode mode, int fail_at)
{
	*f = (struct fault){
		.io = {
			.ctx = f, .open = f_open, .close = f_close,
			.pread = f_pread, .pwrite = f_pwrite,
			.fdatasync = f_fdatasync, .fallocate = f_fallocate,
			.ftruncate = f_ftruncate, .commit_hook = f_commit,
		},
		.mode = mode,
		.fail_at = fail_at,
	};
}

/* ---- segments the test knows ---- */

struct known {
	char camera[RING_CAMERA_MAX];
	int64_t start;
	uint32_t seed;
	size_t len;
	bool acked;  /* ring_append() returned 0 */
	bool victim; /* in the extent the workload reuses */
	uint64_t id;
};

struct fx {
	bool streamed; /* through ring_writer_*() */
	char tmp[64];
	char tmpl[96]; /* populated ring, copied for each run */
	char dir[96];
	struct known k[KNOWN_MAX];
	size_t nk;
	uint64_t init_a, init_b;
};

/* A ring_writer fed in pieces: the first fits @hint, the next ones make
 * it grow. */
static int write_streamed(struct ring *ring, const struct ring_seg *seg, const uint8_t *buf,
			  size_t len, uint64_t hint, struct ring_seg_info *info)
{
	struct ring_writer *w;
	size_t n;
	int ret;

	ret = ring_writer_open(ring, seg->camera, seg->init_id, hint, &w);
	if (ret)
		return ret;
	for (size_t off = 0; off < len; off += n) {
		n = off ? PIECE : PIECE_FIRST;
		n = n < len - off ? n : len - off;
		ret = ring_writer_add(w, buf + off, n);
		if (ret) {
			ring_writer_abort(w);
			return ret;
		}
	}
	return ring_writer_commit(w, seg, info);
}

/* ring_append(), or streamed with @hint when that is not 0. */
static int append_known(struct ring *ring, struct known *k, uint64_t init_id, uint64_t hint)
{
	static uint8_t buf[BIG_LEN];
	struct ring_seg seg = {
		.camera = k->camera,
		.init_id = init_id,
		.start_utc_ms = k->start,
		.duration_ms = 1000,
		.media_start_us = k->start * 90,
		.flags = RING_F_AUDIO,
	};
	struct ring_seg_info info;
	int ret;

	testutil_fill(buf, k->len, k->seed);
	if (hint)
		ret = write_streamed(ring, &seg, buf, k->len, hint, &info);
	else
		ret = ring_append(ring, &seg, buf, k->len, &info);
	if (!ret) {
		k->acked = true;
		k->id = info.id;
	}
	return ret;
}

static struct known *known_add(struct fx *fx, const char *camera, int64_t start, size_t len)
{
	struct known *k = &fx->k[fx->nk];

	assert_true(fx->nk < KNOWN_MAX);
	*k = (struct known){ .start = start, .len = len, .seed = (uint32_t)fx->nk + 1 };
	snprintf(k->camera, sizeof(k->camera), "%s", camera);
	fx->nk++;
	return k;
}

static void copy_file(const char *from, const char *to)
{
	static uint8_t buf[64 * 1024];
	int in, out;
	ssize_t n;

	in = open(from, O_RDONLY);
	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* A closed ring's files, by name: readdir() would need LFS on 32-bit. */
static void copy_ring(const char *from, const char *to)
{
	static const char *const names[] = {
		"ring.meta", "extent-000.dat", "extent-001.dat",
		"index.db",  "index.db-wal",   "index.db-shm",
	};
	char a[512], b[512];

	testutil_rmtree(to);
	assert_int_equal(mkdir(to, 0750), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(a, sizeof(a), "%s/%s", from, names[i]);
		snprintf(b, sizeof(b), "%s/%s", to, names[i]);
		if (access(a, F_OK) == 0)
			copy_file(a, b);
	}
}

static const uint8_t init_a[] = "ftyp moov camera a";
static const uint8_t init_b[] = "ftyp moov camera b, another codec";

/* Extent 0: init + segs 0-9 (the workload's victims), extent 1: init +
 * segs 10-18 and 118784 bytes free. Built once, copied for every run. */
static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct ring *ring;

	assert_non_null(fx);
	testutil_mkdtemp(fx->tmp, sizeof(fx->tmp), "ring_fault_test");
	snprintf(fx->tmpl, sizeof(fx->tmpl), "%s/template", fx->tmp);
	snprintf(fx->dir, sizeof(fx->dir), "%s/ring", fx->tmp);
	assert_int_equal(ring_create(fx->tmpl, EXTENTS, EXTENT_BYTES), 0);
	assert_int_equal(ring_open(fx->tmpl, NULL, &ring), 0);
	assert_int_equal(ring_put_init(ring, "cam-a", init_a, sizeof(init_a), &fx->init_a), 0);
	assert_int_equal(ring_put_init(ring, "cam-b", init_b, sizeof(init_b), &fx->init_b), 0);
	for (int n = 0; n < POPULATED; n++) {
		struct known *k = known_add(fx, "cam-a", T0 + 1000LL * n, SEG_LEN);

		assert_int_equal(append_known(ring, k, fx->init_a, 0), 0);
		k->victim = n < VICTIMS;
	}
	ring_close(ring);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	testutil_rmtree(fx->tmp);
	free(fx);
	return 0;
}

/*
 * The workload: W1 a small cam-b segment (its init record goes into
 * extent 1 first: 4 writes, sync, commit), W2 a cam-a segment that fills
 * extent 1 (2 writes, sync, commit), W3 a cam-a segment that reuses
 * extent 0 (header write, sync, eviction commit, then init and media as
 * W1). 19 steps in all. Streamed, W1 grows in place without I/O, W2
 * twice, W3 starts in the last page of extent 1 and moves to extent 0
 * (STEPS_W).
 * Returns the index into fx->k of the append that failed, or -1.
 */
static int workload(struct fx *fx, struct ring *ring, struct fault *f, size_t first)
{
	static const struct {
		const char *cam;
		size_t len;
		uint64_t hint; /* when streamed */
	} w[] = {
		{ "cam-b", SMALL_LEN, 4096 },
		{ "cam-a", SEG_LEN, PIECE_FIRST },
		{ "cam-a", SEG_LEN, PIECE_FIRST },
	};
	int failed = -1;

	fx->nk = first;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		struct known *k = known_add(fx, w[i].cam, T0 + 100000 + 10 * i, w[i].len);
		uint64_t init = w[i].cam[4] == 'a' ? fx->init_a : fx->init_b;
		uint64_t hint = fx->streamed ? w[i].hint : 0;
		int ret = append_known(ring, k, init, hint);

		if (!ret)
			continue;
		assert_int_equal(ret, -EIO);
		assert_true(f->fired);
		failed = (int)(fx->nk - 1);
		if (f->mode != FAULT_ONCE) {
			/* Power is off: later appends fail too, cleanly. */
			k = known_add(fx, "cam-a", T0 + 200000, SEG_LEN);
			assert_int_equal(append_known(ring, k, fx->init_a, hint), -EIO);
			fx->nk--;
			break;
		}
		/* The same ring carries on: the retry goes through, and
		 * then it is acknowledged like any other. */
		assert_int_equal(append_known(ring, k, init, hint), 0);
		failed = -1;
	}
	return failed;
}

static const struct known *known_find(const struct fx *fx, const struct ring_seg_info *in)
{
	for (size_t i = 0; i < fx->nk; i++)
		if (!strcmp(fx->k[i].camera, in->camera) && fx->k[i].start == in->start_utc_ms)
			return &fx->k[i];
	return NULL;
}

struct seen {
	struct fx *fx;
	struct ring *ring;
	bool found[KNOWN_MAX];
	uint64_t last_seq;
	char last_cam[RING_CAMERA_MAX];
	size_t n;
};

/* Every listed segment is one the test wrote, whole, listed once. */
static int check_listed(void *arg, const struct ring_seg_info *in)
{
	static uint8_t want[BIG_LEN], got[BIG_LEN];
	struct seen *s = arg;
	const struct known *k = known_find(s->fx, in);
	size_t len = 0;

	assert_non_null(k);
	assert_false(s->found[k - s->fx->k]);
	s->found[k - s->fx->k] = true;
	if (!strcmp(s->last_cam, in->camera))
		assert_true(in->seq > s->last_seq);
	snprintf(s->last_cam, sizeof(s->last_cam), "%s", in->camera);
	s->last_seq = in->seq;
	testutil_fill(want, k->len, k->seed);
	assert_int_equal(ring_read(s->ring, in->id, got, sizeof(got), &len), 0);
	assert_int_equal(len, k->len);
	assert_memory_equal(got, want, len);
	s->n++;
	return 0;
}

/* What must have become of the segments in extent 0. */
enum victims { VICTIMS_KEPT, VICTIMS_GONE, VICTIMS_EITHER };

static enum victims victims_expected(const struct fx *fx, const struct fault *f)
{
	if (f->mode == FAULT_ONCE || !f->fired)
		return VICTIMS_GONE; /* the workload completed */
	if (f->fail_at <= (fx->streamed ? STEP_EVICT_HDR_W : STEP_EVICT_HDR))
		return VICTIMS_KEPT; /* no valid new header */
	if (f->fail_at <= (fx->streamed ? STEP_EVICT_COMMIT_W : STEP_EVICT_COMMIT))
		return VICTIMS_EITHER; /* new header, rows still in */
	return VICTIMS_GONE;	       /* and stale records never come back */
}

static void check_ring(struct fx *fx, struct ring *ring, int failed, enum victims victims)
{
	struct ring_verify_report rep;
	struct seen s = { .fx = fx, .ring = ring };

	assert_int_equal(ring_list(ring, NULL, INT64_MIN, INT64_MAX, check_listed, &s), 0);
	for (size_t i = 0; i < fx->nk; i++) {
		const struct known *k = &fx->k[i];

		if (k->victim && victims == VICTIMS_GONE && s.found[i])
			fail_msg("evicted segment %zu is back", i);
		if (k->victim && victims != VICTIMS_KEPT)
			continue;
		/* G1+G3: acknowledged and not evicted => still there. */
		if (k->acked && (int)i != failed && !s.found[i])
			fail_msg("acknowledged segment %zu (id %llu) lost", i,
				 (unsigned long long)k->id);
	}
	assert_int_equal(ring_verify(ring, &rep), 0);
}

static int collect(void *arg, const struct ring_seg_info *in)
{
	struct ring_seg_info *l = arg;

	assert_true(l[0].id < KNOWN_MAX);
	l[++l[0].id] = *in;
	return 0;
}

/* Lists into @l: l[0].id holds the count, rows from l[1]. */
static void list_into(struct ring *ring, struct ring_seg_info *l)
{
	l[0].id = 0;
	assert_int_equal(ring_list(ring, NULL, INT64_MIN, INT64_MAX, collect, l), 0);
}

static void check_after(struct fx *fx, int failed, enum victims victims)
{
	static struct ring_seg_info before[KNOWN_MAX + 1], after[KNOWN_MAX + 1];
	struct ring *ring;

	assert_int_equal(ring_open(fx->dir, NULL, &ring), 0);
	check_ring(fx, ring, failed, victims);

	/* Appending goes on (into a reused extent 0 when W3 failed). */
	for (int n = 0; n < MORE; n++) {
		struct known *k = known_add(fx, "cam-a", T0 + 300000 + n, SEG_LEN);
		static uint8_t got[SEG_LEN], want[SEG_LEN];
		size_t len;

		assert_int_equal(append_known(ring, k, fx->init_a, 0), 0);
		assert_int_equal(ring_read(ring, k->id, got, sizeof(got), &len), 0);
		testutil_fill(want, SEG_LEN, k->seed);
		assert_memory_equal(got, want, SEG_LEN);
	}
	list_into(ring, before);
	ring_close(ring);

	/* The extents alone tell the same story. */
	assert_int_equal(ring_rebuild(fx->dir, NULL), 0);
	assert_int_equal(ring_open(fx->dir, NULL, &ring), 0);
	list_into(ring, after);
	assert_int_equal(after[0].id, before[0].id);
	for (size_t i = 1; i <= before[0].id; i++) {
		const struct ring_seg_info *x = &before[i], *y = &after[i];

		assert_int_equal(x->id, y->id);
		assert_string_equal(x->camera, y->camera);
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->init_id, y->init_id);
		assert_int_equal(x->start_utc_ms, y->start_utc_ms);
		assert_int_equal(x->media_start_us, y->media_start_us);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->len, y->len);
		assert_int_equal(x->extent, y->extent);
		assert_int_equal(x->offset, y->offset);
		assert_memory_equal(x->sha256, y->sha256, 32);
	}
	ring_close(ring);
}

static void run_style(struct fx *fx, enum fault_mode mode, bool streamed)
{
	int steps = streamed ? STEPS_W : STEPS;
	struct fault f;
	struct ring *ring;
	int n, failed;

	fx->streamed = streamed;
	for (n = 1;; n++) {
		copy_ring(fx->tmpl, fx->dir);
		fault_init(&f, mode, n);
		assert_int_equal(ring_open(fx->dir, &f.io, &ring), 0);
		failed = workload(fx, ring, &f, POPULATED);
		ring_close(ring);
		undo_free(&f, -1);
		check_after(fx, failed, victims_expected(fx, &f));
		if (!f.fired)
			break;
		assert_true(mode == FAULT_ONCE ? failed < 0 : failed >= 0);
	}
	/* Every step was hit once: 6 + 4 + 9 (7 + 6 + 12 streamed). */
	print_message("# %s%s: %d fault points\n", mode_name[mode], streamed ? ", streamed" : "",
		      n - 1);
	assert_int_equal(n - 1, steps);
	assert_int_equal(f.steps, steps);
}

static void run_mode(struct fx *fx, enum fault_mode mode)
{
	run_style(fx, mode, false);
	run_style(fx, mode, true);
	fx->streamed = false;
}

/*
 * An append fails at its commit, its record whole on disk; the next one is
 * larger, does not fit there and goes to the next extent. After a restart
 * the failed record is back as an orphan: it must not share a seq with
 * the one that followed it.
 */
static void test_failed_append_elsewhere(void **state)
{
	struct fx *fx = *state;
	struct fault f;
	struct ring *ring;
	struct ring_stat st;
	struct known *a, *b;

	copy_ring(fx->tmpl, fx->dir);
	fault_init(&f, FAULT_ONCE, 4); /* 2 writes, sync, commit */
	fx->nk = POPULATED;
	assert_int_equal(ring_open(fx->dir, &f.io, &ring), 0);
	a = known_add(fx, "cam-a", T0 + 500000, SEG_LEN);
	assert_int_equal(append_known(ring, a, fx->init_a, 0), -EIO);
	assert_true(f.fired);
	b = known_add(fx, "cam-a", T0 + 501000, BIG_LEN);
	assert_int_equal(append_known(ring, b, fx->init_a, 0), 0);
	ring_close(ring);
	undo_free(&f, -1);

	assert_int_equal(ring_open(fx->dir, NULL, &ring), 0);
	assert_int_equal(ring_stat(ring, &st), 0);
	assert_int_equal(st.recovered_orphans, 1); /* a, whole */
	check_ring(fx, ring, (int)(a - fx->k), VICTIMS_GONE);
	ring_close(ring);
}

static void test_fault_once(void **state)
{
	run_mode(*state, FAULT_ONCE);
}

static void test_cut_keep(void **state)
{
	run_mode(*state, FAULT_CUT_KEEP);
}

static void test_cut_drop_all(void **state)
{
	run_mode(*state, FAULT_CUT_DROP_ALL);
}

static void test_cut_drop_even(void **state)
{
	run_mode(*state, FAULT_CUT_DROP_EVEN);
}

static void test_cut_drop_odd(void **state)
{
	run_mode(*state, FAULT_CUT_DROP_ODD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_append_elsewhere),
		cmocka_unit_test(test_fault_once),
		cmocka_unit_test(test_cut_keep),
		cmocka_unit_test(test_cut_drop_all),
		cmocka_unit_test(test_cut_drop_even),
		cmocka_unit_test(test_cut_drop_odd),
	};

	posix = ring_io_posix();
	log_init("ring_fault_test", LOG_DEST_PLAIN, getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
