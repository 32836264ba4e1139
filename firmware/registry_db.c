// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * registry_db - the registry's statements. Each public operation is one
 * transaction under the statedb lock: the camera row and its change-log
 * rows commit together or not at all (registry.h G1).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/registry_int.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

#define VALUE_MAX 1100 /* a field as text: REGISTRY_LIST_MAX plus margin */

int registry__sql_fail(sqlite3 *db, const char *what)
{
	log_err("registry: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

int registry__txn_begin(struct registry__txn *t, struct registry *reg, int64_t now_ms,
			const char *cause)
{
	t->reg = reg;
	t->now_ms = now_ms;
	t->cause = cause;
	t->db = statedb_lock(reg->db);
	if (sqlite3_exec(t->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		int ret = registry__sql_fail(t->db, "begin");

		statedb_unlock(reg->db);
		return ret;
	}
	return 0;
}

int registry__txn_end(struct registry__txn *t, int ret)
{
	if (!ret && sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ret = registry__sql_fail(t->db, "commit");
	if (ret)
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	statedb_unlock(t->reg->db);
	return ret;
}

void registry__row_to_camera(sqlite3_stmt *st, struct registry_camera *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(st, 0));
	for (size_t i = 0; i < registry__nfields; i++) {
		const struct registry__field *f = &registry__fields[i];
		char *p = (char *)c + f->off;
		const unsigned char *txt;

		switch (f->type) {
		case F_TEXT:
			txt = sqlite3_column_text(st, (int)i + 1);
			snprintf(p, f->size, "%s", txt ? (const char *)txt : "");
			break;
		case F_INT:
			*(int64_t *)(void *)p = sqlite3_column_int64(st, (int)i + 1);
			break;
		case F_BOOL:
			*(bool *)(void *)p = sqlite3_column_int(st, (int)i + 1) != 0;
			break;
		}
	}
}

/* First camera WHERE @col = @val; 0, -ENOENT or -EIO. */
int registry__load_by(struct registry__txn *t, const char *col, const char *val,
		      struct registry_camera *out)
{
	char sql[REGISTRY_SQL_MAX + 128];
	sqlite3_stmt *st;
	int rc;

	if (!val || !*val)
		return -ENOENT;
	snprintf(sql, sizeof(sql), "%s WHERE %s = ? ORDER BY gone, name LIMIT 1",
		 t->reg->select_sql, col);
	if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK)
		return registry__sql_fail(t->db, "select");
	sqlite3_bind_text(st, 1, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		registry__row_to_camera(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : registry__sql_fail(t->db, "select");
}

int registry__store(struct registry__txn *t, const struct registry_camera *c)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(t->db, t->reg->insert_sql, -1, &st, NULL) != SQLITE_OK)
		return registry__sql_fail(t->db, "insert");
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	for (size_t i = 0; i < registry__nfields; i++) {
		const struct registry__field *f = &registry__fields[i];
		const char *p = (const char *)c + f->off;
		int col = (int)i + 2;

		if (f->type == F_TEXT)
			sqlite3_bind_text(st, col, p, -1, SQLITE_STATIC);
		else if (f->type == F_INT)
			sqlite3_bind_int64(st, col, *(const int64_t *)(const void *)p);
		else
			sqlite3_bind_int(st, col, *(const bool *)(const void *)p);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : registry__sql_fail(t->db, "insert");
}

int registry__log_row(struct registry__txn *t, const char *camera, const char *event,
		      const char *field, const char *old_v, const char *new_v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(t->db,
			       "INSERT INTO registry_changes (ts_ms, camera, cause, event, field, "
			       "old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return registry__sql_fail(t->db, "log");
	sqlite3_bind_int64(st, 1, t->now_ms);
	sqlite3_bind_text(st, 2, camera, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->cause, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, field, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, old_v, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, new_v, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : registry__sql_fail(t->db, "log");
}

/* Log every logged field that differs between @old (NULL: none) and @new. */
static int log_diff(struct registry__txn *t, const char *event, const struct registry_camera *old,
		    const struct registry_camera *new, int *nchanged)
{
	char a[VALUE_MAX], b[VALUE_MAX];
	int ret = 0;

	*nchanged = 0;
	for (size_t i = 0; !ret && i < registry__nfields; i++) {
		const struct registry__field *f = &registry__fields[i];

		if (f->owner == O_VOLATILE || (old && registry__field_equal(f, old, new)))
			continue;
		registry__field_text(f, new, b, sizeof(b));
		if (!old && f->type == F_TEXT && !b[0])
			continue;
		if (old)
			registry__field_text(f, old, a, sizeof(a));
		ret = registry__log_row(t, new->name, event, f->col, old ? a : NULL, b);
		(*nchanged)++;
	}
	return ret;
}

/* Copy the fields discovery owns from @seen onto @c. */
static void take_discovered(struct registry_camera *c, const struct registry_camera *seen,
			    int64_t now_ms)
{
	bool manual = !strcmp(c->update_method, "manual");

	for (size_t i = 0; i < registry__nfields; i++) {
		const struct registry__field *f = &registry__fields[i];

		if (f->owner == O_VOLATILE || (f->owner == O_DEVICE && !manual))
			memcpy((char *)c + f->off, (const char *)seen + f->off, f->size);
	}
	c->last_seen_ms = now_ms;
}

static int name_taken(struct registry__txn *t, const char *name)
{
	struct registry_camera tmp;
	int ret = registry__load_by(t, "name", name, &tmp);

	return ret == -ENOENT ? 0 : ret ? ret : 1;
}

/* @seen->name if set, else its plain name; when that is taken, the name
 * with its stable suffix (registry_new_name()), so which camera answered
 * first does not decide the names; a number only as the last resort. */
static int unique_name(struct registry__txn *t, const struct registry_camera *seen, char *out)
{
	char base[REGISTRY_NAME_MAX], alt[REGISTRY_NAME_MAX];
	int ret;

	if (seen->name[0])
		snprintf(base, sizeof(base), "%s", seen->name);
	else
		registry_new_name(seen, false, base);
	snprintf(out, REGISTRY_NAME_MAX, "%s", base);
	ret = name_taken(t, out);
	if (ret <= 0)
		return ret;
	registry_new_name(seen, true, alt);
	if (strcmp(alt, base)) {
		snprintf(out, REGISTRY_NAME_MAX, "%s", alt);
		ret = name_taken(t, out);
		if (ret <= 0)
			return ret;
	}
	for (int n = 2; n < 1000; n++) {
		snprintf(out, REGISTRY_NAME_MAX, "%.*s-%d", REGISTRY_NAME_MAX - 5, base, n);
		ret = name_taken(t, out);
		if (ret <= 0)
			return ret;
	}
	return -EEXIST;
}

/* Which known camera is @seen (G2)? *replacedp: matched only by address. */
static int match(struct registry__txn *t, const struct registry_camera *seen,
		 struct registry_camera *cur, bool *replacedp)
{
	int ret = registry__load_by(t, "endpoint", seen->endpoint, cur);

	*replacedp = false;
	if (ret == -ENOENT && seen->serial[0]) {
		ret = registry__load_by(t, "serial", seen->serial, cur);
		if (!ret && (strcmp(cur->manufacturer, seen->manufacturer) ||
			     strcmp(cur->model, seen->model)))
			ret = -ENOENT;
	}
	if (ret == -ENOENT)
		ret = registry__load_by(t, "mac", seen->mac, cur);
	if (ret == -ENOENT) {
		ret = registry__load_by(t, "ip", seen->ip, cur);
		*replacedp = !ret;
	}
	return ret;
}

static int observe(struct registry__txn *t, const struct registry_camera *seen,
		   enum registry_event *evp, char *name_out)
{
	struct registry_camera cur, next;
	bool replaced;
	int n = 0, ret = match(t, seen, &cur, &replaced);

	if (ret == -ENOENT) {
		next = *seen;
		ret = unique_name(t, seen, next.name);
		next.first_seen_ms = next.last_seen_ms = t->now_ms;
		next.gone = false;
		if (!next.update_method[0])
			snprintf(next.update_method, sizeof(next.update_method), "onvif-auto");
		if (!ret)
			ret = registry__store(t, &next);
		if (!ret)
			ret = log_diff(t, "new", NULL, &next, &n);
		*evp = REGISTRY_NEW;
	} else if (!ret) {
		next = cur;
		take_discovered(&next, seen, t->now_ms);
		next.gone = false;
		next.gone_reason[0] = '\0';
		*evp = replaced	  ? REGISTRY_REPLACED
		       : cur.gone ? REGISTRY_RETURNED
				  : REGISTRY_CHANGED;
		ret = registry__store(t, &next);
		if (!ret)
			ret = log_diff(t, registry_event_name(*evp), &cur, &next, &n);
		if (!ret && !n)
			*evp = REGISTRY_UNCHANGED;
	}
	if (!ret && name_out)
		snprintf(name_out, REGISTRY_NAME_MAX, "%s", next.name);
	return ret;
}

int registry_observe(struct registry *reg, const struct registry_camera *seen, int64_t now_ms,
		     enum registry_event *evp, char *name_out)
{
	struct registry__txn t;
	int ret =
		registry__txn_begin(&t, reg, now_ms, registry_cause_name(REGISTRY_CAUSE_DISCOVERY));

	if (ret)
		return ret;
	return registry__txn_end(&t, observe(&t, seen, evp, name_out));
}

static int set_gone(struct registry__txn *t, struct registry_camera *c, const char *reason)
{
	int ret;

	c->gone = true;
	snprintf(c->gone_reason, sizeof(c->gone_reason), "%s", reason ? reason : "");
	ret = registry__store(t, c);
	if (!ret)
		ret = registry__log_row(t, c->name, "gone", "gone", "false", "true");
	if (!ret && c->gone_reason[0])
		ret = registry__log_row(t, c->name, "gone", "gone_reason", "", c->gone_reason);
	return ret;
}

int registry_set_gone(struct registry *reg, const char *name, const char *reason, int64_t now_ms)
{
	struct registry_camera c;
	struct registry__txn t;
	int ret =
		registry__txn_begin(&t, reg, now_ms, registry_cause_name(REGISTRY_CAUSE_DISCOVERY));

	if (ret)
		return ret;
	ret = registry__load_by(&t, "name", name, &c);
	if (!ret && c.gone)
		ret = -EALREADY;
	if (!ret)
		ret = set_gone(&t, &c, reason);
	return registry__txn_end(&t, ret);
}

int registry_endpoint_name(struct registry *reg, const char *endpoint, char *name_out)
{
	struct registry__txn t = { .reg = reg };
	struct registry_camera *c = malloc(sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	t.db = statedb_lock(reg->db);
	ret = registry__load_by(&t, "endpoint", endpoint, c);
	statedb_unlock(reg->db);
	if (!ret)
		snprintf(name_out, REGISTRY_NAME_MAX, "%s", c->name);
	free(c);
	return ret;
}

int registry_count_missed(struct registry *reg, int64_t seen_before_ms, int64_t now_ms,
			  int64_t min_rounds, char (*names)[REGISTRY_NAME_MAX], size_t cap,
			  size_t *np)
{
	char sql[REGISTRY_SQL_MAX + 128];
	struct registry_camera c;
	sqlite3_stmt *st;
	struct registry__txn t;
	int rc, ret = registry__txn_begin(&t, reg, now_ms,
					  registry_cause_name(REGISTRY_CAUSE_DISCOVERY));

	*np = 0;
	if (ret)
		return ret;
	/* Volatile (G4): counting is no change anyone needs in the log. */
	if (sqlite3_prepare_v2(
		    t.db,
		    "UPDATE registry_cameras SET missed_rounds = missed_rounds + 1"
		    " WHERE gone = 0 AND update_method = 'onvif-auto' AND last_seen_ms < ?",
		    -1, &st, NULL) != SQLITE_OK)
		return registry__txn_end(&t, registry__sql_fail(t.db, "count missed"));
	sqlite3_bind_int64(st, 1, seen_before_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return registry__txn_end(&t, registry__sql_fail(t.db, "count missed"));
	snprintf(sql, sizeof(sql),
		 "%s WHERE gone = 0 AND update_method = 'onvif-auto' AND last_seen_ms < ?"
		 " AND missed_rounds >= ? ORDER BY name",
		 reg->select_sql);
	if (sqlite3_prepare_v2(t.db, sql, -1, &st, NULL) != SQLITE_OK)
		return registry__txn_end(&t, registry__sql_fail(t.db, "select missing"));
	sqlite3_bind_int64(st, 1, seen_before_ms);
	sqlite3_bind_int64(st, 2, min_rounds);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *np < cap) {
		registry__row_to_camera(st, &c);
		snprintf(names[(*np)++], REGISTRY_NAME_MAX, "%s", c.name);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = registry__sql_fail(t.db, "select missing");
	sqlite3_finalize(st);
	return registry__txn_end(&t, ret);
}

int registry_rename(struct registry *reg, const char *name, const char *new_name,
		    enum registry_cause cause, int64_t now_ms)
{
	struct registry__txn t;
	sqlite3_stmt *st;
	int rc, ret;

	if (!registry_name_ok(new_name) || !name || !*name)
		return -EINVAL;
	ret = registry__txn_begin(&t, reg, now_ms, registry_cause_name(cause));
	if (ret)
		return ret;
	ret = name_taken(&t, name);
	if (ret == 0)
		ret = -ENOENT;
	else if (ret == 1)
		ret = name_taken(&t, new_name) == 0 ? 0 : -EEXIST;
	if (!ret) {
		if (sqlite3_prepare_v2(t.db, "UPDATE registry_cameras SET name = ? WHERE name = ?",
				       -1, &st, NULL) != SQLITE_OK)
			return registry__txn_end(&t, registry__sql_fail(t.db, "rename"));
		sqlite3_bind_text(st, 1, new_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		ret = rc == SQLITE_DONE ? 0 : registry__sql_fail(t.db, "rename");
	}
	if (!ret)
		ret = registry__log_row(&t, new_name, "set", "name", name, new_name);
	return registry__txn_end(&t, ret);
}
