/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status - the gateway's health snapshot, STATE_DIR/status.json.
 *
 * Written by the daemon's main thread every status_interval (replaced
 * whole and durably by fs_replace(): temp file, fsync, rename, fsync of
 * the folder, so after a power cut it is the last snapshot, not an empty
 * file), read by `camgate status` and, later, sent to central. Fields are documented in docs/status.md.
 */
#ifndef CAMGATE_FIRMWARE_STATUS_H
#define CAMGATE_FIRMWARE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct ring;
struct statedb;
struct stream;
struct uplink_stat;
struct cJSON;

/* The filesystem of state_dir (state.db: audit, outbox, alarms). */
struct status_state_disk {
	uint64_t free_bytes; /* statvfs f_bavail * f_frsize at the last look */
	uint64_t low_bytes;  /* the state_disk_low setting; 0: not watched */
	bool low;	     /* the state-disk-low alarm is raised */
	/* state.db refused a write the evict hook needed (audit row) or the
	 * uplink reports segments without an outbox row: protected footage
	 * is kept and recording of what needs it stops. */
	bool writes_failing;
};
/* As a new JSON object (caller frees), for status.json and central. */
struct cJSON *status_state_disk_json(const struct status_state_disk *sd);

/* All pointers borrowed; @daemon_state the daemon's state by name
 * ("RUNNING"...); @ust NULL when no uplink runs (local recorder), @sd NULL
 * when unknown. -EIO (logged) when the file cannot be written. */
int status_write(const struct config *cfg, struct ring *ring, struct statedb *sdb,
		 const char *daemon_state, int64_t started_ms, const char *const *names,
		 struct stream *const *streams, size_t n, const struct uplink_stat *ust,
		 const struct status_state_disk *sd);

/* The cameras' live statistics as a new JSON array (caller frees), for
 * the local snapshot and for the status object sent to central. */
/* A NULL stream lists its camera as "gone". */
struct cJSON *status_cameras(const char *const *names, struct stream *const *streams, size_t n);

/* `camgate status [--json]`: print the last snapshot. */
int status_print(const struct config *cfg, int json);

#endif /* CAMGATE_FIRMWARE_STATUS_H */
