/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit - who did what, when, to what: an append-only table in state.db.
 *
 * Rows are only ever inserted. Secrets never reach it: callers mask them.
 * Threads: any; statedb serialises.
 */
#ifndef CAMGATE_FIRMWARE_AUDIT_H
#define CAMGATE_FIRMWARE_AUDIT_H

#include <stdint.h>

struct statedb;

/* All strings borrowed for the call. @ts_ms 0 means now.
 * -EIO: the row could not be written (logged). */
int audit_record(struct statedb *db, int64_t ts_ms, const char *actor,
		 const char *action, const char *object, const char *detail);

#endif /* CAMGATE_FIRMWARE_AUDIT_H */
