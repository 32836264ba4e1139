// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink segments into outbox rows: the notes stream threads queue with
 * uplink_segment_added() become LIVE rows (and what falls out of each
 * camera's live window is demoted to BACKLOG), and the ring scan (U6)
 * turns segments above their camera's queued mark (owed, perhaps without
 * a row: net/outbox.h S1) into BACKLOG rows. An init segment becomes an
 * URGENT row the first time a segment needs it.
 * Uplink thread only.
 */
#include "net/uplink_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"

#define SEG_BATCH 32 /* segments per outbox transaction */

/* The rows for segment @n: the segment at @prio and its init segment. */
static int media_fill(struct uplink *up, const struct ring_seg_info *n, int prio,
		      struct outbox_media *m)
{
	struct outbox_item *it = &m->seg, *ii = &m->init;
	int64_t now = uplink__now(up);
	int ret;

	*it = (struct outbox_item){ .prio = prio, .kind = OUTBOX_SEGMENT };
	*ii = (struct outbox_item){ .prio = OUTBOX_URGENT, .kind = OUTBOX_INIT };
	snprintf(it->camera, sizeof(it->camera), "%s", n->camera);
	snprintf(ii->camera, sizeof(ii->camera), "%s", n->camera);
	ii->ref = n->init_id;
	ii->start_ms = ii->created_ms = now;
	it->ref = n->id;
	it->init_id = n->init_id;
	it->seq = n->seq;
	it->start_ms = n->start_utc_ms;
	it->duration_ms = n->duration_ms;
	it->flags = n->flags;
	it->len = n->len;
	it->created_ms = now;
	ret = uplink_init_path(n->camera, n->init_id, ii->path, sizeof(ii->path));
	if (!ret)
		ret = uplink_segment_path(n->camera, n->seq, n->start_utc_ms, it->path,
					  sizeof(it->path));
	return ret;
}

/* Queue @n segments at @prio in one outbox transaction (demoting what
 * falls out of the live windows when they are live). @queued: every
 * earlier segment of their cameras has a row, so the cameras' queued
 * marks move with them (net/outbox.h S1). */
static int media_put(struct uplink *up, const struct ring_seg_info *notes, size_t n, int prio,
		     bool queued)
{
	struct outbox_media m[SEG_BATCH];
	size_t k = 0;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		/* Not for a valid camera id; if it were, the segment would
		 * still be in the ring, not uploaded. */
		if (!media_fill(up, &notes[i], prio, &m[k])) {
			m[k++].queued = queued;
		} else {
			log_err("uplink: %s: segment %" PRIu64 ": object path too long",
				notes[i].camera, notes[i].seq);
			ret = -E2BIG;
			/* It has no row: no mark may pass it. */
			queued = false;
			for (size_t j = 0; j < k; j++)
				m[j].queued = false;
		}
	}
	if (k) {
		int r = outbox_put_media(up->ob, m, k,
					 prio == OUTBOX_LIVE ? up->cfg.live_window : 0);

		if (r)
			ret = r;
	}
	return ret;
}

/* U7: the state of "segments without a row", told to the daemon on
 * each change. */
static void store_state(struct uplink *up, bool failing)
{
	if (up->store_failing == failing)
		return;
	up->store_failing = failing;
	uplink__lock(&up->lock);
	up->st.store_failing = failing;
	uplink__unlock(&up->lock);
	if (failing)
		log_err("uplink: state.db refuses outbox rows: segments wait for a ring scan; "
			"retried every %u ms at most",
			(unsigned int)backoff_ceiling(&up->store_backoff));
	else
		log_notice("uplink: outbox rows written again: every segment not yet uploaded "
			   "is queued");
	if (up->hooks.store_state)
		up->hooks.store_state(up->hooks.arg, failing);
}

/* U7: a segment's row could not be written. Its segment is still in the
 * ring, not uploaded, so a ring scan finds it: rather than a list of the
 * segments that failed (which would need a bound and an overflow rule
 * of its own), the scan simply runs again after a backoff until one whole
 * pass wrote every row. The scan is the recovery the ring already has for
 * segments without a row (U6); this makes it periodic while failing. */
static void store_failed(struct uplink *up)
{
	up->scan_at = time_mono_ms() + backoff_next(&up->store_backoff);
	/* The next pass starts from the first segment: one that failed may
	 * lie before a running pass's cursor. */
	up->scan_cam[0] = '\0';
	up->scan_seq = 0;
	up->pass_clean = false;
	uplink__lock(&up->lock);
	up->rescan = true;
	uplink__unlock(&up->lock);
	store_state(up, true);
}

/* A media_put() failure a retry may cure (state.db); -E2BIG (a path too
 * long, logged there) never will, and the rest of its batch was put. */
static bool store_err(int ret)
{
	return ret && ret != -E2BIG;
}

void uplink__drain_notes(struct uplink *up)
{
	struct ring_seg_info batch[SEG_BATCH];
	bool queued;
	size_t n;

	do {
		uplink__lock(&up->lock);
		for (n = 0; n < SEG_BATCH && up->q_len; n++) {
			batch[n] = up->queue[up->q_head];
			up->q_head = (up->q_head + 1) % UPLINK_QUEUE_MAX;
			up->q_len--;
		}
		/* The notes follow each other without a hole (one stream
		 * thread per camera, in seq order) unless one was lost: a
		 * full queue, a failed row, or the segments recorded before
		 * this uplink; each of those asks for a ring scan, and until
		 * a whole one is done the marks stay where they are. */
		queued = !up->rescan && !up->scanning && !up->scan_more && !up->store_failing;
		uplink__unlock(&up->lock);
		/* A failed row is not lost: the segment stays above its
		 * camera's mark, owed, so a scan finds it (U6, U7). */
		if (n && store_err(media_put(up, batch, n, OUTBOX_LIVE, queued)))
			store_failed(up);
	} while (n == SEG_BATCH);
}

struct scan_ctx {
	struct uplink *up;
	struct ring_seg_info *batch;
	unsigned int n;
	char cam[RING_CAMERA_MAX]; /* whose mark @mark is */
	uint64_t mark;
	bool has_mark;
	int err;
};

/* Is @info above its camera's queued mark (owed without a row, or with
 * one: net/outbox.h S1)? */
static bool above_mark(struct scan_ctx *sc, const struct ring_seg_info *info)
{
	if (strcmp(sc->cam, info->camera)) {
		int ret = outbox_seg_queued(sc->up->ob, info->camera, &sc->mark);

		snprintf(sc->cam, sizeof(sc->cam), "%s", info->camera);
		sc->has_mark = !ret;
		if (ret && ret != -ENOENT)
			sc->err = ret;
	}
	return !sc->has_mark || info->seq > sc->mark;
}

static int scan_one(void *arg, const struct ring_seg_info *info)
{
	struct scan_ctx *sc = arg;
	struct uplink *up = sc->up;
	int c = strcmp(info->camera, up->scan_cam);

	if (info->id < up->scan_min_id)
		up->scan_min_id = info->id;
	/* At or below the mark: it has its row, or central holds it. The
	 * index's flag of an older build says central holds it too. */
	if (info->uploaded || c < 0 || (c == 0 && info->seq <= up->scan_seq) ||
	    !above_mark(sc, info))
		return sc->err ? sc->err : 0;
	if (sc->n >= UPLINK_SCAN_BATCH)
		return 1;
	sc->batch[sc->n++] = *info;
	return 0;
}

/* One pass of U6: up to UPLINK_SCAN_BATCH segments the ring holds as not
 * uploaded become BACKLOG rows (rows already there are kept). The ring is
 * walked in (camera, seq) order with a cursor so a large backlog is taken
 * in batches without holding the ring's lock while writing rows. */
static void scan_ring(struct uplink *up)
{
	struct scan_ctx sc = { .up = up };
	bool failed = false;
	int ret;

	sc.batch = calloc(UPLINK_SCAN_BATCH, sizeof(*sc.batch));
	if (!sc.batch) {
		store_failed(up);
		return;
	}
	if (!up->scan_cam[0] && !up->scan_seq) {
		up->pass_clean = true; /* a pass from the first segment */
		up->scan_min_id = UINT64_MAX;
	}
	ret = ring_list(up->ring, NULL, INT64_MIN, INT64_MAX, scan_one, &sc);
	failed = ret < 0;
	/* The scan walks every camera's segments above its mark in seq
	 * order, so the marks move with the rows it puts. */
	for (unsigned int i = 0; !failed && i < sc.n; i += SEG_BATCH) {
		unsigned int k = sc.n - i < SEG_BATCH ? sc.n - i : SEG_BATCH;

		if (store_err(media_put(up, &sc.batch[i], k, OUTBOX_BACKLOG, true))) {
			failed = true;
			break;
		}
		snprintf(up->scan_cam, sizeof(up->scan_cam), "%s", sc.batch[i + k - 1].camera);
		up->scan_seq = sc.batch[i + k - 1].seq;
	}
	up->scan_more = ret == 1;
	if (!up->scan_more) {
		up->scan_cam[0] = '\0';
		up->scan_seq = 0;
	}
	if (sc.n && !failed)
		log_info("uplink: ring scan queued %u segments not yet uploaded%s", sc.n,
			 up->scan_more ? " (more follow)" : "");
	free(sc.batch);
	if (failed) {
		store_failed(up);
		return;
	}
	/* A whole pass saw the ring's oldest segment: dead rows (corrupt
	 * segments) below it have left the ring. */
	if (!up->scan_more && up->pass_clean && up->scan_min_id != UINT64_MAX)
		outbox_seg_prune(up->ob, up->scan_min_id);
	if (!up->scan_more && up->store_failing && up->pass_clean) {
		backoff_reset(&up->store_backoff);
		store_state(up, false);
	}
}

static bool take_rescan(struct uplink *up)
{
	bool v;

	if (up->store_failing && time_mono_ms() < up->scan_at)
		return false; /* U7: not before the backoff */
	uplink__lock(&up->lock);
	v = up->rescan || up->scan_more;
	up->rescan = false;
	up->scanning = v;
	uplink__unlock(&up->lock);
	return v;
}

void uplink__scan(struct uplink *up)
{
	if (!take_rescan(up))
		return;
	scan_ring(up);
	uplink__lock(&up->lock);
	up->scanning = false;
	uplink__unlock(&up->lock);
}
