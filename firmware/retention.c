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
	f->rate_bps = st->bytes_used * 1000 / (uint64_t)f->held_ms;
	if (!f->rate_bps)
		return;
	f->capacity_ms = (int64_t)(st->bytes_total * 1000 / f->rate_bps);
	f->full_at_ms = now_ms;
	if (st->bytes_total > st->bytes_used)
		f->full_at_ms += (int64_t)((st->bytes_total - st->bytes_used) * 1000 / f->rate_bps);
	if (floor_ms > 0 && f->capacity_ms < floor_ms)
		f->breach_at_ms = f->full_at_ms;
}

static void watch_one(struct statedb *db, const struct ring_stat *st, int64_t now_ms,
		      const char *camera, int64_t floor_ms)
{
	struct retention_forecast f;
	char msg[256], when[32];

	retention_forecast(st, now_ms, floor_ms, &f);
	if (!f.breach_at_ms) {
		if (f.capacity_ms) /* a known rate that holds the floor */
			alarm_clear(db, "retention-at-risk", camera);
		return;
	}
	format_time_ms(f.breach_at_ms, when, sizeof(when));
	snprintf(msg, sizeof(msg),
		 "floor %lld h cannot be held: the ring holds %.1f h at %llu KiB/s; footage under "
		 "the floor is lost from %s (in %lld min)",
		 (long long)(floor_ms / 3600000), (double)f.capacity_ms / 3600000.0,
		 (unsigned long long)f.rate_bps / 1024, when,
		 (long long)((f.breach_at_ms - now_ms) / 60000));
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
