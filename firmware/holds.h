/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * holds - legal holds: footage of a camera over a time range kept in the
 * ring until the hold is released (R10), whatever retention and the
 * upload state say. Kept in state.db (table hold, module "holds"); the
 * daemon reloads the active ones every status tick, so a hold placed by
 * `camgate hold` or the console takes effect within one tick, and the
 * ring asks holds_covers() (ring_set_held_fn()) before it overwrites a
 * segment; the evict hook then vetoes it. Placing and releasing are
 * audited by the callers (firmware/cmd_hold.c).
 *
 * Threads: holds_covers() from any thread (the ring's, locked) reads the
 * in-memory copy under the holds' mutex; the rest on one thread.
 * Ownership: holds_open() allocates, holds_close() frees; @db borrowed.
 */
#ifndef CAMGATE_FIRMWARE_HOLDS_H
#define CAMGATE_FIRMWARE_HOLDS_H

#include <stdbool.h>
#include <stdint.h>

struct holds; /* opaque */
struct statedb;

#define HOLDS_TEXT_MAX 256

struct hold {
	int64_t id;
	char camera[32];
	int64_t from_ms, to_ms;
	char reason[HOLDS_TEXT_MAX];
	char by[64];
	int64_t created_ms;
};

int holds_open(struct statedb *db, struct holds **hp);
void holds_close(struct holds *h); /* NULL is a no-op */

/* A new active hold; its id into *idp. -EINVAL: empty reason, from >= to. */
int holds_add(struct holds *h, const struct hold *in, int64_t now_ms, int64_t *idp);
/* Active hold @id into *out; -ENOENT. */
int holds_get(struct holds *h, int64_t id, struct hold *out);
/* Release active hold @id; -ENOENT: no such active hold. *out: what it was. */
int holds_release(struct holds *h, int64_t id, const char *by, int64_t now_ms, struct hold *out);
/* Active holds, oldest first; @fn's nonzero return stops. */
int holds_list(struct holds *h, int (*fn)(void *arg, const struct hold *hd), void *arg);

/* Reread the active holds from state.db into memory. */
int holds_reload(struct holds *h);
/* Does an active hold (as last reloaded) meet [start, start + dur)? */
bool holds_covers(struct holds *h, const char *camera, int64_t start_ms, uint32_t dur_ms);

#endif /* CAMGATE_FIRMWARE_HOLDS_H */
