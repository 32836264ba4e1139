/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ring_io - the I/O seam of the ring: every extent file access goes
 * through one of these tables.
 *
 * ring_io_posix() is the plain implementation. Tests build their own
 * table that wraps it and fails, tears or "cuts power" at the Nth write,
 * sync or index commit, the way SQLite's crash tests do, to prove the
 * ring's write order (G1) and recovery (G3).
 *
 * Every operation returns 0 (or a byte count) on success and a negative
 * errno on failure; none of them logs, the ring does. @ctx is passed back
 * unchanged. A table is borrowed by the ring and must outlive it.
 */
#ifndef CAMGATE_STORAGE_RING_IO_H
#define CAMGATE_STORAGE_RING_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ring_io {
	void *ctx;
	/* open(2) with mode 0640 when O_CREAT is given; *fdp on success. */
	int (*open)(void *ctx, const char *path, int flags, int *fdp);
	int (*close)(void *ctx, int fd);
	/* One pread(2)/pwrite(2); may be short. Returns bytes or -errno. */
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, uint64_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, uint64_t off);
	int (*fdatasync)(void *ctx, int fd);
	/* Reserve [0, len): -EOPNOTSUPP when the filesystem cannot. */
	int (*fallocate)(void *ctx, int fd, uint64_t len);
	int (*ftruncate)(void *ctx, int fd, uint64_t len);
	/*
	 * Called just before the ring commits an index transaction that
	 * follows data it wrote (an append, an eviction). Returning < 0
	 * makes the ring roll back and fail with -EIO, as if power had
	 * gone between the data sync and the index row. May be NULL.
	 */
	int (*commit_hook)(void *ctx);
};

/* The default table: plain POSIX calls, no commit hook. Static storage. */
const struct ring_io *ring_io_posix(void);

/*
 * Whole-buffer helpers over a table: retry short transfers and EINTR.
 * ring_io_read_full() returns -ENODATA when the file ends first;
 * ring_io_write_full() returns -EIO when a write makes no progress.
 */
int ring_io_read_full(const struct ring_io *io, int fd, void *buf, size_t len, uint64_t off);
int ring_io_write_full(const struct ring_io *io, int fd, const void *buf, size_t len, uint64_t off);

/*
 * TEST SEAM for integration tests of a failing footage disk: when the
 * environment names CAMGATE_TEST_RING_EIO="AFTER" or "AFTER,COUNT", *iop
 * is a table over ring_io_posix() whose pwrite and fdatasync calls, counted
 * together from this call on, fail with -EIO from number AFTER + 1 on
 * (for COUNT of them, or to the end of the process). Otherwise *iop is
 * NULL. Returns -EINVAL (and *iop NULL) when the value is not of that
 * form. Call once, before the ring opens; the caller logs that the seam is
 * on (a gateway in the field never has it set). The table is static.
 */
int ring_io_test_seam(const struct ring_io **iop);

#endif /* CAMGATE_STORAGE_RING_IO_H */
