// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compliance_health - the R11 health signals against their thresholds
 * (firmware/compliance_health.h).
 */
#include "firmware/compliance_health.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends one reason to @detail, "; "-separated; truncation is harmless. */
static void add(char *detail, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	if (*len) {
		n = snprintf(detail + *len, cap - *len, "; ");
		*len += n > 0 ? (size_t)n : 0;
		if (*len >= cap)
			return;
	}
	va_start(ap, fmt);
	n = vsnprintf(detail + *len, cap - *len, fmt, ap);
	va_end(ap);
	*len += n > 0 ? (size_t)n : 0;
}

bool compliance_health_check(const struct compliance_health *h,
			     const struct compliance_health_limits *l, char *detail, size_t cap)
{
	int64_t off = h->clock_offset_ms < 0 ? -h->clock_offset_ms : h->clock_offset_ms;
	size_t len = 0;

	if (!cap)
		return false;
	detail[0] = '\0';
	/* 0 fps: nothing measured yet, or the sink keeps nothing (a stream
	 * or storage fault of its own), not a slow camera. */
	if (l->fps_min_pct && h->fps > 0 && h->profile_fps > 0 &&
	    h->fps * 100.0 < h->profile_fps * l->fps_min_pct)
		add(detail, cap, &len, "fps %.1f against %g in the profile", h->fps,
		    h->profile_fps);
	if (l->bitrate_min_kbps && h->bitrate_bps > 0 &&
	    h->bitrate_bps < (uint64_t)l->bitrate_min_kbps * 1000)
		add(detail, cap, &len, "bitrate %llu kbit/s under %u",
		    (unsigned long long)(h->bitrate_bps / 1000), l->bitrate_min_kbps);
	if (l->gaps_max && h->gaps >= l->gaps_max)
		add(detail, cap, &len, "%u stream gap%s within an hour", h->gaps,
		    h->gaps == 1 ? "" : "s");
	if (l->clock_max_ms && off > l->clock_max_ms)
		add(detail, cap, &len, "clock %lld s off", (long long)((off + 500) / 1000));
	if (l->auth_refused_max && h->auth_refused >= l->auth_refused_max)
		add(detail, cap, &len, "ONVIF auth refused %u times", h->auth_refused);
	return len > 0;
}

#define GAPS_HOUR_MS 3600000ll

unsigned int compliance_gaps_hourly(struct compliance_gaps *w, unsigned int count, int64_t now_ms)
{
	unsigned int now_n;

	if (!w->mark_ms) {
		w->mark_ms = now_ms;
		w->mark = count;
	} else if (now_ms - w->mark_ms >= GAPS_HOUR_MS) {
		w->last_hour = now_ms - w->mark_ms < 2 * GAPS_HOUR_MS ? count - w->mark : 0;
		w->mark_ms = now_ms;
		w->mark = count;
	}
	now_n = count - w->mark;
	return now_n > w->last_hour ? now_n : w->last_hour;
}

double compliance_profile_fps(const char *profiles)
{
	const char *end, *at;
	double fps;

	if (!profiles)
		return 0;
	end = strchr(profiles, ';');
	if (!end)
		end = profiles + strlen(profiles);
	at = memchr(profiles, '@', (size_t)(end - profiles));
	if (!at)
		return 0;
	fps = strtod(at + 1, NULL);
	return fps > 0 && fps < 1000 ? fps : 0;
}
