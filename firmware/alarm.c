// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/alarm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sql.h"
#include "storage/statedb.h"

static alarm_notify_fn alarm_notify;
static void *alarm_notify_arg;

void alarm_set_notify(alarm_notify_fn fn, void *arg)
{
	alarm_notify = fn;
	alarm_notify_arg = arg;
}

static int alarm_exec(struct statedb *sdb, const char *sql, const char *code, const char *camera,
		      const char *message, int *changesp)
{
	sqlite3 *db = statedb_lock(sdb);
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "alarm %s", code);
	ret = message ? sql_exec(db, what, sql, NULL, NULL, "ittt", time_now_ms(), code, camera,
				 message)
		      : sql_exec(db, what, sql, NULL, NULL, "itt", time_now_ms(), code, camera);
	if (!ret)
		*changesp = sqlite3_changes(db);
	statedb_unlock(sdb);
	return ret;
}

int alarm_raise(struct statedb *db, const char *code, const char *camera, const char *message)
{
	int changes = 0;
	int ret = alarm_exec(db,
			     "UPDATE alarms SET last_ms = ?1, count = count + 1,"
			     " message = ?4 WHERE active = 1 AND code = ?2 AND camera = ?3",
			     code, camera, message, &changes);

	if (ret || changes)
		return ret;
	ret = alarm_exec(db,
			 "INSERT INTO alarms(ts_ms, last_ms, code, camera, message)"
			 " VALUES (?1, ?1, ?2, ?3, ?4)",
			 code, camera, message, &changes);
	if (ret)
		return ret; /* logged, limited: a raise is retried while the disk is full */
	log_warn("alarm %s%s%s: %s", code, *camera ? " camera " : "", camera, message);
	if (alarm_notify)
		alarm_notify(alarm_notify_arg, code, camera, message, true);
	return 0;
}

int alarm_clear(struct statedb *db, const char *code, const char *camera)
{
	int changes = 0;
	int ret = alarm_exec(db,
			     "UPDATE alarms SET active = 0, cleared_ms = ?1"
			     " WHERE active = 1 AND code = ?2 AND camera = ?3",
			     code, camera, NULL, &changes);

	if (!ret && changes) {
		log_notice("alarm %s%s%s cleared", code, *camera ? " camera " : "", camera);
		if (alarm_notify)
			alarm_notify(alarm_notify_arg, code, camera, "cleared", false);
	}
	return ret;
}

int alarm_active_json(struct statedb *sdb, cJSON **arrp)
{
	sqlite3 *db = statedb_lock(sdb);
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int ret = 0;

	if (!arr || sqlite3_prepare_v2(db,
				       "SELECT ts_ms, last_ms, count, code, camera, message"
				       " FROM alarms WHERE active = 1 ORDER BY id",
				       -1, &st, NULL) != SQLITE_OK) {
		ret = -EIO;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *a = cJSON_CreateObject();

		if (!a) {
			ret = -ENOMEM;
			goto out;
		}
		cJSON_AddItemToArray(arr, a);
		cJSON_AddNumberToObject(a, "since_ms", (double)sqlite3_column_int64(st, 0));
		cJSON_AddNumberToObject(a, "last_ms", (double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(a, "count", sqlite3_column_int(st, 2));
		cJSON_AddStringToObject(a, "code", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddStringToObject(a, "camera", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddStringToObject(a, "message", (const char *)sqlite3_column_text(st, 5));
	}
	*arrp = arr;
	arr = NULL;
out:
	sqlite3_finalize(st);
	statedb_unlock(sdb);
	cJSON_Delete(arr);
	return ret;
}
