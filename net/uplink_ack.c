// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink acknowledgements: what follows central's 2xx for an outbox row.
 *
 * A 2xx'd row waits in up->acks until its batch is committed; meanwhile
 * it counts as busy, so it is not sent again. A commit is, in this order:
 *  1. one outbox transaction deletes every row of the batch and records
 *     the init segments among them (outbox_done_many: one sync, not one
 *     per object);
 *  2. the batch's media segments are marked uploaded in the ring (one
 *     ring transaction);
 *  3. the live playlists of the live segments and init segments are
 *     brought up to date (U3).
 * What a kill -9 leaves (U1, nothing lost, at most repeated):
 *  - before 1: the rows are still in the outbox and the segments still
 *    pinned in the ring; they are sent again after the restart (every
 *    PUT is idempotent);
 *  - between 1 and 2: the rows are gone but the ring still holds the
 *    segments as not uploaded, so the ring scan at start (U6) queues
 *    them again.
 * Step 1 comes before step 2 so that a segment the ring may evict once
 * it is marked uploaded never has an outbox row left, which would then
 * be reported lost.
 *
 * When: at the end of the loop turn that acknowledged a row live view
 * waits for (a live segment newer than its playlist's newest, an init
 * segment); otherwise when UPLINK_ACK_BATCH rows wait, when the oldest
 * has waited UPLINK_ACK_DELAY_MS, when nothing is in flight, and at stop.
 * The rest (backlog, the older live segments after an outage, status,
 * events) thus costs one commit per batch rather than one per object.
 * Uplink thread only.
 */
#include "net/uplink_int.h"

#include <errno.h>

#include "lib/parse.h"

static void ack_commit(struct uplink *up)
{
	struct outbox_ack a[UPLINK_ACK_BATCH] = { { 0 } };
	uint64_t segs[UPLINK_ACK_BATCH];
	unsigned int n = up->nacks, nsegs = 0;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		const struct outbox_item *it = &up->acks[i];

		a[i] = (struct outbox_ack){ .id = it->id,
					    .version = it->version,
					    .init = it->kind == OUTBOX_INIT,
					    .ref = it->ref };
	}
	up->nacks = 0;
	up->ack_now = false;
	/* On failure nothing was committed: the rows stay due and are sent
	 * again (outbox_done_many logged why). */
	if (outbox_done_many(up->ob, a, n))
		return;
	for (unsigned int i = 0; i < n; i++)
		if (up->acks[i].kind == OUTBOX_SEGMENT)
			segs[nsegs++] = up->acks[i].ref;
	ret = ring_mark_uploaded_many(up->ring, segs, nsegs);
	if (ret) {
		/* The ring logged it; its scan queues the segments again, so
		 * they stay pinned until marked. */
		pthread_mutex_lock(&up->lock);
		up->rescan = true;
		pthread_mutex_unlock(&up->lock);
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct outbox_item *it = &up->acks[i];

		if (it->kind == OUTBOX_INIT)
			uplink__live_init_acked(up, it->camera);
		/* Only live segments make live view; backlog is archive. */
		else if (it->kind == OUTBOX_SEGMENT && it->prio == OUTBOX_LIVE)
			uplink__live_ack(up, it);
	}
}

void uplink__ack_add(struct uplink *up, const struct outbox_item *it)
{
	struct outbox_item *a;

	if (up->nacks >= UPLINK_ACK_BATCH)
		ack_commit(up);
	if (!up->nacks)
		up->ack_since = time_mono_ms();
	a = &up->acks[up->nacks++];
	*a = *it;
	a->body = NULL; /* the slot keeps and frees the body */
	/* Live view waits for these: a live segment that moves its playlist
	 * and an init segment a playlist may be waiting for. */
	if (it->kind == OUTBOX_INIT ||
	    (it->kind == OUTBOX_SEGMENT && it->prio == OUTBOX_LIVE && uplink__live_moves(up, it)))
		up->ack_now = true;
}

int64_t uplink__ack_flush(struct uplink *up, int64_t mono, bool idle, bool force)
{
	int64_t left;

	if (!up->nacks)
		return -1;
	left = up->ack_since + UPLINK_ACK_DELAY_MS - mono;
	if (force || idle || up->ack_now || up->nacks >= UPLINK_ACK_BATCH || left <= 0) {
		ack_commit(up);
		return -1;
	}
	return left;
}
