/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statedb - the gateway's state database, STATE_DIR/state.db (SQLite, WAL).
 *
 * Holds what is not footage: the audit log and alarms (and, later,
 * accounts, the registry and the outbox). The schema is versioned with
 * PRAGMA user_version and migrated forward in statedb_open(); migrations
 * are append-only, never edited.
 *
 * Threads: one connection serialised by the statedb mutex; callers take
 * it with statedb_lock() around their statements so one writer path
 * exists per file.
 */
#ifndef CAMGATE_STORAGE_STATEDB_H
#define CAMGATE_STORAGE_STATEDB_H

struct statedb;		/* opaque */
struct sqlite3;

/* Open or create @dir/state.db (the directory is created if missing).
 * -EIO: SQLite refused (logged). -ENOMEM. *dbp set only on success. */
int statedb_open(const char *dir, struct statedb **dbp);
void statedb_close(struct statedb *db);	/* NULL is a no-op */

/* Borrowed handle, valid between lock and unlock. */
struct sqlite3 *statedb_lock(struct statedb *db);
void statedb_unlock(struct statedb *db);

#endif /* CAMGATE_STORAGE_STATEDB_H */
