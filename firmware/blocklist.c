// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/blocklist.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fnmatch.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "firmware/registry.h"
#include "lib/parse.h"
#include "lib/sql.h"
#include "storage/statedb.h"

#define BL_TEXT 128

static const char *const bl_steps[] = {
	"CREATE TABLE blocklist(id INTEGER PRIMARY KEY, make TEXT NOT NULL,"
	" model TEXT NOT NULL, firmware TEXT NOT NULL, reason TEXT NOT NULL);"
	"CREATE TABLE blocklist_gen(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
	"INSERT INTO blocklist_gen VALUES ('list', 0), ('any', 0);"
	"CREATE TABLE blocklist_override(camera TEXT PRIMARY KEY, list_gen INTEGER NOT NULL,"
	" actor TEXT NOT NULL, reason TEXT NOT NULL, ts_ms INTEGER NOT NULL);"
	"CREATE TABLE blocklist_blocked(camera TEXT PRIMARY KEY, since_ms INTEGER NOT NULL,"
	" why TEXT NOT NULL);",
};

int blocklist_open(struct statedb *db)
{
	return statedb_migrate(db, "blocklist", bl_steps, sizeof(bl_steps) / sizeof(bl_steps[0]));
}

static const char *field(const cJSON *o, const char *name, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v || cJSON_IsNull(v))
		return "";
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= BL_TEXT) {
		*bad = true;
		return "";
	}
	return v->valuestring;
}

/* Every entry checked before anything is written: a bad list changes
 * nothing. */
static int bl_check(const cJSON *list, char *msg, size_t cap)
{
	const cJSON *e;
	int i = 0;

	if (!cJSON_IsArray(list)) {
		snprintf(msg, cap,
			 "args must hold \"entries\": an array of {make, model, "
			 "firmware, reason}");
		return -EINVAL;
	}
	if (cJSON_GetArraySize(list) > BLOCKLIST_MAX) {
		snprintf(msg, cap, "more than %d entries", BLOCKLIST_MAX);
		return -EINVAL;
	}
	cJSON_ArrayForEach (e, list) {
		bool bad = !cJSON_IsObject(e);
		const char *mk = field(e, "make", &bad), *md = field(e, "model", &bad),
			   *fw = field(e, "firmware", &bad);

		field(e, "reason", &bad);
		if (bad) {
			snprintf(msg, cap, "entry %d: not an object of strings under %d bytes", i,
				 BL_TEXT);
			return -EINVAL;
		}
		if (!*mk && !*md && !*fw) {
			snprintf(msg, cap,
				 "entry %d: no make, model or firmware: would block "
				 "every camera",
				 i);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

static int bl_bump(sqlite3 *db, bool list)
{
	int ret = sql_exec(db, "blocklist gen",
			   "UPDATE blocklist_gen SET v = v + 1 WHERE k = 'any'", NULL, NULL, "");

	if (!ret && list)
		ret = sql_exec(db, "blocklist gen",
			       "UPDATE blocklist_gen SET v = v + 1 WHERE k = 'list'", NULL, NULL,
			       "");
	return ret;
}

int blocklist_set(struct statedb *sdb, const cJSON *list, const char *actor, char *msg, size_t cap)
{
	const cJSON *e;
	char detail[160];
	sqlite3 *db;
	int ret = blocklist_open(sdb);

	if (ret) {
		snprintf(msg, cap, "state.db: %s", strerror(-ret));
		return ret;
	}
	ret = bl_check(list, msg, cap);
	if (ret)
		return ret;
	db = statedb_lock(sdb);
	ret = sql_exec(db, "blocklist", "BEGIN IMMEDIATE", NULL, NULL, "");
	if (!ret)
		ret = sql_exec(db, "blocklist", "DELETE FROM blocklist", NULL, NULL, "");
	if (!ret)
		ret = sql_exec(db, "blocklist", "DELETE FROM blocklist_override", NULL, NULL, "");
	cJSON_ArrayForEach (e, list) {
		bool bad = false;

		if (ret)
			break;
		ret = sql_exec(db, "blocklist",
			       "INSERT INTO blocklist(make, model, firmware, reason)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       NULL, NULL, "tttt", field(e, "make", &bad), field(e, "model", &bad),
			       field(e, "firmware", &bad), field(e, "reason", &bad));
	}
	if (!ret)
		ret = bl_bump(db, true);
	sql_exec(db, "blocklist", ret ? "ROLLBACK" : "COMMIT", NULL, NULL, "");
	statedb_unlock(sdb);
	if (ret) {
		snprintf(msg, cap, "state.db: %s", strerror(-ret));
		return ret;
	}
	snprintf(detail, sizeof(detail), "%d entries; overrides dropped", cJSON_GetArraySize(list));
	audit_record(sdb, 0, actor, "blocklist-set", "blocklist", detail);
	snprintf(msg, cap, "blocklist of %d entries stored", cJSON_GetArraySize(list));
	return 0;
}

struct match_ctx {
	const char *make, *model, *firmware;
	char *why;
	size_t cap;
};

static bool glob_ok(const char *pat, const char *s)
{
	return !*pat || !fnmatch(pat, s, FNM_CASEFOLD);
}

static int match_row(void *arg, sqlite3_stmt *st)
{
	struct match_ctx *m = arg;
	const char *mk = (const char *)sqlite3_column_text(st, 0);
	const char *md = (const char *)sqlite3_column_text(st, 1);
	const char *fw = (const char *)sqlite3_column_text(st, 2);
	const char *why = (const char *)sqlite3_column_text(st, 3);

	if (!glob_ok(mk, m->make) || !glob_ok(md, m->model) || !glob_ok(fw, m->firmware))
		return 0;
	snprintf(m->why, m->cap, "make '%s' model '%s' firmware '%s'%s%s", *mk ? mk : "*",
		 *md ? md : "*", *fw ? fw : "*", *why ? ": " : "", why);
	return 1;
}

int blocklist_match(struct statedb *sdb, const char *make, const char *model, const char *firmware,
		    char *why, size_t cap)
{
	struct match_ctx m = { make ? make : "", model ? model : "", firmware ? firmware : "", why,
			       cap };
	int ret = blocklist_open(sdb);

	if (ret)
		return ret;
	ret = sql_exec(statedb_lock(sdb), "blocklist",
		       "SELECT make, model, firmware, reason FROM blocklist ORDER BY id", match_row,
		       &m, "");
	statedb_unlock(sdb);
	return ret;
}

static int one_int(void *arg, sqlite3_stmt *st)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 1;
}

static int bl_int(struct statedb *sdb, const char *sql, const char *camera, int64_t *v)
{
	int ret;

	*v = 0;
	ret = sql_exec(statedb_lock(sdb), "blocklist", sql, one_int, v, camera ? "t" : "", camera);
	statedb_unlock(sdb);
	return ret < 0 ? ret : 0;
}

int blocklist_generation(struct statedb *sdb, int64_t *genp)
{
	int ret = blocklist_open(sdb);

	return ret ? ret : bl_int(sdb, "SELECT v FROM blocklist_gen WHERE k = 'any'", NULL, genp);
}

/* Record a change of @camera's blocked state; 1 when it changed. */
static int bl_note(struct statedb *sdb, const char *camera, bool blocked, const char *why)
{
	sqlite3 *db = statedb_lock(sdb);
	int ret = blocked ? sql_exec(db, "blocklist",
				     "INSERT OR IGNORE INTO blocklist_blocked VALUES (?1, ?2, ?3)",
				     NULL, NULL, "tit", camera, time_now_ms(), why)
			  : sql_exec(db, "blocklist",
				     "DELETE FROM blocklist_blocked WHERE camera = ?1", NULL, NULL,
				     "t", camera);

	if (!ret)
		ret = sqlite3_changes(db) > 0;
	statedb_unlock(sdb);
	return ret;
}

int blocklist_camera(struct statedb *sdb, struct registry *reg, const char *camera, char *why,
		     size_t cap)
{
	struct registry_camera *rc = malloc(sizeof(*rc));
	int64_t list_gen = 0, over = 0;
	char msg[256];
	int ret, blocked = 0;

	if (!rc)
		return -ENOMEM;
	*why = '\0';
	ret = blocklist_open(sdb);
	if (!ret)
		ret = reg ? registry_get(reg, camera, rc) : -ENOENT;
	if (!ret) {
		blocked = blocklist_match(sdb, rc->manufacturer, rc->model, rc->firmware, why, cap);
	} else if (ret == -ENOENT) {
		ret = 0; /* no device information: nothing to match */
	}
	free(rc);
	if (ret < 0 || blocked < 0)
		return ret < 0 ? ret : blocked;
	if (blocked) {
		bl_int(sdb, "SELECT v FROM blocklist_gen WHERE k = 'list'", NULL, &list_gen);
		bl_int(sdb, "SELECT list_gen FROM blocklist_override WHERE camera = ?1", camera,
		       &over);
		if (over && over == list_gen)
			blocked = 0;
	}
	if (bl_note(sdb, camera, blocked, why) == 1) {
		if (blocked) {
			snprintf(msg, sizeof(msg),
				 "on central's blocklist (%s): not recorded, "
				 "not forwarded",
				 why);
			audit_record(sdb, 0, "system", "camera-blocked", camera, why);
			alarm_raise(sdb, "camera-blocked", camera, msg);
		} else {
			audit_record(sdb, 0, "system", "camera-unblocked", camera,
				     over ? "admin override" : "no longer on the blocklist");
			alarm_clear(sdb, "camera-blocked", camera);
		}
	}
	return blocked;
}

int blocklist_override(struct statedb *sdb, const char *camera, const char *actor,
		       const char *reason)
{
	sqlite3 *db;
	int ret = blocklist_open(sdb);

	if (!ret && (!reason || !*reason))
		return -EINVAL;
	if (ret)
		return ret;
	db = statedb_lock(sdb);
	ret = sql_exec(db, "blocklist", "BEGIN IMMEDIATE", NULL, NULL, "");
	if (!ret)
		ret = sql_exec(db, "blocklist",
			       "INSERT OR REPLACE INTO blocklist_override"
			       " SELECT ?1, v, ?2, ?3, ?4 FROM blocklist_gen WHERE k = 'list'",
			       NULL, NULL, "ttti", camera, actor, reason, time_now_ms());
	if (!ret)
		ret = bl_bump(db, false);
	sql_exec(db, "blocklist", ret ? "ROLLBACK" : "COMMIT", NULL, NULL, "");
	statedb_unlock(sdb);
	if (!ret)
		ret = audit_record(sdb, 0, actor, "blocklist-override", camera, reason);
	return ret;
}

static int json_row(void *arg, sqlite3_stmt *st)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();
	int n = sqlite3_column_count(st);

	if (!o)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
			cJSON_AddNumberToObject(o, sqlite3_column_name(st, i),
						(double)sqlite3_column_int64(st, i));
		else
			cJSON_AddStringToObject(o, sqlite3_column_name(st, i),
						(const char *)sqlite3_column_text(st, i));
	}
	cJSON_AddItemToArray(arr, o);
	return 0;
}

int blocklist_json(struct statedb *sdb, cJSON **outp)
{
	static const char *const q[][2] = {
		{ "entries", "SELECT make, model, firmware, reason FROM blocklist ORDER BY id" },
		{ "overrides",
		  "SELECT o.camera, o.actor, o.reason, o.ts_ms FROM blocklist_override o"
		  " JOIN blocklist_gen g ON g.k = 'list' AND g.v = o.list_gen" },
		{ "blocked",
		  "SELECT camera, since_ms, why FROM blocklist_blocked ORDER BY camera" },
	};
	cJSON *o = cJSON_CreateObject();
	int ret = o ? blocklist_open(sdb) : -ENOMEM;

	for (size_t i = 0; !ret && i < sizeof(q) / sizeof(q[0]); i++) {
		cJSON *arr = cJSON_AddArrayToObject(o, q[i][0]);

		if (!arr) {
			ret = -ENOMEM;
			break;
		}
		ret = sql_exec(statedb_lock(sdb), "blocklist", q[i][1], json_row, arr, "");
		statedb_unlock(sdb);
	}
	if (ret) {
		cJSON_Delete(o);
		return ret;
	}
	*outp = o;
	return 0;
}
