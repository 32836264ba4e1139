/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sql - one SQLite statement in one call: prepare, bind, step through its
 * rows, finalize, and one log line if any of it fails; and one
 * transaction around a caller's statements.
 *
 * The caller holds whatever lock guards @db (statedb_lock()); nothing
 * here locks. Failures are logged once, rate-limited (a full or broken
 * state disk repeats), as "@what: SQLite's message".
 */
#ifndef CAMGATE_LIB_SQL_H
#define CAMGATE_LIB_SQL_H

#include <stdint.h>

struct sqlite3;
struct sqlite3_stmt;

/* Called for each row; a nonzero return stops the walk and is returned
 * by sql_exec() (use a negative errno, or 1 for "found, stop"). */
typedef int (*sql_row_fn)(void *arg, struct sqlite3_stmt *st);

/* Run @sql with one argument per character of @fmt, bound in order:
 *   'i'  int64_t
 *   't'  const char * (NULL binds NULL; not copied, must outlive the call)
 *   'b'  const void *, then size_t: a blob (not copied)
 * @row may be NULL for statements whose rows do not matter.
 * Returns 0 when the statement ran to its end, @row's nonzero value, or
 * -EIO (logged) when SQLite failed; -EINVAL (logged) for a bad @fmt. */
int sql_exec(struct sqlite3 *db, const char *what, const char *sql, sql_row_fn row, void *arg,
	     const char *fmt, ...);

/* Runs @body(@db, @arg) inside one BEGIN IMMEDIATE ... COMMIT: committed
 * when it returns 0, rolled back otherwise, so all of it or none. Returns
 * @body's error, or -EIO (logged as "@what: ...") when BEGIN or COMMIT
 * failed. The caller holds @db's lock, as for sql_exec(). */
int sql_txn(struct sqlite3 *db, const char *what, int (*body)(struct sqlite3 *db, void *arg),
	    void *arg);

#endif /* CAMGATE_LIB_SQL_H */
