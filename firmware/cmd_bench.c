// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate bench-ring`: ring throughput beside a plain sequential write
 * of the same bytes with the same fdatasync cadence (one per segment), in
 * the same directory, so the ratio isolates the ring's own cost (headers,
 * hashing, index commits). The ring is measured two ways: ring_append()
 * of whole segments, and a ring_writer fed in pieces as `camgate run`
 * stores a camera's fragments.
 *
 * One run of each is at the mercy of whatever else the disk and the CPUs
 * do meanwhile, so the three alternate for several rounds, in a rotating
 * order, and the medians are printed: of the rates, and of each round's
 * ring/plain ratio (a round's runs follow each other, so they share most
 * of the disturbance).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/cmd.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/ring.h"

#define BENCH_ROUNDS_MAX 50
#define BENCH_EXTENT	 (64ull << 20)

enum bench_kind { BENCH_PLAIN, BENCH_APPEND, BENCH_WRITER, BENCH_KINDS };

static const char *const bench_label[BENCH_KINDS] = {
	[BENCH_PLAIN] = "plain write+fdatasync",
	[BENCH_APPEND] = "ring append",
	[BENCH_WRITER] = "ring writer",
};

struct bench {
	const char *dir;
	const uint8_t *buf;
	size_t size;	/* bytes per segment */
	size_t piece;	/* bytes per ring_writer_add() */
	unsigned int n; /* segments per run */
};

/* Seconds for one run, or -1 (logged). */
static double bench_plain(const struct bench *b)
{
	char path[PATH_MAX];
	int64_t t0;
	int fd;

	snprintf(path, sizeof(path), "%s/plain.dat", b->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		log_err("%s: %m", path);
		return -1;
	}
	t0 = time_mono_ms();
	for (unsigned int i = 0; i < b->n; i++) {
		if (write(fd, b->buf, b->size) != (ssize_t)b->size || fdatasync(fd)) {
			log_err("%s: %m", path);
			close(fd);
			unlink(path);
			return -1;
		}
	}
	close(fd);
	unlink(path);
	return (double)(time_mono_ms() - t0) / 1000;
}

/* One segment, whole or in pieces. */
static int bench_store(const struct bench *b, struct ring *ring, const struct ring_seg *seg,
		       bool streamed)
{
	struct ring_writer *w = NULL;
	int ret;

	if (!streamed)
		return ring_append(ring, seg, b->buf, b->size, NULL);
	ret = ring_writer_open(ring, seg->camera, seg->init_id, 0, &w);
	for (size_t off = 0; !ret && off < b->size; off += b->piece)
		ret = ring_writer_add(w, b->buf + off,
				      b->size - off < b->piece ? b->size - off : b->piece);
	if (ret) {
		if (w)
			ring_writer_abort(w);
		return ret;
	}
	return ring_writer_commit(w, seg, NULL);
}

/* What ring_create() and ring_open() leave in the ring's folder, beside
 * the extents. */
static const char *const bench_ring_files[] = {
	"ring.meta", "index.db", "index.db-wal", "index.db-shm", "ring.lock",
};

static void bench_ring_remove(const char *path, unsigned int extents)
{
	char rm[PATH_MAX + 32];

	for (unsigned int e = 0; e < extents; e++) {
		snprintf(rm, sizeof(rm), "%s/extent-%03u.dat", path, e);
		unlink(rm);
	}
	for (size_t i = 0; i < sizeof(bench_ring_files) / sizeof(bench_ring_files[0]); i++) {
		snprintf(rm, sizeof(rm), "%s/%s", path, bench_ring_files[i]);
		unlink(rm);
	}
	rmdir(path);
}

/* A new ring with room for every segment, so no extent is reused; it is
 * removed afterwards, for the next round. */
static double bench_ring(const struct bench *b, bool streamed)
{
	unsigned int extents = (unsigned int)((uint64_t)b->size * b->n / BENCH_EXTENT) + 3;
	char path[PATH_MAX];
	struct ring *ring = NULL;
	double secs = -1;
	uint64_t init_id;
	int64_t t0;

	snprintf(path, sizeof(path), "%s/ring", b->dir);
	if (ring_create(path, extents, BENCH_EXTENT) || ring_open(path, NULL, &ring))
		goto out;
	if (ring_put_init(ring, "bench", b->buf, 1024, &init_id))
		goto out;
	t0 = time_mono_ms();
	for (unsigned int i = 0; i < b->n; i++) {
		struct ring_seg seg = {
			.camera = "bench",
			.init_id = init_id,
			.start_utc_ms = time_now_ms(),
			.duration_ms = 4000,
		};

		if (bench_store(b, ring, &seg, streamed))
			goto out;
	}
	secs = (double)(time_mono_ms() - t0) / 1000;
out:
	ring_close(ring);
	bench_ring_remove(path, extents);
	return secs;
}

static double bench_run(const struct bench *b, enum bench_kind k)
{
	return k == BENCH_PLAIN ? bench_plain(b) : bench_ring(b, k == BENCH_WRITER);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @v. */
static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* @rate[k][r]: MB/s of kind k in round r. Sorts what it is given. */
static void bench_print(const struct bench *b, unsigned int rounds,
			double rate[BENCH_KINDS][BENCH_ROUNDS_MAX])
{
	double ratio[BENCH_KINDS][BENCH_ROUNDS_MAX], m;
	unsigned int last = rounds - 1;

	for (unsigned int r = 0; r < rounds; r++)
		for (int k = BENCH_APPEND; k < BENCH_KINDS; k++)
			ratio[k][r] = rate[k][r] / rate[BENCH_PLAIN][r];
	printf("segments %u x %zu bytes, the writer fed %zu bytes at a time;"
	       " %u rounds, medians (min..max)\n",
	       b->n, b->size, b->piece, rounds);
	for (int k = 0; k < BENCH_KINDS; k++) {
		m = median(rate[k], rounds);
		printf("%-22s %8.1f MB/s  (%.1f..%.1f)\n", bench_label[k], m, rate[k][0],
		       rate[k][last]);
	}
	for (int k = BENCH_APPEND; k < BENCH_KINDS; k++) {
		m = median(ratio[k], rounds);
		printf("ratio %s/plain   %8.2f  (%.2f..%.2f)\n",
		       k == BENCH_APPEND ? "append" : "writer", m, ratio[k][0], ratio[k][last]);
	}
}

static int bench_rounds(const struct bench *b, unsigned int rounds)
{
	static double rate[BENCH_KINDS][BENCH_ROUNDS_MAX];
	double mb = (double)b->size * b->n / 1e6, secs;

	for (unsigned int r = 0; r < rounds; r++) {
		for (int i = 0; i < BENCH_KINDS; i++) {
			enum bench_kind k = (enum bench_kind)((i + (int)r) % BENCH_KINDS);

			secs = bench_run(b, k);
			if (secs <= 0) {
				log_err("bench-ring: %s run failed", bench_label[k]);
				return CMD_FAIL;
			}
			rate[k][r] = mb / secs;
		}
	}
	bench_print(b, rounds, rate);
	return CMD_OK;
}

static void bench_usage(void)
{
	puts("usage: camgate bench-ring --dir DIR [--segments N] [--size BYTES] [--rounds R]\n"
	     "                          [--piece BYTES]\n\n"
	     "DIR must be empty or new, on the disk to measure. Alternates R rounds (5) of\n"
	     "plain write+fdatasync, ring appends and a ring writer fed in pieces (64K) of\n"
	     "the same N segments (100 x 2M), and prints the median MB/s of each and the\n"
	     "median ring/plain ratios.");
}

/* Random bytes: nothing below may compress or deduplicate them. */
static void bench_fill(uint8_t *buf, size_t size)
{
	for (size_t off = 0; off < size;) {
		ssize_t r = getrandom(buf + off, size - off, 0);

		if (r <= 0)
			break;
		off += (size_t)r;
	}
}

int cmd_bench_ring(const struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "segments", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "piece", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { 0 };
	uint64_t size = 2ull << 20, piece = 64u << 10;
	int64_t n = 100, rounds = 5;
	uint8_t *buf;
	int c, ret;

	(void)ctx;
	while ((c = cmd_getopt("bench-ring", argc, argv, "d:n:s:r:p:h", opts)) != -1) {
		if (c == 'd')
			b.dir = optarg;
		else if (c == 'n' && !parse_i64(optarg, 1, 100000, &n))
			continue;
		else if (c == 'r' && !parse_i64(optarg, 1, BENCH_ROUNDS_MAX, &rounds))
			continue;
		else if (c == 's' && !parse_size(optarg, &size) && size >= 1024 &&
			 size <= (32u << 20))
			continue;
		else if (c == 'p' && !parse_size(optarg, &piece) && piece >= 512 &&
			 piece <= (32u << 20))
			continue;
		else {
			bench_usage();
			return c == 'h' ? CMD_OK : CMD_USAGE;
		}
	}
	if (!b.dir) {
		log_err("bench-ring: --dir is required");
		return CMD_USAGE;
	}
	if (mkdir(b.dir, 0750) && errno != EEXIST) { /* "empty or new" */
		log_err("bench-ring: %s: %s", b.dir, strerror(errno));
		return CMD_FAIL;
	}
	buf = malloc(size);
	if (!buf)
		return CMD_FAIL;
	bench_fill(buf, size);
	b.buf = buf;
	b.size = size;
	b.piece = piece;
	b.n = (unsigned int)n;
	ret = bench_rounds(&b, (unsigned int)rounds);
	free(buf);
	return ret;
}
