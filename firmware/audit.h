/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit - who did what, when, to what: an append-only, hash-chained table
 * in state.db (R8).
 *
 * Every row carries the SHA-256 of the row before it (prev_hash) and its
 * own hash over prev_hash and its canonical content, so a row that is
 * edited, deleted from the middle, inserted or moved breaks the chain at
 * that point. The canonical content, normative (NEVER CHANGE IT; a new
 * format gets a new audit schema step and a version byte):
 *
 *   hash = SHA-256( prev_hash[32] || le64(id) || le64(ts_ms)
 *                   || le32(len) actor || le32(len) action
 *                   || le32(len) object || le32(len) detail )
 *
 * with strings as UTF-8 bytes without NUL; the first row's prev_hash is 32
 * zero bytes. Rows written before the chain existed (the core table had
 * no hash columns) are chained once, oldest first, when this module first
 * migrates the table, and that is audited as "audit-chain-started".
 *
 * Keyed rows (column keyed = 1) carry instead
 *
 *   hash = HMAC-SHA256( key, the same bytes as above )
 *
 * under the gateway's audit key, so only a holder of the key can compute
 * a row's hash: editing a row and recomputing the chain from there no
 * longer verifies. The key is STATE_DIR/audit.key, 0600, made on first
 * use from getrandom(2) and never replaced (as device.key, secrets.h).
 * Key file format (NEVER REORDER): "CGA1" magic, u8 version (1), 3 bytes
 * zero, le64 first keyed id, 32 key bytes; 48 bytes in all.
 * Migration, once, when audit_key_open() makes the key: the rows already
 * there stay as they are (central holds copies with their hashes) and
 * one keyed row, "audit-chain-keyed", is chained after them; its HMAC
 * covers the last unkeyed row's hash, so the unkeyed rows before it can
 * no longer be rewritten without the key either. The first keyed id is
 * that row's id; every row from it on must be keyed, so a chain rewritten
 * as unkeyed rows (a downgrade) fails too.
 *
 * Guarantees (tests/unit/audit_test.c):
 *  A1  audit_record() returns 0 only after the row is committed, chained to
 *      the row before it, across processes too (BEGIN IMMEDIATE: the
 *      daemon and `camgate console` write to the same file).
 *  A2  audit_verify() finds any edited, deleted, inserted or reordered row
 *      and names the first bad one.
 *  A3  Removing the newest rows leaves a valid, shorter chain: only an
 *      anchor kept elsewhere (central's copy, audit_head()) reveals it.
 *  A4  With the key loaded, audit_record() writes keyed rows, and
 *      audit_verify() fails at the first row that is unkeyed from the
 *      first keyed id on, or whose HMAC does not match (edited, or written
 *      under another key): a whole chain recomputed without the key does
 *      not verify.
 * What A4 does not give: whoever can read audit.key (root on the
 * gateway) can still rewrite the chain; truncation is as in A3.
 *
 * Secrets never reach the table: callers mask them.
 * Threads: any; statedb serialises within the process.
 * Errors: -EIO (SQLite, logged here once), -EBADMSG (verify found a bad
 * row; a malformed key file), -ENOKEY (keyed rows, but no key loaded),
 * -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_AUDIT_H
#define CAMGATE_FIRMWARE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct statedb;

#define AUDIT_HASH_LEN 32
#define AUDIT_KEY_LEN  32
#define AUDIT_KEY_NAME "audit.key"

/* Bring the audit tables to this firmware's schema: the chain columns
 * (statedb_migrate module "audit"), chaining older rows once, and the
 * ship cursor (module "audit_uplink"). Call it once after statedb_open();
 * idempotent and cheap, and the functions below call it too, so callers
 * that only record need not. */
int audit_open(struct statedb *db);

/* Load STATE_DIR/audit.key, making it (and the "audit-chain-keyed" row)
 * on first use, and key the chain with it from now on. The key is
 * process-wide (a process has one state dir): call this once, after
 * statedb_open() and before other threads record. Calling it again
 * re-reads the file. -EBADMSG: a malformed key file, never replaced.
 * -EIO, other -errno of the key file (logged). */
int audit_key_open(struct statedb *db, const char *state_dir);
/* For tests and tools: key the chain with @key (copied), whose first
 * keyed row is @first_id. NULL forgets the key (wiped). */
void audit_key_set(const uint8_t *key, int64_t first_id);

/* All strings borrowed for the call; NULL is stored as "". @ts_ms 0 means
 * now. -EIO: the row could not be written (logged). */
int audit_record(struct statedb *db, int64_t ts_ms, const char *actor, const char *action,
		 const char *object, const char *detail);

struct audit_row { /* strings valid during the callback only */
	int64_t id;
	int64_t ts_ms;
	const char *actor;
	const char *action;
	const char *object;
	const char *detail;
	uint8_t prev_hash[AUDIT_HASH_LEN];
	uint8_t hash[AUDIT_HASH_LEN];
	bool keyed; /* hash is an HMAC under the audit key */
};
typedef int (*audit_row_fn)(void *arg, const struct audit_row *row);

/* Rows with id > @after_id, oldest first, at most @max (0: all); @fn
 * returning non-0 stops the walk and that value is returned. The uplink
 * sends rows to central with this, resuming after its last id. */
int audit_list(struct statedb *db, int64_t after_id, int max, audit_row_fn fn, void *arg);

/* The newest row's id and hash (the anchor central keeps); *idp 0 and a
 * zero hash when the table is empty. */
int audit_head(struct statedb *db, int64_t *idp, uint8_t hash[AUDIT_HASH_LEN]);

/*
 * Shipping to central (R8). The cursor is the id of the last row handed
 * to the uplink, in table audit_shipped of the same state.db. It moves
 * only with audit_ship_advance(), inside the very transaction that
 * commits the outbox rows of the rows it passes (the @also of
 * uplink_events()/outbox_put_many()): after a crash either both are
 * there or neither, so a row reaches central once, never twice and
 * never not at all. One shipper at a time (the daemon's main thread).
 */
int audit_shipped(struct statedb *db, int64_t *idp);
struct audit_ship {
	int64_t from; /* the cursor as audit_shipped() read it */
	int64_t to;   /* the last row the transaction covers */
};
/* Move the cursor from @arg's from to its to (@arg a struct audit_ship),
 * on @db, the statedb connection whose lock and open transaction the
 * caller holds. -ESTALE: the cursor is not at from (logged; roll back).
 * -EIO. */
struct sqlite3;
int audit_ship_advance(struct sqlite3 *db, void *arg);

struct audit_verify_report {
	uint64_t rows;	      /* rows checked */
	int64_t first_bad_id; /* 0 when intact */
	const char *why;      /* static text; NULL when intact */
};
/* Walk the whole chain. 0: intact. -EBADMSG: rep names the first bad row
 * and why ("content changed", "content changed, or written under another
 * key", "chain broken: a row before it was deleted, inserted or moved",
 * "not chained", "not keyed: rewritten without the audit key"). -ENOKEY:
 * a keyed row, and no key loaded (rep names it). -EIO. */
int audit_verify(struct statedb *db, struct audit_verify_report *rep);

#endif /* CAMGATE_FIRMWARE_AUDIT_H */
