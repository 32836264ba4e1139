// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_scan - the ring's on-disk formats (see ring_int.h), record I/O,
 * and the extent walk shared by recovery (ring_open) and ring_verify().
 *
 * The walk reads record headers from the start of an extent while ids
 * rise; a header that fails its checksum, an id that does not rise, or
 * one below the extent's min_id ends the sequential walk (the rest is
 * torn or stale, I1). When the index knows records further on, the walk
 * resumes at the next indexed offset, so one bad header costs one record,
 * not the rest of the extent.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/log.h"

int ring__sha256(const void *data, size_t len, uint8_t out[RING_SHA_LEN])
{
	mbedtls_sha256_context c;
	int ret;

	mbedtls_sha256_init(&c);
	ret = ring__sha_starts(&c);
	if (!ret)
		ret = ring__sha_update(&c, data, len);
	if (!ret)
		ret = ring__sha_finish(&c, out);
	mbedtls_sha256_free(&c);
	return ret ? -EIO : 0;
}

int64_t ring__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

int ring__ext_load(struct ring *ring, uint32_t e)
{
	uint8_t buf[RING_EXT_HDR_USED];
	struct ring__ext *x = &ring->ext[e];
	int ret;

	x->generation = 0;
	x->min_id = 0;
	ret = ring_io_read_full(ring->io, x->fd, buf, sizeof(buf), 0);
	if (ret && ret != -ENODATA) {
		log_err("ring %s: extent %u: read header: %s", ring->dir, e, strerror(-ret));
		return ret;
	}
	if (ret || ring__get_le32(buf) != RING_EXT_MAGIC ||
	    ring__get_le16(buf + 4) != RING_FORMAT_VERSION || ring__get_le32(buf + 8) != e ||
	    !sha_ok(buf, 64) || memcmp(buf + 40, ring->meta.uuid, RING_UUID_LEN))
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
	ring__put_le64(buf + 64, in->len);
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
	if (!ret)
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

int ring__rec_read_hdr(struct ring *ring, uint32_t e, uint64_t off, struct ring__rec *rec)
{
	uint8_t hdr[RING_REC_HDR_SIZE];
	uint64_t end = ring->meta.extent_bytes;
	int ret;

	if (off < RING_EXT_HDR_SIZE || off % RING_ALIGN || off > end - RING_REC_HDR_SIZE)
		return -EBADMSG;
	ret = ring_io_read_full(ring->io, ring->ext[e].fd, hdr, sizeof(hdr), off);
	if (ret == -ENODATA)
		return -EBADMSG; /* a short file reads as torn */
	if (ret) {
		log_err("ring %s: extent %u offset %" PRIu64 ": read: %s", ring->dir, e, off,
			strerror(-ret));
		return ret;
	}
	ret = rec_decode(hdr, rec);
	if (ret)
		return ret;
	if (rec->info.len > end - off - RING_REC_HDR_SIZE)
		return -EBADMSG;
	rec->info.extent = e;
	rec->info.offset = off;
	return 0;
}

/* Hashes @len bytes at @off of extent @e; @buf, if given, keeps them,
 * else they pass through ring->scratch (the caller holds the lock). */
static int hash_range(struct ring *ring, uint32_t e, uint64_t off, uint64_t len, uint8_t *buf,
		      uint8_t out[RING_SHA_LEN])
{
	uint8_t *chunk = ring->scratch;
	mbedtls_sha256_context c;
	size_t n;
	int ret;

	mbedtls_sha256_init(&c);
	ret = ring__sha_starts(&c) ? -EIO : 0;
	while (!ret && len) {
		n = len < RING_HASH_CHUNK ? (size_t)len : RING_HASH_CHUNK;
		ret = ring_io_read_full(ring->io, ring->ext[e].fd, buf ? buf : chunk, n, off);
		if (!ret && ring__sha_update(&c, buf ? buf : chunk, n))
			ret = -EIO;
		if (buf)
			buf += n;
		off += n;
		len -= n;
	}
	if (!ret && ring__sha_finish(&c, out))
		ret = -EIO;
	mbedtls_sha256_free(&c);
	if (ret && ret != -ENODATA)
		log_err("ring %s: extent %u offset %" PRIu64 ": read: %s", ring->dir, e, off,
			strerror(-ret));
	return ret == -ENODATA ? -EBADMSG : ret;
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

/* Decides about one record whose header is valid and in order: *takep
 * true accepts it and the walk goes on after it. */
typedef int (*scan_fn)(struct ring *ring, const struct ring__rec *rec, void *arg, bool *takep);

struct scan_pos {
	uint64_t last_id;  /* max of min_id and the ids taken */
	uint64_t end_off;  /* end of the last record taken */
	uint64_t max_seen; /* highest id of any valid header */
};

static int scan_extent(struct ring *ring, uint32_t e, const uint64_t *jump, size_t njump,
		       scan_fn fn, void *arg, struct scan_pos *pos)
{
	uint64_t min_id = ring->ext[e].min_id, off = RING_EXT_HDR_SIZE;
	uint64_t prev = 0;
	struct ring__rec rec;
	size_t j = 0;
	bool take;
	int ret;

	pos->last_id = pos->max_seen = min_id;
	pos->end_off = RING_EXT_HDR_SIZE;
	while (off <= ring->meta.extent_bytes - RING_REC_HDR_SIZE) {
		ret = ring__rec_read_hdr(ring, e, off, &rec);
		if (ret && ret != -EBADMSG)
			return ret;
		take = false;
		if (!ret && rec.info.id > prev && rec.info.id >= min_id) {
			if (rec.info.id > pos->max_seen)
				pos->max_seen = rec.info.id;
			ret = fn(ring, &rec, arg, &take);
			if (ret)
				return ret;
		}
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
		if (j == njump)
			break;
		off = jump[j];
	}
	return 0;
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
		ret = scan_extent(ring, e, jump, njump, recov_rec, rc, &pos);
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
	ret = v->hit ? scan_extent(ring, e, off, v->n, verify_rec, v, &pos) : -ENOMEM;
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
		pthread_mutex_lock(&ring->lock);
		ret = verify_extent(ring, e, &v);
		pthread_mutex_unlock(&ring->lock);
	}
	free(v.inits.id);
	if (ret)
		return ret;
	if (rep->bad_header || rep->bad_hash || rep->missing_init || rep->unindexed)
		return -EBADMSG;
	return 0;
}
