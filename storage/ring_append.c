// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_append - the write path (append, eviction) and init segments;
 * reads are in ring_reader.c.
 * Guarantees G1-G3 are in storage/ring.h, the on-disk format and the
 * invariants I1-I4 in storage/ring_int.h.
 *
 * Append, in this order (G1), here for eviction and in ring_writer.c for
 * the rest (ring_append() is a ring_writer given the whole segment):
 *   1. if the head extent is full: ask about pinned rows of the next
 *      (oldest) extent (G2), write and sync its new header (min_id), and
 *      commit the deletion of its rows (I2);
 *   2. write the payload, then the init record if this extent lacks it
 *      (I3), then the media record's header; fdatasync;
 *   3. one transaction: the rows, the camera's seq; COMMIT.
 * A failure at any step returns -EIO with nothing acknowledged. The write
 * position goes back when nothing was placed after the failed record, so
 * the next append overwrites the torn bytes; ids and the failed seq are
 * spent, so if those bytes did reach the disk they never collide with
 * later records.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"

#define RING_APPEND_PIECE (256u << 10) /* bytes per write and hash step */

/* ---- append (G1, G2) ---- */

/* Why @in is pinned, or NULL when it may go silently. */
static const char *pin_reason(const struct ring *ring, const struct ring_seg_info *in)
{
	if (ring->held_fn && ring->held_fn(ring->held_arg, in))
		return "hold";
	if (in->start_utc_ms >= ring->floor_ms)
		return "retention-floor";
	/* The owner's answer when there is one; an error keeps it. */
	if (ring->upload_required && !in->uploaded &&
	    (!ring->owner.owed || ring->owner.owed(ring->owner.arg, in)))
		return "not-uploaded";
	return NULL;
}

/* Asks the hook about every pinned row of extent @e; -ENOSPC on a veto. */
static int evict_ask(struct ring *ring, uint32_t e, uint64_t *segsp, uint64_t *pinnedp)
{
	struct sqlite3_stmt *st = ring__stmt(ring, RS_SEG_BY_EXTENT);
	struct ring_seg_info in;
	const char *why;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ring__row_info(st, 0, &in);
		(*segsp)++;
		why = pin_reason(ring, &in);
		if (!why)
			continue;
		(*pinnedp)++;
		if (!ring->evict_fn || ring->evict_fn(ring->evict_arg, &in, why)) {
			if (!ring->evict_blocked)
				log_warn("ring %s: extent %u not reused: segment"
					 " %" PRIu64 " of %s is pinned (%s)",
					 ring->dir, e, in.id, in.camera, why);
			ring->evict_blocked = true;
			ret = -ENOSPC;
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = -EIO;
	sqlite3_reset(st);
	return ret;
}

int ring__evict_next(struct ring *ring)
{
	uint32_t e = (ring->cur_ext + 1) % ring->meta.extents;
	struct ring__ext *x = &ring->ext[e];
	uint8_t hdr[RING_EXT_HDR_USED];
	uint64_t segs = 0, pinned = 0;
	int ret;

	if (x->writers) {
		if (!ring->evict_blocked)
			log_warn("ring %s: extent %u not reused: a segment is being written there",
				 ring->dir, e);
		ring->evict_blocked = true;
		return -ENOSPC;
	}

	ret = evict_ask(ring, e, &segs, &pinned);
	if (ret)
		return ret;
	/* I2: the new min_id is on disk before the rows go, and the rows
	 * are gone before a byte of the extent is overwritten. */
	ring__ext_encode(ring, e, x->generation + 1, ring->next_id, hdr);
	ret = ring_io_write_full(ring->io, x->fd, hdr, sizeof(hdr), 0);
	if (ret) {
		log_err("ring %s: extent %u: write header: %s", ring->dir, e, strerror(-ret));
		return -EIO;
	}
	ret = ring__sync_extent(ring, e);
	if (!ret)
		ret = ring__txn_begin(ring);
	if (ret)
		return -EIO;
	ret = ring__idx_del_extent(ring, e);
	if (!ret)
		ret = ring__idx_count_evicted(ring, segs, pinned);
	if (ret)
		ring__txn_rollback(ring);
	else
		ret = ring__txn_commit(ring, true);
	if (ret)
		return -EIO;
	x->generation++;
	x->min_id = ring->next_id;
	ring->cur_ext = e;
	ring->cur_off = RING_EXT_HDR_SIZE;
	ring->evict_blocked = false;
	log_msg(segs ? LOG_INFO : LOG_DEBUG,
		"ring %s: extent %u generation %" PRIu64 ": %" PRIu64 " segments evicted, %" PRIu64
		" of them"
		" pinned",
		ring->dir, e, x->generation, segs, pinned);
	return 0;
}

/* A whole segment goes the way of a streamed one (ring_writer.c), in
 * pieces: one write path to keep right, and the hashing is done outside
 * the ring's lock. */
int ring_append(struct ring *ring, const struct ring_seg *seg, const void *data, size_t len,
		struct ring_seg_info *info)
{
	const uint8_t *p = data;
	struct ring_writer *w;
	size_t n;
	int ret;

	if (!ring || !seg || !data || !len || !ring__camera_valid(seg->camera))
		return -EINVAL;
	if (len > ring->meta.extent_bytes) { /* before any size arithmetic */
		log_err("ring %s: segment of %zu bytes is larger than an extent", ring->dir, len);
		return -ENOSPC;
	}
	ret = ring__writer_open_len(ring, seg->camera, seg->init_id, len, &w);
	if (ret)
		return ret;
	for (size_t off = 0; off < len; off += n) {
		n = len - off < RING_APPEND_PIECE ? len - off : RING_APPEND_PIECE;
		ret = ring_writer_add(w, p + off, n);
		if (ret) {
			ring_writer_abort(w);
			return ret;
		}
	}
	return ring_writer_commit(w, seg, info);
}

/* ---- init segments ---- */

int ring_put_init(struct ring *ring, const char *camera, const void *data, size_t len,
		  uint64_t *init_idp)
{
	uint8_t sha[RING_SHA_LEN];
	uint64_t id = 0;
	int ret;

	if (!ring || !data || !len || !init_idp || !ring__camera_valid(camera))
		return -EINVAL;
	if (len > RING_INIT_MAX)
		return -E2BIG;
	if (ring__sha256(data, len, sha))
		return -EIO;
	ring__lock(ring);
	ret = ring->ro ? -EROFS : ring__idx_init_find(ring, camera, sha, &id);
	if (ret == -ENOENT)
		ret = ring__idx_init_put(ring, 0, camera, sha, data, len, &id);
	ring__unlock(ring);
	if (!ret)
		*init_idp = id;
	return ret;
}

int ring_read_init(struct ring *ring, uint64_t init_id, void *buf, size_t cap, size_t *lenp)
{
	uint8_t sha[RING_SHA_LEN], got[RING_SHA_LEN];
	char cam[RING_CAMERA_MAX];
	void *data = NULL;
	size_t len = 0;
	int ret;

	if (!ring || !lenp || (!buf && cap))
		return -EINVAL;
	ring__lock(ring);
	ret = ring__idx_init_get(ring, init_id, cam, sha, &data, &len);
	ring__unlock(ring);
	if (!ret && (ring__sha256(data, len, got) || memcmp(got, sha, 32))) {
		log_err("ring %s: init %" PRIu64 ": SHA-256 mismatch", ring->dir, init_id);
		ret = -EBADMSG;
	}
	if (!ret && len > cap)
		ret = -E2BIG;
	if (!ret)
		memcpy(buf, data, len);
	if (!ret || ret == -E2BIG)
		*lenp = len;
	free(data);
	return ret;
}
