/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config - the provisioning file: gateway identity, storage and cameras.
 *
 * An INI file (libinih). One table of settings (name, type, range,
 * default, reloadable, who may set it, help) drives parsing, validation,
 * the reload diff, the console's and central's permissions and the
 * generated reference (`camgate config doc`, docs/config.md).
 * Sections: [gateway], [storage], [stream] (defaults for every camera)
 * and one [camera:NAME] per camera, where any [stream] key may be
 * overridden. Every error names the file, line and key, and all errors of
 * a file are reported, not just the first.
 *
 * Ownership: config_load() allocates the struct config and every string
 * in it; config_free() releases all of it. A loaded config is immutable;
 * a reload loads a new one and diffs it against the old.
 */
#ifndef CAMGATE_FIRMWARE_CONFIG_H
#define CAMGATE_FIRMWARE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_CAMERAS_MAX 256
#define CONFIG_NAME_MAX	   32 /* camera name bytes, NUL included */
/* Longest line config_load() takes, line end excluded: room for the
 * longest value (4095) of any setting, a sealed 1023-byte secret, the key
 * and a comment. */
#define CONFIG_LINE_MAX 8192

enum config_on_full {
	CONFIG_ON_FULL_OVERWRITE, /* keep recording; alarm + audit (older name of evict) */
	CONFIG_ON_FULL_STOP,	  /* stop recording; alarm (the default: R10) */
	CONFIG_ON_FULL_EVICT,	  /* keep recording, evicting under the floor; alarm + audit */
};

struct config_stream {
	int64_t segment_ms;
	int64_t connect_ms;
	int64_t stall_ms;
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int transport; /* 0 tcp, 1 udp */
};

struct config_camera {
	char *name;
	char *url;
	char *username;
	char *password;
	bool enabled;
	int64_t retention_floor_ms;  /* R10; 0: the unit's [storage] retention_floor */
	struct config_stream stream; /* [stream] merged with overrides */
	uint32_t stream_set;	     /* bit per overridden [stream] key */
	int line;		     /* of the section header */
};

/* [uplink]: central over TLS. base_url empty: a plain local recorder. */
struct config_uplink {
	char *base_url;
	char *ca_file;
	char *pin;
	char *client_cert;
	char *client_key;
	int auth; /* enum uplink_auth order */
	char *token;
	char *username;
	char *password;
	char *sigv4;
	uint32_t parallel;
	uint64_t rate_limit; /* bytes/s, 0: none */
	int64_t connect_timeout_ms;
	int64_t stall_timeout_ms;
	int64_t transfer_timeout_ms;
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int64_t status_interval_ms;
	int64_t commands_interval_ms;
	uint32_t live_window;
	uint32_t deadline_days;
	int32_t tz_offset_min;
	char *holidays; /* comma-separated; the key may repeat */
};

/* [compliance]: the duties of firmware/compliance.h. The R2 fields are
 * the gateway's defaults for cameras that leave them empty. */
struct config_compliance {
	int64_t fault_after_ms; /* R11: unhealthy this long opens a fault */
	/* R11 health thresholds (firmware/compliance_health.h); 0: off */
	uint32_t fps_min_pct;
	uint32_t bitrate_min_kbps;
	int64_t clock_max_ms;
	uint32_t auth_refused_max;
	uint32_t gaps_max;
	char *unit;  /* provider unit */
	char *users; /* data-using units, comma-separated */
	char *owner;
	char *location;
};

/* [update]: signed A/B updates and the trial boot after one
 * (firmware/update.h, firmware/update_health.h). */
struct config_update {
	char *keyring;		  /* PEM of the trusted bundle signers */
	uint64_t max_size;	  /* a downloaded bundle's cap, bytes */
	int64_t healthy_after_ms; /* healthy this long in a trial: mark-good */
	int64_t trial_timeout_ms; /* not good by then: mark-bad and reboot */
	char *reboot_command;	  /* the board's reboot, run by /bin/sh -c */
};

/* [onvif]: discovery of cameras on the LAN. */
struct config_onvif {
	bool discovery;
	char *username;
	char *password;
	char *interfaces; /* comma-separated; the key may repeat */
	char *cidrs;
	int64_t interval_ms;
	int64_t probe_window_ms;
	int64_t call_timeout_ms;
};

struct config {
	char *path;
	char *gateway_id;
	char *state_dir;
	int log_level;
	int64_t status_interval_ms;
	char *console_tty; /* installer console; "none": no console thread */
	char *storage_dir;
	uint32_t extents;
	uint64_t extent_bytes;
	int64_t retention_floor_ms;
	int on_full;			 /* enum config_on_full */
	uint64_t state_disk_low;	 /* bytes free on state_dir's fs; 0: not watched */
	int64_t state_check_interval_ms; /* quick_check of state.db while running; 0: off */
	uint32_t checkpoint_segments;	 /* [integrity]: chain checkpoint every N entries */
	int64_t checkpoint_interval_ms;	 /* ... or this long after the previous one */
	struct config_stream stream;
	struct config_uplink uplink;
	struct config_onvif onvif;
	struct config_compliance compliance;
	struct config_update update;
	struct config_camera *cameras;
	size_t ncameras;
	/* A secret is stored unsealed in a file group or others may read
	 * (warned at load; `config check` fails). */
	bool secret_exposed;
};

/* True when the [uplink] (or [onvif]) sections of @a and @b differ. */
bool config_uplink_changed(const struct config *a, const struct config *b);
bool config_onvif_changed(const struct config *a, const struct config *b);

/* Parse @path. Errors are logged, one line each, as "PATH:LINE: key:
 * message". -ENOENT / -EACCES: file unreadable. -EINVAL: invalid content.
 * -ENOMEM. *cfgp is set only on success. */
int config_load(const char *path, struct config **cfgp);
void config_free(struct config *cfg); /* NULL is a no-op */

/* Calls @fn for every secret setting (CONFIG_F_SECRET) of @cfg with its
 * sealing context ("uplink.token", "onvif.password",
 * "camera:NAME.password") and the address of its string, which @fn may
 * replace (free the old one). Non-0 from @fn stops and is returned. */
int config_secrets_each(struct config *cfg, int (*fn)(void *arg, const char *context, char **valp),
			void *arg);

/* The default config (no file): board defaults, no cameras. */
int config_defaults(struct config **cfgp);

const struct config_camera *config_camera_find(const struct config *cfg, const char *name);
/* True when @a and @b would record the same way (URL, credentials,
 * enabled, stream parameters). */
bool config_camera_same(const struct config_camera *a, const struct config_camera *b);
/* Names of non-reloadable settings that differ, written into @buf
 * comma-separated; returns how many differ. */
int config_restart_needed(const struct config *a, const struct config *b, char *buf, size_t cap);

/* Who may change a setting, from the settings table (docs/config.md):
 * CONFIG_F_ADMIN: an admin only, never central (paths, console device,
 * central's endpoint, TLS trust, credentials: whoever changes these can
 * move the accounts and the audit log, or redirect the gateway).
 * CONFIG_F_CENTRAL: also central's set-setting command; an explicit
 * allowlist of reloadable, operational settings. CONFIG_F_SECRET: a
 * credential, sealable with the device key, never printed back. */
#define CONFIG_F_SECRET	 0x2u
#define CONFIG_F_ADMIN	 0x4u
#define CONFIG_F_CENTRAL 0x8u

/* The CONFIG_F_* flags of [@section] @key (>= 0), @section "camera" for
 * camera keys; -ENOENT: no such setting. */
int config_setting_flags(const char *section, const char *key);

/* The settings reference in Markdown, from the table. */
void config_doc(FILE *out);

#endif /* CAMGATE_FIRMWARE_CONFIG_H */
