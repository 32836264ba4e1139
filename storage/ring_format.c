// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_format - the ring's on-disk formats (see ring_int.h): hashing,
 * encoding and checking of ring.meta, extent and record headers, and
 * record I/O. No policy here; recovery and verify are in ring_scan.c.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"

_Static_assert(RING_SHA_LEN == SHA256_LEN, "ring records hold SHA-256 digests");

int ring__sha256(const void *data, size_t len, uint8_t out[RING_SHA_LEN])
{
	return sha256_oneshot(data, len, out) ? -EIO : 0;
}

int64_t ring__now_ms(void)
{
	return clock_wall_ms();
}

/* True when the SHA-256 of @buf[0..@n) equals the 32 bytes at @buf + @n. */
static bool sha_ok(const uint8_t *buf, size_t n)
{
	uint8_t sha[RING_SHA_LEN];

	return !ring__sha256(buf, n, sha) && !memcmp(sha, buf + n, sizeof(sha));
}

void ring__meta_encode(const struct ring__meta *m, uint8_t buf[RING_META_SIZE])
{
	memset(buf, 0, RING_META_SIZE);
	ring__put_le32(buf, RING_META_MAGIC);
	ring__put_le16(buf + 4, RING_FORMAT_VERSION);
	ring__put_le32(buf + 8, m->extents);
	ring__put_le32(buf + 12, RING_ALIGN);
	ring__put_le64(buf + 16, m->extent_bytes);
	ring__put_le64(buf + 24, (uint64_t)m->created_utc_ms);
	memcpy(buf + 32, m->uuid, RING_UUID_LEN);
	ring__sha256(buf, 64, buf + 64);
}

int ring__meta_decode(const uint8_t buf[RING_META_SIZE], struct ring__meta *m)
{
	if (ring__get_le32(buf) != RING_META_MAGIC ||
	    ring__get_le16(buf + 4) != RING_FORMAT_VERSION ||
	    ring__get_le32(buf + 12) != RING_ALIGN || !sha_ok(buf, 64))
		return -EBADMSG;
	m->extents = ring__get_le32(buf + 8);
	m->extent_bytes = ring__get_le64(buf + 16);
	m->created_utc_ms = (int64_t)ring__get_le64(buf + 24);
	memcpy(m->uuid, buf + 32, RING_UUID_LEN);
	if (m->extents < 2 || m->extents > RING_EXTENTS_MAX || m->extent_bytes < RING_EXTENT_MIN ||
	    m->extent_bytes % RING_ALIGN)
		return -EBADMSG;
	return 0;
}

void ring__ext_encode(const struct ring *ring, uint32_t e, uint64_t gen, uint64_t min_id,
		      uint8_t buf[RING_EXT_HDR_USED])
{
	memset(buf, 0, RING_EXT_HDR_USED);
	ring__put_le32(buf, RING_EXT_MAGIC);
	ring__put_le16(buf + 4, RING_FORMAT_VERSION);
	ring__put_le32(buf + 8, e);
	ring__put_le64(buf + 16, gen);
	ring__put_le64(buf + 24, min_id);
	ring__put_le64(buf + 32, (uint64_t)ring__now_ms());
	memcpy(buf + 40, ring->meta.uuid, RING_UUID_LEN);
	ring__sha256(buf, 64, buf + 64);
}

int ring__ext_decode(const uint8_t buf[RING_EXT_HDR_USED], uint32_t e, uint8_t uuid[RING_UUID_LEN])
{
	if (ring__get_le32(buf) != RING_EXT_MAGIC ||
	    ring__get_le16(buf + 4) != RING_FORMAT_VERSION || ring__get_le32(buf + 8) != e ||
	    !sha_ok(buf, 64))
		return -EBADMSG;
	memcpy(uuid, buf + 40, RING_UUID_LEN);
	return 0;
}

int ring__ext_load(struct ring *ring, uint32_t e)
{
	uint8_t buf[RING_EXT_HDR_USED], uuid[RING_UUID_LEN];
	struct ring__ext *x = &ring->ext[e];
	int ret;

	x->generation = 0;
	x->min_id = 0;
	ret = ring_io_read_full(ring->io, x->fd, buf, sizeof(buf), 0);
	if (ret && ret != -ENODATA) {
		log_err("ring %s: extent %u: read header: %s", ring->dir, e, strerror(-ret));
		return ret;
	}
	if (ret || ring__ext_decode(buf, e, uuid) || memcmp(uuid, ring->meta.uuid, RING_UUID_LEN))
		return -EBADMSG;
	x->generation = ring__get_le64(buf + 16);
	x->min_id = ring__get_le64(buf + 24);
	return 0;
}

uint64_t ring__rec_size(uint64_t len)
{
	return (RING_REC_HDR_SIZE + len + RING_ALIGN - 1) / RING_ALIGN * RING_ALIGN;
}

static void rec_encode(const struct ring__rec *rec, uint8_t buf[RING_REC_HDR_SIZE])
{
	const struct ring_seg_info *in = &rec->info;

	memset(buf, 0, RING_REC_HDR_SIZE);
	ring__put_le32(buf, RING_REC_MAGIC);
	ring__put_le16(buf + 4, RING_FORMAT_VERSION);
	buf[6] = rec->kind;
	buf[7] = in->utc_src;
	ring__put_le32(buf + 8, in->flags);
	ring__put_le32(buf + 12, RING_REC_HDR_SIZE);
	ring__put_le64(buf + 16, in->id);
	ring__put_le64(buf + 24, in->seq);
	ring__put_le64(buf + 32, in->init_id);
	ring__put_le64(buf + 40, (uint64_t)in->start_utc_ms);
	ring__put_le64(buf + 48, (uint64_t)in->media_start_us);
	ring__put_le32(buf + 56, in->duration_ms);
	ring__put_le32(buf + 60, rec->checks);
	ring__put_le64(buf + 64, in->len);
	if (rec->checks & RING_CHECK_XXH3)
		ring__put_le64(buf + 72, rec->xxh3);
	memcpy(buf + 80, in->camera, strnlen(in->camera, RING_CAMERA_MAX - 1));
	memcpy(buf + 112, in->sha256, RING_SHA_LEN);
	ring__sha256(buf, 224, buf + 224);
}

static int rec_decode(const uint8_t buf[RING_REC_HDR_SIZE], struct ring__rec *rec)
{
	struct ring_seg_info *in = &rec->info;

	if (ring__get_le32(buf) != RING_REC_MAGIC ||
	    ring__get_le16(buf + 4) != RING_FORMAT_VERSION ||
	    ring__get_le32(buf + 12) != RING_REC_HDR_SIZE ||
	    (buf[6] != RING_REC_INIT && buf[6] != RING_REC_MEDIA) || !sha_ok(buf, 224))
		return -EBADMSG;
	memset(rec, 0, sizeof(*rec));
	rec->kind = buf[6];
	in->utc_src = buf[7];
	in->flags = ring__get_le32(buf + 8);
	in->id = ring__get_le64(buf + 16);
	in->seq = ring__get_le64(buf + 24);
	in->init_id = ring__get_le64(buf + 32);
	in->start_utc_ms = (int64_t)ring__get_le64(buf + 40);
	in->media_start_us = (int64_t)ring__get_le64(buf + 48);
	in->duration_ms = ring__get_le32(buf + 56);
	in->len = ring__get_le64(buf + 64);
	rec->checks = ring__get_le32(buf + 60);
	rec->xxh3 = ring__get_le64(buf + 72);
	memcpy(in->camera, buf + 80, RING_CAMERA_MAX - 1);
	memcpy(in->sha256, buf + 112, RING_SHA_LEN);
	if (!ring__camera_valid(in->camera))
		return -EBADMSG;
	return 0;
}

int ring__rec_write(struct ring *ring, const struct ring__rec *rec, const void *payload)
{
	uint8_t hdr[RING_REC_HDR_SIZE];
	const struct ring_seg_info *in = &rec->info;
	int fd = ring->ext[in->extent].fd;
	int ret;

	rec_encode(rec, hdr);
	ret = ring_io_write_full(ring->io, fd, hdr, sizeof(hdr), in->offset);
	if (!ret && payload)
		ret = ring_io_write_full(ring->io, fd, payload, in->len,
					 in->offset + RING_REC_HDR_SIZE);
	if (ret) {
		log_err("ring %s: extent %u offset %" PRIu64 ": write record %" PRIu64 ": %s",
			ring->dir, in->extent, in->offset, in->id, strerror(-ret));
		return -EIO;
	}
	return 0;
}

int ring__sync_extent(struct ring *ring, uint32_t e)
{
	int ret = ring->io->fdatasync(ring->io->ctx, ring->ext[e].fd);

	if (ret) {
		log_err("ring %s: extent %u: fdatasync: %s", ring->dir, e, strerror(-ret));
		return -EIO;
	}
	return 0;
}

/* Can a record header start at @off (and fit in the extent)? */
static bool rec_off_ok(const struct ring *ring, uint64_t off)
{
	return off >= RING_EXT_HDR_SIZE && !(off % RING_ALIGN) &&
	       off <= ring->meta.extent_bytes - RING_REC_HDR_SIZE;
}

int ring__rec_decode_hdr(const struct ring *ring, uint32_t e, uint64_t off,
			 const uint8_t hdr[RING_REC_HDR_SIZE], struct ring__rec *rec)
{
	int ret;

	if (!rec_off_ok(ring, off))
		return -EBADMSG;
	ret = rec_decode(hdr, rec);
	if (ret)
		return ret;
	if (rec->info.len > ring->meta.extent_bytes - off - RING_REC_HDR_SIZE)
		return -EBADMSG;
	rec->info.extent = e;
	rec->info.offset = off;
	return 0;
}

int ring__rec_read_hdr(struct ring *ring, uint32_t e, uint64_t off, struct ring__rec *rec)
{
	uint8_t hdr[RING_REC_HDR_SIZE];
	int ret;

	if (!rec_off_ok(ring, off))
		return -EBADMSG;
	ret = ring_io_read_full(ring->io, ring->ext[e].fd, hdr, sizeof(hdr), off);
	if (ret == -ENODATA)
		return -EBADMSG; /* a short file reads as torn */
	if (ret) {
		log_err("ring %s: extent %u offset %" PRIu64 ": read: %s", ring->dir, e, off,
			strerror(-ret));
		return ret;
	}
	return ring__rec_decode_hdr(ring, e, off, hdr, rec);
}

/* Hashes @len bytes at @off of extent @e; @buf, if given, keeps them,
 * else they pass through ring->scratch (the caller holds the lock). */
static int hash_range(struct ring *ring, uint32_t e, uint64_t off, uint64_t len, uint8_t *buf,
		      uint8_t out[RING_SHA_LEN])
{
	uint8_t *chunk = ring->scratch;
	struct sha256 *c;
	int ret, hret = 0;
	size_t n;

	/* A context per call: ring_read() hashes without the lock. */
	ret = sha256_new(&c);
	if (ret)
		return ret;
	while (!ret && !hret && len) {
		n = len < RING_HASH_CHUNK ? (size_t)len : RING_HASH_CHUNK;
		ret = ring_io_read_full(ring->io, ring->ext[e].fd, buf ? buf : chunk, n, off);
		if (!ret)
			hret = sha256_update(c, buf ? buf : chunk, n);
		if (buf)
			buf += n;
		off += n;
		len -= n;
	}
	if (!ret && !hret)
		hret = sha256_final(c, out);
	sha256_free(c);
	if (ret && ret != -ENODATA)
		log_err("ring %s: extent %u offset %" PRIu64 ": read: %s", ring->dir, e, off,
			strerror(-ret));
	if (ret)
		return ret == -ENODATA ? -EBADMSG : ret;
	return hret; /* logged by lib/sha256 */
}

int ring__rec_payload(struct ring *ring, const struct ring__rec *rec, void *buf)
{
	const struct ring_seg_info *in = &rec->info;
	uint8_t sha[RING_SHA_LEN];
	int ret;

	ret = hash_range(ring, in->extent, in->offset + RING_REC_HDR_SIZE, in->len, buf, sha);
	if (ret)
		return ret;
	return memcmp(sha, in->sha256, RING_SHA_LEN) ? -EBADMSG : 0;
}

bool ring__rec_matches(const struct ring__rec *a, const struct ring__rec *b)
{
	const struct ring_seg_info *x = &a->info, *y = &b->info;

	if (a->kind != b->kind || x->id != y->id || x->extent != y->extent ||
	    x->offset != y->offset || x->len != y->len || x->init_id != y->init_id ||
	    strcmp(x->camera, y->camera) || memcmp(x->sha256, y->sha256, RING_SHA_LEN))
		return false;
	if (a->kind == RING_REC_INIT)
		return true;
	return x->seq == y->seq && x->start_utc_ms == y->start_utc_ms &&
	       x->duration_ms == y->duration_ms && x->media_start_us == y->media_start_us &&
	       x->flags == y->flags && x->utc_src == y->utc_src;
}

/* The index row with @rec's id, as a record; -ENOENT if there is none. */
int ring__idx_rec_get(struct ring *ring, const struct ring__rec *rec, struct ring__rec *row)
{
	int ret;

	if (rec->kind == RING_REC_INIT)
		return ring__idx_initrec_get(ring, rec->info.id, row);
	ret = ring__idx_seg_get(ring, rec->info.id, &row->info);
	row->kind = RING_REC_MEDIA;
	return ret;
}
