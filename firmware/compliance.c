// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compliance - duty states in state.db (firmware/compliance.h). A
 * statement runs under the statedb lock; what follows a transition (audit
 * row, alarm, notify hook) needs that lock itself, so transitions are
 * collected first and told after the unlock.
 */
#include "firmware/compliance.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sql.h"
#include "lib/workdays.h"
#include "storage/statedb.h"

#define NAME_MAX_ 64

struct compliance {
	struct statedb *sdb;
	pthread_mutex_t lock; /* cal, days, notify */
	struct workdays cal;
	unsigned int days[16]; /* per kind: the n in force; 0: the table's */
	compliance_notify_fn notify;
	void *notify_arg;
};

/* Append only (statedb_migrate). */
static const char *const steps[] = {
	"CREATE TABLE compliance_duties ("
	" kind TEXT NOT NULL, camera TEXT NOT NULL,"
	" open INTEGER NOT NULL DEFAULT 0,"
	" opened_ms INTEGER NOT NULL DEFAULT 0, soon_ms INTEGER NOT NULL DEFAULT 0,"
	" deadline_ms INTEGER NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL DEFAULT 'ok', since_ms INTEGER NOT NULL DEFAULT 0,"
	" detail TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (kind, camera));"
	"CREATE TABLE compliance_maintenance ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, camera TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL, note TEXT NOT NULL);"
	"CREATE INDEX compliance_maintenance_camera ON compliance_maintenance(camera, ts_ms);",
};

static int migrate(struct statedb *sdb)
{
	return statedb_migrate(sdb, "compliance", steps, (int)(sizeof(steps) / sizeof(steps[0])));
}

int compliance_new(struct statedb *sdb, int tz_offset_min, const char *holidays,
		   struct compliance **cp)
{
	struct compliance *c;
	int ret = migrate(sdb);

	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (workdays_init(&c->cal, tz_offset_min, holidays)) {
		free(c);
		return -EINVAL;
	}
	c->sdb = sdb;
	pthread_mutex_init(&c->lock, NULL);
	*cp = c;
	return 0;
}

void compliance_free(struct compliance *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int compliance_set_calendar(struct compliance *c, int tz_offset_min, const char *holidays)
{
	struct workdays *w = malloc(sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	ret = workdays_init(w, tz_offset_min, holidays) ? -EINVAL : 0;
	if (!ret) {
		pthread_mutex_lock(&c->lock);
		c->cal = *w;
		pthread_mutex_unlock(&c->lock);
	}
	free(w);
	return ret;
}

void compliance_set_notify(struct compliance *c, compliance_notify_fn fn, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->notify = fn;
	c->notify_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

int compliance_set_days(struct compliance *c, const char *kind, unsigned int n)
{
	const struct compliance_kind *k = compliance_kind(kind);
	size_t i = k ? (size_t)(k - compliance_kinds) : 0;

	if (!k || i >= sizeof(c->days) / sizeof(c->days[0]))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	c->days[i] = n;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* The warning point and the deadline of a duty of @k opened at @opened. */
static void window(struct compliance *c, const struct compliance_kind *k, int64_t opened,
		   int64_t *soonp, int64_t *deadlinep)
{
	size_t i = (size_t)(k - compliance_kinds);
	unsigned int n;

	pthread_mutex_lock(&c->lock);
	n = i < sizeof(c->days) / sizeof(c->days[0]) && c->days[i] ? c->days[i] : k->n;
	switch (k->rule) {
	case COMPLIANCE_WORKDAYS:
		*deadlinep = workdays_deadline(&c->cal, opened, n);
		*soonp = workdays_deadline(&c->cal, opened, n / 2);
		break;
	case COMPLIANCE_MONTHS:
		*deadlinep = workdays_add_months(&c->cal, opened, n);
		*soonp = *deadlinep - COMPLIANCE_SOON_DAYS * WORKDAYS_DAY_MS;
		break;
	default: /* COMPLIANCE_AT_ONCE */
		*soonp = *deadlinep = opened;
		break;
	}
	pthread_mutex_unlock(&c->lock);
}

static enum compliance_state state_at(int64_t now, bool open, int64_t soon, int64_t deadline)
{
	if (!open)
		return COMPLIANCE_OK;
	return now >= deadline ? COMPLIANCE_OVERDUE
	       : now >= soon   ? COMPLIANCE_DUE_SOON
			       : COMPLIANCE_OK;
}

static enum compliance_state state_parse(const char *s)
{
	return !strcmp(s, "overdue")	? COMPLIANCE_OVERDUE
	       : !strcmp(s, "due-soon") ? COMPLIANCE_DUE_SOON
					: COMPLIANCE_OK;
}

/* A transition to tell once the statedb lock is released. */
struct change {
	const struct compliance_kind *k;
	char camera[NAME_MAX_];
	enum compliance_state state;
	bool open;
	const char *verb; /* "opened", "closed", or NULL: the state's name */
	int64_t deadline_ms;
	char detail[COMPLIANCE_DETAIL_MAX];
};

static void tell(struct compliance *c, const struct change *ch, int64_t now)
{
	char text[COMPLIANCE_DETAIL_MAX + 160], object[NAME_MAX_ + 32], code[NAME_MAX_], t[32] = "";
	compliance_notify_fn fn;
	void *arg;

	if (ch->deadline_ms)
		format_time_ms(ch->deadline_ms, t, sizeof(t));
	/* "opened (ok): WHAT; deadline T; DETAIL", "overdue: WHAT; ..." */
	snprintf(text, sizeof(text), "%s%s%s%s: %s%s%s%s%s", ch->verb ? ch->verb : "",
		 ch->verb ? " (" : "", compliance_state_name(ch->state), ch->verb ? ")" : "",
		 ch->k->what, *t ? "; deadline " : "", t, *ch->detail ? "; " : "", ch->detail);
	snprintf(object, sizeof(object), "%s:%s", ch->k->name, ch->camera);
	snprintf(code, sizeof(code), "compliance-%s", ch->k->name);
	audit_record(c->sdb, now, "system", "compliance", object, text);
	if (ch->open && (ch->state != COMPLIANCE_OK || ch->k->alarm_open))
		alarm_raise(c->sdb, code, ch->camera, text);
	else
		alarm_clear(c->sdb, code, ch->camera);
	pthread_mutex_lock(&c->lock);
	fn = c->notify;
	arg = c->notify_arg;
	pthread_mutex_unlock(&c->lock);
	if (fn)
		fn(arg, ch->k->name, ch->camera, text);
}

struct cur {
	bool found, open;
	int64_t opened_ms;
	enum compliance_state state;
};

static int cur_row(void *arg, sqlite3_stmt *st)
{
	struct cur *r = arg;

	r->found = true;
	r->open = sqlite3_column_int(st, 0) != 0;
	r->opened_ms = sqlite3_column_int64(st, 1);
	r->state = state_parse((const char *)sqlite3_column_text(st, 2));
	return 1;
}

static int load(sqlite3 *db, const char *kind, const char *camera, struct cur *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = sql_exec(db, "compliance",
		       "SELECT open, opened_ms, state FROM compliance_duties"
		       " WHERE kind = ?1 AND camera = ?2",
		       cur_row, r, "tt", kind, camera);
	return ret < 0 ? ret : 0;
}

int compliance_open(struct compliance *c, const char *kind, const char *camera, int64_t opened_ms,
		    const char *detail)
{
	const struct compliance_kind *k = compliance_kind(kind);
	int64_t now = clock_wall_ms(), soon, deadline;
	struct change ch = { .k = k, .open = true, .verb = "opened" };
	struct cur r;
	sqlite3 *db;
	int ret;

	if (!k || !camera)
		return -EINVAL;
	detail = detail ? detail : "";
	window(c, k, opened_ms, &soon, &deadline);
	db = statedb_lock(c->sdb);
	ret = load(db, kind, camera, &r);
	if (!ret && r.open) {
		ret = sql_exec(db, "compliance",
			       "UPDATE compliance_duties SET detail = ?3"
			       " WHERE kind = ?1 AND camera = ?2 AND detail != ?3",
			       NULL, NULL, "ttt", kind, camera, detail);
		statedb_unlock(c->sdb);
		return ret;
	}
	ch.state = state_at(now, true, soon, deadline);
	if (!ret)
		ret = sql_exec(db, "compliance",
			       "INSERT OR REPLACE INTO compliance_duties (kind, camera, open,"
			       " opened_ms, soon_ms, deadline_ms, state, since_ms, detail)"
			       " VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8)",
			       NULL, NULL, "ttiiitit", kind, camera, opened_ms, soon, deadline,
			       compliance_state_name(ch.state), now, detail);
	statedb_unlock(c->sdb);
	if (ret)
		return ret;
	snprintf(ch.camera, sizeof(ch.camera), "%s", camera);
	snprintf(ch.detail, sizeof(ch.detail), "%s", detail);
	ch.deadline_ms = deadline;
	tell(c, &ch, now);
	return 0;
}

int compliance_close(struct compliance *c, const char *kind, const char *camera, const char *detail)
{
	const struct compliance_kind *k = compliance_kind(kind);
	int64_t now = clock_wall_ms();
	struct change ch = { .k = k, .state = COMPLIANCE_OK, .verb = "closed" };
	struct cur r;
	sqlite3 *db;
	int ret;

	if (!k || !camera)
		return -EINVAL;
	detail = detail ? detail : "";
	db = statedb_lock(c->sdb);
	ret = load(db, kind, camera, &r);
	if (!ret && r.found && !r.open) {
		statedb_unlock(c->sdb);
		return 0;
	}
	if (!ret)
		ret = sql_exec(db, "compliance",
			       "INSERT OR REPLACE INTO compliance_duties (kind, camera, open,"
			       " opened_ms, soon_ms, deadline_ms, state, since_ms, detail)"
			       " VALUES (?1, ?2, 0, 0, 0, 0, 'ok', ?3, ?4)",
			       NULL, NULL, "ttit", kind, camera, now, detail);
	statedb_unlock(c->sdb);
	if (ret || !r.found)
		return ret; /* a duty never opened: listed, nothing to tell */
	snprintf(ch.camera, sizeof(ch.camera), "%s", camera);
	snprintf(ch.detail, sizeof(ch.detail), "%s", detail);
	tell(c, &ch, now);
	return 0;
}

struct eval {
	int64_t now;
	size_t n, cap;
	struct change *ch;
};

static int eval_row(void *arg, sqlite3_stmt *st)
{
	struct eval *e = arg;
	const struct compliance_kind *k = compliance_kind((const char *)sqlite3_column_text(st, 0));
	enum compliance_state now_st, was;
	struct change *ch;

	if (!k)
		return 0; /* a kind of a newer firmware: left as it is */
	was = state_parse((const char *)sqlite3_column_text(st, 2));
	now_st = state_at(e->now, true, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
	if (now_st == was)
		return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 8;
		void *p = realloc(e->ch, cap * sizeof(*e->ch));

		if (!p)
			return -ENOMEM;
		e->ch = p;
		e->cap = cap;
	}
	ch = &e->ch[e->n++];
	memset(ch, 0, sizeof(*ch));
	ch->k = k;
	ch->state = now_st;
	ch->open = true;
	ch->deadline_ms = sqlite3_column_int64(st, 4);
	snprintf(ch->camera, sizeof(ch->camera), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(ch->detail, sizeof(ch->detail), "%s", (const char *)sqlite3_column_text(st, 5));
	return 0;
}

int compliance_evaluate(struct compliance *c)
{
	struct eval e = { .now = clock_wall_ms() };
	sqlite3 *db = statedb_lock(c->sdb);
	int ret = sql_exec(db, "compliance",
			   "SELECT kind, camera, state, soon_ms, deadline_ms, detail"
			   " FROM compliance_duties WHERE open = 1 ORDER BY camera, kind",
			   eval_row, &e, "");

	for (size_t i = 0; !ret && i < e.n; i++)
		ret = sql_exec(db, "compliance",
			       "UPDATE compliance_duties SET state = ?3, since_ms = ?4"
			       " WHERE kind = ?1 AND camera = ?2",
			       NULL, NULL, "ttti", e.ch[i].k->name, e.ch[i].camera,
			       compliance_state_name(e.ch[i].state), e.now);
	statedb_unlock(c->sdb);
	for (size_t i = 0; !ret && i < e.n; i++)
		tell(c, &e.ch[i], e.now);
	free(e.ch);
	return ret;
}

struct list_ctx {
	int (*fn)(void *arg, const struct compliance_row *r);
	void *arg;
};

static int list_row(void *arg, sqlite3_stmt *st)
{
	struct list_ctx *l = arg;
	const struct compliance_kind *k = compliance_kind((const char *)sqlite3_column_text(st, 0));
	struct compliance_row r = {
		.kind = (const char *)sqlite3_column_text(st, 0),
		.req = k ? k->req : "?",
		.camera = (const char *)sqlite3_column_text(st, 1),
		.open = sqlite3_column_int(st, 2) != 0,
		.opened_ms = sqlite3_column_int64(st, 3),
		.deadline_ms = sqlite3_column_int64(st, 4),
		.state = state_parse((const char *)sqlite3_column_text(st, 5)),
		.since_ms = sqlite3_column_int64(st, 6),
		.detail = (const char *)sqlite3_column_text(st, 7),
	};

	return l->fn(l->arg, &r);
}

#define LIST_SQL                                                                                   \
	"SELECT kind, camera, open, opened_ms, deadline_ms, state, since_ms, detail"               \
	" FROM compliance_duties"

int compliance_list(struct statedb *sdb, int (*fn)(void *arg, const struct compliance_row *r),
		    void *arg)
{
	struct list_ctx l = { fn, arg };
	int ret = migrate(sdb);
	sqlite3 *db;

	if (ret)
		return ret;
	db = statedb_lock(sdb);
	ret = sql_exec(db, "compliance", LIST_SQL " ORDER BY camera, kind", list_row, &l, "");
	statedb_unlock(sdb);
	return ret;
}

int compliance_get(struct compliance *c, const char *kind, const char *camera,
		   int (*fn)(void *arg, const struct compliance_row *r), void *arg)
{
	struct list_ctx l = { fn, arg };
	sqlite3 *db = statedb_lock(c->sdb);
	int ret = sql_exec(db, "compliance", LIST_SQL " WHERE kind = ?1 AND camera = ?2", list_row,
			   &l, "tt", kind, camera);

	statedb_unlock(c->sdb);
	return ret;
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[32];

	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	format_time_ms(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}

static int json_row(void *arg, const struct compliance_row *r)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return -ENOMEM;
	cJSON_AddItemToArray(arg, o);
	cJSON_AddStringToObject(o, "kind", r->kind);
	cJSON_AddStringToObject(o, "requirement", r->req);
	cJSON_AddStringToObject(o, "camera", r->camera);
	cJSON_AddStringToObject(o, "state", compliance_state_name(r->state));
	cJSON_AddBoolToObject(o, "open", r->open);
	add_time(o, "opened_at", r->opened_ms);
	add_time(o, "deadline", r->deadline_ms);
	add_time(o, "since", r->since_ms);
	cJSON_AddStringToObject(o, "detail", r->detail);
	return 0;
}

int compliance_json(struct statedb *sdb, cJSON **arrp)
{
	cJSON *arr = cJSON_CreateArray();
	int ret = arr ? compliance_list(sdb, json_row, arr) : -ENOMEM;

	if (ret) {
		cJSON_Delete(arr);
		return ret;
	}
	*arrp = arr;
	return 0;
}

int compliance_maintenance_done(struct statedb *sdb, const char *camera, int64_t ts_ms,
				const char *actor, const char *note)
{
	int ret = migrate(sdb);
	sqlite3 *db;

	if (ret)
		return ret;
	ts_ms = ts_ms ? ts_ms : clock_wall_ms();
	db = statedb_lock(sdb);
	ret = sql_exec(db, "maintenance",
		       "INSERT INTO compliance_maintenance (camera, ts_ms, actor, note)"
		       " VALUES (?1, ?2, ?3, ?4)",
		       NULL, NULL, "titt", camera, ts_ms, actor, note ? note : "");
	statedb_unlock(sdb);
	if (!ret)
		ret = audit_record(sdb, ts_ms, actor, "maintenance-done", camera, note);
	return ret;
}

static int last_row(void *arg, sqlite3_stmt *st)
{
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 1;
}

int compliance_maintenance_last(struct statedb *sdb, const char *camera, int64_t *tsp)
{
	sqlite3 *db = statedb_lock(sdb);
	int ret;

	*tsp = 0;
	ret = sql_exec(db, "maintenance",
		       "SELECT ts_ms FROM compliance_maintenance WHERE camera = ?1"
		       " ORDER BY ts_ms DESC LIMIT 1",
		       last_row, tsp, "t", camera);
	statedb_unlock(sdb);
	return ret < 0 ? ret : 0;
}
