/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * update - the one path of a firmware update, for `camgate update FILE|URL`
 * (firmware/cmd_update.c) and central's `update` command
 * (firmware/daemon_update.c); docs/operations.md, "Update".
 *
 * RAUC does the work (verity bundles, slots, boot counting through the
 * bootloader); this module decides whether it may:
 *   0. a URL is downloaded over the uplink's TLS rules (net/uplink_fetch.h)
 *      into STATE_DIR/update.raucb, at most max_bytes; with a SHA-256
 *      given, the download must have it (else: refused, tampered);
 *   1. `rauc info --keyring=PEM` verifies the signature and reads the
 *      manifest: a tampered bundle or one signed by another key is refused;
 *   2. the manifest's compatible must be this board's (camgate-BOARD);
 *   3. a lower version than the running one is a downgrade, refused unless
 *      the request is forced (the caller decided who may force);
 *   4. `rauc install` (dm-verity checks each block as it is written).
 * Each step is an audit row (actor: the request's) and a call of the
 * request's step hook; the staging file is removed whatever happens. An
 * installed bundle leaves the update record (STATE_DIR/update.json) in
 * state "installed-reboot-pending", which the next boot's trial reads
 * (firmware/update_health.h).
 *
 * The rauc program is $CAMGATE_RAUC when set (tests), else "rauc" in PATH.
 * Ownership: everything in a request is borrowed for the call. Any thread;
 * one update at a time (the daemon enforces it).
 */
#ifndef CAMGATE_FIRMWARE_UPDATE_H
#define CAMGATE_FIRMWARE_UPDATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct statedb;
struct uplink_cfg;

/* Where an update stands: the status object's update.state. */
enum update_state {
	UPDATE_IDLE = 0,
	UPDATE_DOWNLOADING,
	UPDATE_VERIFYING,
	UPDATE_REFUSED,
	UPDATE_INSTALLING,
	UPDATE_INSTALLED, /* "installed-reboot-pending" */
	UPDATE_TRIAL,
	UPDATE_GOOD,
	UPDATE_ROLLED_BACK,
	UPDATE_FAILED,
	UPDATE_NSTATES,
};

/* "idle", "downloading", ... "installed-reboot-pending" ...; never NULL. */
const char *update_state_name(enum update_state st);
/* The state named @name, or -1. */
int update_state_parse(const char *name);

typedef void (*update_step_fn)(void *arg, enum update_state st, const char *detail, uint64_t got,
			       uint64_t total);

struct update_req {
	struct statedb *sdb; /* audit rows; NULL: none (not for the daemon) */
	const char *actor;   /* "local", an admin's name, "central" */
	const char *source;  /* FILE, or an https:// URL */
	const char *keyring; /* PEM of the trusted signers */
	const char *sha256;  /* hex the download must have; NULL: not checked */
	const char *state_dir;
	const struct uplink_cfg *ucfg; /* trust for URLs */
	uint64_t max_bytes;	       /* download cap */
	bool check;		       /* verify only */
	bool force;		       /* a downgrade allowed (already authorised) */
	update_step_fn step;	       /* may be NULL */
	void *arg;
	const atomic_bool *cancel; /* a download stops when true; NULL: never */
};

/* Run @rq. 0: installed (verified with check); -EPERM refused (bad
 * signature, other board, downgrade, wrong SHA-256, bad version); -ENOENT,
 * -EHOSTUNREACH, -EFBIG, -ENOSPC ... the download failed; -EIO rauc
 * failed. @why says what, in words, each time. */
int update_run(const struct update_req *rq, char *why, size_t cap);

/* <0, 0, >0 as version @a is older, the same, newer than @b; -2 when one
 * is not "X.Y.Z[-N-gHASH][-dirty]". Only a lower number is a downgrade. */
int update_version_cmp(const char *a, const char *b);

/* The update record: the last update's state across reboots. */
struct update_record {
	char state[32];	   /* update_state_name() */
	char version[128]; /* the bundle's */
	char from[128];	   /* the version that installed it */
	char actor[64];
	char detail[256];
	int64_t time_ms; /* UTC of the last change */
};

/* -ENOENT: none; -EBADMSG: unreadable. */
int update_record_read(const char *state_dir, struct update_record *r);
int update_record_write(const char *state_dir, const struct update_record *r);

/* $CAMGATE_RAUC or "rauc". */
const char *update_rauc(void);
/* Run @argv (stdout and stderr into @out, NUL-terminated, cut at @cap);
 * the exit status, or -1 when it did not run or died (@out says why). */
int update_spawn(char *const argv[], char *out, size_t cap);

/* The booted slot's boot status from `rauc status --output-format=json`:
 * *@good true when RAUC holds it good. -ENODEV when rauc cannot say (no
 * A/B slots here: @why says rauc's words), -EBADMSG for output it does
 * not understand. */
int update_slot_booted(bool *good, char *booted, size_t bcap, char *why, size_t cap);

#endif /* CAMGATE_FIRMWARE_UPDATE_H */
