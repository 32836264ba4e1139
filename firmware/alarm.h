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

#include <stdint.h>

struct statedb;
struct cJSON;

/* @camera "" for gateway-wide alarms. Strings borrowed. -EIO (logged). */
int alarm_raise(struct statedb *db, const char *code, const char *camera,
		const char *message);
int alarm_clear(struct statedb *db, const char *code, const char *camera);

/* The active alarms as a new JSON array in *arrp (the caller frees it
 * with cJSON_Delete). -EIO, -ENOMEM. */
int alarm_active_json(struct statedb *db, struct cJSON **arrp);

#endif /* CAMGATE_FIRMWARE_ALARM_H */
