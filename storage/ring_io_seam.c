// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_io_seam - TEST SEAM: a ring_io table whose writes and syncs fail
 * with EIO after a number of them, so an integration test can give a
 * running daemon a failing footage disk (this kernel has no
 * device-mapper error target). Off unless the environment names it; a
 * gateway in the field never has it set.
 */
#include "storage/ring_io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static atomic_uint_fast64_t seam_ops;	/* writes and syncs so far */
static uint64_t seam_after, seam_count; /* fail ops (after, after + count] */

/* Whether this write or sync fails; counts it either way. */
static bool seam_fails(void)
{
	uint64_t n = atomic_fetch_add(&seam_ops, 1) + 1;

	return n > seam_after && (seam_count == 0 || n - seam_after <= seam_count);
}

static int seam_open(void *ctx, const char *path, int flags, int *fdp)
{
	return ring_io_posix()->open(ctx, path, flags, fdp);
}

static int seam_close(void *ctx, int fd)
{
	return ring_io_posix()->close(ctx, fd);
}

static ssize_t seam_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	return ring_io_posix()->pread(ctx, fd, buf, len, off);
}

static ssize_t seam_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	return seam_fails() ? -EIO : ring_io_posix()->pwrite(ctx, fd, buf, len, off);
}

static int seam_fdatasync(void *ctx, int fd)
{
	return seam_fails() ? -EIO : ring_io_posix()->fdatasync(ctx, fd);
}

static int seam_fallocate(void *ctx, int fd, uint64_t len)
{
	return ring_io_posix()->fallocate(ctx, fd, len);
}

static int seam_ftruncate(void *ctx, int fd, uint64_t len)
{
	return ring_io_posix()->ftruncate(ctx, fd, len);
}

static const struct ring_io seam_ops_table = {
	.ctx = NULL,
	.open = seam_open,
	.close = seam_close,
	.pread = seam_pread,
	.pwrite = seam_pwrite,
	.fdatasync = seam_fdatasync,
	.fallocate = seam_fallocate,
	.ftruncate = seam_ftruncate,
	.commit_hook = NULL,
};

/* "AFTER" or "AFTER,COUNT", decimal; anything else is refused. */
static int seam_parse(const char *s, uint64_t *after, uint64_t *count)
{
	char *end;

	*count = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*after = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == ',') {
		s = end + 1;
		if (*s < '1' || *s > '9')
			return -EINVAL;
		*count = strtoull(s, &end, 10);
		if (errno)
			return -EINVAL;
	}
	return *end ? -EINVAL : 0;
}

int ring_io_test_seam(const struct ring_io **iop)
{
	const char *v = getenv("CAMGATE_TEST_RING_EIO");
	int ret;

	*iop = NULL;
	if (!v || !*v)
		return 0;
	ret = seam_parse(v, &seam_after, &seam_count);
	if (ret)
		return ret;
	atomic_store(&seam_ops, 0);
	*iop = &seam_ops_table;
	return 0;
}
