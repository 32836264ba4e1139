/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * integrity - the gateway's side of docs/integrity.md: every stored
 * segment becomes an entry of its camera's hash chain (storage/chain.h),
 * holes become gap entries, and every [integrity] checkpoint_segments
 * entries or checkpoint_interval a checkpoint signed with the device key
 * (firmware/identity.h) is stored in state.db and queued for central as
 * chain/{camera}/{position}.json.
 *
 * Threads: integrity_segment() on the camera's stream thread,
 * integrity_evicted() in the ring's evict hook, integrity_tick() on the
 * main thread; a mutex keeps two threads from making the same checkpoint.
 * Ownership: integrity_open() allocates, integrity_close() frees; the
 * statedb is borrowed.
 */
#ifndef CAMGATE_FIRMWARE_INTEGRITY_H
#define CAMGATE_FIRMWARE_INTEGRITY_H

#include <stdbool.h>
#include <stdint.h>

struct integrity; /* opaque */
struct config;
struct statedb;
struct ring_seg_info;
struct chain;
struct identity;

/* A start later than the previous segment's end by more than this (or
 * its duration, if longer) is an outage gap. */
#define INTEGRITY_OUTAGE_MS 2000

int integrity_open(const struct config *cfg, struct statedb *sdb, struct integrity **itp);
void integrity_close(struct integrity *it); /* NULL is a no-op */

/* A segment was committed to the ring: chain it (after a gap entry when
 * seq or time jumped), and checkpoint when checkpoint_segments are due. */
int integrity_segment(struct integrity *it, const struct ring_seg_info *info, int64_t now_ms);
/* A segment central never received was overwritten: a gap entry. */
int integrity_evicted(struct integrity *it, const struct ring_seg_info *info, int64_t now_ms);

/* Queues an object for central (uplink_put_object()). */
typedef int (*integrity_put_fn)(void *arg, const char *path, const char *body, int64_t created_ms);
/* Checkpoint the cameras whose pending entries waited checkpoint_interval
 * (all pending ones with @flush), then hand every checkpoint not yet
 * queued to @put (NULL: none; they wait in state.db). */
int integrity_tick(struct integrity *it, int64_t now_ms, bool flush, integrity_put_fn put,
		   void *arg);

/* Forget chain entries and sent checkpoints of footage older than
 * @before_ms (the ring's oldest segment): chain_prune() for every camera
 * seen. Main thread. */
int integrity_prune(struct integrity *it, int64_t before_ms);

/* Checkpoint @camera's pending entries now (an export wants its range
 * covered). */
int integrity_checkpoint_now(struct integrity *it, const char *camera, int64_t now_ms);

struct chain *integrity_chain(struct integrity *it);
struct identity *integrity_identity(struct integrity *it);

#endif /* CAMGATE_FIRMWARE_INTEGRITY_H */
