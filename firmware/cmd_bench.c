// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate bench-ring`: ring append throughput beside a plain sequential
 * write of the same bytes with the same fdatasync cadence (one per
 * segment), in the same directory, so the ratio isolates the ring's own
 * cost (headers, hashing, index commits).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "firmware/cmd.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/ring.h"

static double bench_plain(const char *dir, const void *buf, size_t size, unsigned int n)
{
	char path[PATH_MAX];
	int64_t t0;
	int fd;

	snprintf(path, sizeof(path), "%s/plain.dat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		log_err("%s: %m", path);
		return -1;
	}
	t0 = time_mono_ms();
	for (unsigned int i = 0; i < n; i++) {
		if (write(fd, buf, size) != (ssize_t)size || fdatasync(fd)) {
			log_err("%s: %m", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	unlink(path);
	return (double)(time_mono_ms() - t0) / 1000;
}

static double bench_ring(const char *dir, const void *buf, size_t size, unsigned int n)
{
	char path[PATH_MAX];
	struct ring *ring;
	uint64_t init_id;
	int64_t t0;
	double secs = -1;
	uint64_t extent = 64ull << 20;
	unsigned int extents = (unsigned int)((uint64_t)size * n / extent) + 3;

	snprintf(path, sizeof(path), "%s/ring", dir);
	if (ring_create(path, extents, extent) || ring_open(path, NULL, &ring))
		return -1;
	if (ring_put_init(ring, "bench", buf, 1024, &init_id))
		goto out;
	t0 = time_mono_ms();
	for (unsigned int i = 0; i < n; i++) {
		struct ring_seg seg = {
			.camera = "bench",
			.init_id = init_id,
			.start_utc_ms = time_now_ms(),
			.duration_ms = 4000,
		};

		if (ring_append(ring, &seg, buf, size, NULL))
			goto out;
	}
	secs = (double)(time_mono_ms() - t0) / 1000;
out:
	ring_close(ring);
	return secs;
}

int cmd_bench_ring(const struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "segments", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	uint64_t size = 2ull << 20;
	int64_t n = 100;
	double tp, tr, mb;
	char *buf;
	int c;

	(void)ctx;
	while ((c = getopt_long(argc, argv, "d:n:s:h", opts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else if (c == 'n' && !parse_i64(optarg, 1, 100000, &n)) {
			continue;
		} else if (c == 's' && !parse_size(optarg, &size) && size >= 1024 &&
			   size <= (32u << 20)) {
			continue;
		} else {
			puts("usage: camgate bench-ring --dir DIR [--segments N] [--size BYTES]\n\n"
			     "DIR must be empty or new, on the disk to measure. Prints MB/s of\n"
			     "ring appends and of plain write+fdatasync of the same segments.");
			return c == 'h' ? CMD_OK : CMD_USAGE;
		}
	}
	if (!dir) {
		log_err("bench-ring: --dir is required");
		return CMD_USAGE;
	}
	buf = malloc(size);
	if (!buf)
		return CMD_FAIL;
	/* Random bytes: nothing below may compress or deduplicate them. */
	for (uint64_t off = 0; off < size;) {
		ssize_t r = getrandom(buf + off, size - off, 0);

		if (r <= 0)
			break;
		off += (uint64_t)r;
	}
	tp = bench_plain(dir, buf, size, (unsigned int)n);
	tr = bench_ring(dir, buf, size, (unsigned int)n);
	free(buf);
	if (tp <= 0 || tr <= 0) {
		log_err("bench-ring: a run failed");
		return CMD_FAIL;
	}
	mb = (double)size * n / 1e6;
	printf("segments %lld x %llu bytes\n", (long long)n, (unsigned long long)size);
	printf("plain write+fdatasync  %8.1f MB/s\n", mb / tp);
	printf("ring append            %8.1f MB/s\n", mb / tr);
	printf("ratio ring/plain       %8.2f\n", tp / tr);
	return CMD_OK;
}
