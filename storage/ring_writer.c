// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_writer - a media record written as it is produced (ring.h);
 * ring_append() is one too, given the whole segment.
 *
 * Open reserves a region at the head of the head extent: room for the
 * camera's init record when this extent lacks it, then the media record
 * header and @hint payload bytes; the ids are taken then, so ids still
 * rise with offsets along the extent (I1). Payload goes straight to the
 * extent (page cache) and is hashed as it comes, outside the ring's
 * lock; the header (and the init record) only at commit, followed by
 * fdatasync and the index commit (G1): until then the region holds no
 * valid header, so recovery and verify see torn bytes, as past the head.
 * A writer that outgrows its region extends it when nothing was placed
 * after it, else it moves to a new region at the head, copying what it
 * wrote. Room left without a header before later records is stepped over
 * by the walks (ring_scan.c). The extent of an open writer is never
 * reused (ring__evict_next()).
 *
 * Threads: a writer is used by one thread at a time; everything it
 * changes in struct ring is changed under ring->lock.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xxh.h"

#define RING_WRITER_FIRST (1u << 20) /* most room for a camera's first segment */

struct ring_writer {
	struct ring *ring;
	char camera[RING_CAMERA_MAX];
	uint64_t init_id;
	void *init_data; /* the init's bytes, for the init record */
	size_t init_len;
	uint8_t init_sha[RING_SHA_LEN];
	bool need_init; /* the init record goes at rec_off */
	uint64_t init_rec_id;
	uint32_t extent;
	uint64_t rec_off; /* region start */
	uint64_t off;	  /* media record header */
	uint64_t id;
	uint64_t cap; /* payload room */
	uint64_t len;
	struct sha256 *sha;
	XXH3_state_t *xxh; /* the payload's quick check (ring_int.h) */
	bool placed;	   /* holds a region (and a count in ->writers) */
	bool failed;
};

static bool writer_at_head(const struct ring_writer *w)
{
	const struct ring *ring = w->ring;

	return w->extent == ring->cur_ext && w->off + ring__rec_size(w->cap) == ring->cur_off;
}

/* A new region at the head with room for @cap payload bytes, or fewer
 * but at least @need when @cap would not fit an extent. Under the lock. */
static int writer_place(struct ring_writer *w, uint64_t cap, uint64_t need)
{
	struct ring *ring = w->ring;
	uint64_t room = ring->meta.extent_bytes - RING_EXT_HDR_SIZE;
	uint64_t need_init = ring__rec_size(w->init_len);
	bool has;
	int ret;

	if (need_init + ring__rec_size(cap) > room) {
		if (need_init + ring__rec_size(need) > room) {
			log_err("ring %s: %s: segment of %" PRIu64
				" bytes or more with its init does not fit an extent",
				ring->dir, w->camera, need);
			return -ENOSPC;
		}
		cap = room - need_init - RING_REC_HDR_SIZE - RING_ALIGN;
	}
	ret = ring__idx_initrec_has(ring, w->init_id, ring->cur_ext, INT64_MAX, &has);
	if (ret)
		return ret;
	if (ring->cur_off + ring__rec_size(cap) + (has ? 0 : need_init) > ring->meta.extent_bytes) {
		ret = ring__evict_next(ring);
		if (ret)
			return ret;
		has = false;
	}
	w->extent = ring->cur_ext;
	w->rec_off = ring->cur_off;
	w->need_init = !has;
	w->off = w->rec_off;
	if (!has) {
		w->init_rec_id = ring->next_id++;
		w->off += need_init;
	}
	w->id = ring->next_id++;
	w->cap = cap;
	w->placed = true;
	ring->cur_off = w->off + ring__rec_size(cap);
	ring->ext[w->extent].writers++;
	return 0;
}

/* Room for the larger of the camera's last two segments and 1/16 more:
 * cameras run close to a constant bit rate, too little room costs a move
 * of what was written, and room not used stays empty when other records
 * follow it. A camera without one gets a small region (it grows or moves
 * once): in a ring of small extents, a region per new camera as large as
 * the extent would fill the ring before anything is stored. Under the
 * lock. */
static int writer_hint(struct ring *ring, const char *camera, uint64_t *hintp)
{
	uint64_t first = ring->meta.extent_bytes / 16, last = 0;
	int ret = ring__idx_cam_last_len(ring, camera, &last);

	if (ret)
		return ret;
	if (last)
		*hintp = last + last / 16;
	else
		*hintp = first < RING_WRITER_FIRST ? first : RING_WRITER_FIRST;
	return 0;
}

/* @hint 0: writer_hint(); @need: the least room that will do. */
static int writer_open(struct ring *ring, const char *camera, uint64_t init_id, uint64_t hint,
		       uint64_t need, struct ring_writer **wp)
{
	struct ring_writer *w;
	char cam[RING_CAMERA_MAX];
	int ret;

	if (!ring || !wp || !ring__camera_valid(camera))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w)
		w->xxh = XXH3_createState();
	if (!w || !w->xxh || XXH3_64bits_reset(w->xxh) != XXH_OK || sha256_new(&w->sha)) {
		if (w)
			XXH3_freeState(w->xxh);
		free(w);
		log_err("ring %s: %s: no memory for a segment writer", ring->dir, camera);
		return -ENOMEM;
	}
	w->ring = ring;
	snprintf(w->camera, sizeof(w->camera), "%s", camera);
	w->init_id = init_id;
	ring__lock(ring);
	ret = ring->ro ? -EROFS
		       : ring__idx_init_get(ring, init_id, cam, w->init_sha, &w->init_data,
					    &w->init_len);
	if (!ret && strcmp(cam, camera))
		ret = -EINVAL;
	if (ret == -ENOENT || ret == -EINVAL)
		log_err("ring %s: %s: init %" PRIu64 " %s", ring->dir, camera, init_id,
			ret == -ENOENT ? "unknown" : "belongs to another camera");
	if (!ret && !hint)
		ret = writer_hint(ring, camera, &hint);
	if (!ret)
		ret = writer_place(w, hint, need);
	ring__unlock(ring);
	if (ret) {
		ring_writer_abort(w);
		return ret;
	}
	*wp = w;
	return 0;
}

int ring_writer_open(struct ring *ring, const char *camera, uint64_t init_id, uint64_t hint,
		     struct ring_writer **wp)
{
	return writer_open(ring, camera, init_id, hint, 0, wp);
}

int ring__writer_open_len(struct ring *ring, const char *camera, uint64_t init_id, uint64_t len,
			  struct ring_writer **wp)
{
	return writer_open(ring, camera, init_id, len, len, wp);
}

/* Move the @w->len bytes written at @from (payload start) to @w's region. */
static int writer_copy(struct ring_writer *w, uint32_t from_ext, uint64_t from)
{
	struct ring *ring = w->ring;
	int src = ring->ext[from_ext].fd, dst = ring->ext[w->extent].fd;
	uint64_t to = w->off + RING_REC_HDR_SIZE;

	for (uint64_t done = 0; done < w->len;) {
		size_t n =
			w->len - done < RING_HASH_CHUNK ? (size_t)(w->len - done) : RING_HASH_CHUNK;

		if (ring_io_read_full(ring->io, src, ring->scratch, n, from + done) ||
		    ring_io_write_full(ring->io, dst, ring->scratch, n, to + done)) {
			log_err("ring %s: %s: moving a segment being written failed", ring->dir,
				w->camera);
			return -EIO;
		}
		done += n;
	}
	return 0;
}

/* Room for @need payload bytes: in place when nothing follows the
 * region and the extent has the room, else a region at the head (which
 * may reuse the next extent) that what was written is copied to. Under
 * the lock. */
static int writer_grow(struct ring_writer *w, uint64_t need)
{
	struct ring *ring = w->ring;
	uint64_t ncap = need > 2 * w->cap ? need : 2 * w->cap;
	uint64_t fit = ring->meta.extent_bytes - w->off - RING_REC_HDR_SIZE;
	uint32_t old_ext = w->extent;
	uint64_t old_payload = w->off + RING_REC_HDR_SIZE;
	int ret;

	if (writer_at_head(w) && need <= fit) {
		w->cap = ncap < fit ? ncap : fit;
		ring->cur_off = w->off + ring__rec_size(w->cap);
		return 0;
	}
	ret = writer_place(w, ncap, need);
	if (ret)
		return ret; /* @w is where it was */
	ret = writer_copy(w, old_ext, old_payload);
	ring->ext[old_ext].writers--;
	return ret;
}

int ring_writer_add(struct ring_writer *w, const void *data, size_t len)
{
	struct ring *ring = w->ring;
	int ret;

	if (w->failed)
		return -EIO;
	if (len > w->cap - w->len) {
		ring__lock(ring);
		ret = writer_grow(w, w->len + len); /* logged where it failed */
		ring__unlock(ring);
		if (ret)
			goto fail;
	}
	ret = ring_io_write_full(ring->io, ring->ext[w->extent].fd, data, len,
				 w->off + RING_REC_HDR_SIZE + w->len);
	if (ret) {
		log_err("ring %s: %s: extent %u: write segment: %s", ring->dir, w->camera,
			w->extent, strerror(-ret));
		goto fail;
	}
	ret = sha256_update(w->sha, data, len);
	if (!ret && XXH3_64bits_update(w->xxh, data, len) != XXH_OK)
		ret = -EIO;
	if (ret)
		goto fail;
	w->len += len;
	return 0;
fail:
	w->failed = true;
	return ret == -ENOSPC ? ret : -EIO;
}

static void writer_free(struct ring_writer *w)
{
	sha256_free(w->sha);
	XXH3_freeState(w->xxh);
	free(w->init_data);
	free(w);
}

void ring_writer_abort(struct ring_writer *w)
{
	struct ring *ring;

	if (!w)
		return;
	ring = w->ring;
	if (w->placed) {
		ring__lock(ring);
		if (writer_at_head(w))
			ring->cur_off = w->rec_off;
		ring->ext[w->extent].writers--;
		ring__unlock(ring);
	}
	writer_free(w);
}

/* Records, sync, one index transaction (G1). Under the lock. */
static int writer_commit_locked(struct ring_writer *w, struct ring__rec *media)
{
	struct ring *ring = w->ring;
	struct ring__rec init = { .kind = RING_REC_INIT };
	uint64_t seq = 0;
	int ret;

	ret = ring__idx_cam_seq(ring, w->camera, &seq);
	if (ret)
		return ret;
	media->info.seq = seq + 1;
	if (w->need_init) {
		init.info = (struct ring_seg_info){
			.id = w->init_rec_id,
			.init_id = w->init_id,
			.len = w->init_len,
			.extent = w->extent,
			.offset = w->rec_off,
		};
		memcpy(init.info.camera, w->camera, sizeof(w->camera));
		memcpy(init.info.sha256, w->init_sha, RING_SHA_LEN);
		ret = ring__rec_write(ring, &init, w->init_data);
	}
	if (!ret)
		ret = ring__rec_write(ring, media, NULL);
	if (!ret)
		ret = ring__sync_extent(ring, w->extent);
	if (!ret)
		ret = ring__txn_begin(ring);
	if (ret)
		goto spend;
	if (w->need_init)
		ret = ring__idx_initrec_put(ring, &init);
	if (!ret)
		ret = ring__idx_seg_put(ring, &media->info);
	if (!ret)
		ret = ring__idx_cam_bump(ring, w->camera, media->info.seq);
	if (ret)
		ring__txn_rollback(ring);
	else
		ret = ring__txn_commit(ring, true);
	if (!ret)
		return 0;
spend:
	/* Spend the seq: the torn record may have reached the disk. */
	ring__idx_cam_bump(ring, w->camera, media->info.seq);
	return -EIO;
}

int ring_writer_commit(struct ring_writer *w, const struct ring_seg *seg,
		       struct ring_seg_info *info)
{
	struct ring *ring = w->ring;
	struct ring__rec media = { .kind = RING_REC_MEDIA };
	struct ring_seg_info *in = &media.info;
	int ret;

	if (w->failed || !w->len || !seg || strcmp(seg->camera, w->camera) ||
	    seg->init_id != w->init_id) {
		ret = w->failed ? -EIO : -EINVAL;
		ring_writer_abort(w);
		return ret;
	}
	snprintf(in->camera, sizeof(in->camera), "%s", w->camera);
	in->id = w->id;
	in->init_id = w->init_id;
	in->start_utc_ms = seg->start_utc_ms;
	in->duration_ms = seg->duration_ms;
	in->media_start_us = seg->media_start_us;
	in->flags = seg->flags;
	in->utc_src = seg->utc_src;
	in->len = w->len;
	in->extent = w->extent;
	in->offset = w->off;
	media.checks = RING_CHECK_XXH3;
	media.xxh3 = XXH3_64bits_digest(w->xxh);
	if (sha256_final(w->sha, in->sha256)) {
		ring_writer_abort(w);
		return -EIO;
	}
	ring__lock(ring);
	ret = writer_commit_locked(w, &media);
	/* Give back the room not used when nothing follows it. */
	if (writer_at_head(w))
		ring->cur_off = ret ? w->rec_off : w->off + ring__rec_size(w->len);
	ring->ext[w->extent].writers--;
	ring__unlock(ring);
	if (!ret && info)
		*info = *in;
	writer_free(w);
	return ret;
}
