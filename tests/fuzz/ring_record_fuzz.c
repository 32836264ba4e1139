// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_record_fuzz - arbitrary bytes as an extent file (libFuzzer).
 *
 * A tiny ring lives in a temp folder ($TMPDIR, else /dev/shm): 2 extents
 * of 1 MiB, a fixed uuid, so seed files stay valid across runs. Each input
 * becomes extent-000.dat verbatim; extent-001.dat is empty and there is no
 * index, so ring_open() rebuilds the index from the input alone. Then:
 *   1. ring_open() recovers (G3); it may refuse the ring, never crash;
 *   2. ring_verify() must be clean: recovery indexes whole records only;
 *   3. every listed segment must read back;
 *   4. close and reopen: recovery against the index step 1 built, which
 *      must find nothing to change, and verify must stay clean;
 *   5. one append and one segment streamed through a ring_writer, which
 *      must land where they do not clobber any indexed record (I1):
 *      verify clean and the new segments read back.
 * A broken property aborts, so libFuzzer keeps the input as a crash.
 *
 * RING_FUZZ_SEED_DIR=DIR ./ring_record_fuzz writes the seed extents
 * (made by the ring's own append path) into DIR and exits.
 * See tests/fuzz/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "storage/ring_int.h"

#define FZ_EXTENT_BYTES (1024u * 1024u)
#define FZ_SEG_MAX	4096 /* payload bytes read back per segment */
#define FZ_GEN_PAYLOAD	1000 /* a record of 4096 bytes on disk */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[128];
static const uint8_t fz_uuid[RING_UUID_LEN] = "camgate-fuzzring";
static uint8_t fz_buf[FZ_SEG_MAX], fz_got[FZ_SEG_MAX];

static void fz_fail(const char *what, int ret)
{
	fprintf(stderr, "ring_record_fuzz: %s (%d)\n", what, ret);
	abort();
}

static void fz_path(const char *name, char *buf, size_t cap)
{
	if (snprintf(buf, cap, "%s/%s", fz_dir, name) >= (int)cap)
		fz_fail("path too long", -ENAMETOOLONG);
}

static void fz_write(const char *name, const void *data, size_t len)
{
	char path[256];
	int fd;

	fz_path(name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		fz_fail(path, -errno);
	close(fd);
}

static void fz_unlink(const char *name)
{
	char path[256];

	fz_path(name, path, sizeof(path));
	unlink(path);
}

static void fz_cleanup(void)
{
	static const char *const names[] = {
		"extent-000.dat", "extent-001.dat", "index.db",	    "index.db-wal",
		"index.db-shm",	  "ring.lock",	    RING_META_NAME,
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fz_unlink(names[i]);
	rmdir(fz_dir);
}

/* Fresh state for one run: extent 0 = @data, extent 1 empty, no index. */
static void fz_reset(const void *data, size_t len)
{
	fz_write("extent-000.dat", data, len);
	fz_write("extent-001.dat", NULL, 0);
	fz_unlink("index.db");
	fz_unlink("index.db-wal");
	fz_unlink("index.db-shm");
}

static void fz_make_template(void)
{
	const char *tmp = getenv("TMPDIR");
	struct ring__meta meta = {
		.extents = 2,
		.extent_bytes = FZ_EXTENT_BYTES,
		.created_utc_ms = 1700000000000LL,
	};
	uint8_t buf[RING_META_SIZE];
	struct stat st;

	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/ring_fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz_dir))
		fz_fail("mkdtemp", -errno);
	atexit(fz_cleanup);
	memcpy(meta.uuid, fz_uuid, sizeof(meta.uuid));
	ring__meta_encode(&meta, buf);
	fz_write(RING_META_NAME, buf, sizeof(buf));
}

/* ---- seed generation ---- */

static void gen_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7);
}

static uint64_t gen_append(struct ring *ring, const char *camera, uint64_t init_id, uint32_t n,
			   size_t len)
{
	struct ring_seg seg = {
		.camera = camera,
		.init_id = init_id,
		.start_utc_ms = 1700000000000LL + 4000LL * n,
		.duration_ms = 4000,
		.media_start_us = 4000000LL * n,
		.flags = n % 3 ? 0 : RING_F_DISCONT,
		.utc_src = (uint8_t)(n % 2),
	};
	struct ring_seg_info info;
	int ret;

	gen_fill(fz_buf, len, n);
	ret = ring_append(ring, &seg, fz_buf, len, &info);
	if (ret)
		fz_fail("seed append", ret);
	return info.offset + ring__rec_size(len);
}

/* A streamed segment's two pieces, with room for @hint bytes at first;
 * *wp is left open, for gen_commit() or ring_writer_abort(). */
static void gen_stream(struct ring *ring, const char *camera, uint64_t init_id, uint32_t n,
		       size_t len, uint64_t hint, struct ring_writer **wp)
{
	int ret;

	gen_fill(fz_buf, len, n);
	ret = ring_writer_open(ring, camera, init_id, hint, wp);
	if (!ret)
		ret = ring_writer_add(*wp, fz_buf, len / 2);
	if (!ret)
		ret = ring_writer_add(*wp, fz_buf + len / 2, len - len / 2);
	if (ret)
		fz_fail("seed writer", ret);
}

static uint64_t gen_commit(struct ring_writer *w, const char *camera, uint64_t init_id, uint32_t n)
{
	struct ring_seg seg = {
		.camera = camera,
		.init_id = init_id,
		.start_utc_ms = 1700000000000LL + 4000LL * n,
		.duration_ms = 4000,
		.media_start_us = 4000000LL * n,
	};
	struct ring_seg_info info;
	int ret = ring_writer_commit(w, &seg, &info);

	if (ret)
		fz_fail("seed commit", ret);
	return info.offset + ring__rec_size(info.len);
}

/* Writes the first @len bytes of extent-000.dat to DIR/@name. */
static void gen_save(const char *out_dir, const char *name, uint64_t len)
{
	char src[256], dst[512];
	uint8_t *buf = calloc(1, len);
	int fd;

	fz_path("extent-000.dat", src, sizeof(src));
	snprintf(dst, sizeof(dst), "%s/%s", out_dir, name);
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0 || pread(fd, buf, len, 0) < 0)
		fz_fail(src, -errno);
	close(fd);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		fz_fail(dst, -errno);
	close(fd);
	free(buf);
}

static struct ring *gen_open(uint64_t *init_a, uint64_t *init_b)
{
	static const char ia[] = "ftyp....moov seed camera a";
	static const char ib[] = "ftyp....moov seed camera b, audio";
	struct ring fake = { .meta.extents = 2 };
	uint8_t hdr[RING_ALIGN] = { 0 };
	struct ring *ring;
	int ret;

	memcpy(fake.meta.uuid, fz_uuid, sizeof(fake.meta.uuid));
	ring__ext_encode(&fake, 0, 0, 0, hdr);
	fz_reset(hdr, sizeof(hdr));
	ret = ring_open(fz_dir, NULL, &ring);
	if (!ret)
		ret = ring_put_init(ring, "cam-a", ia, sizeof(ia), init_a);
	if (!ret)
		ret = ring_put_init(ring, "cam_b.2", ib, sizeof(ib), init_b);
	if (ret)
		fz_fail("seed open", ret);
	return ring;
}

static void gen_seeds(const char *out_dir)
{
	uint64_t a, b, end = 0;
	struct ring *ring;
	uint32_t n;

	ring = gen_open(&a, &b);
	ring_close(ring);
	gen_save(out_dir, "header-only", RING_ALIGN);

	ring = gen_open(&a, &b);
	end = gen_append(ring, "cam-a", a, 1, 300);
	ring_close(ring);
	gen_save(out_dir, "one-segment", end);

	ring = gen_open(&a, &b);
	for (n = 1; n <= 4; n++)
		end = gen_append(ring, n % 2 ? "cam-a" : "cam_b.2", n % 2 ? a : b, n, 200 * n);
	ring_close(ring);
	gen_save(out_dir, "two-cameras", end);
	gen_save(out_dir, "torn-tail", end - RING_ALIGN + RING_REC_HDR_SIZE + 100);

	/* Fill both extents, wrap into extent 0 again: generation 1 with
	 * stale records of generation 0 after the new ones. */
	ring = gen_open(&a, &b);
	for (n = 1; n <= 2 * (FZ_EXTENT_BYTES / RING_ALIGN); n++)
		end = gen_append(ring, "cam-a", a, n, FZ_GEN_PAYLOAD);
	ring_close(ring);
	gen_save(out_dir, "reused-extent", end + 3 * RING_ALIGN);

	/* Streamed segments leave room without a header between records:
	 * an aborted writer behind a committed one, a writer that moved, and
	 * room reserved and not used. */
	{
		struct ring_writer *w1, *w2, *w3;

		ring = gen_open(&a, &b);
		gen_stream(ring, "cam-a", a, 1, 3000, 8000, &w1);
		gen_stream(ring, "cam_b.2", b, 2, 2000, 9000, &w2);
		ring_writer_abort(w1);
		gen_commit(w2, "cam_b.2", b, 2);
		gen_stream(ring, "cam-a", a, 3, 4000, 1000, &w1);
		gen_stream(ring, "cam_b.2", b, 4, 1000, 1000, &w3);
		end = gen_commit(w3, "cam_b.2", b, 4);
		end = gen_commit(w1, "cam-a", a, 3);
		ring_close(ring);
		gen_save(out_dir, "streamed-gaps", end);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed_dir = getenv("RING_FUZZ_SEED_DIR");
	const char *level = getenv("FUZZ_LOG_LEVEL");
	int lvl = LOG_DEBUG;

	(void)argc;
	(void)argv;
	/* Debug by default, so every log format meets decoded fuzz fields;
	 * run with -close_fd_mask=2 to keep the terminal quiet. */
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("ring_record_fuzz", LOG_DEST_PLAIN, lvl);
	fz_make_template();
	if (seed_dir) {
		gen_seeds(seed_dir);
		exit(0);
	}
	return 0;
}

static int fz_read_one(void *arg, const struct ring_seg_info *info)
{
	struct ring *ring = arg;
	size_t len = 0;
	int ret;

	ret = ring_read(ring, info->id, fz_got, sizeof(fz_got), &len);
	if (ret == -E2BIG && len == info->len)
		return 0;
	if (ret || len != info->len)
		fz_fail("indexed segment does not read back", ret);
	return 0;
}

static void fz_check(struct ring *ring, const char *when)
{
	struct ring_verify_report rep;
	int ret;

	ret = ring_verify(ring, &rep);
	if (ret) {
		fprintf(stderr,
			"ring_record_fuzz: verify %s: %d bad_header %llu bad_hash %llu"
			" missing_init %llu unindexed %llu\n",
			when, ret, (unsigned long long)rep.bad_header,
			(unsigned long long)rep.bad_hash, (unsigned long long)rep.missing_init,
			(unsigned long long)rep.unindexed);
		abort();
	}
	ret = ring_list(ring, NULL, INT64_MIN, INT64_MAX, fz_read_one, ring);
	if (ret)
		fz_fail("list", ret);
}

/* A streamed segment that outgrows the room it was given at first. */
static void fz_stream(struct ring *ring, uint64_t init_id)
{
	struct ring_seg seg = { .camera = "cam-a", .init_id = init_id, .start_utc_ms = 2 };
	struct ring_writer *w;
	struct ring_seg_info info;
	size_t len = 0;
	int ret;

	gen_fill(fz_buf, 3000, 6);
	ret = ring_writer_open(ring, seg.camera, init_id, 1000, &w);
	if (ret)
		fz_fail("writer after recovery", ret);
	ret = ring_writer_add(w, fz_buf, 1000);
	if (!ret)
		ret = ring_writer_add(w, fz_buf + 1000, 2000);
	if (ret) {
		ring_writer_abort(w);
		fz_fail("writer add after recovery", ret);
	}
	ret = ring_writer_commit(w, &seg, &info);
	if (ret)
		fz_fail("writer commit after recovery", ret);
	fz_check(ring, "after streamed segment");
	ret = ring_read(ring, info.id, fz_got, sizeof(fz_got), &len);
	if (ret || len != 3000 || memcmp(fz_got, fz_buf, len))
		fz_fail("streamed segment does not read back", ret);
}

static void fz_append(struct ring *ring)
{
	static const char init[] = "ftyp....moov appended";
	struct ring_seg seg = { .camera = "cam-a", .start_utc_ms = 1, .duration_ms = 1 };
	struct ring_seg_info info;
	size_t len = 0;
	int ret;

	ret = ring_put_init(ring, seg.camera, init, sizeof(init), &seg.init_id);
	if (ret)
		fz_fail("put_init after recovery", ret);
	gen_fill(fz_buf, 777, 5);
	ret = ring_append(ring, &seg, fz_buf, 777, &info);
	if (ret)
		fz_fail("append after recovery", ret);
	fz_check(ring, "after append");
	ret = ring_read(ring, info.id, fz_got, sizeof(fz_got), &len);
	if (ret || len != 777 || memcmp(fz_got, fz_buf, len))
		fz_fail("appended segment does not read back", ret);
	fz_stream(ring, seg.init_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring_stat st;
	struct ring *ring;
	int ret;

	fz_reset(data, size);
	ret = ring_open(fz_dir, NULL, &ring);
	if (ret)
		return 0;
	fz_check(ring, "after recovery");
	ring_close(ring);

	ret = ring_open(fz_dir, NULL, &ring);
	if (ret)
		fz_fail("reopen", ret);
	ret = ring_stat(ring, &st);
	if (ret || st.recovered_orphans || st.recovered_cut)
		fz_fail("second recovery changed the index", ret);
	fz_check(ring, "after reopen");
	fz_append(ring);
	ring_close(ring);
	return 0;
}
