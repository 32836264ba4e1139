// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/sql.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

#include <sqlite3.h>

#include "lib/log.h"

/* Not a SQLite result code (those are never negative). */
#define SQL_BAD_FMT (-1)

static int sql_bind(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	int rc = SQLITE_OK;

	for (int i = 1; rc == SQLITE_OK && *fmt; fmt++, i++) {
		const void *p;

		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 't':
			p = va_arg(ap, const char *);
			rc = p ? sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC)
			       : sqlite3_bind_null(st, i);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			rc = sqlite3_bind_blob64(st, i, p, va_arg(ap, size_t), SQLITE_STATIC);
			break;
		default:
			return SQL_BAD_FMT;
		}
	}
	return rc;
}

int sql_exec(struct sqlite3 *db, const char *what, const char *sql, sql_row_fn row, void *arg,
	     const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		va_start(ap, fmt);
		rc = sql_bind(st, fmt ? fmt : "", ap);
		va_end(ap);
	}
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && row) {
			ret = row(arg, st);
			if (ret)
				break;
		}
	}
	if (!ret && rc != SQLITE_DONE) {
		log_err_limited("%s: %s", what,
				rc == SQL_BAD_FMT ? "bad parameter list" : sqlite3_errmsg(db));
		ret = rc == SQL_BAD_FMT ? -EINVAL : -EIO;
	}
	sqlite3_finalize(st);
	return ret;
}

int sql_txn(struct sqlite3 *db, const char *what, int (*body)(struct sqlite3 *db, void *arg),
	    void *arg)
{
	int ret = sql_exec(db, what, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (ret)
		return ret;
	ret = body(db, arg);
	if (!ret)
		ret = sql_exec(db, what, "COMMIT", NULL, NULL, NULL);
	if (ret)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
