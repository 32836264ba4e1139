// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_reader - one segment's payload, streamed and checked.
 *
 * The bytes are read straight from the extent into the caller's buffer
 * and checked on the way: with the record's XXH3-64 where its header has
 * one (every record this version writes), else with the SHA-256 of the
 * index row (ring_int.h says why two). The read that reaches the end
 * compares before it hands those last bytes over. A
 * consumer that forwards what it reads (the uplink's request body) thus
 * never completes a corrupt segment: its last piece is withheld and the
 * read fails with -EBADMSG. ring_read() is a reader that fills one buffer.
 *
 * No lock is held between calls, which is safe because of I2
 * (storage/ring_int.h: an indexed record is never overwritten); a record
 * evicted under a reader fails its check, and the reader then finds its
 * row gone and reports -ENOENT instead of -EBADMSG.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/xxh.h"

struct ring_reader {
	struct ring *ring;
	struct ring_seg_info info; /* the index row, as checked at open */
	uint64_t xxh3;		   /* the header's, when xxh is set */
	XXH3_state_t *xxh;	   /* one of these two */
	struct sha256 *sha;
	uint64_t pos; /* payload bytes handed out */
	int err;      /* sticky once a read failed */
};

/* The index row of @seg_id and the record header it points at, which
 * must agree; the header says which check the payload has. */
static int check_header(struct ring_reader *r, uint64_t seg_id)
{
	struct ring *ring = r->ring;
	struct ring__rec row = { .kind = RING_REC_MEDIA };
	struct ring__rec rec;
	int ret;

	ring__lock(ring);
	ret = ring__idx_seg_get(ring, seg_id, &row.info);
	ring__unlock(ring);
	if (ret)
		return ret;
	r->info = row.info;
	if (row.info.extent >= ring->meta.extents)
		return -EBADMSG;
	ret = ring__rec_read_hdr(ring, row.info.extent, row.info.offset, &rec);
	if (!ret && !ring__rec_matches(&rec, &row))
		ret = -EBADMSG;
	if (ret)
		return ret;
	if (rec.checks & RING_CHECK_XXH3) {
		r->xxh3 = rec.xxh3;
		r->xxh = XXH3_createState();
		return r->xxh && XXH3_64bits_reset(r->xxh) == XXH_OK ? 0 : -ENOMEM;
	}
	return sha256_new(&r->sha);
}

static int check_update(struct ring_reader *r, const void *p, size_t n)
{
	if (r->xxh)
		return XXH3_64bits_update(r->xxh, p, n) == XXH_OK ? 0 : -EIO;
	return sha256_update(r->sha, p, n);
}

/* 0: the payload is the one recorded. */
static int check_final(struct ring_reader *r)
{
	uint8_t sha[RING_SHA_LEN];

	if (r->xxh)
		return XXH3_64bits_digest(r->xxh) == r->xxh3 ? 0 : -EBADMSG;
	if (sha256_final(r->sha, sha))
		return -EIO;
	return memcmp(sha, r->info.sha256, RING_SHA_LEN) ? -EBADMSG : 0;
}

/* A check failed: evicted while we read it, or corrupt. */
static int mismatch(struct ring_reader *r)
{
	struct ring_seg_info now;
	int ret;

	ring__lock(r->ring);
	ret = ring__idx_seg_get(r->ring, r->info.id, &now);
	ring__unlock(r->ring);
	if (ret == -ENOENT)
		return -ENOENT;
	log_err("ring %s: segment %" PRIu64 " (extent %u offset %" PRIu64
		"): header or SHA-256 mismatch",
		r->ring->dir, r->info.id, r->info.extent, r->info.offset);
	return -EBADMSG;
}

int ring_reader_open(struct ring *ring, uint64_t seg_id, struct ring_reader **rp)
{
	struct ring_reader *r;
	int ret;

	if (!ring || !rp)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ring = ring;
	r->info.id = seg_id;
	ret = check_header(r, seg_id);
	if (!ret && !r->info.len) /* never written so; the hash is never checked */
		ret = -EBADMSG;
	if (ret == -EBADMSG)
		ret = mismatch(r);
	if (ret) {
		ring_reader_close(r);
		return ret;
	}
	*rp = r;
	return 0;
}

const struct ring_seg_info *ring_reader_info(const struct ring_reader *r)
{
	return &r->info;
}

int ring_reader_read(struct ring_reader *r, void *buf, size_t cap, size_t *got)
{
	const struct ring_seg_info *in = &r->info;
	uint64_t left = in->len - r->pos;
	size_t n = cap < left ? cap : (size_t)left;
	int ret;

	*got = 0;
	if (r->err)
		return r->err;
	if (!n)
		return 0;
	ret = ring_io_read_full(r->ring->io, r->ring->ext[in->extent].fd, buf, n,
				in->offset + RING_REC_HDR_SIZE + r->pos);
	if (ret && ret != -ENODATA)
		log_err("ring %s: extent %u offset %" PRIu64 ": read: %s", r->ring->dir, in->extent,
			in->offset, strerror(-ret));
	if (ret == -ENODATA) /* a short file reads as torn */
		ret = mismatch(r);
	if (!ret)
		ret = check_update(r, buf, n);
	if (!ret && n == left)
		ret = check_final(r);
	if (ret == -EBADMSG)
		ret = mismatch(r);
	if (ret) {
		r->err = ret;
		return ret;
	}
	r->pos += n;
	*got = n;
	return 0;
}

int ring_reader_rewind(struct ring_reader *r)
{
	if (r->err)
		return r->err;
	r->pos = 0;
	if (r->xxh)
		return XXH3_64bits_reset(r->xxh) == XXH_OK ? 0 : -EIO;
	return sha256_reset(r->sha);
}

void ring_reader_close(struct ring_reader *r)
{
	if (!r)
		return;
	sha256_free(r->sha);
	XXH3_freeState(r->xxh);
	free(r);
}

int ring_read(struct ring *ring, uint64_t seg_id, void *buf, size_t cap, size_t *lenp)
{
	struct ring_reader *r;
	size_t got = 0;
	int ret;

	if (!ring || !lenp || (!buf && cap))
		return -EINVAL;
	ret = ring_reader_open(ring, seg_id, &r);
	if (ret)
		return ret;
	if (r->info.len > cap) {
		*lenp = r->info.len;
		ring_reader_close(r);
		return -E2BIG;
	}
	/* In pieces, so each is checked while it is still in the cache. */
	for (size_t off = 0; !ret && off < r->info.len; off += got)
		ret = ring_reader_read(r, (uint8_t *)buf + off, RING_HASH_CHUNK, &got);
	if (!ret)
		*lenp = r->info.len;
	ring_reader_close(r);
	return ret;
}
