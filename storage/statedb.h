/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statedb - the gateway's state database, STATE_DIR/state.db (SQLite, WAL).
 *
 * Holds what is not footage: the audit log and alarms, and the tables of
 * other modules (registry, outbox, accounts). Each module versions its own
 * tables through statedb_migrate() (a row per module in `schema`), so
 * modules evolve independently; steps are append-only, never edited.
 *
 * Threads: one connection serialised by the statedb mutex; callers take
 * it with statedb_lock() around their statements so one writer path
 * exists per file. A thread whose reads must not wait behind another
 * thread's commit (its fsync) can have a read-only connection of its own.
 */
#ifndef CAMGATE_STORAGE_STATEDB_H
#define CAMGATE_STORAGE_STATEDB_H

#include <stddef.h>

struct statedb; /* opaque */
struct sqlite3;

/* Open or create @dir/state.db (the directory is created if missing).
 * A file there that is not a sound SQLite database (its header, then
 * SQLite's own errors and PRAGMA quick_check), or that
 * statedb_abandon() marked, is moved aside
 * (state.db.corrupt-EPOCH, with its -wal and -shm) and a new one
 * created; statedb_take_origin() tells. -EIO: SQLite refused (logged).
 * -ENOMEM. *dbp set only on success. */
int statedb_open(const char *dir, struct statedb **dbp);
void statedb_close(struct statedb *db); /* NULL is a no-op */

enum statedb_origin {
	STATEDB_OPENED,	  /* an existing database */
	STATEDB_CREATED,  /* there was no state.db */
	STATEDB_REPLACED, /* state.db was not a database: moved aside */
};

/* How state.db began, if it began since the last call: STATEDB_OPENED
 * when nothing new, else CREATED or REPLACED (REPLACED wins), and taken
 * so the next call says OPENED. Kept in the file, so it does not matter
 * whether a console command or the daemon opened it first. The caller
 * decides whether a new file means state was lost (the daemon does when
 * footage exists already). -EIO (logged). */
int statedb_take_origin(struct statedb *db, enum statedb_origin *op);

/* Is the file opened still at its path, and a database? 0 yes; -ENOENT
 * removed or replaced by another file; -EBADMSG overwritten (its header
 * is not SQLite's); other -errno from stat or read. The connection keeps
 * writing to what it opened, so without this check a removed state.db
 * would take every row until the next start, and lose them then. Cheap:
 * a stat and a 16-byte read. Not logged. */
int statedb_check(struct statedb *db);

/* PRAGMA quick_check of the file as committed, on a read-only connection
 * of its own (the statedb mutex is not taken: writers go on meanwhile).
 * Finds what statedb_check() cannot: a page damaged in the middle under
 * a sound header, which the running connection would not notice until
 * it read that page, and which the next start would refuse. Costs a read
 * of every b-tree page: see docs/reliability.md for the figure. 0 sound;
 * -EBADMSG damaged, with quick_check's first line (or SQLite's error) in
 * @why (not logged: the caller decides); -EIO other SQLite errors,
 * -ENOMEM (a failed open logged). */
int statedb_quick_check(struct statedb *db, char *why, size_t whylen);

/* The file is known damaged (statedb_check() or statedb_quick_check()
 * said -EBADMSG): closing must not checkpoint the -wal into it, which
 * could make a partly overwritten file look whole again; and a mark
 * (state.db.damaged) makes the next statedb_open() move it aside even if
 * it then looks sound (SQLite's WAL recovery drops the frames after a
 * damaged one without an error). */
void statedb_abandon(struct statedb *db);

/* Bring @module's tables to version @nsteps: step N (0-based) takes the
 * module from version N to N+1, each in its own transaction, recorded in
 * the `schema` table. Steps are append-only. -EPROTO: the file is newer
 * than this firmware. -EIO (logged). */
int statedb_migrate(struct statedb *db, const char *module, const char *const *steps, int nsteps);

/* Borrowed handle, valid between lock and unlock. */
struct sqlite3 *statedb_lock(struct statedb *db);
void statedb_unlock(struct statedb *db);

/* A read-only connection to the same file, owned by the caller (one
 * thread at a time) and closed with statedb_reader_close(). WAL lets it
 * read while the main connection commits; each statement sees what was
 * committed when it began. -EIO (logged), -ENOMEM. */
int statedb_reader_open(struct statedb *db, struct sqlite3 **connp);
void statedb_reader_close(struct sqlite3 *conn); /* NULL is a no-op */

#endif /* CAMGATE_STORAGE_STATEDB_H */
