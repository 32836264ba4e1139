// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/retention.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "firmware/alarm.h"
#include "firmware/config.h"
#include "lib/parse.h"
#include "storage/ring.h"

int64_t retention_floor(const struct config *cfg, const struct config_camera *c)
{
	return c && c->retention_floor_ms > 0 ? c->retention_floor_ms : cfg->retention_floor_ms;
}

int64_t retention_ring_floor(const struct config *cfg)
{
	int64_t f = cfg->retention_floor_ms;

	for (size_t i = 0; i < cfg->ncameras; i++)
		if (cfg->cameras[i].retention_floor_ms > f)
			f = cfg->cameras[i].retention_floor_ms;
	return f;
}

void retention_forecast(const struct ring_stat *st, int64_t now_ms, int64_t floor_ms,
			struct retention_forecast *f)
{
	*f = (struct retention_forecast){ .floor_ms = floor_ms };
	if (!st->segs || st->newest_utc_ms <= st->oldest_utc_ms || !st->bytes_used)
		return; /* no rate yet */
	f->held_ms = st->newest_utc_ms - st->oldest_utc_ms;
	/* In double: bytes x ms overflows 64 bits on large rings. */
	double ms_per_byte = (double)f->held_ms / (double)st->bytes_used;

	f->rate_bps = (uint64_t)((double)st->bytes_used * 1000.0 / (double)f->held_ms);
	f->capacity_ms = (int64_t)((double)st->bytes_total * ms_per_byte);
	f->full_at_ms = now_ms;
	if (st->bytes_total > st->bytes_used)
		f->full_at_ms +=
			(int64_t)((double)(st->bytes_total - st->bytes_used) * ms_per_byte);
	if (floor_ms > 0 && f->capacity_ms < floor_ms)
		f->breach_at_ms = f->full_at_ms;
}

/* "3.5 d", "7.0 h", "12 min": the unit that reads best. */
static const char *dur_text(int64_t ms, char *buf, size_t cap)
{
	if (ms >= 2 * 86400000ll)
		snprintf(buf, cap, "%.1f d", (double)ms / 86400000.0);
	else if (ms >= 2 * 3600000ll)
		snprintf(buf, cap, "%.1f h", (double)ms / 3600000.0);
	else
		snprintf(buf, cap, "%lld min", (long long)(ms / 60000));
	return buf;
}

static void watch_one(struct statedb *db, const struct ring_stat *st, int64_t now_ms,
		      const char *camera, int64_t floor_ms)
{
	struct retention_forecast f;
	char msg[256], when[32], a[24], b[24], c[24];

	retention_forecast(st, now_ms, floor_ms, &f);
	if (!f.breach_at_ms) {
		if (f.capacity_ms) /* a known rate that holds the floor */
			alarm_clear(db, "retention-at-risk", camera);
		return;
	}
	format_time_ms(f.breach_at_ms, when, sizeof(when));
	snprintf(msg, sizeof(msg),
		 "floor %s cannot be held: the ring holds %s at %llu KiB/s; footage under the "
		 "floor is lost from %s (in %s)",
		 dur_text(floor_ms, a, sizeof(a)), dur_text(f.capacity_ms, b, sizeof(b)),
		 (unsigned long long)f.rate_bps / 1024, when,
		 dur_text(f.breach_at_ms - now_ms, c, sizeof(c)));
	alarm_raise(db, "retention-at-risk", camera, msg);
}

void retention_watch(struct statedb *db, const struct ring_stat *st, const struct config *cfg,
		     int64_t now_ms)
{
	if (retention_ring_floor(cfg) <= 0)
		alarm_raise(db, "retention-floor-unset", "",
			    "no retention floor set ([storage] retention_floor): R10 asks for one");
	else
		alarm_clear(db, "retention-floor-unset", "");
	/* "": the unit's floor, which discovered cameras keep. */
	watch_one(db, st, now_ms, "", cfg->retention_floor_ms);
	for (size_t i = 0; i < cfg->ncameras; i++)
		watch_one(db, st, now_ms, cfg->cameras[i].name,
			  retention_floor(cfg, &cfg->cameras[i]));
}

cJSON *retention_json(const struct ring_stat *st, const struct config *cfg, int64_t now_ms)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o && i < cfg->ncameras; i++) {
		struct retention_forecast f;
		cJSON *c = cJSON_AddObjectToObject(o, cfg->cameras[i].name);

		if (!c)
			break;
		retention_forecast(st, now_ms, retention_floor(cfg, &cfg->cameras[i]), &f);
		cJSON_AddNumberToObject(c, "floor_ms", (double)f.floor_ms);
		cJSON_AddNumberToObject(c, "held_ms", (double)f.held_ms);
		cJSON_AddNumberToObject(c, "capacity_ms", (double)f.capacity_ms);
		cJSON_AddNumberToObject(c, "rate_bps", (double)f.rate_bps);
		cJSON_AddNumberToObject(c, "breach_at_ms", (double)f.breach_at_ms);
	}
	return o;
}
