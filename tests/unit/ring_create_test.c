// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_create_test - ring_create() on a filesystem without fallocate: the
 * ftruncate + zero-fill fallback makes whole, non-sparse extents and a
 * working ring; a create that fails (disk full) or dies part-way leaves
 * nothing that stops the next one; other fallocate errors are returned,
 * not filled around; leftover extents that are not blank are never lost.
 *
 * ring_create() takes no struct ring_io (it uses ring_io_posix()), so the
 * test interposes the libc calls behind that table, posix_fallocate64()
 * and pwrite64() (-D_FILE_OFFSET_BITS=64): it counts and fails them for
 * extent files only and passes the rest (SQLite, appends) to libc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "tests/unit/testutil.h"

#define EXTENTS	     2
#define EXTENT_BYTES (2u * 1024u * 1024u + 64u * 1024u) /* 3 zero-fill chunks */
#define EXT_WRITES   4					/* the chunks and the header */
#define SEG_LEN	     100000
#define KILLED	     42 /* exit status of a child "killed" mid-create */

static struct {		/* all 0: everything passes through uncounted */
	int falloc_err; /* posix_fallocate64() on an extent returns it */
	int fail_at;	/* extent pwrite N (1-based) fails with ENOSPC */
	int exit_at;	/* extent pwrite N ends the process */
	int fallocs;	/* calls on extent files */
	int writes;	/* pwrites to extent files */
	uint64_t bytes; /* bytes they were given */
} f;

static bool is_extent(int fd)
{
	char link[64], path[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	return strstr(path, "/extent-") != NULL;
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
	static int (*real)(int, off64_t, off64_t);

	if (f.falloc_err && is_extent(fd)) {
		f.fallocs++;
		return f.falloc_err;
	}
	if (!real)
		real = (int (*)(int, off64_t, off64_t))dlsym(RTLD_NEXT, "posix_fallocate64");
	return real(fd, off, len);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off64_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
	if (!f.falloc_err || !is_extent(fd))
		return real(fd, buf, len, off);
	if (++f.writes == f.exit_at)
		_exit(KILLED); /* the page cache keeps what was written */
	if (f.writes == f.fail_at) {
		errno = ENOSPC;
		return -1;
	}
	f.bytes += len;
	return real(fd, buf, len, off);
}

static void arm(int falloc_err, int fail_at, int exit_at)
{
	memset(&f, 0, sizeof(f));
	f.falloc_err = falloc_err;
	f.fail_at = fail_at;
	f.exit_at = exit_at;
}

static int setup(void **state)
{
	char *dir = calloc(1, 64);

	assert_non_null(dir);
	testutil_mkdtemp(dir, 64, "ring_create_test");
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	arm(0, 0, 0);
	testutil_rmtree(*state);
	free(*state);
	return 0;
}

static void ext_path(const char *dir, unsigned int e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/extent-%03u.dat", dir, e);
}

/* Every extent is whole and its blocks are really there. */
static void assert_extents_full(const char *dir)
{
	char path[128];
	struct stat st;

	for (unsigned int e = 0; e < EXTENTS; e++) {
		ext_path(dir, e, path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, EXTENT_BYTES);
		if ((uint64_t)st.st_blocks * 512 < EXTENT_BYTES)
			fail_msg("%s: %lld bytes allocated, sparse", path,
				 (long long)st.st_blocks * 512);
	}
}

/* The ring opens read-write, stores a segment and gives it back; it
 * then holds @segs. */
static void assert_ring_works(const char *dir, uint32_t seed, uint64_t segs)
{
	static const uint8_t init[] = "ftyp moov";
	static uint8_t want[SEG_LEN], got[SEG_LEN];
	struct ring_seg seg = { .camera = "cam", .start_utc_ms = 1700000000000LL + seed };
	struct ring_seg_info info;
	struct ring_stat st;
	struct ring *ring;
	size_t len = 0;

	testutil_fill(want, sizeof(want), seed);
	assert_int_equal(ring_open(dir, NULL, &ring), 0);
	assert_int_equal(ring_put_init(ring, "cam", init, sizeof(init), &seg.init_id), 0);
	assert_int_equal(ring_append(ring, &seg, want, sizeof(want), &info), 0);
	ring_close(ring);
	assert_int_equal(ring_open(dir, NULL, &ring), 0);
	assert_int_equal(ring_read(ring, info.id, got, sizeof(got), &len), 0);
	assert_int_equal(len, SEG_LEN);
	assert_memory_equal(got, want, SEG_LEN);
	assert_int_equal(ring_verify(ring, &(struct ring_verify_report){ 0 }), 0);
	assert_int_equal(ring_stat(ring, &st), 0);
	assert_int_equal(st.segs, segs);
	ring_close(ring);
}

static void test_fallback_fills(void **state)
{
	const char *dir = *state;

	arm(EOPNOTSUPP, 0, 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	assert_int_equal(f.fallocs, EXTENTS);
	assert_int_equal(f.writes, EXTENTS * EXT_WRITES);
	assert_true(f.bytes >= (uint64_t)EXTENTS * EXTENT_BYTES);
	arm(0, 0, 0);
	assert_extents_full(dir);
	assert_ring_works(dir, 1, 1);
}

/* index.db and its WAL files are 0640 whatever the umask lets SQLite do
 * (it would make them 0644). */
static void test_index_mode(void **state)
{
	const char *dir = *state;
	char path[128];
	struct stat st;
	mode_t old = umask(022);

	arm(0, 0, 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	assert_ring_works(dir, 7, 1);
	umask(old);
	snprintf(path, sizeof(path), "%s/index.db", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

/* After a failed or killed create, the next one (the disk has room
 * again) makes a whole, working ring; then the folder is emptied. */
static void assert_retry_works(const char *dir, uint32_t n)
{
	arm(EOPNOTSUPP, 0, 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	arm(0, 0, 0);
	assert_extents_full(dir);
	assert_ring_works(dir, n, 1);
	testutil_rmtree(dir);
}

/* Disk full at each write of the zero fill and of the headers in turn:
 * the create fails with -ENOSPC and leaves no ring and no extent behind;
 * once there is room, the next create makes a ring. */
static void test_fill_fails_then_retry(void **state)
{
	const char *dir = *state;
	char path[128];
	int n, ret;

	for (n = 1;; n++) {
		arm(EOPNOTSUPP, n, 0);
		ret = ring_create(dir, EXTENTS, EXTENT_BYTES);
		if (f.writes < n) { /* the fault never came */
			assert_int_equal(ret, 0);
			break;
		}
		assert_int_equal(ret, -ENOSPC);
		assert_false(ring_exists(dir));
		assert_int_equal(ring_open(dir, NULL, &(struct ring *){ NULL }), -ENOENT);
		for (unsigned int e = 0; e < EXTENTS; e++) {
			ext_path(dir, e, path, sizeof(path));
			assert_int_equal(access(path, F_OK), -1);
		}
		assert_retry_works(dir, (uint32_t)n);
	}
	assert_int_equal(n - 1, EXTENTS * EXT_WRITES);
}

/* The process dies at each extent write in turn (power cut, watchdog):
 * the next start must still get a ring, not -EEXIST for ever. */
static void test_killed_then_retry(void **state)
{
	const char *dir = *state;
	int n, st;
	pid_t pid;

	for (n = 1;; n++) {
		pid = fork();
		assert_true(pid >= 0);
		if (!pid) {
			arm(EOPNOTSUPP, 0, n);
			_exit(ring_create(dir, EXTENTS, EXTENT_BYTES) ? 1 : 0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) != KILLED) {
			assert_int_equal(WEXITSTATUS(st), 0);
			break;
		}
		assert_false(ring_exists(dir));
		assert_retry_works(dir, (uint32_t)n);
	}
	assert_int_equal(n - 1, EXTENTS * EXT_WRITES);
}

/* Leftovers with a valid header are kept (a ring that lost ring.meta
 * comes back); one with a damaged header fails the create, untouched. */
static void test_leftovers_kept(void **state)
{
	static uint8_t before[8192], after[8192];
	const char *dir = *state;
	char meta[128], path[128];
	int fd;

	snprintf(meta, sizeof(meta), "%s/ring.meta", dir);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	assert_ring_works(dir, 1, 1);
	assert_int_equal(unlink(meta), 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	assert_ring_works(dir, 2, 2); /* the first one is back */

	assert_int_equal(unlink(meta), 0);
	ext_path(dir, 1, path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 20), 1);
	assert_int_equal(pread(fd, before, sizeof(before), 0), sizeof(before));
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), -EEXIST);
	assert_int_equal(pread(fd, after, sizeof(after), 0), sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	close(fd);
	assert_false(ring_exists(dir));
	assert_extents_full(dir);
}

/* Any other fallocate error is the answer: no fallback fills the disk. */
static void test_fallocate_error(void **state)
{
	const char *dir = *state;

	arm(ENOSPC, 0, 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), -ENOSPC);
	assert_int_equal(f.fallocs, 1);
	assert_int_equal(f.writes, 0);
	assert_false(ring_exists(dir));
	arm(0, 0, 0);
	assert_int_equal(ring_create(dir, EXTENTS, EXTENT_BYTES), 0);
	assert_ring_works(dir, 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_fallback_fills), T(test_fill_fails_then_retry), T(test_killed_then_retry),
		T(test_leftovers_kept), T(test_fallocate_error),       T(test_index_mode),
#undef T
	};

	log_init("ring_create_test", LOG_DEST_PLAIN,
		 getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
