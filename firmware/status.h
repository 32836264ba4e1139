/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status - the gateway's health snapshot, STATE_DIR/status.json.
 *
 * Written by the daemon's main thread every status_interval (replaced
 * atomically: temp file, rename), read by `camgate status` and, later,
 * sent to central. Fields are documented in docs/status.md.
 */
#ifndef CAMGATE_FIRMWARE_STATUS_H
#define CAMGATE_FIRMWARE_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct ring;
struct statedb;
struct stream;
struct uplink_stat;
struct cJSON;

/* All pointers borrowed; @ust NULL when no uplink runs (local recorder).
 * -EIO (logged) when the file cannot be written. */
int status_write(const struct config *cfg, struct ring *ring, struct statedb *sdb,
		 int64_t started_ms, const char *const *names, struct stream *const *streams,
		 size_t n, const struct uplink_stat *ust);

/* The cameras' live statistics as a new JSON array (caller frees), for
 * the local snapshot and for the status object sent to central. */
/* A NULL stream lists its camera as "gone". */
struct cJSON *status_cameras(const char *const *names, struct stream *const *streams, size_t n);

/* `camgate status [--json]`: print the last snapshot. */
int status_print(const struct config *cfg, int json);

#endif /* CAMGATE_FIRMWARE_STATUS_H */
