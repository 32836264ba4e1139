// SPDX-License-Identifier: GPL-2.0-or-later
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/clock.h"

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *vp)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*vp = v;
	return 0;
}

int parse_bool(const char *s, bool *vp)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*vp = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*vp = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Splits "123abc" into 123 and "abc"; the number must be non-negative. */
static int parse_num_unit(const char *s, uint64_t *np, const char **unitp)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*np = v;
	*unitp = end;
	return 0;
}

static int mul_checked(uint64_t n, uint64_t m, uint64_t *vp)
{
	if (m && n > UINT64_MAX / m)
		return -ERANGE;
	*vp = n * m;
	return 0;
}

int parse_size(const char *s, uint64_t *vp)
{
	static const struct {
		const char *u;
		uint64_t m;
	} units[] = {
		{ "", 1 },
		{ "K", 1ull << 10 },
		{ "M", 1ull << 20 },
		{ "G", 1ull << 30 },
		{ "T", 1ull << 40 },
		{ "KiB", 1ull << 10 },
		{ "MiB", 1ull << 20 },
		{ "GiB", 1ull << 30 },
		{ "TiB", 1ull << 40 },
	};
	const char *unit;
	uint64_t n;
	int ret = parse_num_unit(s, &n, &unit);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(unit, units[i].u))
			return mul_checked(n, units[i].m, vp);
	return -EINVAL;
}

int parse_duration_ms(const char *s, int64_t *vp)
{
	static const struct {
		const char *u;
		uint64_t m;
	} units[] = {
		{ "", 1000 },	{ "ms", 1 },	  { "s", 1000 },
		{ "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *unit;
	uint64_t n, v;
	int ret = parse_num_unit(s, &n, &unit);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].u))
			continue;
		ret = mul_checked(n, units[i].m, &v);
		if (ret || v > INT64_MAX)
			return -ERANGE;
		*vp = (int64_t)v;
		return 0;
	}
	return -EINVAL;
}

static int parse_iso8601(const char *s, int64_t *vp)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ms = 0;
	time_t t;

	if (!p)
		return -EINVAL;
	if (*p == '.') {
		int64_t scale = 100;

		for (p++; isdigit((unsigned char)*p); p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*vp = (int64_t)t * 1000 + ms;
	return 0;
}

int parse_time_ms(const char *s, int64_t now_ms, int64_t *vp)
{
	int64_t v;
	int ret;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "now")) {
		*vp = now_ms;
		return 0;
	}
	if (!strcmp(s, "begin")) {
		*vp = INT64_MIN;
		return 0;
	}
	if (!strcmp(s, "end")) {
		*vp = INT64_MAX;
		return 0;
	}
	if (*s == '@') {
		ret = parse_i64(s + 1, 0, INT64_MAX / 1000, &v);
		if (!ret)
			*vp = v * 1000;
		return ret;
	}
	if (*s == '-') {
		ret = parse_duration_ms(s + 1, &v);
		if (!ret)
			*vp = now_ms - v;
		return ret;
	}
	return parse_iso8601(s, vp);
}

void format_time_ms(int64_t utc_ms, char *buf, size_t cap)
{
	time_t t = (time_t)(utc_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(utc_ms % 1000));
}

int64_t time_now_ms(void)
{
	return clock_wall_ms();
}

int64_t time_mono_ms(void)
{
	return clock_mono_ms();
}
