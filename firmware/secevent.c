// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/secevent.h"

#include <errno.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "lib/log.h"
#include "lib/sql.h"
#include "storage/statedb.h"

static const char *const se_steps[] = {
	/* -1: not started; the first scan starts at the newest row. */
	"CREATE TABLE secevent_cursor(one INTEGER PRIMARY KEY CHECK (one = 1),"
	" last_id INTEGER NOT NULL);"
	"INSERT INTO secevent_cursor VALUES (1, -1);",
	/* The registry change log after its own cursor (-1: from the newest). */
	"ALTER TABLE secevent_cursor ADD COLUMN reg_id INTEGER NOT NULL DEFAULT -1;",
};

static int se_open(struct statedb *db)
{
	return statedb_migrate(db, "secevent", se_steps, sizeof(se_steps) / sizeof(se_steps[0]));
}

struct se_row {
	int64_t id, ts_ms;
	char actor[64], action[32], object[64], detail[160];
};

struct se_rows {
	struct se_row *r;
	size_t n;
};

static int copy_row(void *arg, const struct audit_row *row)
{
	struct se_rows *rs = arg;
	struct se_row *r = &rs->r[rs->n++];

	r->id = row->id;
	r->ts_ms = row->ts_ms;
	snprintf(r->actor, sizeof(r->actor), "%s", row->actor);
	snprintf(r->action, sizeof(r->action), "%s", row->action);
	snprintf(r->object, sizeof(r->object), "%s", row->object);
	snprintf(r->detail, sizeof(r->detail), "%s", row->detail);
	return 0;
}

static int one_int(void *arg, sqlite3_stmt *st)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 1;
}

static int64_t count(struct statedb *sdb, const char *sql, const struct se_row *r)
{
	int64_t n = 0;

	sql_exec(statedb_lock(sdb), "secevent", sql, one_int, &n, "iit", r->id,
		 r->ts_ms - SECEVENT_BURST_MS, r->actor);
	statedb_unlock(sdb);
	return n;
}

static void add(struct secevent_batch *b, const char *camera, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct secevent_batch *b, const char *camera, const char *fmt, ...)
{
	va_list ap;

	if (b->n == SECEVENT_BATCH)
		return;
	snprintf(b->ev[b->n].camera, sizeof(b->ev[b->n].camera), "%s", camera);
	va_start(ap, fmt);
	vsnprintf(b->ev[b->n].message, SECEVENT_MSG, fmt, ap);
	va_end(ap);
	b->n++;
}

/* What one audit row calls for. */
static void classify(struct statedb *sdb, const struct se_row *r, struct secevent_batch *b)
{
	if (!strcmp(r->action, "login-failed")) {
		/* The row that completes a burst, counting back from it. */
		if (count(sdb,
			  "SELECT count(*) FROM audit WHERE action = 'login-failed' AND id <= ?1"
			  " AND ts_ms > ?2 AND ?3 = ?3",
			  r) == SECEVENT_BURST)
			add(b, "",
			    "login-burst: %d failed logins within %d min, the last as '%s' "
			    "from %s (%s)",
			    SECEVENT_BURST, SECEVENT_BURST_MS / 60000, r->actor, r->object,
			    r->detail);
		if (!strncmp(r->detail, "account locked", 14) &&
		    count(sdb,
			  "SELECT count(*) FROM audit WHERE action = 'login-failed' AND id < ?1"
			  " AND ts_ms > ?2 AND actor = ?3 AND detail LIKE 'account locked%'",
			  r) == 0)
			add(b, "", "lockout: account '%s' locked after failed logins (from %s)",
			    r->actor, r->object);
	} else if (!strcmp(r->action, "log-verify") && strncmp(r->detail, "intact", 6) &&
		   strstr(r->detail, "bad")) {
		add(b, "", "audit-chain: `log verify` by %s found the audit log broken: %s",
		    r->actor, r->detail);
	} else if (!strcmp(r->action, "ring-verify-failed")) {
		add(b, "", "ring-tampered: %s", r->detail);
	} else if (!strcmp(r->action, "ptz-refused") || !strcmp(r->action, "setting-refused") ||
		   !strcmp(r->action, "denied")) {
		add(b, "", "refused: %s tried %s %s (%s)", r->actor, r->action, r->object,
		    r->detail);
	}
}

/* What a change discovery saw calls for: another device at a known
 * camera's address (replaced), another identity claiming its serial
 * (endpoint or MAC changed under the same serial), a firmware change. */
static int reg_row(void *arg, sqlite3_stmt *st)
{
	struct secevent_batch *b = arg;
	const char *camera = (const char *)sqlite3_column_text(st, 1);
	const char *event = (const char *)sqlite3_column_text(st, 2);
	const char *field = (const char *)sqlite3_column_text(st, 3);
	const char *old = (const char *)sqlite3_column_text(st, 4);
	const char *new = (const char *)sqlite3_column_text(st, 5);

	b->reg_to = sqlite3_column_int64(st, 0);
	old = old ? old : "";
	new = new ? new : "";
	if (!strcmp(event, "replaced") && (!strcmp(field, "serial") || !strcmp(field, "mac")))
		add(b, camera,
		    "new-device: another device answers at the address of camera %s (%s "
		    "'%s' -> '%s')",
		    camera, field, old, new);
	else if (strcmp(event, "replaced") && (!strcmp(field, "endpoint") || !strcmp(field, "mac")))
		add(b, camera,
		    "identity-changed: a device with camera %s's serial answers as "
		    "another %s ('%s' -> '%s')",
		    camera, field, old, new);
	else if (!strcmp(field, "firmware") && *old)
		add(b, camera, "firmware-changed: camera %s firmware '%s' -> '%s'", camera, old,
		    new);
	return 0;
}

static int reg_scan(struct statedb *sdb, struct secevent_batch *b)
{
	sqlite3 *db = statedb_lock(sdb);
	int64_t there = 0;
	int ret = sql_exec(db, "secevent",
			   "SELECT count(*) FROM sqlite_master WHERE name = 'registry_changes'",
			   one_int, &there, "");

	if (ret >= 0 && there && b->reg_from < 0)
		ret = sql_exec(db, "secevent", "SELECT coalesce(max(id), 0) FROM registry_changes",
			       one_int, &b->reg_to, "");
	else if (ret >= 0 && there)
		ret = sql_exec(db, "secevent",
			       "SELECT id, camera, event, field, old, new FROM registry_changes"
			       " WHERE id > ?1 AND cause = 'discovery' ORDER BY id LIMIT 64",
			       reg_row, b, "i", b->reg_from);
	statedb_unlock(sdb);
	return ret < 0 ? ret : 0;
}

static int two_ints(void *arg, sqlite3_stmt *st)
{
	struct secevent_batch *b = arg;

	b->from = sqlite3_column_int64(st, 0);
	b->reg_from = sqlite3_column_int64(st, 1);
	return 1;
}

int secevent_scan(struct statedb *sdb, struct secevent_batch *b)
{
	struct se_rows rs = { 0 };
	uint8_t h[AUDIT_HASH_LEN];
	int64_t head = 0;
	int ret = se_open(sdb);

	b->n = 0;
	if (ret)
		return ret;
	ret = sql_exec(statedb_lock(sdb), "secevent", "SELECT last_id, reg_id FROM secevent_cursor",
		       two_ints, b, "");
	statedb_unlock(sdb);
	if (ret < 0)
		return ret;
	b->to = b->from;
	b->reg_to = b->reg_from;
	ret = reg_scan(sdb, b);
	if (ret)
		return ret;
	if (b->from < 0) { /* first run: from now on */
		ret = audit_head(sdb, &head, h);
		b->to = head;
		return ret;
	}
	rs.r = calloc(SECEVENT_BATCH, sizeof(*rs.r));
	if (!rs.r)
		return -ENOMEM;
	ret = audit_list(sdb, b->from, SECEVENT_BATCH, copy_row, &rs);
	for (size_t i = 0; !ret && i < rs.n; i++) {
		classify(sdb, &rs.r[i], b);
		b->to = rs.r[i].id;
	}
	free(rs.r);
	return ret;
}

int secevent_advance(sqlite3 *db, void *arg)
{
	struct secevent_batch *b = arg;
	int ret = sql_exec(db, "secevent cursor",
			   "UPDATE secevent_cursor SET last_id = ?2, reg_id = ?4"
			   " WHERE last_id = ?1 AND reg_id = ?3",
			   NULL, NULL, "iiii", b->from, b->to, b->reg_from, b->reg_to);

	if (!ret && sqlite3_changes(db) != 1) {
		log_err("secevent: the cursor moved meanwhile");
		return -ESTALE;
	}
	return ret;
}

int secevent_skip(struct statedb *sdb, struct secevent_batch *b)
{
	int ret;

	if (b->to == b->from && b->reg_to == b->reg_from)
		return 0;
	ret = secevent_advance(statedb_lock(sdb), b);
	statedb_unlock(sdb);
	return ret;
}

int secevent_audit_check(struct statedb *sdb, struct secevent *ev)
{
	struct audit_verify_report rep = { 0 };
	int ret = audit_verify(sdb, &rep);

	if (ret != -EBADMSG && ret != -ENOKEY) {
		if (!ret)
			alarm_clear(sdb, "audit-chain-broken", "");
		return ret == -EIO ? ret : 0;
	}
	snprintf(ev->camera, sizeof(ev->camera), "%s", "");
	snprintf(ev->message, sizeof(ev->message),
		 "audit-chain: the audit log does not verify at row %lld: %s",
		 (long long)rep.first_bad_id, rep.why ? rep.why : "no audit key loaded");
	alarm_raise(sdb, "audit-chain-broken", "", ev->message);
	return 1;
}
