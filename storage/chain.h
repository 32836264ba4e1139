/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chain - the per-camera hash chain over recorded segments
 * (docs/integrity.md), kept in state.db (tables chain_entry and
 * chain_checkpoint, module "chain").
 *
 * Entry n of a camera (positions count from 1) has the chain value
 *   C(n) = SHA-256( C(n-1) || H || u8 len(camera) || camera ||
 *                   u64 seq || i64 start_utc_ms || u32 duration_ms )
 * integers big-endian, C(0) 32 zero bytes. H is the segment's SHA-256
 * for a segment entry; for a gap entry (footage that is not there: a
 * camera outage, a segment evicted before central had it) H is
 * SHA-256("camgate-gap:" reason), and seq, start and duration describe
 * what is missing. Gaps are entries, so a chain never hides one.
 *
 * The when and how of checkpoints (signing, sending) is firmware's; this
 * module only keeps the entries and the checkpoint bodies it is given.
 *
 * Threads: every call takes the statedb lock; any thread. Entries of one
 * camera must be appended by one thread at a time (its stream thread).
 * Errors: 0 or negative errno; SQLite failures logged as -EIO.
 */
#ifndef CAMGATE_STORAGE_CHAIN_H
#define CAMGATE_STORAGE_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#define CHAIN_LEN	 32
#define CHAIN_CAMERA_MAX 32
#define CHAIN_REASON_MAX 32

struct chain; /* opaque */
struct statedb;

enum chain_kind {
	CHAIN_SEGMENT = 0,
	CHAIN_GAP = 1,
};

struct chain_entry {
	uint64_t pos; /* set by chain_append() */
	int kind;     /* enum chain_kind */
	char camera[CHAIN_CAMERA_MAX];
	uint64_t seq;
	int64_t start_utc_ms;
	uint32_t duration_ms;
	uint8_t hash[CHAIN_LEN];       /* segment SHA-256; gaps: chain_gap_hash() */
	char reason[CHAIN_REASON_MAX]; /* gaps: "outage", "evicted-before-upload" */
	uint8_t value[CHAIN_LEN];      /* C(pos), set by chain_append() */
};

/* C(n) from @prev and @e's fields (kind, camera, seq, start, duration,
 * hash); a pure function, for the verifier too. */
int chain_step(const uint8_t prev[CHAIN_LEN], const struct chain_entry *e, uint8_t out[CHAIN_LEN]);
/* H of a gap entry with @reason. */
int chain_gap_hash(const char *reason, uint8_t out[CHAIN_LEN]);

/* @db borrowed, must outlive the chain. -EIO, -EPROTO, -ENOMEM. */
int chain_open(struct statedb *db, struct chain **chp);
void chain_close(struct chain *ch); /* NULL is a no-op */

/* Append @e (pos and value are computed, written back into @e) after the
 * camera's last entry, committed before return. */
int chain_append(struct chain *ch, struct chain_entry *e);
/* The camera's last entry; -ENOENT: none yet. */
int chain_last(struct chain *ch, const char *camera, struct chain_entry *e);
/* Position of the camera's last checkpoint (0: none). */
int chain_checkpointed(struct chain *ch, const char *camera, uint64_t *posp);

/* Entries of @camera with @from_pos <= pos <= @to_pos in order; @fn's
 * nonzero return stops the walk and is returned. */
typedef int (*chain_entry_fn)(void *arg, const struct chain_entry *e);
int chain_walk(struct chain *ch, const char *camera, uint64_t from_pos, uint64_t to_pos,
	       chain_entry_fn fn, void *arg);
/* The segment entry of @camera with @seq; -ENOENT. */
int chain_find_seq(struct chain *ch, const char *camera, uint64_t seq, struct chain_entry *e);

/* Store a checkpoint of @camera covering @first_pos..@last_pos with its
 * JSON @body (copied); not yet queued for central. */
int chain_checkpoint_put(struct chain *ch, const char *camera, uint64_t first_pos,
			 uint64_t last_pos, int64_t created_ms, const char *body);
/* Checkpoints whose @queued flag is false, oldest first; @fn gets the
 * camera, last position and body. */
typedef int (*chain_cp_fn)(void *arg, const char *camera, uint64_t last_pos, const char *body);
int chain_checkpoint_walk(struct chain *ch, const char *camera, uint64_t from_pos, uint64_t to_pos,
			  bool unqueued_only, chain_cp_fn fn, void *arg);
int chain_checkpoint_queued(struct chain *ch, const char *camera, uint64_t last_pos);

/* Forget what the ring no longer holds: @camera's entries older than
 * @before_ms, except the newest of them (the anchor of what follows: an
 * export's chain starts from it), and only up to its last checkpoint
 * already queued for central; then the queued checkpoints that end before
 * the oldest entry kept. state.db then grows with the ring's span, not
 * with time. */
int chain_prune(struct chain *ch, const char *camera, int64_t before_ms);

#endif /* CAMGATE_STORAGE_CHAIN_H */
