/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compliance - the regulation's duties (docs/compliance.md) as live states
 * with deadlines, per camera and per gateway (camera "").
 *
 * A duty is (kind, camera). It is OPEN from the moment something is owed
 * (a registry change central has not acknowledged, a fault, the next
 * maintenance) until it is discharged (closed). An open duty has a
 * deadline, set by its kind's rule from the time it opened, on the
 * working-day calendar of lib/workdays.h (the [uplink] tz_offset and
 * holidays settings). Its state:
 *   ok        closed, or open and not yet near its deadline;
 *   due-soon  open, past the kind's warning point;
 *   overdue   open, past the deadline.
 * Every transition (opened, a state change, closed) is one audit row
 * (actor "system", action "compliance", object "KIND:CAMERA"), is told to
 * the notify hook (the daemon sends it to central as a "compliance"
 * event), and keeps the alarm "compliance-KIND" of the camera raised
 * while the duty is due-soon or overdue (or open, for kinds with
 * alarm_open), cleared otherwise.
 *
 * Adding a duty: one row in compliance_kinds[] (compliance_kinds.c), then
 * compliance_open() where the duty arises, compliance_close() where it
 * is discharged. Nothing else: the table, the console's `show compliance`
 * and the status object read every kind.
 *
 * Time: every decision reads clock_wall_ms() (lib/clock.h), so tests
 * steer it (clock_set_source(), or CAMGATE_TEST_CLOCK_FILE in a daemon).
 *
 * State: the tables "compliance_duties" and "compliance_maintenance" in
 * state.db (module "compliance"), so `camgate console` in its own process
 * reads and writes the same duties as the daemon.
 *
 * Threads: any. A struct compliance serialises its calendar with a mutex;
 * statements run under statedb_lock(); audit rows, alarms and the notify
 * hook are called after the lock is released, on the calling thread.
 * Errors: -EIO (SQLite, logged), -EINVAL (unknown kind), -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_COMPLIANCE_H
#define CAMGATE_FIRMWARE_COMPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct statedb;
struct cJSON;
struct compliance; /* opaque */

enum compliance_state {
	COMPLIANCE_OK = 0,
	COMPLIANCE_DUE_SOON,
	COMPLIANCE_OVERDUE,
};

/* How a kind's deadline follows from the time the duty opened. */
enum compliance_rule {
	/* The end of the n-th working day after the opening day (R2: 10,
	 * R11 faults: 5); due soon from the end of the (n/2)-th. */
	COMPLIANCE_WORKDAYS,
	/* The end of the day n calendar months later (R11 maintenance: 6);
	 * due soon COMPLIANCE_SOON_DAYS calendar days before. */
	COMPLIANCE_MONTHS,
	/* Overdue as soon as it opens: a defect to fix, not a task with a
	 * window (a camera whose mandatory R2 fields are empty). */
	COMPLIANCE_AT_ONCE,
};

#define COMPLIANCE_SOON_DAYS  14
#define COMPLIANCE_DETAIL_MAX 256

/* One kind of duty. The table is const and global: read by any thread. */
struct compliance_kind {
	const char *name; /* [a-z-]: "registry"; alarm "compliance-registry" */
	const char *req;  /* the regulation's duty: "R2" */
	enum compliance_rule rule;
	unsigned int n;	  /* working days or months */
	bool alarm_open;  /* alarm from the opening on, not only when due */
	const char *what; /* what is owed, in words, for alarms and the console */
};

extern const struct compliance_kind compliance_kinds[];
extern const size_t compliance_nkinds;
/* The kind named @name, or NULL. */
const struct compliance_kind *compliance_kind(const char *name);
const char *compliance_state_name(enum compliance_state s); /* "ok", "due-soon", "overdue" */

/* Told of every transition after it is committed and audited; @text is
 * "opened (STATE): ...", "due-soon: ...", "overdue: ...", "closed (ok):
 * ...". Must
 * not block or call back into this module. */
typedef void (*compliance_notify_fn)(void *arg, const char *kind, const char *camera,
				     const char *text);

/* Migrate the tables in @sdb (borrowed, must outlive *cp) and make a
 * handle on the calendar (@tz_offset_min, @holidays: workdays_init()).
 * -EINVAL: bad calendar (nothing logged: the caller names the setting). */
int compliance_new(struct statedb *sdb, int tz_offset_min, const char *holidays,
		   struct compliance **cp);
void compliance_free(struct compliance *c); /* NULL is a no-op */
/* A new calendar (a reload); -EINVAL leaves the old one. Open duties keep
 * their deadlines: a holiday decreed later does not move a deadline
 * already told to central. */
int compliance_set_calendar(struct compliance *c, int tz_offset_min, const char *holidays);
void compliance_set_notify(struct compliance *c, compliance_notify_fn fn, void *arg);
/* Override kind @kind's n (R2's window is the [uplink] deadline_days
 * setting); duties opened from now on use it. -EINVAL: unknown kind. */
int compliance_set_days(struct compliance *c, const char *kind, unsigned int n);

/* Open duty (@kind, @camera) as owed since @opened_ms, unless it is open
 * already: then only @detail is updated (the clock runs from the first
 * opening, as central's R2 window does). @detail may be NULL. */
int compliance_open(struct compliance *c, const char *kind, const char *camera, int64_t opened_ms,
		    const char *detail);
/* Discharge it (a no-op when not open; a closed row is created so the
 * table lists the duty as ok). */
int compliance_close(struct compliance *c, const char *kind, const char *camera,
		     const char *detail);
/* Move every open duty to the state the clock says now. */
int compliance_evaluate(struct compliance *c);

struct compliance_row { /* strings valid during the callback only */
	const char *kind;
	const char *req;
	const char *camera;
	enum compliance_state state;
	bool open;
	int64_t opened_ms;   /* 0 when closed */
	int64_t deadline_ms; /* 0 when closed */
	int64_t since_ms;    /* in this state since */
	const char *detail;
};
/* Calls @fn for every duty, by camera then kind; non-zero stops and is
 * returned. -ENOENT: (kind, camera) unknown for compliance_get(). */
int compliance_list(struct statedb *sdb, int (*fn)(void *arg, const struct compliance_row *r),
		    void *arg);
int compliance_get(struct compliance *c, const char *kind, const char *camera,
		   int (*fn)(void *arg, const struct compliance_row *r), void *arg);
/* The table as a new JSON array (the status object's "compliance"):
 * {kind, requirement, camera, state, open, opened_at, deadline, since,
 * detail}; the caller frees it. */
int compliance_json(struct statedb *sdb, struct cJSON **arrp);

/* R11 maintenance: record that @camera was maintained at @ts_ms (0: now)
 * by @actor ("central", a console user), with @note; audited. The daemon
 * renews the maintenance duty from it. */
int compliance_maintenance_done(struct statedb *sdb, const char *camera, int64_t ts_ms,
				const char *actor, const char *note);
/* The last maintenance of @camera into *tsp (0: none). */
int compliance_maintenance_last(struct statedb *sdb, const char *camera, int64_t *tsp);

#endif /* CAMGATE_FIRMWARE_COMPLIANCE_H */
