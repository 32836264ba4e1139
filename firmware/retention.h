/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * retention - the minimum retention of R10 as a watched duty: each
 * camera's floor ([camera] retention_floor, else the unit's [storage]
 * retention_floor), how long the ring holds footage at the rate it is
 * being recorded, and when the floor would be breached.
 *
 * The ring is one FIFO for all cameras, so every camera's footage is held
 * for the same span: capacity / recording rate, the rate taken from the
 * ring's own figures (bytes held over the span they cover). A floor longer
 * than that span is breached from the moment the ring is full (now, when
 * it already is). retention_watch() raises the alarm "retention-at-risk"
 * for such a camera as soon as the forecast shows it, before any footage
 * under the floor is lost, and clears it when the forecast holds again;
 * "retention-floor-unset" is raised while no floor is set at all.
 *
 * Evicting under the floor is the ring's evict hook's decision
 * (firmware/daemon_stream.c): only with [storage] on_full = evict, each
 * segment audited. The ring protects the longest floor of all cameras
 * (retention_ring_floor()).
 *
 * Threads: any (pure functions) but retention_watch(), main thread.
 */
#ifndef CAMGATE_FIRMWARE_RETENTION_H
#define CAMGATE_FIRMWARE_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct config_camera;
struct ring_stat;
struct statedb;
struct cJSON;

struct retention_forecast {
	int64_t floor_ms;     /* the camera's floor; 0: none */
	int64_t held_ms;      /* footage the ring holds now, oldest to newest */
	int64_t capacity_ms;  /* what it can hold at the current rate; 0: unknown yet */
	uint64_t rate_bps;    /* bytes per second recorded, all cameras */
	int64_t full_at_ms;   /* when the ring is full; now when it is */
	int64_t breach_at_ms; /* when footage under the floor goes; 0: never */
};

/* The floor of camera @c (NULL: the unit's). */
int64_t retention_floor(const struct config *cfg, const struct config_camera *c);
/* The longest floor of the unit and its cameras: what the ring pins. */
int64_t retention_ring_floor(const struct config *cfg);

/* The forecast for @floor_ms from the ring's figures @st at @now_ms. */
void retention_forecast(const struct ring_stat *st, int64_t now_ms, int64_t floor_ms,
			struct retention_forecast *f);

/* Raise or clear each configured camera's "retention-at-risk" and the
 * gateway's "retention-floor-unset" by the forecast. */
void retention_watch(struct statedb *db, const struct ring_stat *st, const struct config *cfg,
		     int64_t now_ms);

/* {"floor_ms", "held_ms", "capacity_ms", "rate_bps", "breach_at_ms"} per
 * camera, as a new JSON object keyed by camera (caller frees); NULL on
 * ENOMEM. */
struct cJSON *retention_json(const struct ring_stat *st, const struct config *cfg, int64_t now_ms);

#endif /* CAMGATE_FIRMWARE_RETENTION_H */
