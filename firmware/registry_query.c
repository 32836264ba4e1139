// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * registry_query - installer/central edits, reads, the change log feed and
 * the JSON record.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/registry_int.h"
#include "firmware/sharing.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

#define VALUE_MAX 1100

/* Parse @value for @f into @c. */
static int set_value(const struct registry__field *f, struct registry_camera *c, const char *value)
{
	char *p = (char *)c + f->off;
	int64_t v;
	bool b;

	switch (f->type) {
	case F_TEXT:
		if (strlen(value) >= f->size)
			return -EINVAL;
		if (!strcmp(f->col, "update_method") && strcmp(value, "onvif-auto") &&
		    strcmp(value, "manual"))
			return -EINVAL;
		memcpy(p, value, strlen(value) + 1);
		return 0;
	case F_INT:
		if (parse_i64(value, f->owner == O_INSTALLER ? 0 : INT64_MIN, INT64_MAX, &v))
			return -EINVAL;
		*(int64_t *)(void *)p = v;
		return 0;
	case F_BOOL:
		if (parse_bool(value, &b))
			return -EINVAL;
		*(bool *)(void *)p = b;
		return 0;
	}
	return -EINVAL;
}

static void new_manual(struct registry_camera *c, const char *name, int64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->update_method, sizeof(c->update_method), "manual");
	c->update_interval_ms = REGISTRY_INTERVAL_DEFAULT_MS;
	c->enabled = true;
	c->first_seen_ms = now_ms;
}

int registry_set(struct registry *reg, const char *name, const char *field, const char *value,
		 enum registry_cause cause, int64_t now_ms)
{
	const struct registry__field *f = registry__field_find(field);
	struct registry_camera old, next;
	char a[VALUE_MAX], b[VALUE_MAX];
	struct registry__txn t;
	bool created = false;
	int ret;

	if (!f || f->owner == O_META || f->owner == O_VOLATILE || !name || !*name ||
	    strlen(name) >= REGISTRY_NAME_MAX || !value)
		return -EINVAL;
	ret = registry__txn_begin(&t, reg, now_ms, registry_cause_name(cause));
	if (ret)
		return ret;
	ret = registry__load_by(&t, "name", name, &old);
	if (ret == -ENOENT) {
		new_manual(&old, name, now_ms);
		created = true;
		ret = 0;
	}
	next = old;
	/* Device facts of an onvif-auto camera are discovery's (G3). */
	if (!ret && f->owner == O_DEVICE && !strcmp(old.update_method, "onvif-auto"))
		ret = -EINVAL;
	if (!ret)
		ret = set_value(f, &next, value);
	if (!ret)
		ret = registry__store(&t, &next);
	if (!ret && created)
		ret = registry__log_row(&t, name, "new", "update_method", NULL, "manual");
	if (!ret && !registry__field_equal(f, &old, &next)) {
		registry__field_text(f, &old, a, sizeof(a));
		registry__field_text(f, &next, b, sizeof(b));
		ret = registry__log_row(&t, name, "set", f->col, a, b);
	}
	return registry__txn_end(&t, ret);
}

int registry_get(struct registry *reg, const char *name, struct registry_camera *out)
{
	struct registry__txn t = { .reg = reg };
	int ret;

	t.db = statedb_lock(reg->db);
	ret = registry__load_by(&t, "name", name, out);
	statedb_unlock(reg->db);
	return ret;
}

int registry_list(struct registry *reg, int (*fn)(void *arg, const struct registry_camera *c),
		  void *arg)
{
	char sql[REGISTRY_SQL_MAX + 32];
	struct registry_camera *c = malloc(sizeof(*c));
	sqlite3_stmt *st;
	sqlite3 *db;
	int rc, ret = 0;

	if (!c)
		return -ENOMEM;
	snprintf(sql, sizeof(sql), "%s ORDER BY name", reg->select_sql);
	db = statedb_lock(reg->db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		ret = registry__sql_fail(db, "list");
		goto out;
	}
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		registry__row_to_camera(st, c);
		ret = fn(arg, c);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry__sql_fail(db, "list");
	sqlite3_finalize(st);
out:
	statedb_unlock(reg->db);
	free(c);
	return ret;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int registry_changes(struct registry *reg, int64_t after_id, int max,
		     int (*fn)(void *arg, const struct registry_change *ch), void *arg)
{
	sqlite3_stmt *st;
	sqlite3 *db = statedb_lock(reg->db);
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, ts_ms, camera, cause, event, field, old, new "
			       "FROM registry_changes WHERE id > ? ORDER BY id LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		ret = registry__sql_fail(db, "changes");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, max > 0 ? max : -1);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct registry_change ch = {
			.id = sqlite3_column_int64(st, 0),
			.ts_ms = sqlite3_column_int64(st, 1),
			.camera = col_text(st, 2),
			.cause = col_text(st, 3),
			.event = col_text(st, 4),
			.field = col_text(st, 5),
			.old_value = col_text(st, 6),
			.new_value = col_text(st, 7),
		};

		ret = fn(arg, &ch);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = registry__sql_fail(db, "changes");
	sqlite3_finalize(st);
out:
	statedb_unlock(reg->db);
	return ret;
}

/* @list ("a, b,c") as a JSON array of its trimmed, non-empty items. */
static cJSON *list_json(const char *list)
{
	cJSON *a = cJSON_CreateArray();
	const char *p = list;

	while (a && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[REGISTRY_LIST_MAX];

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			snprintf(item, sizeof(item), "%.*s", (int)n, p);
			cJSON_AddItemToArray(a, cJSON_CreateString(item));
		}
		p = end ? end + 1 : p + strlen(p);
	}
	return a;
}

/*
 * The record follows docs/schema/registry-record.json (the contract in
 * docs/uplink.md section 6.1), field by field, rather than the table's
 * column names: central reads the contract, not camgate's database.
 * Raw ONVIF addresses and volatile facts (G4) are not part of it.
 */
int registry_record_json(const struct registry_camera *c, char **jsonp)
{
	static const char *const device[] = { "manufacturer", "model",	    "firmware",	   "serial",
					      "hardware_id",  "mac",	    "endpoint",	   "xaddr",
					      "profiles",     "stream_uri", "snapshot_uri" };
	cJSON *o = cJSON_CreateObject(), *loc;
	char freq[48];
	char *text;

	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "name", c->scope_name[0] ? c->scope_name : c->name);
	for (size_t i = 0; i < sizeof(device) / sizeof(device[0]); i++) {
		const struct registry__field *f = registry__field_find(device[i]);

		if (f)
			cJSON_AddStringToObject(o, f->col, (const char *)c + f->off);
	}
	cJSON_AddStringToObject(o, "address", c->ip);
	cJSON_AddBoolToObject(o, "ptz", c->ptz);
	loc = cJSON_AddObjectToObject(o, "location");
	if (loc)
		cJSON_AddStringToObject(loc, "description", c->scope_location);
	cJSON_AddStringToObject(o, "provider_unit", c->provider_unit);
	cJSON_AddStringToObject(o, "update_method", c->update_method);
	/* Discovery refreshes an onvif-auto camera every interval; a
	 * manual one changes when someone edits it. */
	if (!strcmp(c->update_method, "manual") || c->update_interval_ms <= 0)
		snprintf(freq, sizeof(freq), "on change");
	else
		snprintf(freq, sizeof(freq), "every %lld s",
			 (long long)(c->update_interval_ms + 999) / 1000);
	cJSON_AddStringToObject(o, "update_frequency", freq);
	cJSON_AddItemToObject(o, "users", list_json(c->data_users));
	cJSON_AddStringToObject(o, "owner", c->owner);
	cJSON_AddStringToObject(o, "sharing_class", sharing_class_name(c->sharing_class));
	cJSON_AddBoolToObject(o, "enabled", c->enabled);
	cJSON_AddBoolToObject(o, "gone", c->gone);
	if (c->gone && c->gone_reason[0])
		cJSON_AddStringToObject(o, "gone_reason", c->gone_reason);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	*jsonp = text;
	return 0;
}
