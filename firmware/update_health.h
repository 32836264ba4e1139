/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * update_health - the trial boot after an update: camgate, not the
 * bootloader, decides whether the new slot is healthy (docs/operations.md,
 * "Trial boot").
 *
 * RAUC boots the new slot with a boot count. This boot is a trial when the
 * update record (firmware/update.h) says this version was installed and
 * not yet found good, or when RAUC does not hold the booted slot good.
 * During a trial the daemon is healthy when, at once:
 *   - every critical thread progresses (firmware/liveness.h: storage and,
 *     with central configured, the uplink's status tick);
 *   - with central configured, central answered a request since the trial
 *     began (a version that cannot reach central could never be updated
 *     again from there);
 *   - with cameras configured, at least one of them delivers segments.
 *     At least one, not every one: a camera dead on its own network is
 *     not the firmware's fault, a gateway that records none is broken.
 * Healthy without a break for healthy_after: `rauc status mark-good`.
 * Not marked good trial_timeout after the trial began (a restart of the
 * daemon continues the same trial): `rauc status mark-bad booted` and the
 * board's reboot, so the bootloader boots the previous slot.
 *
 * This file is the decision only (pure, unit-tested in
 * tests/unit/update_health_test.c); firmware/daemon_update.c gathers the
 * signals and runs rauc.
 */
#ifndef CAMGATE_FIRMWARE_UPDATE_HEALTH_H
#define CAMGATE_FIRMWARE_UPDATE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct update_record;

/* What the daemon sees, at one moment. */
struct update_signals {
	bool live_ok;	      /* liveness_ok() */
	bool uplink;	      /* central is configured */
	bool central_reached; /* ... and answered since the trial began */
	size_t cameras;	      /* cameras configured to record */
	size_t recording;     /* of which deliver segments */
	const char *live_why; /* liveness_ok()'s reason when not ok */
};

/* True when @s is healthy; else false and @why says what is missing. */
bool update_healthy(const struct update_signals *s, char *why, size_t cap);

/* What this boot is, from the update record (NULL: none), the running
 * version and RAUC's word on the booted slot (@rauc_known false: RAUC
 * could not say; no A/B slots). */
enum update_boot {
	UPDATE_BOOT_NORMAL = 0, /* nothing to decide */
	UPDATE_BOOT_PENDING,	/* installed, not booted yet */
	UPDATE_BOOT_TRIAL,	/* decide now */
	UPDATE_BOOT_FELL_BACK,	/* a trial of another version, now not running:
				   the bootloader went back (boot count) */
};
enum update_boot update_boot_kind(const struct update_record *rec, const char *running,
				  bool rauc_known, bool rauc_good);

enum update_verdict { UPDATE_WAIT = 0, UPDATE_MARK_GOOD, UPDATE_MARK_BAD };

struct update_trial {
	int64_t start_ms;	  /* monotonic, when the trial began */
	int64_t healthy_after_ms; /* [update] healthy_after */
	int64_t timeout_ms;	  /* [update] trial_timeout */
	int64_t healthy_since_ms; /* -1: not healthy now */
};

/* A trial that began @elapsed_ms before @now_ms (0 for a new one; a
 * restart of the daemon continues the trial the record holds). */
void update_trial_init(struct update_trial *t, int64_t now_ms, int64_t elapsed_ms,
		       int64_t healthy_after_ms, int64_t timeout_ms);
/* One look at @now_ms: healthy or not. MARK_GOOD once healthy without a
 * break for healthy_after, MARK_BAD once timeout passed without that. */
enum update_verdict update_trial_step(struct update_trial *t, int64_t now_ms, bool healthy);

#endif /* CAMGATE_FIRMWARE_UPDATE_HEALTH_H */
