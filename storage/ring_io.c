// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_io - plain POSIX implementation of the ring's I/O seam, and the
 * whole-buffer helpers every caller uses so short transfers and EINTR are
 * handled in one place.
 */
#include "storage/ring_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

/* Largest offset off_t can carry on this build (32-bit ARM without
 * _FILE_OFFSET_BITS=64 has a 32-bit off_t). */
#define RING_IO_OFF_MAX (sizeof(off_t) >= 8 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX)

static int posix_open(void *ctx, const char *path, int flags, int *fdp)
{
	int fd;

	(void)ctx;
	fd = open(path, flags | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	*fdp = fd;
	return 0;
}

static int posix_close(void *ctx, int fd)
{
	(void)ctx;
	/* Linux releases the descriptor even when close() fails, so a
	 * retry would close someone else's file: report and move on. */
	return close(fd) ? -errno : 0;
}

static ssize_t posix_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	(void)ctx;
	if (off > RING_IO_OFF_MAX || len > RING_IO_OFF_MAX - off)
		return -EOVERFLOW;
	n = pread(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static ssize_t posix_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	(void)ctx;
	if (off > RING_IO_OFF_MAX || len > RING_IO_OFF_MAX - off)
		return -EOVERFLOW;
	n = pwrite(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static int posix_fdatasync(void *ctx, int fd)
{
	(void)ctx;
	return fdatasync(fd) ? -errno : 0;
}

static int posix_fallocate_op(void *ctx, int fd, uint64_t len)
{
	int err;

	(void)ctx;
	if (len > RING_IO_OFF_MAX)
		return -EOVERFLOW;
	err = posix_fallocate(fd, 0, (off_t)len);
	if (err == EINVAL || err == ENOSYS)
		err = EOPNOTSUPP;
	return -err;
}

static int posix_ftruncate(void *ctx, int fd, uint64_t len)
{
	(void)ctx;
	if (len > RING_IO_OFF_MAX)
		return -EOVERFLOW;
	return ftruncate(fd, (off_t)len) ? -errno : 0;
}

static const struct ring_io ring_io_posix_ops = {
	.ctx = NULL,
	.open = posix_open,
	.close = posix_close,
	.pread = posix_pread,
	.pwrite = posix_pwrite,
	.fdatasync = posix_fdatasync,
	.fallocate = posix_fallocate_op,
	.ftruncate = posix_ftruncate,
	.commit_hook = NULL,
};

const struct ring_io *ring_io_posix(void)
{
	return &ring_io_posix_ops;
}

int ring_io_read_full(const struct ring_io *io, int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = io->pread(io->ctx, fd, p, len, off);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int ring_io_write_full(const struct ring_io *io, int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = io->pwrite(io->ctx, fd, p, len, off);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}
