/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config - the provisioning file: gateway identity, storage and cameras.
 *
 * An INI file (libinih). One table of settings (name, type, range,
 * default, reloadable, help) drives parsing, validation, the reload diff
 * and the generated reference (`camgate config doc`, docs/config.md).
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
	CONFIG_ON_FULL_OVERWRITE, /* keep recording; alarm + audit */
	CONFIG_ON_FULL_STOP,	  /* stop recording; alarm */
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
	int on_full; /* enum config_on_full */
	struct config_stream stream;
	struct config_uplink uplink;
	struct config_onvif onvif;
	struct config_camera *cameras;
	size_t ncameras;
};

/* True when the [uplink] (or [onvif]) sections of @a and @b differ. */
bool config_uplink_changed(const struct config *a, const struct config *b);
bool config_onvif_changed(const struct config *a, const struct config *b);

/* Parse @path. Errors are logged, one line each, as "PATH:LINE: key:
 * message". -ENOENT / -EACCES: file unreadable. -EINVAL: invalid content.
 * -ENOMEM. *cfgp is set only on success. */
int config_load(const char *path, struct config **cfgp);
void config_free(struct config *cfg); /* NULL is a no-op */

/* The default config (no file): board defaults, no cameras. */
int config_defaults(struct config **cfgp);

const struct config_camera *config_camera_find(const struct config *cfg, const char *name);
/* True when @a and @b would record the same way (URL, credentials,
 * enabled, stream parameters). */
bool config_camera_same(const struct config_camera *a, const struct config_camera *b);
/* Names of non-reloadable settings that differ, written into @buf
 * comma-separated; returns how many differ. */
int config_restart_needed(const struct config *a, const struct config *b, char *buf, size_t cap);

/* 1: [@section] @key exists, applies on reload and is not a secret (so
 * central may set it); 0: it needs a restart or is secret; -ENOENT: no
 * such setting (camera keys are not settable this way). */
int config_setting_reloadable(const char *section, const char *key);

/* The settings reference in Markdown, from the table. */
void config_doc(FILE *out);

#endif /* CAMGATE_FIRMWARE_CONFIG_H */
