// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/audit.h"

#include <errno.h>
#include <sqlite3.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

int audit_record(struct statedb *sdb, int64_t ts_ms, const char *actor,
		 const char *action, const char *object, const char *detail)
{
	sqlite3 *db = statedb_lock(sdb);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO audit(ts_ms, actor, action, object, detail)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, ts_ms ? ts_ms : time_now_ms());
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	log_info("audit: %s %s %s: %s", actor, action, object, detail);
	goto out;
fail:
	log_err("audit: cannot record %s %s: %s", action, object, sqlite3_errmsg(db));
	ret = -EIO;
out:
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	return ret;
}
