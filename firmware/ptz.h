/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptz - steering a camera (R1 control rights) for the console
 * (`ptz CAMERA ...`, firmware/console_ptz.c) and for central's `ptz`
 * command (firmware/daemon_policy.c), with one rights check and one
 * audit for both.
 *
 * Who may steer: admins, installers, operators and central's accounts,
 * each only for the cameras of its scope (account_may_camera()); auditors
 * never. Every attempt, allowed or refused, is an audit row ("ptz" or
 * "ptz-refused", actor the account).
 *
 * The camera is reached at its registry xaddr with the credentials of
 * its [camera] section, else [onvif]'s, as given (the caller reveals
 * sealed ones first: secrets_config_reveal()); the first media profile
 * with a PTZ configuration is steered.
 *
 * Threads: any; one ONVIF call at a time per call (blocks up to the
 * call timeout: the uplink thread calls it, bounded by PTZ_TIMEOUT_MS).
 * Errors: -EPERM (not allowed), -EINVAL (bad request: @msg says why),
 * -ENOENT (no such camera, or no ONVIF address known), -EOPNOTSUPP (the
 * camera has no PTZ), other -errno of the call.
 */
#ifndef CAMGATE_FIRMWARE_PTZ_H
#define CAMGATE_FIRMWARE_PTZ_H

#include <stdbool.h>
#include <stddef.h>

struct account;
struct accounts;
struct config;
struct registry;
struct statedb;
struct cJSON;

#define PTZ_TIMEOUT_MS 3000
#define PTZ_PRESET_MAX 64

enum ptz_action { PTZ_MOVE, PTZ_STOP, PTZ_PRESET };

struct ptz_req {
	enum ptz_action action;
	float pan, tilt, zoom; /* MOVE: velocities in [-1, 1] */
	int timeout_ms;	       /* MOVE: the camera stops by itself after it */
	char preset[PTZ_PRESET_MAX];
};

/* May @who steer @camera? */
bool ptz_may(const struct account *who, const char *camera);

/* "move PAN TILT [ZOOM]", "stop", "preset TOKEN" (@argv borrowed).
 * -EINVAL with @msg. */
int ptz_parse(int argc, char *const *argv, struct ptz_req *r, char *msg, size_t cap);

/* Check, audit and run @r on @camera for @who. @msg says what happened. */
int ptz_run(struct statedb *sdb, struct registry *reg, const struct config *cfg,
	    const struct account *who, const char *camera, const struct ptz_req *r, char *msg,
	    size_t cap);

/* Central's command: @args {"user", "camera", "action": "move"|"stop"|
 * "preset", "pan", "tilt", "zoom", "preset"}; "user" names the account
 * of the person at central (R6), whose rights are checked as above. */
int ptz_central(struct statedb *sdb, struct accounts *acc, struct registry *reg,
		const struct config *cfg, const struct cJSON *args, char *msg, size_t cap);

#endif /* CAMGATE_FIRMWARE_PTZ_H */
