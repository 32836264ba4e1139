// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The outbox as the one record of a media segment's upload (net/outbox.h,
 * "Segments"; why in docs/architecture.md). state.db holds, per segment:
 *  - a row of kind OUTBOX_SEGMENT: central does not hold it yet (a row
 *    in OUTBOX_DEAD: it can never be sent, it is corrupt);
 *  - no row, and its seq at or below its camera's mark in outbox_queued:
 *    it had a row, and central acknowledged it (the row's deletion);
 *  - no row, above the mark: not queued yet (the uplink's note of it is
 *    on its way, or it was recorded while no uplink ran, or state.db
 *    refused the row, or state.db was lost): owed; the uplink's ring scan
 *    gives it a row.
 * The mark moves only in the transaction that commits the rows below it,
 * and only when the caller knows every earlier segment of the camera has
 * a row (outbox_media.queued). Acknowledgement is thus the one DELETE of
 * outbox_commit(); the ring keeps media only and asks here (the ring's
 * upload owner, outbox_ring_owner()).
 */
#include "net/outbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/ring.h"
#include "storage/statedb.h"

int outbox__queued_bump(sqlite3 *db, const char *camera, uint64_t seq)
{
	const struct ob_arg args[] = { arg_text(camera), arg_i64((int64_t)seq) };
	const struct ob_query q = {
		.what = camera,
		.sql = "INSERT INTO outbox_queued(camera, seq) VALUES (?1, ?2)"
		       " ON CONFLICT(camera) DO UPDATE SET seq = max(seq, excluded.seq)",
		.args = args,
		.nargs = NARGS(args),
	};

	return outbox__stmt_run(db, &q);
}

static int first_i64(sqlite3_stmt *st, void *arg)
{
	int64_t *v = arg;

	v[0] = sqlite3_column_int64(st, 0);
	v[1] = 1; /* a row was there */
	return 0;
}

/* One read on the outbox's own connection (a commit on another thread
 * never holds it up). */
static int rd_run(struct outbox *ob, const struct ob_query *q)
{
	int ret;

	outbox__rd_lock(ob);
	ret = outbox__stmt_run(ob->rd, q);
	outbox__rd_unlock(ob);
	return ret;
}

int outbox_seg_queued(struct outbox *ob, const char *camera, uint64_t *seqp)
{
	int64_t v[2] = { 0, 0 };
	const struct ob_arg a = arg_text(camera);
	const struct ob_query q = {
		.what = camera,
		.sql = "SELECT seq FROM outbox_queued WHERE camera = ?1",
		.args = &a,
		.nargs = 1,
		.row = first_i64,
		.arg = v,
	};
	int ret = rd_run(ob, &q);

	if (ret)
		return ret;
	if (!v[1])
		return -ENOENT;
	*seqp = (uint64_t)v[0];
	return 0;
}

int outbox_seg_owed(struct outbox *ob, const char *camera, uint64_t seq, uint64_t ref, bool *owedp)
{
	int64_t v[2] = { 0, 0 };
	const struct ob_arg args[] = { arg_i64(OUTBOX_SEGMENT), arg_i64((int64_t)ref),
				       arg_text(camera), arg_i64((int64_t)seq) };
	const struct ob_query q = {
		.what = camera,
		.sql = "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ?1 AND ref = ?2)"
		       " OR coalesce((SELECT seq FROM outbox_queued WHERE camera = ?3), -1) < ?4",
		.args = args,
		.nargs = NARGS(args),
		.row = first_i64,
		.arg = v,
	};
	int ret = rd_run(ob, &q);

	if (!ret)
		*owedp = v[0] != 0;
	return ret;
}

int outbox_seg_pending(struct outbox *ob, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp)
{
	int64_t v[2] = { 0, 0 }, b[2] = { 0, 0 };
	const struct ob_arg args[] = { arg_i64(OUTBOX_SEGMENT), arg_i64(before_ms) };
	const struct ob_query segs = {
		.what = "pending",
		.sql = "SELECT count(*) FROM outbox WHERE kind = ?1",
		.args = args,
		.nargs = 1,
		.row = first_i64,
		.arg = v,
	};
	const struct ob_query bytes = {
		.what = "pending",
		.sql = "SELECT coalesce(sum(len), 0) FROM outbox WHERE kind = ?1 AND start_ms < ?2",
		.args = args,
		.nargs = NARGS(args),
		.row = first_i64,
		.arg = b,
	};
	int ret = rd_run(ob, &segs);

	if (!ret)
		ret = rd_run(ob, &bytes);
	if (!ret) {
		*segsp = (uint64_t)v[0];
		*bytesp = (uint64_t)b[0];
	}
	return ret;
}

int outbox_seg_dead(struct outbox *ob, int64_t id)
{
	const struct ob_arg args[] = { arg_i64(id), arg_i64(OUTBOX_DEAD) };
	const struct ob_query q = {
		.what = "dead",
		.sql = "UPDATE outbox SET prio = ?2, next_ms = 9223372036854775807 WHERE id = ?1",
		.args = args,
		.nargs = NARGS(args),
	};

	return outbox__run(ob, &q);
}

int outbox_seg_prune(struct outbox *ob, uint64_t below_ref)
{
	const struct ob_arg args[] = { arg_i64(OUTBOX_DEAD), arg_i64(OUTBOX_SEGMENT),
				       arg_i64((int64_t)below_ref) };
	const struct ob_query q = {
		.what = "prune",
		.sql = "DELETE FROM outbox WHERE prio = ?1 AND kind = ?2 AND ref < ?3",
		.args = args,
		.nargs = NARGS(args),
	};

	return outbox__run(ob, &q);
}

/* ---- the ring's upload owner ---- */

static int owner_owed(void *arg, const struct ring_seg_info *info)
{
	bool owed = true;

	/* A failed read (logged) answers "owed": the ring then keeps it. */
	if (outbox_seg_owed(arg, info->camera, info->seq, info->id, &owed))
		return -EIO;
	return owed;
}

static int owner_pending(void *arg, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp)
{
	return outbox_seg_pending(arg, before_ms, segsp, bytesp);
}

void outbox_ring_owner(struct outbox *ob, struct ring_upload_owner *owner)
{
	*owner = (struct ring_upload_owner){ .owed = owner_owed,
					     .pending = owner_pending,
					     .arg = ob };
}

int outbox_open_reader(struct statedb *db, struct outbox **obp)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	int ret;

	if (!ob)
		return -ENOMEM;
	ob->db = db;
	ob->reader = true;
	atomic_init(&ob->gen, 0);
	pthread_mutex_init(&ob->rd_lock, NULL);
	ret = statedb_reader_open(db, &ob->rd);
	if (ret) {
		outbox_close(ob);
		return ret;
	}
	*obp = ob;
	return 0;
}
