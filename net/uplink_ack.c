// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink acknowledgements: what follows central's 2xx for an outbox row.
 *
 * A 2xx'd row waits in up->acks until its batch is handed to the ack
 * thread, which commits it while the uplink thread goes on feeding curl:
 * the commit's sync never stalls the network thread. One batch (a job)
 * is committed at a time; until it is, its rows count as busy, so they
 * are not sent again. A job is, in this order:
 *  0. (uplink thread, when the job is made) the live playlists of its
 *     live segments and init segments are brought up to date in memory
 *     and rendered into the job (U3): central already holds every
 *     segment they name;
 *  1. (ack thread) one outbox transaction puts those playlists, deletes
 *     every row of the batch and records the init segments among them
 *     (outbox_commit: one sync for the lot). That deletion is the whole
 *     acknowledgement: the outbox is the one record of a segment's
 *     upload (net/outbox.h S1-S3); the ring asks it before evicting and
 *     holds no flag of its own to set.
 * What a kill -9 leaves (U1, nothing lost, at most repeated): before the
 * commit, the rows are still in the outbox and the segments still owed
 * (pinned in the ring); they are sent again after the restart (every
 * PUT is idempotent); the playlists come with the next live segment.
 * After it, nothing is sent again. If the commit fails (the disk), the
 * rows stay due and are sent again; the playlists then wait for the next
 * live segment.
 *
 * When: at the end of the loop turn that acknowledged a row live view
 * waits for (a live segment newer than its playlist's newest, an init
 * segment); otherwise when UPLINK_ACK_BATCH rows wait, when the oldest
 * has waited UPLINK_ACK_DELAY_MS, when nothing is in flight, and at stop;
 * always once the previous job is done. The rest (backlog, the older
 * live segments after an outage, status, events) thus costs one commit
 * per batch rather than one per object.
 */
#include "net/uplink_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"

enum { JOB_IDLE = 0, JOB_QUEUED, JOB_DONE };

/* ---- the ack thread ---- */

static void job_commit(struct uplink *up, struct uplink_ack_job *job)
{
	struct outbox_ack a[UPLINK_ACK_BATCH];

	for (unsigned int i = 0; i < job->n; i++) {
		const struct outbox_item *it = &job->rows[i];

		a[i] = (struct outbox_ack){ .id = it->id,
					    .version = it->version,
					    .init = it->kind == OUTBOX_INIT,
					    .ref = it->ref };
	}
	/* On failure nothing was committed (outbox_commit logged why): the
	 * rows stay due and are sent again, after a backoff (job_reap). */
	job->commit_ret = outbox_commit(up->ob, job->puts, job->nputs, a, job->n);
}

static void *ack_main(void *arg)
{
	struct uplink *up = arg;

	uplink__lock(&up->ack_lock);
	for (;;) {
		while (up->job_state != JOB_QUEUED && !up->ack_stop)
			pthread_cond_wait(&up->ack_cond, &up->ack_lock);
		if (up->job_state != JOB_QUEUED)
			break;
		uplink__unlock(&up->ack_lock);
		job_commit(up, &up->job);
		uplink__lock(&up->ack_lock);
		up->job_state = JOB_DONE;
		pthread_cond_broadcast(&up->ack_cond);
		uplink__wake(up);
	}
	uplink__unlock(&up->ack_lock);
	return NULL;
}

int uplink__ack_start(struct uplink *up)
{
	int ret;

	pthread_mutex_init(&up->ack_lock, NULL);
	pthread_cond_init(&up->ack_cond, NULL);
	ret = -pthread_create(&up->ack_thread, NULL, ack_main, up);
	if (ret) {
		log_err("uplink: cannot start the acknowledgement thread: %s", strerror(-ret));
		pthread_cond_destroy(&up->ack_cond);
		pthread_mutex_destroy(&up->ack_lock);
		return ret;
	}
	pthread_setname_np(up->ack_thread, "uplink ack");
	up->ack_started = true;
	return 0;
}

void uplink__ack_stop(struct uplink *up)
{
	if (!up->ack_started)
		return;
	uplink__lock(&up->ack_lock);
	up->ack_stop = true;
	pthread_cond_broadcast(&up->ack_cond);
	uplink__unlock(&up->ack_lock);
	pthread_join(up->ack_thread, NULL);
	pthread_cond_destroy(&up->ack_cond);
	pthread_mutex_destroy(&up->ack_lock);
	up->ack_started = false;
}

/* ---- the uplink thread ---- */

static void job_clear(struct uplink_ack_job *job)
{
	for (unsigned int i = 0; i < job->nputs; i++)
		outbox_item_clear(&job->puts[i]);
	job->n = job->nputs = 0;
}

/* R2: the daemon's deadline for a record ends with its acknowledgement. */
static void report_registry_acks(struct uplink *up, const struct uplink_ack_job *job)
{
	for (unsigned int i = 0; i < job->n; i++) {
		struct uplink_outcome o = { .kind = UPLINK_OUT_ACKED, .path = job->rows[i].path };

		if (job->rows[i].kind == OUTBOX_REGISTRY)
			uplink__report(up, &o);
	}
}

/* Takes a finished job back (@wait: waits for it); true when the ack
 * thread is free for the next one. */
static bool job_reap(struct uplink *up, bool wait)
{
	int state;

	uplink__lock(&up->ack_lock);
	while (wait && up->job_state == JOB_QUEUED)
		pthread_cond_wait(&up->ack_cond, &up->ack_lock);
	state = up->job_state;
	uplink__unlock(&up->ack_lock);
	if (state == JOB_QUEUED)
		return false;
	if (state == JOB_DONE) {
		/* U7: central holds these rows but state.db would not let
		 * them go; sending them again at once would only fail the
		 * same way, as fast as central answers. */
		if (up->job.commit_ret)
			uplink__store_hold(up);
		else if (up->job.n)
			backoff_reset(&up->ack_backoff);
		if (!up->job.commit_ret)
			report_registry_acks(up, &up->job);
		job_clear(&up->job);
		uplink__lock(&up->ack_lock);
		up->job_state = JOB_IDLE;
		uplink__unlock(&up->ack_lock);
	}
	return true;
}

/* Moves the waiting rows into the (idle) job, renders the playlists
 * they change and hands it to the ack thread. */
static void job_submit(struct uplink *up)
{
	struct uplink_ack_job *job = &up->job;

	memcpy(job->rows, up->acks, up->nacks * sizeof(up->acks[0]));
	job->n = up->nacks;
	job->nputs = 0;
	up->nacks = 0;
	up->ack_now = false;
	for (unsigned int i = 0; i < job->n; i++) {
		const struct outbox_item *it = &job->rows[i];

		if (it->kind == OUTBOX_INIT)
			uplink__live_init_acked(up, it->camera, job);
		/* Only live segments make live view; backlog is archive. */
		else if (it->kind == OUTBOX_SEGMENT && it->prio == OUTBOX_LIVE)
			uplink__live_ack(up, it, job);
	}
	uplink__lock(&up->ack_lock);
	up->job_state = JOB_QUEUED;
	pthread_cond_broadcast(&up->ack_cond);
	uplink__unlock(&up->ack_lock);
}

void uplink__ack_add(struct uplink *up, const struct outbox_item *it)
{
	struct outbox_item *a;

	/* A full batch waits for the ack thread: back-pressure, rare. */
	if (up->nacks >= UPLINK_ACK_BATCH) {
		job_reap(up, true);
		job_submit(up);
	}
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
	bool free_now = job_reap(up, force);

	if (!up->nacks)
		return -1;
	if (!free_now)
		return -1; /* the ack thread wakes the loop when it is done */
	left = up->ack_since + UPLINK_ACK_DELAY_MS - mono;
	if (force || idle || up->ack_now || up->nacks >= UPLINK_ACK_BATCH || left <= 0) {
		job_submit(up);
		if (force)
			job_reap(up, true);
		return -1;
	}
	return left;
}

void uplink__store_hold(struct uplink *up)
{
	int64_t hold = time_mono_ms() + backoff_next(&up->ack_backoff);

	if (hold > up->store_hold_until)
		up->store_hold_until = hold;
}

size_t uplink__ack_busy(const struct uplink *up, int64_t *busy)
{
	size_t n = 0;

	/* job.n is the uplink thread's: set by the submit, zeroed by the
	 * reap, so it counts a job until its result was taken back. */
	for (unsigned int i = 0; i < up->nacks; i++)
		busy[n++] = up->acks[i].id;
	for (unsigned int i = 0; i < up->job.n; i++)
		busy[n++] = up->job.rows[i].id;
	return n;
}
