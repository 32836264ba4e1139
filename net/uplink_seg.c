// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink segments into outbox rows: the notes stream threads queue with
 * uplink_segment_added() become LIVE rows (and what falls out of each
 * camera's live window is demoted to BACKLOG), and the ring scan (U6)
 * turns segments the ring holds as not uploaded into BACKLOG rows. An init
 * segment becomes an URGENT row the first time a segment needs it.
 * Uplink thread only.
 */
#include "net/uplink_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static int seg_row(struct uplink *up, const struct uplink_note *n, int prio)
{
	struct outbox_item it = { .prio = prio, .kind = OUTBOX_SEGMENT };
	bool fresh = false;
	int ret;

	snprintf(it.camera, sizeof(it.camera), "%s", n->camera);
	ret = outbox_init_seen(up->ob, n->init_id, &fresh);
	if (!ret && fresh) {
		struct outbox_item ii = { .prio = OUTBOX_URGENT, .kind = OUTBOX_INIT };

		snprintf(ii.camera, sizeof(ii.camera), "%s", n->camera);
		ii.ref = n->init_id;
		ii.start_ms = ii.created_ms = uplink__now(up);
		ret = uplink_init_path(n->camera, n->init_id, ii.path, sizeof(ii.path));
		if (!ret)
			ret = outbox_put(up->ob, &ii, false);
	}
	if (ret)
		return ret;
	it.ref = n->id;
	it.init_id = n->init_id;
	it.seq = n->seq;
	it.start_ms = n->start_ms;
	it.duration_ms = n->duration_ms;
	it.flags = n->flags;
	it.len = n->len;
	it.created_ms = uplink__now(up);
	ret = uplink_segment_path(n->camera, n->seq, n->start_ms, it.path, sizeof(it.path));
	if (!ret)
		ret = outbox_put(up->ob, &it, false);
	return ret;
}

void uplink__drain_notes(struct uplink *up)
{
	struct uplink_note n;

	for (;;) {
		pthread_mutex_lock(&up->lock);
		if (!up->q_len) {
			pthread_mutex_unlock(&up->lock);
			return;
		}
		n = up->queue[up->q_head];
		up->q_head = (up->q_head + 1) % UPLINK_QUEUE_MAX;
		up->q_len--;
		pthread_mutex_unlock(&up->lock);
		/* A failed row is not lost: the segment is not uploaded in
		 * the ring, so the next scan finds it (U6). */
		if (seg_row(up, &n, OUTBOX_LIVE) ||
		    outbox_demote(up->ob, n.camera, up->cfg.live_window)) {
			pthread_mutex_lock(&up->lock);
			up->rescan = true;
			pthread_mutex_unlock(&up->lock);
		}
	}
}

struct scan_ctx {
	struct uplink *up;
	struct uplink_note *batch;
	unsigned int n;
};

static int scan_one(void *arg, const struct ring_seg_info *info)
{
	struct scan_ctx *sc = arg;
	struct uplink *up = sc->up;
	int c = strcmp(info->camera, up->scan_cam);
	struct uplink_note *n;

	if (info->uploaded || c < 0 || (c == 0 && info->seq <= up->scan_seq))
		return 0;
	if (sc->n >= UPLINK_SCAN_BATCH)
		return 1;
	n = &sc->batch[sc->n++];
	snprintf(n->camera, sizeof(n->camera), "%s", info->camera);
	n->id = info->id;
	n->init_id = info->init_id;
	n->seq = info->seq;
	n->start_ms = info->start_utc_ms;
	n->duration_ms = info->duration_ms;
	n->flags = info->flags;
	n->len = info->len;
	return 0;
}

/* One pass of U6: up to UPLINK_SCAN_BATCH segments the ring holds as not
 * uploaded become BACKLOG rows (rows already there are kept). The ring is
 * walked in (camera, seq) order with a cursor so a large backlog is taken
 * in batches without holding the ring's lock while writing rows. */
static void scan_ring(struct uplink *up)
{
	struct scan_ctx sc = { .up = up };
	int ret;

	sc.batch = calloc(UPLINK_SCAN_BATCH, sizeof(*sc.batch));
	if (!sc.batch)
		return;
	ret = ring_list(up->ring, NULL, INT64_MIN, INT64_MAX, scan_one, &sc);
	for (unsigned int i = 0; i < sc.n; i++) {
		if (seg_row(up, &sc.batch[i], OUTBOX_BACKLOG))
			break;
		snprintf(up->scan_cam, sizeof(up->scan_cam), "%s", sc.batch[i].camera);
		up->scan_seq = sc.batch[i].seq;
	}
	up->scan_more = ret == 1;
	if (!up->scan_more) {
		up->scan_cam[0] = '\0';
		up->scan_seq = 0;
	}
	if (sc.n)
		log_info("uplink: ring scan queued %u segments not yet uploaded%s", sc.n,
			 up->scan_more ? " (more follow)" : "");
	free(sc.batch);
}

static bool take_rescan(struct uplink *up)
{
	bool v;

	pthread_mutex_lock(&up->lock);
	v = up->rescan || up->scan_more;
	up->rescan = false;
	up->scanning = v;
	pthread_mutex_unlock(&up->lock);
	return v;
}

void uplink__scan(struct uplink *up)
{
	if (!take_rescan(up))
		return;
	scan_ring(up);
	pthread_mutex_lock(&up->lock);
	up->scanning = false;
	pthread_mutex_unlock(&up->lock);
}
