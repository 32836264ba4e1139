/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * alarm - conditions central must hear about (R13): storage full, camera
 * down, protected footage overwritten. Kept in state.db.
 *
 * An alarm is identified by (code, camera). Raising an active alarm again
 * bumps its count and time instead of adding a row, so a flapping camera
 * cannot flood the table. Clearing marks it inactive.
 * Threads: any; statedb serialises.
 */
#ifndef CAMGATE_FIRMWARE_ALARM_H
#define CAMGATE_FIRMWARE_ALARM_H

#include <stdbool.h>
#include <stdint.h>

struct statedb;
struct cJSON;

/* Told of every newly raised alarm (not of repeats) and every clear, after
 * the row is committed, on the raising thread. It must not block or call
 * back into the alarm module. One listener; NULL removes it. */
typedef void (*alarm_notify_fn)(void *arg, const char *code, const char *camera,
				const char *message, bool raised);
void alarm_set_notify(alarm_notify_fn fn, void *arg);

/* @camera "" for gateway-wide alarms. Strings borrowed. -EIO (logged). */
int alarm_raise(struct statedb *db, const char *code, const char *camera, const char *message);
int alarm_clear(struct statedb *db, const char *code, const char *camera);

/* The active alarms as a new JSON array in *arrp (the caller frees it
 * with cJSON_Delete). -EIO, -ENOMEM. */
int alarm_active_json(struct statedb *db, struct cJSON **arrp);

#endif /* CAMGATE_FIRMWARE_ALARM_H */
