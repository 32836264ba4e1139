// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * export_fuzz - export_clip() over init and media segments from the
 * input (libFuzzer): the media bytes camgate itself reads back. A camera
 * decides every byte of its stream; the ring stores the segments the
 * segmenter made of it, and an export demuxes them again (libavformat's
 * mov demuxer on a custom reader, storage/export.c) to cut runs, shift
 * timestamps, look into hvcC and append an end-of-sequence NAL unit.
 *
 * The ring is a stand-in of the three calls export makes (ring_list,
 * ring_read, ring_read_init), as tests/unit/export_test.c does. The input
 * is a list of blobs, each after a header line:
 *   ==> init <==               the next init segment (ids from 1)
 *   ==> seg I D FLAGS <==      a media segment of init I, D ms long;
 *                              FLAGS: any of d (discont flag), g (3 s of
 *                              wall clock missing before it), j (its media
 *                              time jumps 5 s), or '-'
 * All segments are camera "cam1", from 1700000000000 UTC ms on.
 *
 * Properties (a broken one aborts):
 *  - export_clip() answers 0 or one of its documented errors;
 *  - on 0 the output exists with rep.bytes_out bytes and rep.segments is
 *    at most the input's; otherwise the output does not exist (E1), and
 *    in either case no OUT.tmp is left behind.
 * Seeds: tests/fuzz/export_seeds.py. See tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/log.h>
#include <libavutil/mem.h>

#include "lib/log.h"
#include "storage/export.h"
#include "storage/ring.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_BLOBS_MAX	      32
#define FZ_T0		      1700000000000LL
#define EXPORT_FUZZ_ALLOC_MAX (64u << 20)

struct blob {
	const uint8_t *data;
	size_t len;
};

static struct {
	struct blob init[FZ_BLOBS_MAX];
	int ninit;
	struct ring_seg_info info[FZ_BLOBS_MAX];
	struct blob seg[FZ_BLOBS_MAX];
	int nseg;
} fr;

static char fz_dir[128], fz_out[192], fz_tmp[200];

static void fz_fail(const char *what, long v)
{
	fprintf(stderr, "export_fuzz: %s (%ld)\n", what, v);
	abort();
}

int ring_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
	      ring_list_fn fn, void *arg)
{
	(void)ring;
	for (int i = 0; i < fr.nseg; i++) {
		const struct ring_seg_info *in = &fr.info[i];
		int ret;

		if (camera && strcmp(camera, in->camera))
			continue;
		if (in->start_utc_ms >= to_ms || in->start_utc_ms + in->duration_ms <= from_ms)
			continue;
		ret = fn(arg, in);
		if (ret)
			return ret;
	}
	return 0;
}

static int copy(const struct blob *b, void *buf, size_t cap, size_t *lenp)
{
	*lenp = b->len;
	if (b->len > cap)
		return -E2BIG;
	memcpy(buf, b->data, b->len);
	return 0;
}

int ring_read(struct ring *ring, uint64_t seg_id, void *buf, size_t cap, size_t *lenp)
{
	(void)ring;
	if (seg_id < 1 || seg_id > (uint64_t)fr.nseg)
		return -ENOENT;
	return copy(&fr.seg[seg_id - 1], buf, cap, lenp);
}

int ring_read_init(struct ring *ring, uint64_t init_id, void *buf, size_t cap, size_t *lenp)
{
	(void)ring;
	if (init_id < 1 || init_id > (uint64_t)fr.ninit)
		return -ENOENT;
	return copy(&fr.init[init_id - 1], buf, cap, lenp);
}

/* One header's blob into the stand-in. */
static void add(const char *hdr, size_t hlen, const uint8_t *body, size_t blen, int64_t *utc,
		int64_t *media)
{
	char h[64], flags[8] = "-";
	unsigned int init = 0, dur = 0;
	struct ring_seg_info *in;

	if (hlen >= sizeof(h))
		return;
	memcpy(h, hdr, hlen);
	h[hlen] = '\0';
	if (!strcmp(h, "init")) {
		if (fr.ninit < FZ_BLOBS_MAX)
			fr.init[fr.ninit++] = (struct blob){ body, blen };
		return;
	}
	if (fr.nseg == FZ_BLOBS_MAX || sscanf(h, "seg %u %u %7s", &init, &dur, flags) < 2 ||
	    dur > 60000)
		return;
	in = &fr.info[fr.nseg];
	memset(in, 0, sizeof(*in));
	if (strchr(flags, 'g'))
		*utc += 3000;
	if (strchr(flags, 'j'))
		*media += 5000000;
	in->id = (uint64_t)fr.nseg + 1;
	snprintf(in->camera, sizeof(in->camera), "cam1");
	in->seq = in->id;
	in->init_id = init;
	in->start_utc_ms = *utc;
	in->duration_ms = dur;
	in->media_start_us = *media;
	in->flags = strchr(flags, 'd') ? RING_F_DISCONT : 0;
	in->len = blen;
	fr.seg[fr.nseg++] = (struct blob){ body, blen };
	*utc += dur;
	*media += (int64_t)dur * 1000;
}

static void unpack(const uint8_t *d, size_t size)
{
	const uint8_t *p = d, *end = d + size;
	int64_t utc = FZ_T0, media = 0;

	memset(&fr, 0, sizeof(fr));
	while (p < end) {
		const uint8_t *hdr = memmem(p, (size_t)(end - p), "==> ", 4), *nl, *next, *stop;

		if (!hdr)
			break;
		nl = memchr(hdr, '\n', (size_t)(end - hdr));
		if (!nl)
			break;
		next = memmem(nl + 1, (size_t)(end - nl - 1), "\n==> ", 5);
		stop = next ? next : end;
		p = next ? next + 1 : end;
		if (nl - hdr < 8 || memcmp(nl - 4, " <==", 4))
			continue;
		add((const char *)hdr + 4, (size_t)(nl - 4 - (hdr + 4)), nl + 1,
		    (size_t)(stop - (nl + 1)), &utc, &media);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct export_report rep;
	struct stat st;
	int64_t to;
	int ret;

	unpack(data, size);
	if (!fr.nseg)
		return 0;
	to = fr.info[fr.nseg - 1].start_utc_ms + fr.info[fr.nseg - 1].duration_ms + 1;
	memset(&rep, 0, sizeof(rep));
	ret = export_clip((struct ring *)&fr, "cam1", FZ_T0, to, fz_out, NULL, NULL, &rep);
	if (ret && ret != -ENOENT && ret != -EBADMSG && ret != -E2BIG && ret != -ENOMEM &&
	    ret != -EIO && ret != -EINVAL)
		fz_fail("export_clip: an undocumented error", ret);
	if (getenv("EXPORT_FUZZ_SHOW"))
		fprintf(stderr,
			"export %d: %d inits, %d segments in; %llu out, %u runs, %llu bytes\n", ret,
			fr.ninit, fr.nseg, (unsigned long long)rep.segments, rep.runs,
			(unsigned long long)rep.bytes_out);
	if (!stat(fz_tmp, &st))
		fz_fail("OUT.tmp left behind", ret);
	if (!ret) {
		if (stat(fz_out, &st) || (uint64_t)st.st_size != rep.bytes_out)
			fz_fail("the output is not rep.bytes_out long", (long)rep.bytes_out);
		if (rep.segments > (uint64_t)fr.nseg)
			fz_fail("more segments exported than there are", (long)rep.segments);
		unlink(fz_out);
	} else if (!stat(fz_out, &st)) {
		fz_fail("a failed export left an output", ret);
	}
	return 0;
}

static void fz_cleanup(void)
{
	unlink(fz_out);
	unlink(fz_tmp);
	rmdir(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *level = getenv("FUZZ_LOG_LEVEL");
	int lvl = LOG_ERR;
	struct stat st;

	(void)argc;
	(void)argv;
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("export_fuzz", LOG_DEST_PLAIN, lvl);
	av_log_set_level(level ? AV_LOG_WARNING : AV_LOG_QUIET);
	/* libavformat 59's mov demuxer sizes its sample tables from the
	 * counts a box claims (trun, stts...), not from the box's size: a
	 * few hundred bytes make it realloc GBs (see tests/fuzz/README.md).
	 * Capped here so the fuzzer goes on past that known behaviour; the
	 * segments camgate exports are its own muxer's, SHA-256 checked. */
	av_max_alloc(EXPORT_FUZZ_ALLOC_MAX);
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/export_fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz_dir))
		fz_fail("mkdtemp", -errno);
	snprintf(fz_out, sizeof(fz_out), "%s/out.mp4", fz_dir);
	snprintf(fz_tmp, sizeof(fz_tmp), "%s.tmp", fz_out);
	atexit(fz_cleanup);
	return 0;
}
