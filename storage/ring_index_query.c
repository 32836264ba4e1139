// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_index_query - the queries on the ring's SQLite index: segment,
 * init and camera rows, eviction, listing and statistics. The connection,
 * the schema and the SQL of every cached statement are in ring_index.c.
 * All of it runs under the ring's mutex.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

void ring__row_info(sqlite3_stmt *st, int col, struct ring_seg_info *info)
{
	const void *sha;
	const unsigned char *cam;

	memset(info, 0, sizeof(*info));
	info->id = (uint64_t)sqlite3_column_int64(st, col);
	cam = sqlite3_column_text(st, col + 1);
	if (cam)
		snprintf(info->camera, sizeof(info->camera), "%s", cam);
	info->seq = (uint64_t)sqlite3_column_int64(st, col + 2);
	info->init_id = (uint64_t)sqlite3_column_int64(st, col + 3);
	info->start_utc_ms = sqlite3_column_int64(st, col + 4);
	info->duration_ms = (uint32_t)sqlite3_column_int64(st, col + 5);
	info->media_start_us = sqlite3_column_int64(st, col + 6);
	info->flags = (uint32_t)sqlite3_column_int64(st, col + 7);
	info->utc_src = (uint8_t)sqlite3_column_int(st, col + 8);
	info->len = (uint64_t)sqlite3_column_int64(st, col + 9);
	info->extent = (uint32_t)sqlite3_column_int64(st, col + 10);
	info->offset = (uint64_t)sqlite3_column_int64(st, col + 11);
	info->uploaded = sqlite3_column_int(st, col + 12) != 0;
	sha = sqlite3_column_blob(st, col + 13);
	if (sha && sqlite3_column_bytes(st, col + 13) == RING_SHA_LEN)
		memcpy(info->sha256, sha, RING_SHA_LEN);
}

int ring__idx_seg_get(struct ring *ring, uint64_t id, struct ring_seg_info *info)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_GET);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ring__row_info(st, 0, info);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = ring__db_fail(ring, "read segment");
	sqlite3_reset(st);
	return ret;
}

int ring__idx_seg_put(struct ring *ring, const struct ring_seg_info *info)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_PUT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)info->id);
	sqlite3_bind_text(st, 2, info->camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)info->seq);
	sqlite3_bind_int64(st, 4, (int64_t)info->init_id);
	sqlite3_bind_int64(st, 5, info->start_utc_ms);
	sqlite3_bind_int64(st, 6, info->duration_ms);
	sqlite3_bind_int64(st, 7, info->media_start_us);
	sqlite3_bind_int64(st, 8, info->flags);
	sqlite3_bind_int(st, 9, info->utc_src);
	sqlite3_bind_int64(st, 10, (int64_t)info->len);
	sqlite3_bind_int64(st, 11, info->extent);
	sqlite3_bind_int64(st, 12, (int64_t)info->offset);
	sqlite3_bind_int(st, 13, info->uploaded);
	sqlite3_bind_blob(st, 14, info->sha256, RING_SHA_LEN, SQLITE_TRANSIENT);
	return ring__step_done(ring, st, "insert segment");
}

int ring__idx_initrec_get(struct ring *ring, uint64_t rec_id, struct ring__rec *rec)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_GET);
	struct ring_seg_info *in = &rec->info;
	const void *sha;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)rec_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(rec, 0, sizeof(*rec));
		rec->kind = RING_REC_INIT;
		in->id = (uint64_t)sqlite3_column_int64(st, 0);
		in->init_id = (uint64_t)sqlite3_column_int64(st, 1);
		in->extent = (uint32_t)sqlite3_column_int64(st, 2);
		in->offset = (uint64_t)sqlite3_column_int64(st, 3);
		in->len = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(in->camera, sizeof(in->camera), "%s",
			 (const char *)sqlite3_column_text(st, 5));
		sha = sqlite3_column_blob(st, 6);
		if (sha && sqlite3_column_bytes(st, 6) == RING_SHA_LEN)
			memcpy(in->sha256, sha, RING_SHA_LEN);
	} else if (rc == SQLITE_DONE) {
		ret = -ENOENT;
	} else {
		ret = ring__db_fail(ring, "read init record");
	}
	sqlite3_reset(st);
	return ret;
}

int ring__idx_initrec_put(struct ring *ring, const struct ring__rec *rec)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_PUT);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)rec->info.id);
	sqlite3_bind_int64(st, 2, (int64_t)rec->info.init_id);
	sqlite3_bind_int64(st, 3, rec->info.extent);
	sqlite3_bind_int64(st, 4, (int64_t)rec->info.offset);
	sqlite3_bind_int64(st, 5, (int64_t)rec->info.len);
	return ring__step_done(ring, st, "insert init record");
}

int ring__idx_initrec_has(struct ring *ring, uint64_t init_id, uint32_t e, uint64_t before_off,
			  bool *hasp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INITREC_HAS);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)init_id);
	sqlite3_bind_int64(st, 2, e);
	sqlite3_bind_int64(st, 3, (int64_t)before_off);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ring__db_fail(ring, "find init record");
	*hasp = rc == SQLITE_ROW;
	return 0;
}

int ring__idx_init_get(struct ring *ring, uint64_t init_id, char camera[RING_CAMERA_MAX],
		       uint8_t sha[RING_SHA_LEN], void **datap, size_t *lenp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_GET);
	const void *blob;
	size_t len;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)init_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = ring__db_fail(ring, "read init");
		goto out;
	}
	snprintf(camera, RING_CAMERA_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	blob = sqlite3_column_blob(st, 1);
	if (!blob || sqlite3_column_bytes(st, 1) != RING_SHA_LEN) {
		ret = -EBADMSG;
		goto out;
	}
	memcpy(sha, blob, RING_SHA_LEN);
	if (datap) {
		blob = sqlite3_column_blob(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2);
		*datap = malloc(len ? len : 1);
		if (!*datap) {
			ret = -ENOMEM;
			goto out;
		}
		if (len)
			memcpy(*datap, blob, len);
		*lenp = len;
	}
out:
	sqlite3_reset(st);
	return ret;
}

int ring__idx_init_find(struct ring *ring, const char *camera, const uint8_t sha[RING_SHA_LEN],
			uint64_t *idp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_FIND);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, sha, RING_SHA_LEN, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*idp = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = ring__db_fail(ring, "find init");
	sqlite3_reset(st);
	return ret;
}

int ring__idx_init_put(struct ring *ring, uint64_t id, const char *camera,
		       const uint8_t sha[RING_SHA_LEN], const void *data, size_t len, uint64_t *idp)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_INIT_PUT);
	int ret;

	if (!st)
		return -EIO;
	if (id)
		sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, sha, RING_SHA_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_TRANSIENT);
	ret = ring__step_done(ring, st, "insert init");
	if (!ret && idp)
		*idp = (uint64_t)sqlite3_last_insert_rowid(ring->db);
	return ret;
}

/* One integer about @camera; 0 when there is no row or it is NULL. */
static int cam_int(struct ring *ring, enum ring__stmt_id id, const char *camera, const char *what,
		   uint64_t *outp)
{
	sqlite3_stmt *st = ring__stmt(ring, id);
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*outp = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*outp = 0;
	else
		ret = ring__db_fail(ring, what);
	sqlite3_reset(st);
	return ret;
}

int ring__idx_cam_seq(struct ring *ring, const char *camera, uint64_t *last_seqp)
{
	return cam_int(ring, RS_CAM_SEQ, camera, "read camera seq", last_seqp);
}

int ring__idx_cam_last_len(struct ring *ring, const char *camera, uint64_t *lenp)
{
	return cam_int(ring, RS_CAM_LAST_LEN, camera, "read segment sizes", lenp);
}

int ring__idx_cam_bump(struct ring *ring, const char *camera, uint64_t seq)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_CAM_BUMP);

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	return ring__step_done(ring, st, "update camera seq");
}

int ring__idx_del_extent(struct ring *ring, uint32_t e)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_DEL_EXTENT);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	ret = ring__step_done(ring, st, "evict segments");
	if (ret)
		return ret;
	st = ring__stmt(ring, RS_INITREC_DEL_EXTENT);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	return ring__step_done(ring, st, "evict init records");
}

int ring__idx_count_evicted(struct ring *ring, uint64_t segs, uint64_t pinned)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO counters(name, v) VALUES('evicted_segs', %" PRIu64 "), "
		 "('evicted_pinned', %" PRIu64
		 ") ON CONFLICT(name) DO UPDATE SET v = v + excluded.v",
		 segs, pinned);
	return ring__exec(ring, sql);
}

static void idx_counters(struct ring *ring, struct ring_stat *st)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(ring->db, "SELECT name, v FROM counters", -1, &q, NULL))
		return; /* an index from before the counters: none yet */
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		uint64_t v = (uint64_t)sqlite3_column_int64(q, 1);

		if (!strcmp(name, "evicted_segs"))
			st->evicted_segs = v;
		else if (!strcmp(name, "evicted_pinned"))
			st->evicted_pinned = v;
	}
	sqlite3_finalize(q);
}

int ring__idx_offsets(struct ring *ring, uint32_t e, uint64_t **offp, size_t *np)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_OFFSETS);
	uint64_t *off = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(off, cap * sizeof(*off));
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			off = grown;
		}
		off[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		ret = ring__db_fail(ring, "read offsets");
out:
	sqlite3_reset(st);
	if (ret) {
		free(off);
		return ret;
	}
	*offp = off;
	*np = n;
	return 0;
}

int ring__idx_mark_uploaded(struct ring *ring, uint64_t seg_id)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_UPLOADED);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, (int64_t)seg_id);
	ret = ring__step_done(ring, st, "mark uploaded");
	if (ret)
		return ret;
	return sqlite3_changes(ring->db) ? 0 : -ENOENT;
}

/* Fills @batch with up to RING_LIST_BATCH rows after the key in @last. */
int ring__idx_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
		   const struct ring_seg_info *last, struct ring_seg_info *batch, size_t *np)
{
	sqlite3_stmt *st = ring__stmt(ring, RS_SEG_LIST);
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (!st)
		return -EIO;
	if (camera)
		sqlite3_bind_text(st, 1, camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	sqlite3_bind_text(st, 4, last->camera, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, (int64_t)last->seq);
	sqlite3_bind_int64(st, 6, (int64_t)last->id);
	sqlite3_bind_int(st, 7, RING_LIST_BATCH);
	while (n < RING_LIST_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ring__row_info(st, 0, &batch[n++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return ring__db_fail(ring, "list");
	*np = n;
	return 0;
}

int ring__idx_stat(struct ring *ring, struct ring_stat *st)
{
	sqlite3_stmt *q = ring__stmt(ring, RS_STAT_SEGS);
	int rc;

	if (!q)
		return -EIO;
	sqlite3_bind_int64(q, 1, ring->floor_ms);
	/* With an owner, the flag column means nothing for new segments:
	 * the floor here, the owed segments from the owner below. */
	sqlite3_bind_int(q, 2, ring->upload_required && !ring->owner.owed);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st->segs = (uint64_t)sqlite3_column_int64(q, 0);
		st->bytes_used = (uint64_t)sqlite3_column_int64(q, 1);
		st->oldest_utc_ms = sqlite3_column_int64(q, 2);
		st->newest_utc_ms = sqlite3_column_int64(q, 3);
		st->segs_pending_upload = (uint64_t)sqlite3_column_int64(q, 4);
		st->bytes_pinned = (uint64_t)sqlite3_column_int64(q, 5);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return ring__db_fail(ring, "stat");
	q = ring__stmt(ring, RS_STAT_INITS);
	if (!q)
		return -EIO;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		st->bytes_used += (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW && ring->owner.pending && ring->upload_required) {
		uint64_t segs = 0, bytes = 0;

		/* Unknown reads as nothing pending, not as a failed stat. */
		st->segs_pending_upload = 0;
		if (!ring->owner.pending(ring->owner.arg, ring->floor_ms, &segs, &bytes)) {
			st->segs_pending_upload = segs;
			st->bytes_pinned += bytes;
		}
	}
	idx_counters(ring, st);
	return rc == SQLITE_ROW ? 0 : ring__db_fail(ring, "stat");
}
