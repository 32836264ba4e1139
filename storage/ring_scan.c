// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_scan - the extent walk shared by recovery (ring_open) and
 * ring_verify(). Record formats and I/O are in ring_format.c.
 *
 * The walk reads record headers from the start of an extent while ids
 * rise; a header that fails its checksum, an id that does not rise, or
 * one below the extent's min_id ends the sequential walk (the rest is
 * torn or stale, I1). When the index knows records further on, the walk
 * resumes at the next indexed offset, so one bad header costs one record,
 * not the rest of the extent. When the index was new at this open (lost,
 * or dropped by ring_rebuild()), there is nothing to jump by, and the walk
 * of recovery looks at every RING_ALIGN slot to the end of each extent
 * instead: a segment stored through a ring_writer can leave room without
 * a header before later records (room it reserved and did not use, or a
 * region it left when it moved or was aborted), and the "ids rise" rule
 * still rejects anything stale found there (I1). With an index that was
 * kept, every acknowledged record is in it (G1), so the jumps reach them
 * all.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"

/* Init ids whose records the walk of one extent has passed, for I3. */
struct walk_inits {
	uint64_t *id;
	size_t n;
	size_t cap;
};

static int inits_add(struct walk_inits *w, uint64_t id)
{
	uint64_t *grown;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		grown = realloc(w->id, w->cap * sizeof(*w->id));
		if (!grown)
			return -ENOMEM;
		w->id = grown;
	}
	w->id[w->n++] = id;
	return 0;
}

static bool inits_has(const struct walk_inits *w, uint64_t id)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->id[i] == id)
			return true;
	return false;
}

/* Is an unindexed record whole and usable (*wholep)? @initp, if given,
 * receives an init record's bytes (malloc'ed) when it is. */
static int rec_whole(struct ring *ring, const struct ring__rec *rec, const struct walk_inits *w,
		     void **initp, bool *wholep)
{
	uint8_t *buf = NULL;
	int ret;

	*wholep = false;
	if (rec->kind == RING_REC_MEDIA && !inits_has(w, rec->info.init_id))
		return 0; /* I3: its init did not make it to disk */
	if (rec->kind == RING_REC_INIT) {
		if (rec->info.len > RING_INIT_MAX || !rec->info.len)
			return 0;
		buf = malloc(rec->info.len);
		if (!buf)
			return -ENOMEM;
	}
	ret = ring__rec_payload(ring, rec, buf);
	*wholep = !ret;
	if (!ret && initp)
		*initp = buf;
	else
		free(buf);
	return ret == -EBADMSG ? 0 : ret;
}

/*
 * Record headers of one extent, for walks that try slot after slot: a
 * read that goes on that way fetches RING_SCAN_CHUNK bytes ahead, and the
 * slots in them are checked from memory (one pread per chunk, not one per
 * RING_ALIGN slot: 16384 of those in a 64 MiB extent). Any other read,
 * and every slot of a chunk that cannot be read whole (a short file, a
 * read error, no memory), goes one header at a time through
 * ring__rec_read_hdr(), so each slot is decided from its own bytes as
 * before. Recovery writes no extent (I4): the chunk cannot go stale.
 */
#define RING_SCAN_CHUNK (1024u * 1024u)
_Static_assert(RING_SCAN_CHUNK % RING_ALIGN == 0, "a chunk holds whole slots");

struct hdr_walk {
	struct ring *ring;
	uint32_t e;
	bool chunked;	    /* may read ahead; buf comes on first use */
	uint8_t *buf;	    /* RING_SCAN_CHUNK bytes; the walk frees it */
	uint64_t start;	    /* extent offset of buf[0] */
	uint64_t len;	    /* bytes of buf read, 0: none */
	uint64_t alone_end; /* slots before it are read one by one */
};

/* ring__rec_read_hdr() at @off of the walk's extent; @ahead: the walk
 * goes on slot by slot from here, worth reading a chunk. */
static int hdr_get(struct hdr_walk *w, uint64_t off, bool ahead, struct ring__rec *rec)
{
	struct ring *ring = w->ring;
	uint64_t n;
	int ret;

	if (off >= w->start && off - w->start + RING_REC_HDR_SIZE <= w->len)
		return ring__rec_decode_hdr(ring, w->e, off, w->buf + (off - w->start), rec);
	if (!ahead || !w->chunked || off < w->alone_end ||
	    off > ring->meta.extent_bytes - RING_REC_HDR_SIZE)
		return ring__rec_read_hdr(ring, w->e, off, rec);
	if (!w->buf) {
		w->buf = malloc(RING_SCAN_CHUNK);
		if (!w->buf) {
			w->chunked = false;
			return ring__rec_read_hdr(ring, w->e, off, rec);
		}
	}
	n = ring->meta.extent_bytes - off;
	if (n > RING_SCAN_CHUNK)
		n = RING_SCAN_CHUNK;
	w->len = 0;
	ret = ring_io_read_full(ring->io, ring->ext[w->e].fd, w->buf, (size_t)n, off);
	if (ret) {
		w->alone_end = off + n;
		return ring__rec_read_hdr(ring, w->e, off, rec);
	}
	w->start = off;
	w->len = n;
	return ring__rec_decode_hdr(ring, w->e, off, w->buf, rec);
}

/* Decides about one record whose header is valid and in order: *takep
 * true accepts it and the walk goes on after it. */
typedef int (*scan_fn)(struct ring *ring, const struct ring__rec *rec, void *arg, bool *takep);

struct scan_pos {
	uint64_t last_id;  /* max of min_id and the ids taken */
	uint64_t end_off;  /* end of the last record taken */
	uint64_t max_seen; /* highest id of any valid header */
};

/* @every_slot: past the last jump, try each RING_ALIGN slot (above). */
static int scan_extent(struct ring *ring, uint32_t e, const uint64_t *jump, size_t njump,
		       bool every_slot, scan_fn fn, void *arg, struct scan_pos *pos)
{
	struct hdr_walk w = { .ring = ring, .e = e, .chunked = every_slot };
	uint64_t min_id = ring->ext[e].min_id, off = RING_EXT_HDR_SIZE;
	uint64_t prev = 0;
	struct ring__rec rec;
	bool take, step = false;
	size_t j = 0;
	int ret = 0;

	pos->last_id = pos->max_seen = min_id;
	pos->end_off = RING_EXT_HDR_SIZE;
	while (off <= ring->meta.extent_bytes - RING_REC_HDR_SIZE) {
		ret = hdr_get(&w, off, step, &rec);
		if (ret && ret != -EBADMSG)
			goto out;
		take = false;
		if (!ret && rec.info.id > prev && rec.info.id >= min_id) {
			if (rec.info.id > pos->max_seen)
				pos->max_seen = rec.info.id;
			ret = fn(ring, &rec, arg, &take);
			if (ret)
				goto out;
		}
		step = false;
		if (take) {
			prev = rec.info.id;
			if (prev > pos->last_id)
				pos->last_id = prev;
			off += ring__rec_size(rec.info.len);
			pos->end_off = off;
			continue;
		}
		while (j < njump && jump[j] <= off)
			j++;
		if (j < njump) {
			off = jump[j];
		} else if (every_slot) {
			off += RING_ALIGN;
			step = true;
		} else {
			break;
		}
	}
	ret = 0;
out:
	free(w.buf);
	return ret;
}

/* ---- recovery (G3) ---- */

struct recov {
	struct walk_inits inits;
	struct sqlite3_stmt *seen;
	uint64_t orphans;
	uint64_t cut;
};

static int recov_take(struct ring *ring, struct recov *rc, const struct ring__rec *rec, bool *takep)
{
	int ret;

	sqlite3_reset(rc->seen);
	sqlite3_bind_int64(rc->seen, 1, (int64_t)rec->info.id);
	if (sqlite3_step(rc->seen) != SQLITE_DONE) {
		log_err("ring %s: recovery: %s", ring->dir, sqlite3_errmsg(ring->db));
		return -EIO;
	}
	if (rec->kind == RING_REC_INIT) {
		ret = inits_add(&rc->inits, rec->info.init_id);
		if (ret)
			return ret;
	}
	*takep = true;
	return 0;
}

/* Puts a whole record the index lacks back into it; *donep false when
 * it cannot be used (its init bytes conflict with the index's). */
static int recov_orphan(struct ring *ring, const struct ring__rec *rec, const void *init,
			bool *donep)
{
	const struct ring_seg_info *in = &rec->info;
	char cam[RING_CAMERA_MAX];
	uint8_t sha[RING_SHA_LEN];
	uint64_t other;
	int ret;

	*donep = false;
	if (rec->kind == RING_REC_MEDIA) {
		ret = ring__idx_seg_put(ring, in);
		if (!ret)
			ret = ring__idx_cam_bump(ring, in->camera, in->seq);
		*donep = !ret;
		return ret;
	}
	ret = ring__idx_init_get(ring, in->init_id, cam, sha, NULL, NULL);
	if (ret == -ENOENT) {
		/* The same bytes under another id: keep the index's. */
		if (!ring__idx_init_find(ring, in->camera, in->sha256, &other))
			return 0;
		ret = ring__idx_init_put(ring, in->init_id, in->camera, in->sha256, init, in->len,
					 NULL);
	} else if (!ret && (strcmp(cam, in->camera) || memcmp(sha, in->sha256, RING_SHA_LEN))) {
		return 0;
	}
	if (!ret)
		ret = ring__idx_initrec_put(ring, rec);
	*donep = !ret;
	return ret;
}

static int recov_rec(struct ring *ring, const struct ring__rec *rec, void *arg, bool *takep)
{
	struct recov *rc = arg;
	struct ring__rec row;
	void *init = NULL;
	bool differs, ok;
	int ret;

	ret = ring__idx_rec_get(ring, rec, &row);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret && ring__rec_matches(rec, &row))
		return recov_take(ring, rc, rec, takep);
	differs = !ret;
	ret = rec_whole(ring, rec, &rc->inits, &init, &ok);
	if (!ret && ok)
		ret = recov_orphan(ring, rec, init, &ok);
	free(init);
	if (ret)
		return ret;
	if (!ok) {
		log_info("ring %s: extent %u offset %" PRIu64 ": record %" PRIu64 " torn, cut",
			 ring->dir, rec->info.extent, rec->info.offset, rec->info.id);
		return 0;
	}
	if (differs) {
		log_warn("ring %s: extent %u offset %" PRIu64 ": index row %" PRIu64
			 " did not match its record, replaced",
			 ring->dir, rec->info.extent, rec->info.offset, rec->info.id);
		rc->cut++;
	}
	rc->orphans++;
	return recov_take(ring, rc, rec, takep);
}

static int recov_sweep(struct ring *ring, uint64_t *cutp)
{
	static const char *const sql[] = {
		"DELETE FROM segs WHERE id NOT IN (SELECT id FROM temp.seen)",
		"DELETE FROM init_recs"
		" WHERE rec_id NOT IN (SELECT id FROM temp.seen)",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (ring__exec(ring, sql[i]))
			return -EIO;
		*cutp += (uint64_t)sqlite3_changes(ring->db);
	}
	return 0;
}

static int idx_max_id(struct ring *ring, uint64_t *maxp)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (sqlite3_prepare_v2(ring->db,
			       "SELECT max(coalesce((SELECT max(id)"
			       " FROM segs), 0), coalesce((SELECT max(rec_id)"
			       " FROM init_recs), 0))",
			       -1, &st, NULL))
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		*maxp = (uint64_t)sqlite3_column_int64(st, 0);
	else
		ret = -EIO;
	sqlite3_finalize(st);
	return ret;
}

/* Walks every extent; sets the write position after the record with the
 * highest id (or the newest extent header), I1. */
static int recov_extents(struct ring *ring, struct recov *rc, uint64_t *max_seenp)
{
	struct scan_pos pos;
	uint64_t *jump = NULL, best = 0;
	size_t njump;
	int ret = 0;

	for (uint32_t e = 0; e < ring->meta.extents && !ret; e++) {
		ret = ring__ext_load(ring, e);
		if (ret == -EBADMSG)
			log_warn("ring %s: extent %u: header invalid, reading"
				 " it as old data",
				 ring->dir, e);
		else if (ret)
			break;
		ret = ring__idx_offsets(ring, e, &jump, &njump);
		if (ret)
			break;
		rc->inits.n = 0;
		ret = scan_extent(ring, e, jump, njump, ring->idx_new, recov_rec, rc, &pos);
		free(jump);
		if (pos.max_seen > *max_seenp)
			*max_seenp = pos.max_seen;
		if (e == 0 || pos.last_id > best) {
			best = pos.last_id;
			ring->cur_ext = e;
			ring->cur_off = pos.end_off;
		}
	}
	return ret;
}

/*
 * Raises *max_seenp to the highest id of any valid record header in the
 * head extent past the write position. Such records are unacknowledged
 * appends beyond a cut, or damage. New ids must exceed theirs: a later
 * walk that reaches one right after the new records would otherwise take
 * it for a live record (I1). Looks at every RING_ALIGN slot to the end of
 * one extent, a chunk of them per read (hdr_get()), at open only.
 */
static int recov_head_tail(struct ring *ring, uint64_t *max_seenp)
{
	struct hdr_walk w = { .ring = ring, .e = ring->cur_ext, .chunked = true };
	uint64_t end = ring->meta.extent_bytes - RING_REC_HDR_SIZE;
	struct ring__rec rec;
	int ret = 0;

	for (uint64_t off = ring->cur_off; off <= end; off += RING_ALIGN) {
		ret = hdr_get(&w, off, true, &rec);
		if (ret == -EBADMSG)
			continue;
		if (ret)
			break;
		if (rec.info.id > *max_seenp)
			*max_seenp = rec.info.id;
	}
	free(w.buf);
	return ret == -EBADMSG ? 0 : ret;
}

int ring__recover(struct ring *ring)
{
	struct recov rc = { 0 };
	uint64_t max_seen = 0, idx_max = 0;
	int ret;

	ret = ring__txn_begin(ring);
	if (ret)
		return ret;
	ret = ring__exec(ring, "CREATE TEMP TABLE IF NOT EXISTS seen"
			       "(id INTEGER PRIMARY KEY); DELETE FROM temp.seen");
	if (ret || idx_max_id(ring, &idx_max))
		goto out_fail;
	if (sqlite3_prepare_v2(ring->db,
			       "INSERT OR IGNORE INTO temp.seen(id)"
			       " VALUES(?1)",
			       -1, &rc.seen, NULL)) {
		ret = -EIO;
		goto out_fail;
	}
	ret = recov_extents(ring, &rc, &max_seen);
	if (!ret)
		ret = recov_head_tail(ring, &max_seen);
	if (!ret)
		ret = recov_sweep(ring, &rc.cut);
	sqlite3_finalize(rc.seen);
	rc.seen = NULL;
	if (!ret)
		ret = ring__exec(ring, "DROP TABLE temp.seen");
	if (ret)
		goto out_fail;
	ret = ring__txn_commit(ring, false);
	if (ret)
		goto out;
	ring->next_id = (max_seen > idx_max ? max_seen : idx_max) + 1;
	ring->recovered_orphans = rc.orphans;
	ring->recovered_cut = rc.cut;
	log_notice("ring %s: recovered: head extent %u offset %" PRIu64 ", next id %" PRIu64
		   ", %" PRIu64 " orphan records"
		   " re-indexed, %" PRIu64 " torn or stale rows cut",
		   ring->dir, ring->cur_ext, ring->cur_off, ring->next_id, rc.orphans, rc.cut);
	goto out;

out_fail:
	sqlite3_finalize(rc.seen);
	ring__txn_rollback(ring);
	if (ret >= 0)
		ret = -EIO;
out:
	free(rc.inits.id);
	return ret;
}

/* ---- ring_verify() ---- */

struct verify {
	struct walk_inits inits;
	const uint64_t *off; /* indexed offsets of this extent */
	bool *hit;	     /* off[i] held a record matching its row */
	size_t n;
	struct ring_verify_report *rep;
};

static int verify_indexed(struct ring *ring, struct verify *v, const struct ring__rec *rec)
{
	const struct ring_seg_info *in = &rec->info;
	int ret;

	ret = ring__rec_payload(ring, rec, NULL);
	if (ret == -EBADMSG) {
		log_err("ring %s: extent %u offset %" PRIu64 ": record %" PRIu64
			": payload SHA-256 mismatch",
			ring->dir, in->extent, in->offset, in->id);
		v->rep->bad_hash++;
	} else if (ret) {
		return ret;
	}
	if (rec->kind == RING_REC_MEDIA && !inits_has(&v->inits, in->init_id)) {
		log_err("ring %s: extent %u: segment %" PRIu64 " has no init"
			" record %" PRIu64 " before it",
			ring->dir, in->extent, in->id, in->init_id);
		v->rep->missing_init++;
	}
	return 0;
}

static int verify_rec(struct ring *ring, const struct ring__rec *rec, void *arg, bool *takep)
{
	struct verify *v = arg;
	struct ring__rec row;
	bool whole;
	size_t i;
	int ret;

	ret = ring__idx_rec_get(ring, rec, &row);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret && !ring__rec_matches(rec, &row))
		return 0; /* counted as bad_header by the caller */
	if (!ret) {
		for (i = 0; i < v->n && v->off[i] != rec->info.offset; i++)
			;
		if (i < v->n)
			v->hit[i] = true;
		ret = verify_indexed(ring, v, rec);
	} else {
		ret = rec_whole(ring, rec, &v->inits, NULL, &whole);
		if (ret || !whole)
			return ret;
		log_err("ring %s: extent %u offset %" PRIu64 ": record %" PRIu64 " is not indexed",
			ring->dir, rec->info.extent, rec->info.offset, rec->info.id);
		v->rep->unindexed++;
	}
	if (!ret && rec->kind == RING_REC_INIT)
		ret = inits_add(&v->inits, rec->info.init_id);
	*takep = !ret;
	return ret;
}

static int verify_extent(struct ring *ring, uint32_t e, struct verify *v)
{
	struct scan_pos pos;
	uint64_t *off = NULL;
	int ret;

	ret = ring__ext_load(ring, e);
	if (ret && ret != -EBADMSG)
		return ret;
	ret = ring__idx_offsets(ring, e, &off, &v->n);
	if (ret)
		return ret;
	v->off = off;
	v->hit = calloc(v->n ? v->n : 1, sizeof(*v->hit));
	v->inits.n = 0;
	ret = v->hit ? scan_extent(ring, e, off, v->n, false, verify_rec, v, &pos) : -ENOMEM;
	for (size_t i = 0; !ret && i < v->n; i++) {
		v->rep->checked++;
		if (v->hit[i])
			continue;
		log_err("ring %s: extent %u offset %" PRIu64 ": indexed record"
			" header missing or different",
			ring->dir, e, off[i]);
		v->rep->bad_header++;
	}
	free(v->hit);
	free(off);
	return ret;
}

int ring_verify(struct ring *ring, struct ring_verify_report *rep)
{
	struct verify v = { .rep = rep };
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	/* One extent per lock hold: appends wait for one extent's reads,
	 * not the whole ring's. */
	for (uint32_t e = 0; e < ring->meta.extents && !ret; e++) {
		ring__lock(ring);
		ret = verify_extent(ring, e, &v);
		ring__unlock(ring);
	}
	free(v.inits.id);
	if (ret)
		return ret;
	if (rep->bad_header || rep->bad_hash || rep->missing_init || rep->unindexed)
		return -EBADMSG;
	return 0;
}
