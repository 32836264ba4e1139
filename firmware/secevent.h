/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * secevent - security events for central (R16: abuse and data theft
 * reported at once), sent as events of type "security" at the outbox's
 * URGENT priority, ahead of every queued segment.
 *
 * Sources:
 *  - the audit log, read after a cursor of its own (table secevent_cursor
 *    in state.db) by secevent_scan(), so what any process audited (the
 *    console's `camgate console`, `camgate ring verify`) is found:
 *      login-burst     SECEVENT_BURST failed logins within
 *                      SECEVENT_BURST_MS (any names), once per burst;
 *      lockout         the first "account locked" refusal of an account
 *                      within SECEVENT_BURST_MS;
 *      audit-chain     `log verify` found the chain broken;
 *      ring-tampered   `ring verify` found a bad record;
 *      ptz-refused, setting-refused, denied: an account or central
 *                      tried what its role does not allow;
 *  - the registry's change log (registry_changes, cause discovery),
 *    after a cursor of its own:
 *      new-device        another device answers at a known camera's
 *                        address (serial or MAC replaced);
 *      identity-changed  a device with a known camera's serial answers
 *                        with another endpoint reference or MAC;
 *      firmware-changed  the camera reports other firmware;
 *  - the daemon directly: secevent_audit_check(), the chain verified at
 *    start and every SECEVENT_VERIFY_MS.
 *
 * The cursor moves in the same transaction as the events' outbox rows
 * (secevent_advance() as the @also of uplink_events()): an event is sent
 * once, never twice, never not at all.
 *
 * Threads: the daemon's main thread. Errors: 0 or -errno (-EIO, -ENOMEM).
 */
#ifndef CAMGATE_FIRMWARE_SECEVENT_H
#define CAMGATE_FIRMWARE_SECEVENT_H

#include <stddef.h>
#include <stdint.h>

struct statedb;
struct sqlite3;

#define SECEVENT_BATCH	   64
#define SECEVENT_MSG	   320
#define SECEVENT_BURST	   5
#define SECEVENT_BURST_MS  (5 * 60 * 1000)
#define SECEVENT_VERIFY_MS (60 * 60 * 1000)

struct secevent {
	char camera[64]; /* "" for the gateway */
	char message[SECEVENT_MSG];
};

struct secevent_batch {
	struct secevent ev[SECEVENT_BATCH];
	size_t n;
	int64_t from, to;	  /* the audit cursor before and after (the rows read) */
	int64_t reg_from, reg_to; /* the registry change-log cursor likewise */
};

/* Read the audit rows after the cursor (at most SECEVENT_BATCH) into
 * @b: the events they call for, and b->to the last row read. On the
 * first run the cursor starts at the newest row (old history is not
 * news). */
int secevent_scan(struct statedb *db, struct secevent_batch *b);
/* Move the cursor from b->from to b->to on @db inside the caller's
 * transaction (@arg a struct secevent_batch). -ESTALE: moved meanwhile. */
int secevent_advance(struct sqlite3 *db, void *arg);
/* The same without events to send (no uplink). */
int secevent_skip(struct statedb *db, struct secevent_batch *b);

/* Verify the audit chain; on failure fill @ev (the alarm "audit-chain-
 * broken" is raised too) and return 1; 0 when intact. */
int secevent_audit_check(struct statedb *db, struct secevent *ev);

#endif /* CAMGATE_FIRMWARE_SECEVENT_H */
