/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * workdays - the working-day calendar behind the registry update window
 * (R2: central must hold a change within 10 working days).
 *
 * A working day is Monday to Friday, in the gateway's legal time zone
 * (a fixed UTC offset: Vietnam keeps UTC+7 all year), minus the public
 * holidays of a configured list. The list is data, not code: the dates
 * of lunar holidays (Tet) change every year and are decreed late.
 *
 * Deadline rule: a change made on day D must be at central by the end of
 * the N-th working day after D; D itself does not count, whatever the
 * hour (the usual reading of "within N working days"). The deadline is
 * returned as the UTC instant at which that day ends.
 *
 * Pure functions of their arguments: the caller passes the time (its
 * injected clock), so tests run on fixed calendars. No I/O, no locale.
 * A struct workdays is caller-embedded, filled by workdays_init(), then
 * read-only: any thread may use it.
 */
#ifndef CAMGATE_LIB_WORKDAYS_H
#define CAMGATE_LIB_WORKDAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORKDAYS_HOLIDAYS_MAX 512 /* days, after expanding ranges */
#define WORKDAYS_DAY_MS	      86400000ll

struct workdays {
	int32_t tz_offset_min; /* local = UTC + offset */
	size_t nholidays;
	int32_t holidays[WORKDAYS_HOLIDAYS_MAX]; /* local day numbers, sorted */
};

/* @holidays: dates "YYYY-MM-DD" and ranges "YYYY-MM-DD..YYYY-MM-DD"
 * separated by commas and/or spaces; NULL or "" for none. Duplicates are
 * fine. @tz_offset_min in [-720, 840]. Does not log: -EINVAL names no
 * position, so callers report the key. -E2BIG: more than
 * WORKDAYS_HOLIDAYS_MAX days. @w is written only on success. */
int workdays_init(struct workdays *w, int tz_offset_min, const char *holidays);

/* Local day number (days since 1970-01-01 in local time) of @utc_ms. */
int32_t workdays_local_day(const struct workdays *w, int64_t utc_ms);

/* Day number of a civil date; -EINVAL-free: caller passes a valid date. */
int32_t workdays_civil_day(int year, unsigned int month, unsigned int mday);

bool workdays_is_holiday(const struct workdays *w, int32_t day);
bool workdays_is_workday(const struct workdays *w, int32_t day);

/* The end of the @n-th working day after the local day of @created_ms,
 * as UTC ms (see the rule above). @n 0 gives the end of the creation day. */
int64_t workdays_deadline(const struct workdays *w, int64_t created_ms, unsigned int n);

/* Working days that start after @from_ms's day and end by @to_ms: how
 * many full working days have passed. 0 when @to_ms <= @from_ms. */
unsigned int workdays_elapsed(const struct workdays *w, int64_t from_ms, int64_t to_ms);

/* The end (UTC ms) of the local day @months calendar months after the
 * local day of @from_ms (R11 maintenance: every 6 months); a day the
 * target month lacks becomes its last day (Aug 31 + 6 months: Feb 28 or
 * 29). Weekends and holidays do not move it. */
int64_t workdays_add_months(const struct workdays *w, int64_t from_ms, unsigned int months);

#endif /* CAMGATE_LIB_WORKDAYS_H */
