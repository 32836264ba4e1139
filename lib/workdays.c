// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Working-day arithmetic on local day numbers. Civil dates go through
 * Howard Hinnant's days-from-civil algorithm (proleptic Gregorian), so
 * no libc time zone state is touched and any thread may call in.
 */
#include "lib/workdays.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The longest gap without a working day we accept before giving up:
 * a misconfigured list that covers every day must not loop forever. */
#define WORKDAYS_SCAN_MAX 3660

int32_t workdays_civil_day(int year, unsigned int month, unsigned int mday)
{
	int y = year - (month <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned int yoe = (unsigned int)(y - era * 400);
	unsigned int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
	unsigned int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int32_t)(era * 146097 + (int)doe - 719468);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int32_t workdays_local_day(const struct workdays *w, int64_t utc_ms)
{
	return (int32_t)floor_div(utc_ms + (int64_t)w->tz_offset_min * 60000, WORKDAYS_DAY_MS);
}

static int cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

bool workdays_is_holiday(const struct workdays *w, int32_t day)
{
	return bsearch(&day, w->holidays, w->nholidays, sizeof(day), cmp_day) != NULL;
}

bool workdays_is_workday(const struct workdays *w, int32_t day)
{
	/* 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays. */
	int wd = (int)(((int64_t)day + 3) % 7 + 7) % 7;

	return wd < 5 && !workdays_is_holiday(w, day);
}

/* "YYYY-MM-DD" at *sp; advances *sp. */
static int parse_date(const char **sp, int32_t *dayp)
{
	const char *s = *sp;
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned int y, m, d;
	int leap;

	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;

		if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	}
	y = (unsigned int)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + s[3] -
			   '0');
	m = (unsigned int)((s[5] - '0') * 10 + s[6] - '0');
	d = (unsigned int)((s[8] - '0') * 10 + s[9] - '0');
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap))
		return -EINVAL;
	*dayp = workdays_civil_day((int)y, m, d);
	*sp = s + 10;
	return 0;
}

static int add_range(struct workdays *w, int32_t from, int32_t to)
{
	if (to < from || to - from >= WORKDAYS_HOLIDAYS_MAX)
		return to < from ? -EINVAL : -E2BIG;
	for (int32_t d = from; d <= to; d++) {
		if (w->nholidays >= WORKDAYS_HOLIDAYS_MAX)
			return -E2BIG;
		w->holidays[w->nholidays++] = d;
	}
	return 0;
}

int workdays_init(struct workdays *out, int tz_offset_min, const char *list)
{
	struct workdays w; /* 2 KiB: fine on any thread's stack */
	static const char seps[] = ", \t\n";
	const char *s = list ? list : "";
	size_t n = 0;
	int ret;

	if (tz_offset_min < -720 || tz_offset_min > 840)
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	w.tz_offset_min = tz_offset_min;
	for (s += strspn(s, seps); *s; s += strspn(s, seps)) {
		int32_t from, to;

		ret = parse_date(&s, &from);
		to = from;
		if (!ret && !strncmp(s, "..", 2)) {
			s += 2;
			ret = parse_date(&s, &to);
		}
		if (!ret && *s && !strchr(seps, *s))
			ret = -EINVAL;
		if (!ret)
			ret = add_range(&w, from, to);
		if (ret)
			return ret;
	}
	qsort(w.holidays, w.nholidays, sizeof(w.holidays[0]), cmp_day);
	for (size_t i = 0; i < w.nholidays; i++)
		if (!n || w.holidays[n - 1] != w.holidays[i])
			w.holidays[n++] = w.holidays[i];
	w.nholidays = n;
	*out = w;
	return 0;
}

int64_t workdays_deadline(const struct workdays *w, int64_t created_ms, unsigned int n)
{
	int32_t day = workdays_local_day(w, created_ms);

	for (unsigned int left = n, scanned = 0; left && scanned < WORKDAYS_SCAN_MAX; scanned++) {
		day++;
		if (workdays_is_workday(w, day))
			left--;
	}
	return ((int64_t)day + 1) * WORKDAYS_DAY_MS - (int64_t)w->tz_offset_min * 60000;
}

unsigned int workdays_elapsed(const struct workdays *w, int64_t from_ms, int64_t to_ms)
{
	int32_t day = workdays_local_day(w, from_ms);
	int32_t last = workdays_local_day(w, to_ms) - 1; /* last day fully over */
	unsigned int n = 0;

	if (to_ms <= from_ms)
		return 0;
	if (last - day > WORKDAYS_SCAN_MAX)
		last = day + WORKDAYS_SCAN_MAX;
	while (++day <= last)
		n += workdays_is_workday(w, day);
	return n;
}

/* Civil date of day number @day (Howard Hinnant's days_from_civil inverse). */
static void civil_from_day(int32_t day, int *yp, unsigned int *mp, unsigned int *dp)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp5 = (5 * doy + 2) / 153;
	unsigned int m = mp5 < 10 ? mp5 + 3 : mp5 - 9;

	*dp = doy - (153 * mp5 + 2) / 5 + 1;
	*mp = m;
	*yp = (int)(yoe + era * 400 + (m <= 2));
}

int64_t workdays_add_months(const struct workdays *w, int64_t from_ms, unsigned int months)
{
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned int m, d, last;
	int y;
	int32_t day;

	civil_from_day(workdays_local_day(w, from_ms), &y, &m, &d);
	m += months % 12;
	y += (int)(months / 12);
	if (m > 12) {
		m -= 12;
		y++;
	}
	last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	day = workdays_civil_day(y, m, d < last ? d : last);
	return ((int64_t)day + 1) * WORKDAYS_DAY_MS - (int64_t)w->tz_offset_min * 60000;
}
