// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The settings table is the single source for parsing, validation, the
 * reload diff and docs/config.md. A setting lives in one of three places:
 * struct config (gateway, storage), struct config_stream (the [stream]
 * defaults, each also allowed in a camera section) or struct
 * config_camera (camera-only keys).
 */
#include "firmware/config.h"

#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board_defaults.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "lib/parse.h"

enum cfg_type { T_STR, T_BOOL, T_U32, T_SIZE, T_DURATION, T_ENUM, T_LOGLEVEL, T_I32 };
enum cfg_scope { S_CONFIG, S_STREAM, S_CAMERA };

struct cfg_setting {
	const char *section;
	const char *key;
	enum cfg_type type;
	enum cfg_scope scope;
	size_t off;
	int64_t min, max; /* numbers: range; strings: max length */
	const char *def;  /* default, as text */
	bool reloadable;
	const char *const *choices; /* T_ENUM */
	const char *help;
	unsigned int flags; /* CFG_F_LIST and CONFIG_F_* */
};

#define CFG_F_LIST 0x1u /* T_STR: the key may repeat; values join with "," */
#define SECRET	   CONFIG_F_SECRET
#define ADMIN	   CONFIG_F_ADMIN
#define CENTRAL	   CONFIG_F_CENTRAL

static const char *const transport_choices[] = { "tcp", "udp", NULL };
static const char *const on_full_choices[] = { "overwrite", "stop", "evict", NULL };
static const char *const auth_choices[] = { "none", "bearer", "basic", "sigv4", NULL };

#define C(f)   S_CONFIG, offsetof(struct config, f)
#define ST(f)  S_STREAM, offsetof(struct config_stream, f)
#define CAM(f) S_CAMERA, offsetof(struct config_camera, f)
#define UP(f)  S_CONFIG, offsetof(struct config, uplink) + offsetof(struct config_uplink, f)
#define OV(f)  S_CONFIG, offsetof(struct config, onvif) + offsetof(struct config_onvif, f)
#define CO(f)  S_CONFIG, offsetof(struct config, compliance) + offsetof(struct config_compliance, f)
#define UPD(f) S_CONFIG, offsetof(struct config, update) + offsetof(struct config_update, f)
#define DAY    (86400000ll)

static const struct cfg_setting settings[] = {
	{ "gateway", "id", T_STR, C(gateway_id), 1, 63, "camgate", false, NULL,
	  "Gateway identity, as registered with central.", 0 },
	{ "gateway", "state_dir", T_STR, C(state_dir), 1, 255, BOARD_STATE_DIR, false, NULL,
	  "Directory for state.db (audit, alarms) and status.json.", ADMIN },
	{ "gateway", "log_level", T_LOGLEVEL, C(log_level), 0, 0, "info", true, NULL,
	  "err, warning, notice, info or debug.", CENTRAL },
	{ "gateway", "status_interval", T_DURATION, C(status_interval_ms), 500, DAY, "5s", true,
	  NULL, "How often status.json is rewritten.", CENTRAL },
	{ "gateway", "state_disk_low", T_SIZE, C(state_disk_low), 0, 1ll << 40, "16M", true, NULL,
	  "Free space on state_dir's filesystem below which the state-disk-low alarm is raised "
	  "(cleared when it is back); 0: not watched.",
	  CENTRAL },
	{ "gateway", "state_check_interval", T_DURATION, C(state_check_interval_ms), 0, DAY, "5m",
	  true, NULL,
	  "How often the running daemon reads all of state.db (PRAGMA quick_check) for a page "
	  "damaged under a sound header; on damage it stops like on a lost state.db "
	  "(state-db-lost at the restart). 0: only checked at start.",
	  CENTRAL },
	{ "integrity", "checkpoint_segments", T_U32, C(checkpoint_segments), 1, 100000, "15", false,
	  NULL,
	  "A signed chain checkpoint is sent to central after this many chain entries of a "
	  "camera (docs/integrity.md).",
	  CENTRAL },
	{ "integrity", "checkpoint_interval", T_DURATION, C(checkpoint_interval_ms), 1000, DAY,
	  "5m", false, NULL,
	  "... or at the latest this long after a camera's previous checkpoint, when entries "
	  "are pending.",
	  CENTRAL },
	{ "gateway", "console_tty", T_STR, C(console_tty), 1, 127, BOARD_CONSOLE_TTY, false, NULL,
	  "Serial line of the installer console inside camgate run; none: no console.", ADMIN },
	{ "storage", "dir", T_STR, C(storage_dir), 1, 255, BOARD_STORAGE_DIR, false, NULL,
	  "Ring directory: extent files and index.db.", ADMIN },
	{ "storage", "extents", T_U32, C(extents), 2, 65535, BOARD_EXTENTS, false, NULL,
	  "Number of preallocated extent files (fixed when the ring is created).", 0 },
	{ "storage", "extent_size", T_SIZE, C(extent_bytes), 1ll << 20, 1ll << 40,
	  BOARD_EXTENT_SIZE, false, NULL,
	  "Size of each extent file; a segment never spans two (fixed at creation).", 0 },
	{ "storage", "retention_floor", T_DURATION, C(retention_floor_ms), 0, 3650 * DAY, "0s",
	  true, NULL,
	  "The unit's retention floor (R10): footage younger than this is protected; overwriting "
	  "it raises an alarm and an audit record. Cameras may set their own; 0: none (the "
	  "console warns).",
	  CENTRAL },
	{ "storage", "on_full", T_ENUM, C(on_full), 0, 0, "stop", true, on_full_choices,
	  "When only protected footage is left to evict: stop recording (alarm), or evict under "
	  "the floor (alarm + an audit record per segment); overwrite is evict's older name.",
	  CENTRAL },
	{ "stream", "segment_duration", T_DURATION, ST(segment_ms), 500, 60000, "4s", true, NULL,
	  "Target segment duration; segments are cut on the next keyframe.", CENTRAL },
	{ "stream", "transport", T_ENUM, ST(transport), 0, 0, "tcp", true, transport_choices,
	  "RTSP transport: tcp (interleaved) or udp.", CENTRAL },
	{ "stream", "connect_timeout", T_DURATION, ST(connect_ms), 500, 120000, "5s", true, NULL,
	  "Bound on connecting and on the RTSP handshake.", CENTRAL },
	{ "stream", "stall_timeout", T_DURATION, ST(stall_ms), 500, 600000, "10s", true, NULL,
	  "No packet for this long: reconnect.", CENTRAL },
	{ "stream", "backoff_min", T_DURATION, ST(backoff_min_ms), 100, 3600000, "1s", true, NULL,
	  "First retry delay after a failure (full jitter).", CENTRAL },
	{ "stream", "backoff_max", T_DURATION, ST(backoff_max_ms), 100, 3600000, "60s", true, NULL,
	  "Cap on the retry delay.", CENTRAL },
	{ "uplink", "base_url", T_STR, UP(base_url), 0, 1023, "", true, NULL,
	  "https://host[:port][/prefix] of central; empty: local recorder only. http:// is "
	  "refused.",
	  ADMIN },
	{ "uplink", "ca_file", T_STR, UP(ca_file), 0, 255, "", true, NULL,
	  "PEM CA bundle that signs central's certificate; empty: the system store.", ADMIN },
	{ "uplink", "pin", T_STR, UP(pin), 0, 511, "", true, NULL,
	  "Public-key pin(s), sha256//BASE64[;sha256//...].", ADMIN },
	{ "uplink", "client_cert", T_STR, UP(client_cert), 0, 255, "", true, NULL,
	  "PEM client certificate for mutual TLS.", ADMIN },
	{ "uplink", "client_key", T_STR, UP(client_key), 0, 255, "", true, NULL,
	  "PEM key of client_cert (empty: inside client_cert).", ADMIN },
	{ "uplink", "auth", T_ENUM, UP(auth), 0, 0, "none", true, auth_choices,
	  "How the gateway authenticates: none (mTLS only), bearer, basic or sigv4.", ADMIN },
	{ "uplink", "token", T_STR, UP(token), 0, 1023, "", true, NULL,
	  "Bearer token; never printed back.", ADMIN | SECRET },
	{ "uplink", "username", T_STR, UP(username), 0, 255, "", true, NULL,
	  "Basic user name, or SigV4 access key id.", ADMIN },
	{ "uplink", "password", T_STR, UP(password), 0, 255, "", true, NULL,
	  "Basic password, or SigV4 secret key; never printed back.", ADMIN | SECRET },
	{ "uplink", "sigv4", T_STR, UP(sigv4), 0, 127, "", true, NULL,
	  "SigV4 scope, aws:amz:REGION:SERVICE.", ADMIN },
	{ "uplink", "parallel", T_U32, UP(parallel), 1, 16, "4", true, NULL,
	  "Requests in flight at once.", CENTRAL },
	{ "uplink", "rate_limit", T_SIZE, UP(rate_limit), 0, 1ll << 30, "0", true, NULL,
	  "Send cap in bytes per second; 0: none.", CENTRAL },
	{ "uplink", "connect_timeout", T_DURATION, UP(connect_timeout_ms), 100, 120000, "10s", true,
	  NULL, "TCP and TLS connect bound.", CENTRAL },
	{ "uplink", "stall_timeout", T_DURATION, UP(stall_timeout_ms), 1000, 600000, "20s", true,
	  NULL, "No byte moved for this long: abort the transfer and retry.", CENTRAL },
	{ "uplink", "transfer_timeout", T_DURATION, UP(transfer_timeout_ms), 1000, 3600000, "5m",
	  true, NULL, "Bound on one whole request.", CENTRAL },
	{ "uplink", "backoff_min", T_DURATION, UP(backoff_min_ms), 10, 3600000, "1s", true, NULL,
	  "First retry delay after a failure (full jitter).", CENTRAL },
	{ "uplink", "backoff_max", T_DURATION, UP(backoff_max_ms), 10, 3600000, "5m", true, NULL,
	  "Cap on the retry delay.", CENTRAL },
	{ "uplink", "status_interval", T_DURATION, UP(status_interval_ms), 1000, 3600000, "30s",
	  true, NULL, "How often status.json goes to central (and at once on every alarm).",
	  CENTRAL },
	{ "uplink", "commands_interval", T_DURATION, UP(commands_interval_ms), 0, 3600000, "30s",
	  true, NULL, "How often central's command folder is polled; 0: never.", CENTRAL },
	{ "uplink", "live_window", T_U32, UP(live_window), 1, 32, "6", true, NULL,
	  "Segments in live.m3u8, sent before any backlog.", CENTRAL },
	{ "uplink", "deadline_days", T_U32, UP(deadline_days), 1, 60, "10", true, NULL,
	  "R2: working days central has to hold a registry change; alarm at half.", 0 },
	{ "uplink", "tz_offset", T_I32, UP(tz_offset_min), -720, 840, "420", true, NULL,
	  "Legal time zone for working days, minutes east of UTC (Vietnam: 420).", 0 },
	{ "uplink", "holidays", T_STR, UP(holidays), 0, 4095, "", true, NULL,
	  "Public holidays: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, comma-separated; the key may "
	  "repeat.",
	  CFG_F_LIST },
	{ "compliance", "fault_after", T_DURATION, CO(fault_after_ms), 1000, DAY, "10m", true, NULL,
	  "R11: a camera unhealthy (stream down, gone, or a health signal below) this long has a "
	  "fault, due in 5 working days.",
	  CENTRAL },
	{ "compliance", "fps_min_pct", T_U32, CO(fps_min_pct), 0, 100, "50", true, NULL,
	  "R11 health: frames per second under this percentage of the camera's main profile "
	  "(discovered cameras) is unhealthy; 0: not watched.",
	  CENTRAL },
	{ "compliance", "bitrate_min_kbps", T_U32, CO(bitrate_min_kbps), 0, 1000000, "0", true,
	  NULL, "R11 health: a bitrate under this many kbit/s is unhealthy; 0: not watched.",
	  CENTRAL },
	{ "compliance", "gaps_max", T_U32, CO(gaps_max), 0, 100000, "6", true, NULL,
	  "R11 health: this many breaks in a camera's recording (a stored segment that does not "
	  "follow on from the one before) within an hour is unhealthy; 0: not watched.",
	  CENTRAL },
	{ "compliance", "clock_max", T_DURATION, CO(clock_max_ms), 0, DAY, "5m", true, NULL,
	  "R11 health: a camera clock further off the gateway's than this (as discovery "
	  "measures it) is unhealthy; 0: not watched.",
	  CENTRAL },
	{ "compliance", "auth_refused_max", T_U32, CO(auth_refused_max), 0, 1000, "3", true, NULL,
	  "R11 health: ONVIF credentials refused in this many discovery rounds in a row is "
	  "unhealthy; 0: not watched.",
	  CENTRAL },
	{ "compliance", "unit", T_STR, CO(unit), 0, 127, "", true, NULL,
	  "R2 default: the unit that provides and updates the data, for cameras without one.",
	  CENTRAL },
	{ "compliance", "users", T_STR, CO(users), 0, 1023, "", true, NULL,
	  "R2 default: the units that use the data, comma-separated.", CENTRAL },
	{ "compliance", "owner", T_STR, CO(owner), 0, 127, "", true, NULL,
	  "R2 default: the owner of the footage.", CENTRAL },
	{ "compliance", "location", T_STR, CO(location), 0, 127, "", true, NULL,
	  "R2 default: where the cameras are, for cameras without a location.", CENTRAL },
	{ "update", "keyring", T_STR, UPD(keyring), 1, 255, "/etc/rauc/keyring.pem", true, NULL,
	  "PEM certificates of the keys a firmware bundle must be signed with (`camgate update`, "
	  "central's update command).",
	  ADMIN },
	{ "update", "max_size", T_SIZE, UPD(max_size), 1ll << 20, 1ll << 40, "1G", true, NULL,
	  "A bundle downloaded from a URL larger than this is refused (it is staged in "
	  "state_dir).",
	  0 },
	{ "update", "healthy_after", T_DURATION, UPD(healthy_after_ms), 1000, DAY, "5m", false,
	  NULL,
	  "Trial boot after an update: healthy (storage and uplink progressing, central reached, "
	  "a camera recording) this long without a break, the slot is marked good.",
	  0 },
	{ "update", "trial_timeout", T_DURATION, UPD(trial_timeout_ms), 1000, DAY, "15m", false,
	  NULL,
	  "Trial boot not marked good this long after the start: marked bad, and reboot_command "
	  "boots the previous slot.",
	  0 },
	{ "update", "reboot_command", T_STR, UPD(reboot_command), 1, 255, "reboot", false, NULL,
	  "The board's reboot after a failed trial, run by /bin/sh -c.", ADMIN },
	{ "onvif", "discovery", T_BOOL, OV(discovery), 0, 0, BOARD_ONVIF_DISCOVERY, true, NULL,
	  "Find ONVIF cameras on the LAN (WS-Discovery) and record those that answer with the "
	  "credentials below.",
	  0 },
	{ "onvif", "username", T_STR, OV(username), 0, 127, "", true, NULL,
	  "User for ONVIF calls and for the RTSP streams of discovered cameras.", 0 },
	{ "onvif", "password", T_STR, OV(password), 0, 127, "", true, NULL,
	  "Its password; never printed back.", SECRET },
	{ "onvif", "interfaces", T_STR, OV(interfaces), 0, 255, "", true, NULL,
	  "Interfaces to probe, comma-separated; empty: every up, multicast-capable one.",
	  CFG_F_LIST },
	{ "onvif", "cidrs", T_STR, OV(cidrs), 0, 1023, "", true, NULL,
	  "Unicast probe sweeps for networks that block multicast, e.g. 192.168.1.0/24.",
	  CFG_F_LIST },
	{ "onvif", "interval", T_DURATION, OV(interval_ms), 5000, DAY, "10m", true, NULL,
	  "Re-discovery period: new, changed, replaced and gone cameras.", CENTRAL },
	{ "onvif", "probe_window", T_DURATION, OV(probe_window_ms), 200, 30000, "2s", true, NULL,
	  "How long a probe waits for answers.", CENTRAL },
	{ "onvif", "call_timeout", T_DURATION, OV(call_timeout_ms), 200, 60000, "5s", true, NULL,
	  "Bound on each ONVIF call to a camera.", CENTRAL },
	{ "camera", "url", T_STR, CAM(url), 8, 1023, NULL, true, NULL,
	  "rtsp:// URL of the camera's stream (required).", 0 },
	{ "camera", "username", T_STR, CAM(username), 0, 127, "", true, NULL,
	  "RTSP user name, if the camera asks for one.", 0 },
	{ "camera", "password", T_STR, CAM(password), 0, 127, "", true, NULL,
	  "RTSP password; never printed back.", SECRET },
	{ "camera", "enabled", T_BOOL, CAM(enabled), 0, 0, "yes", true, NULL, "Record this camera.",
	  0 },
	{ "camera", "retention_floor", T_DURATION, CAM(retention_floor_ms), 0, 3650 * DAY, "0s",
	  true, NULL,
	  "This camera's retention floor (R10); 0: [storage] retention_floor. The ring protects "
	  "the longest floor of all.",
	  CENTRAL },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

struct cfg_parse {
	struct config *cfg;
	const char *path;
	int line;
	int section_line;     /* of the last [section] header */
	bool section_pending; /* a header was read, no key since */
	int errors;
	bool long_line;
	char cur_section[64];
	char bad_section[64]; /* the last unknown section reported */
	/* key bits per section, a bit per row of settings[] */
	uint64_t seen[CONFIG_CAMERAS_MAX + 1][(NSETTINGS + 63) / 64];
	FILE *f;
};

static void cfg_error(struct cfg_parse *p, int line, const char *key, const char *fmt,
		      const char *detail)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, detail);
	log_err("%s:%d: %s: %s", p->path, line, key, msg);
	p->errors++;
}

static void *cfg_field(struct config *cfg, struct config_camera *cam, const struct cfg_setting *s,
		       bool in_camera)
{
	switch (s->scope) {
	case S_CONFIG:
		return (char *)cfg + s->off;
	case S_STREAM:
		return (char *)(in_camera ? &cam->stream : &cfg->stream) + s->off;
	case S_CAMERA:
		return (char *)cam + s->off;
	}
	return NULL;
}

/* "expected a, b or c" */
static void cfg_choices(const struct cfg_setting *s, char *buf, size_t cap)
{
	size_t len = snprintf(buf, cap, "expected");

	for (int i = 0; s->choices[i] && len < cap; i++)
		len += snprintf(buf + len, cap - len, "%s%s",
				i == 0		    ? " "
				: s->choices[i + 1] ? ", "
						    : " or ",
				s->choices[i]);
}

/* Parses @val for @s into @field. Returns NULL or a message. */
static const char *cfg_set(const struct cfg_setting *s, void *field, const char *val, char *buf,
			   size_t cap)
{
	int64_t v;
	uint64_t u;

	switch (s->type) {
	case T_STR: {
		size_t n = strlen(val);
		int64_t max = s->max;
		char *dup;

		/* A sealed secret is longer than its plain text; the cap is on
		 * the plain text, so a token of the documented length fits. */
		if ((s->flags & CONFIG_F_SECRET) &&
		    !strncmp(val, SECRETS_PREFIX, strlen(SECRETS_PREFIX)))
			max = (int64_t)SECRETS_SEALED_LEN((size_t)s->max) - 1;
		if ((int64_t)n < s->min || (int64_t)n > max) {
			snprintf(buf, cap, "length must be %lld to %lld bytes", (long long)s->min,
				 (long long)s->max);
			return buf;
		}
		dup = strdup(val);
		if (!dup)
			return "out of memory";
		free(*(char **)field);
		*(char **)field = dup;
		return NULL;
	}
	case T_BOOL:
		return parse_bool(val, field) ? "expected yes or no" : NULL;
	case T_U32:
		if (parse_i64(val, s->min, s->max, &v))
			goto range;
		*(uint32_t *)field = (uint32_t)v;
		return NULL;
	case T_I32:
		if (parse_i64(val, s->min, s->max, &v))
			goto range;
		*(int32_t *)field = (int32_t)v;
		return NULL;
	case T_SIZE:
		if (parse_size(val, &u))
			return "expected a size such as 64M";
		if ((int64_t)u < s->min || (int64_t)u > s->max || u > INT64_MAX)
			goto range;
		*(uint64_t *)field = u;
		return NULL;
	case T_DURATION:
		if (parse_duration_ms(val, &v))
			return "expected a duration such as 500ms, 4s, 10m, 2h, 7d";
		if (v < s->min || v > s->max)
			goto range;
		*(int64_t *)field = v;
		return NULL;
	case T_ENUM:
		for (int i = 0; s->choices[i]; i++) {
			if (!strcmp(val, s->choices[i])) {
				*(int *)field = i;
				return NULL;
			}
		}
		cfg_choices(s, buf, cap);
		return buf;
	case T_LOGLEVEL:
		return log_level_parse(val, field) ? "expected err, warning, notice, info or debug"
						   : NULL;
	}
	return "bad setting type";
range:
	snprintf(buf, cap, "must be between %lld and %lld%s", (long long)s->min, (long long)s->max,
		 s->type == T_DURATION ? " ms"
		 : s->type == T_SIZE   ? " bytes"
				       : "");
	return buf;
}

static bool cfg_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CONFIG_NAME_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *c))
			return false;
	return true;
}

static int cfg_apply_defaults(struct config *cfg, struct config_camera *cam, const char *section)
{
	char buf[128];

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];
		bool cam_key = cam && s->scope == S_CAMERA;

		if (!s->def || (cam ? !cam_key : strcmp(s->section, section)))
			continue;
		if (cfg_set(s, cfg_field(cfg, cam, s, false), s->def, buf, sizeof(buf)))
			return -ENOMEM;
	}
	return 0;
}

static struct config_camera *cfg_camera(struct cfg_parse *p, const char *name)
{
	struct config *cfg = p->cfg;
	struct config_camera *cam;

	for (size_t i = 0; i < cfg->ncameras; i++)
		if (!strcmp(cfg->cameras[i].name, name))
			return &cfg->cameras[i];
	if (cfg->ncameras == CONFIG_CAMERAS_MAX) {
		cfg_error(p, p->line, name, "more than %s cameras", "256");
		return NULL;
	}
	cam = &cfg->cameras[cfg->ncameras];
	memset(cam, 0, sizeof(*cam));
	cam->name = strdup(name);
	cam->line = p->section_line;
	if (!cam->name || cfg_apply_defaults(cfg, cam, "camera")) {
		free(cam->name);
		return NULL;
	}
	cfg->ncameras++;
	return cam;
}

/* Section-change bookkeeping: a camera section may appear only once. */
static bool cfg_enter_section(struct cfg_parse *p, const char *section)
{
	/* A repeated header with the same name is a new section too. */
	if (!p->section_pending && !strcmp(p->cur_section, section))
		return true;
	p->section_pending = false;
	snprintf(p->cur_section, sizeof(p->cur_section), "%s", section);
	if (strncmp(section, "camera:", 7))
		return true;
	for (size_t i = 0; i < p->cfg->ncameras; i++) {
		if (!strcmp(p->cfg->cameras[i].name, section + 7)) {
			char where[32];

			snprintf(where, sizeof(where), "%d", p->cfg->cameras[i].line);
			cfg_error(p, p->section_line, section + 7,
				  "duplicate camera name (first defined on line %s)", where);
			return false;
		}
	}
	return true;
}

/* A repeated list key: join with ",", within the setting's length cap. */
static int cfg_append(struct cfg_parse *p, const struct cfg_setting *s, void *field,
		      const char *key, const char *val)
{
	char **str = field;
	size_t n = strlen(*str) + 1 + strlen(val);
	char *joined;

	if ((int64_t)n > s->max) {
		cfg_error(p, p->line, key, "list longer than %s bytes", "4095");
		return 1;
	}
	joined = malloc(n + 1);
	if (!joined)
		return 0;
	snprintf(joined, n + 1, "%s%s%s", *str, **str ? "," : "", val);
	free(*str);
	*str = joined;
	return 1;
}

static bool cfg_section_known(const char *section)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].section, section))
			return true;
	return false;
}

/* Edit distance of two short names, capped: enough to say "did you mean". */
static unsigned int cfg_distance(const char *a, const char *b)
{
	unsigned int row[33], la = (unsigned int)strlen(a), lb = (unsigned int)strlen(b);

	if (la > 32 || lb > 32)
		return 99;
	for (unsigned int j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned int i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (unsigned int j = 1; j <= lb; j++) {
			unsigned int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* One error for an unknown section, at its header, however many keys it
 * holds; with the known section it most likely meant. */
static void cfg_unknown_section(struct cfg_parse *p, const char *section)
{
	const char *best = NULL;
	unsigned int d = 3;
	char hint[96] = "";

	if (!strcmp(p->bad_section, section))
		return;
	snprintf(p->bad_section, sizeof(p->bad_section), "%s", section);
	for (size_t i = 0; i < NSETTINGS; i++) {
		unsigned int di = cfg_distance(section, settings[i].section);

		if (di < d) {
			d = di;
			best = settings[i].section;
		}
	}
	if (!strncmp(section, "camera", 6) || (best && !strcmp(best, "camera")))
		snprintf(hint, sizeof(hint), " (a camera is [camera:NAME])");
	else if (best)
		snprintf(hint, sizeof(hint), " (did you mean [%s]?)", best);
	cfg_error(p, p->section_line, section, "unknown section: its keys are not read%s", hint);
}

static int cfg_handler(void *user, const char *section, const char *key, const char *val)
{
	struct cfg_parse *p = user;
	struct config_camera *cam = NULL;
	bool in_camera = !strncmp(section, "camera:", 7);
	const char *msg;
	char buf[160];
	size_t i, idx;
	uint64_t *seen, bit;

	if (!*section) {
		cfg_error(p, p->line, key, "outside any [section]%s", "");
		return 1;
	}
	if (!cfg_enter_section(p, section))
		return 1;
	if (!in_camera && !cfg_section_known(section)) {
		cfg_unknown_section(p, section);
		return 1;
	}
	if (in_camera) {
		if (!cfg_name_ok(section + 7)) {
			cfg_error(p, p->line, section, "camera names are 1-31 of [A-Za-z0-9._-]%s",
				  "");
			return 1;
		}
		cam = cfg_camera(p, section + 7);
		if (!cam)
			return 1;
	}
	for (i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];

		if (strcmp(s->key, key))
			continue;
		if (in_camera ? s->scope == S_CONFIG
			      : s->scope == S_CAMERA || strcmp(s->section, section))
			continue;
		break;
	}
	if (i == NSETTINGS) {
		cfg_error(p, p->line, key, "unknown key in [%s]", section);
		return 1;
	}
	idx = cam ? (size_t)(cam - p->cfg->cameras) + 1 : 0;
	seen = &p->seen[idx][i / 64];
	bit = 1ull << (i % 64);
	if ((settings[i].flags & CFG_F_LIST) && (*seen & bit))
		return cfg_append(p, &settings[i], cfg_field(p->cfg, cam, &settings[i], in_camera),
				  key, val);
	if (*seen & bit) {
		cfg_error(p, p->line, key, "set twice in [%s]", section);
		return 1;
	}
	*seen |= bit;
	msg = cfg_set(&settings[i], cfg_field(p->cfg, cam, &settings[i], in_camera), val, buf,
		      sizeof(buf));
	if (msg) {
		cfg_error(p, p->line, key, "%s", msg);
		return 1;
	}
	if (cam && settings[i].scope == S_STREAM)
		cam->stream_set |= 1u << i;
	return 1;
}

/*
 * Debian's libinih is built with a 200-byte INI_MAX_LINE, which would cut
 * every line at 198 bytes, below the documented value limits (1023, 4095)
 * and below a sealed bearer token. Its ini.h exports the build options as
 * variables the parser reads on each call: raise the line buffer to
 * CONFIG_LINE_MAX plus the "\r\n\0" inih counts, on the heap so a thread
 * with a small stack can parse too. Set once, before the first parse, and
 * never changed after, so concurrent parses all see the same values.
 */
static void cfg_inih_setup(void)
{
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CONFIG_LINE_MAX + 3;
	ini_initial_alloc = ini_max_line;
}

static pthread_once_t cfg_inih_once = PTHREAD_ONCE_INIT;

/* Length of @str without its line end ("\n" or "\r\n"). */
static size_t cfg_content_len(const char *str, size_t n)
{
	if (n > 0 && str[n - 1] == '\n')
		n--;
	if (n > 0 && str[n - 1] == '\r')
		n--;
	return n;
}

/* fgets for inih that counts lines and refuses over-long ones. */
static char *cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	char *r = fgets(str, num, p->f);
	bool cut;
	size_t n;

	if (!r)
		return NULL;
	n = strlen(str);
	/* fgets stopped for room, not at a line end or the end of the file. */
	cut = n > 0 && str[n - 1] != '\n' && !feof(p->f);
	if (p->long_line) {
		/* Tail of a line already reported: swallow it. */
		p->long_line = cut;
		str[0] = '\0';
		return str;
	}
	p->line++;
	if (str[strspn(str, " \t")] == '[') {
		p->section_line = p->line;
		p->section_pending = true;
	}
	if (cut || cfg_content_len(str, n) > CONFIG_LINE_MAX) {
		char max[24];

		snprintf(max, sizeof(max), "%d", CONFIG_LINE_MAX);
		cfg_error(p, p->line, "-", "line longer than %s bytes", max);
		p->long_line = cut;
		str[0] = '\0';
	}
	return str;
}

static void cfg_merge_streams(struct config *cfg)
{
	for (size_t c = 0; c < cfg->ncameras; c++) {
		struct config_camera *cam = &cfg->cameras[c];

		for (size_t i = 0; i < NSETTINGS; i++) {
			const struct cfg_setting *s = &settings[i];

			if (s->scope != S_STREAM || (cam->stream_set & (1u << i)))
				continue;
			memcpy((char *)&cam->stream + s->off, (char *)&cfg->stream + s->off,
			       s->type == T_ENUM ? sizeof(int) : sizeof(int64_t));
		}
	}
}

static void cfg_validate(struct cfg_parse *p)
{
	struct config *cfg = p->cfg;

	if (cfg->stream.backoff_min_ms > cfg->stream.backoff_max_ms)
		cfg_error(p, 0, "backoff_min", "must not exceed backoff_max%s", "");
	if (cfg->uplink.backoff_min_ms > cfg->uplink.backoff_max_ms)
		cfg_error(p, 0, "backoff_min", "must not exceed backoff_max in [uplink]%s", "");
	if (*cfg->uplink.base_url && strncmp(cfg->uplink.base_url, "https://", 8))
		cfg_error(p, 0, "base_url", "central is reached over TLS only: %s is not https://",
			  cfg->uplink.base_url);
	for (size_t i = 0; i < cfg->ncameras; i++) {
		struct config_camera *cam = &cfg->cameras[i];

		if (!cam->url)
			cfg_error(p, cam->line, "url", "camera %s has no url", cam->name);
		else if (strncmp(cam->url, "rtsp://", 7) && strncmp(cam->url, "rtsps://", 8))
			cfg_error(p, cam->line, "url", "not an rtsp:// URL: %s", cam->url);
		if (cam->stream.backoff_min_ms > cam->stream.backoff_max_ms)
			cfg_error(p, cam->line, "backoff_min",
				  "must not exceed backoff_max (camera %s)", cam->name);
	}
}

static struct config *cfg_alloc(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->cameras = calloc(CONFIG_CAMERAS_MAX, sizeof(*cfg->cameras));
	if (!cfg->cameras || cfg_apply_defaults(cfg, NULL, "gateway") ||
	    cfg_apply_defaults(cfg, NULL, "storage") || cfg_apply_defaults(cfg, NULL, "stream") ||
	    cfg_apply_defaults(cfg, NULL, "uplink") || cfg_apply_defaults(cfg, NULL, "onvif") ||
	    cfg_apply_defaults(cfg, NULL, "compliance") ||
	    cfg_apply_defaults(cfg, NULL, "update")) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

int config_defaults(struct config **cfgp)
{
	struct config *cfg = cfg_alloc();

	if (!cfg)
		return -ENOMEM;
	*cfgp = cfg;
	return 0;
}

int config_secrets_each(struct config *cfg, int (*fn)(void *arg, const char *context, char **valp),
			void *arg)
{
	char context[96];
	int ret = 0;

	for (size_t i = 0; !ret && i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];

		if (!(s->flags & CONFIG_F_SECRET))
			continue;
		if (s->scope == S_CONFIG) {
			snprintf(context, sizeof(context), "%s.%s", s->section, s->key);
			ret = fn(arg, context, (char **)cfg_field(cfg, NULL, s, false));
			continue;
		}
		for (size_t c = 0; !ret && c < cfg->ncameras; c++) {
			snprintf(context, sizeof(context), "camera:%s.%s", cfg->cameras[c].name,
				 s->key);
			ret = fn(arg, context, (char **)cfg_field(cfg, &cfg->cameras[c], s, true));
		}
	}
	return ret;
}

/* config_secrets_each() callback: the first secret held in the clear. */
static int cfg_plain_secret(void *arg, const char *context, char **valp)
{
	char *first = arg;

	if (!*valp || !**valp || !strncmp(*valp, SECRETS_PREFIX, sizeof(SECRETS_PREFIX) - 1))
		return 0;
	snprintf(first, 96, "%s", context);
	return 1;
}

/* A credential in the clear is only as safe as the file's mode: warn
 * when group or others may read it (`config check` fails on this). */
static void cfg_check_exposure(struct config *cfg, FILE *f)
{
	char first[96] = "";
	struct stat st;

	if (fstat(fileno(f), &st) || !(st.st_mode & 077) ||
	    !config_secrets_each(cfg, cfg_plain_secret, first))
		return;
	cfg->secret_exposed = true;
	log_warn("%s: %s is stored unsealed in a file group or others may read (mode %03o): "
		 "seal it (set it on the console) or chmod 0600 the file",
		 cfg->path, first, (unsigned int)(st.st_mode & 0777));
}

int config_load(const char *path, struct config **cfgp)
{
	struct stat st = { 0 };
	struct cfg_parse *p;
	int ret = 0, rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = path;
	p->f = fopen(path, "r");
	if (!p->f) {
		ret = -errno;
		log_err("%s: %s", path, strerror(errno));
		goto out;
	}
	/* A directory opens for reading and reads as nothing: an empty,
	 * valid config would be the wrong answer. */
	if (fstat(fileno(p->f), &st) || !S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		log_err("%s: %s", path,
			S_ISDIR(st.st_mode) ? "is a directory, not a config file"
					    : "not a regular file");
		goto out;
	}
	p->cfg = cfg_alloc();
	if (!p->cfg) {
		ret = -ENOMEM;
		goto out;
	}
	p->cfg->path = strdup(path);
	pthread_once(&cfg_inih_once, cfg_inih_setup);
	rc = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	if (rc > 0)
		cfg_error(p, rc, "-", "syntax error (expected [section] or key = value)%s", "");
	else if (rc < 0)
		cfg_error(p, 0, "-", "cannot parse%s", "");
	cfg_merge_streams(p->cfg);
	cfg_validate(p);
	if (p->errors || !p->cfg->path) {
		ret = p->cfg->path ? -EINVAL : -ENOMEM;
		goto out;
	}
	cfg_check_exposure(p->cfg, p->f);
	*cfgp = p->cfg;
	p->cfg = NULL;
out:
	if (p->f)
		fclose(p->f);
	config_free(p->cfg);
	free(p);
	return ret;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ncameras; i++) {
		struct config_camera *cam = &cfg->cameras[i];

		free(cam->name);
		free(cam->url);
		free(cam->username);
		free(cam->password);
	}
	free(cfg->cameras);
	free(cfg->path);
	free(cfg->gateway_id);
	free(cfg->state_dir);
	free(cfg->console_tty);
	free(cfg->storage_dir);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].type == T_STR && settings[i].scope == S_CONFIG &&
		    (!strcmp(settings[i].section, "uplink") ||
		     !strcmp(settings[i].section, "onvif") ||
		     !strcmp(settings[i].section, "compliance") ||
		     !strcmp(settings[i].section, "update")))
			free(*(char **)((char *)cfg + settings[i].off));
	free(cfg);
}

const struct config_camera *config_camera_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncameras; i++)
		if (!strcmp(cfg->cameras[i].name, name))
			return &cfg->cameras[i];
	return NULL;
}

static bool str_same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

bool config_camera_same(const struct config_camera *a, const struct config_camera *b)
{
	return str_same(a->url, b->url) && str_same(a->username, b->username) &&
	       str_same(a->password, b->password) && a->enabled == b->enabled &&
	       !memcmp(&a->stream, &b->stream, sizeof(a->stream));
}

bool config_uplink_changed(const struct config *a, const struct config *b)
{
	const struct config_uplink *x = &a->uplink, *y = &b->uplink;

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];

		if (strcmp(s->section, "uplink"))
			continue;
		if (s->type == T_STR) {
			if (!str_same(*(char *const *)((const char *)a + s->off),
				      *(char *const *)((const char *)b + s->off)))
				return true;
		}
	}
	return x->auth != y->auth || x->parallel != y->parallel || x->rate_limit != y->rate_limit ||
	       x->connect_timeout_ms != y->connect_timeout_ms ||
	       x->stall_timeout_ms != y->stall_timeout_ms ||
	       x->transfer_timeout_ms != y->transfer_timeout_ms ||
	       x->backoff_min_ms != y->backoff_min_ms || x->backoff_max_ms != y->backoff_max_ms ||
	       x->status_interval_ms != y->status_interval_ms ||
	       x->commands_interval_ms != y->commands_interval_ms ||
	       x->live_window != y->live_window || x->deadline_days != y->deadline_days ||
	       x->tz_offset_min != y->tz_offset_min;
}

int config_setting_flags(const char *section, const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *st = &settings[i];

		if (strcmp(st->section, section) || strcmp(st->key, key))
			continue;
		return (int)(st->flags & (CONFIG_F_SECRET | CONFIG_F_ADMIN | CONFIG_F_CENTRAL));
	}
	return -ENOENT;
}

bool config_onvif_changed(const struct config *a, const struct config *b)
{
	const struct config_onvif *x = &a->onvif, *y = &b->onvif;

	return x->discovery != y->discovery || !str_same(x->username, y->username) ||
	       !str_same(x->password, y->password) || !str_same(x->interfaces, y->interfaces) ||
	       !str_same(x->cidrs, y->cidrs) || x->interval_ms != y->interval_ms ||
	       x->probe_window_ms != y->probe_window_ms || x->call_timeout_ms != y->call_timeout_ms;
}

int config_restart_needed(const struct config *a, const struct config *b, char *buf, size_t cap)
{
	int n = 0;
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];
		const char *fa, *fb;
		bool same;

		if (s->reloadable || s->scope != S_CONFIG)
			continue;
		fa = (const char *)a + s->off;
		fb = (const char *)b + s->off;
		if (s->type == T_STR)
			same = str_same(*(char *const *)fa, *(char *const *)fb);
		else if (s->type == T_U32)
			same = *(const uint32_t *)fa == *(const uint32_t *)fb;
		else
			same = *(const int64_t *)fa == *(const int64_t *)fb;
		if (same)
			continue;
		if (len < cap)
			len += snprintf(buf + len, cap - len, "%s%s.%s", n ? ", " : "", s->section,
					s->key);
		n++;
	}
	return n;
}

void config_doc(FILE *out)
{
	const char *section = "";

	fputs("# camgate configuration reference\n\n"
	      "Generated by `camgate config doc` from the settings table in\n"
	      "firmware/config.c. The file is INI: `[section]` headers, `key = value`\n"
	      "lines, `#` or `;` comments. Sizes take K, M, G suffixes; durations take\n"
	      "ms, s, m, h, d (a bare number is seconds). Each `[camera:NAME]` section\n"
	      "may override any `[stream]` key for that camera. Reloadable settings\n"
	      "apply on SIGHUP; the others need a restart.\n\n"
	      "\"set by\" says who may change a setting. admin: only an admin account\n"
	      "on the console (where identities, secrets, the audit log and trust\n"
	      "live: paths, the console device, central's endpoint, TLS trust and\n"
	      "credentials). installer: an installer or admin on the console.\n"
	      "central: also the `set-setting` command from central (docs/uplink.md);\n"
	      "no other setting is accepted from the command channel. A secret is\n"
	      "sealed with the device key when set on the console and is never\n"
	      "printed back; stored unsealed, the file must be readable by its owner\n"
	      "alone (`camgate config check` fails otherwise).\n",
	      out);
	fprintf(out,
		"\nA line may hold up to %d bytes (line end excluded); a string\n"
		"setting's range is the length of its value. A sealed secret\n"
		"(`enc:v1:...`) is checked against the length of its plain text.\n",
		CONFIG_LINE_MAX);
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct cfg_setting *s = &settings[i];

		if (strcmp(section, s->section)) {
			section = s->section;
			fprintf(out,
				"\n## [%s%s]\n\n| key | type | range | default | reload | set by | "
				"meaning |\n"
				"|---|---|---|---|---|---|---|\n",
				section, strcmp(section, "camera") ? "" : ":NAME");
		}
		static const char *const tn[] = { "string",   "bool",	"integer",   "size",
						  "duration", "choice", "log level", "integer" };
		char range[64] = "";

		if (s->type == T_U32 || s->type == T_I32 || s->type == T_SIZE ||
		    s->type == T_DURATION)
			snprintf(range, sizeof(range), "%lld..%lld%s", (long long)s->min,
				 (long long)s->max,
				 s->type == T_DURATION ? " ms"
				 : s->type == T_SIZE   ? " B"
						       : "");
		else if (s->type == T_ENUM)
			cfg_choices(s, range, sizeof(range));
		else if (s->type == T_STR)
			snprintf(range, sizeof(range), "%lld..%lld chars", (long long)s->min,
				 (long long)s->max);
		fprintf(out, "| `%s` | %s | %s | %s | %s | %s | %s%s |\n", s->key, tn[s->type],
			range, s->def ? (*s->def ? s->def : "(empty)") : "(required)",
			s->reloadable ? "yes" : "no",
			s->flags & CONFIG_F_ADMIN     ? "admin"
			: s->flags & CONFIG_F_CENTRAL ? "installer, central"
						      : "installer",
			s->help, s->flags & CONFIG_F_SECRET ? " Secret: sealable." : "");
	}
}
