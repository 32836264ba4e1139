// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_cmds - THE command table, and the commands that do not stage
 * config changes: help, exit, passwd, show, log, user, time, reboot,
 * factory-reset, and the ones run as a child `camgate` (discover, uplink
 * test, ring stat). Dispatch, help, completion and `camgate console
 * --doc` all read the table; a new command is one row here.
 */
#include "firmware/console_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "firmware/alarm.h"
#include "firmware/audit.h"
#include "lib/parse.h"
#include "lib/termsafe.h"

#define STATUS_MAX (256 * 1024)

static int c_help(struct console *c, int argc, char **argv);
static int c_exit(struct console *c, int argc, char **argv);
static int c_passwd(struct console *c, int argc, char **argv);
static int c_show_status(struct console *c, int argc, char **argv);
static int c_show_ring(struct console *c, int argc, char **argv);
static int c_show_alarms(struct console *c, int argc, char **argv);
static int c_show_version(struct console *c, int argc, char **argv);
static int c_time(struct console *c, int argc, char **argv);
static int c_discover(struct console *c, int argc, char **argv);
static int c_uplink_test(struct console *c, int argc, char **argv);
static int c_reboot(struct console *c, int argc, char **argv);
static int c_factory_reset(struct console *c, int argc, char **argv);
static int c_export(struct console *c, int argc, char **argv);
static int c_hold(struct console *c, int argc, char **argv);
static int c_hold_list(struct console *c, int argc, char **argv);
static int c_hold_release(struct console *c, int argc, char **argv);

/* Who may take footage off the gateway (R12): not installers, not auditors. */
#define R_EXPORT (R_ADMIN | ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_CENTRAL))

#define ANY CC_ARGS_ANY
const struct console_cmd console__cmds[] = {
	{ "help", c_help, R_ALL, 0, ANY, CC_ALWAYS, "[COMMAND...]",
	  "The commands your role may run, or help on the ones starting with COMMAND." },
	{ "exit", c_exit, R_ALL, 0, 0, CC_ALWAYS, "", "Log out." },
	{ "logout", c_exit, R_ALL, 0, 0, CC_ALWAYS, "", "Log out." },
	{ "passwd", c_passwd, R_PEOPLE, 0, 0, CC_ALWAYS | CC_NOHIST, "",
	  "Change your own password (asks for the current one)." },
	{ "show status", c_show_status, R_VIEW, 0, 0, 0, "",
	  "Cameras in your scope, storage and alarms, from the daemon's last snapshot." },
	{ "show cameras", console__cmd_show_cameras, R_VIEW, 0, 0, 0, "",
	  "The cameras of the config in your scope; staged changes are marked." },
	{ "show camera", console__cmd_show_camera, R_VIEW, 1, 1, CC_CAMERA, "NAME",
	  "One camera: its config keys (secrets masked) and registry fields." },
	{ "show ring", c_show_ring, R_VIEW, 0, 0, 0, "",
	  "Footage store: capacity, use, pinned bytes, evictions (`camgate ring stat`)." },
	{ "show uplink", console__cmd_show_uplink, R_CHANGE, 0, 0, 0, "",
	  "The [uplink] settings, secrets masked." },
	{ "show alarms", c_show_alarms, R_VIEW, 0, 0, 0, "",
	  "Active alarms (gateway-wide, and of cameras in your scope)." },
	{ "show compliance", console__cmd_show_compliance, R_VIEW, 0, 0, 0, "",
	  "Duties per camera (R2 registry, R11 faults and maintenance ...): state, deadline, "
	  "since when." },
	{ "maintenance done", console__cmd_maintenance_done, R_CHANGE, 3, ANY, CC_CAMERA,
	  "CAMERA --note TEXT", "Record the camera's maintenance (R11; due again in 6 months)." },
	{ "show log", console__cmd_log_show, R_LOG, 0, 1, 0, "[N]",
	  "The last N audit rows (default 20)." },
	{ "show version", c_show_version, R_ALL, 0, 0, CC_ALWAYS, "", "Firmware version." },
	{ "show changes", console__cmd_changes, R_CHANGE, 0, 0, 0, "",
	  "Staged changes not yet committed." },
	{ "discover", c_discover, R_INST, 0, ANY, 0, "[--timeout S] [--cidr A/B]...",
	  "Find ONVIF cameras on the LAN (`camgate discover`)." },
	{ "camera add", console__cmd_camera_add, R_CHANGE, 2, ANY,
	  CC_CAMERA | CC_CHANGE | CC_NOHIST, "NAME URL [KEY=VALUE...]",
	  "Stage a new camera; KEY=VALUE as for `camera set`. A bare `password` asks for it." },
	{ "camera set", console__cmd_camera_set, R_CHANGE, 2, ANY,
	  CC_CAMERA | CC_CHANGE | CC_NOHIST, "NAME KEY=VALUE...",
	  "Stage camera settings: url, username, password, enabled, transport, "
	  "segment_duration, connect_timeout, stall_timeout, backoff_min, backoff_max, "
	  "retention_floor; "
	  "registry fields: owner, unit, location, sharing, users, update, method; of a manual "
	  "camera also manufacturer, model, serial, firmware." },
	{ "camera remove", console__cmd_camera_remove, R_CHANGE, 1, 1, CC_CAMERA | CC_CHANGE,
	  "NAME", "Stage the removal of a camera (asks first; its footage stays)." },
	{ "camera enable", console__cmd_camera_enable, R_CHANGE, 1, 1, CC_CAMERA | CC_CHANGE,
	  "NAME", "Stage: record this camera." },
	{ "camera disable", console__cmd_camera_disable, R_CHANGE, 1, 1, CC_CAMERA | CC_CHANGE,
	  "NAME", "Stage: stop recording this camera." },
	{ "camera rename", console__cmd_camera_rename, R_CHANGE, 2, 2, CC_CAMERA | CC_CHANGE,
	  "NAME NEW", "Stage a new name for a discovered camera; the registry keeps it." },
	{ "uplink set", console__cmd_uplink_set, R_CHANGE, 1, ANY, CC_CHANGE | CC_NOHIST,
	  "KEY=VALUE...",
	  "Stage [uplink] settings (base_url, ca_file, pin, auth, token, username, password ...). "
	  "A bare `token` or `password` asks for it. Endpoint, trust and credentials need an "
	  "admin." },
	{ "uplink test", c_uplink_test, R_INST, 0, 0, 0, "",
	  "Check the link to central step by step, with the committed config." },
	{ "settings show", console__cmd_settings_show, R_CHANGE, 0, 1, 0, "[SECTION]",
	  "The staged config's [gateway], [storage], [stream], [uplink] and [onvif] keys." },
	{ "settings set", console__cmd_settings_set, R_CHANGE, 1, 2, CC_CHANGE,
	  "SECTION.KEY [VALUE]",
	  "Stage one setting of docs/config.md, e.g. storage.retention_floor 7d. Settings marked "
	  "\"admin\" there (paths, console device, central's endpoint, trust and credentials) "
	  "need an admin. Secrets (onvif.password ...) are sealed; without VALUE one is "
	  "asked for." },
	{ "commit", console__cmd_commit, R_CHANGE, 0, 0, 0, "",
	  "Write the staged changes to the config file atomically, audit them, reload the "
	  "daemon." },
	{ "discard", console__cmd_discard, R_CHANGE, 0, 0, 0, "", "Drop the staged changes." },
	{ "user add", console__cmd_user_add, R_ADMIN, 2, 3, CC_NOHIST, "NAME ROLE [CAMERAS]",
	  "Add an account (roles: admin installer operator auditor; CAMERAS: * or a,b,c). "
	  "Its password is asked for and must be changed at first login." },
	{ "user remove", console__cmd_user_remove, R_ADMIN, 1, 1, 0, "NAME", "Remove an account." },
	{ "user passwd", console__cmd_user_passwd, R_ADMIN, 1, 1, CC_NOHIST, "NAME",
	  "Reset a password and unlock the account; it must be changed at next login." },
	{ "user set", console__cmd_user_set, R_ADMIN, 2, 3, 0, "NAME ROLE [CAMERAS]",
	  "Change an account's role and camera scope." },
	{ "user list", console__cmd_user_list, R_ADMIN, 0, 0, 0, "",
	  "Accounts, roles, scopes and lock state." },
	{ "log show", console__cmd_log_show, R_LOG, 0, 1, 0, "[N]",
	  "The last N audit rows (default 20)." },
	{ "log verify", console__cmd_log_verify, R_LOG, 0, 0, 0, "",
	  "Check the audit log's hash chain; names the first edited, deleted or moved row." },
	{ "blocklist show", console__cmd_blocklist_show, R_VIEW, 0, 0, 0, "",
	  "Central's camera blocklist (R9), the cameras it blocks and the overrides." },
	{ "blocklist override", console__cmd_blocklist_override, R_ADMIN, 2, ANY, CC_CAMERA,
	  "NAME REASON...",
	  "Let a blocked camera record despite the current blocklist; the reason is audited. A "
	  "new list from central ends it." },
	{ "ptz", console__cmd_ptz, R_VIEW, 2, 5, CC_CAMERA,
	  "NAME move PAN TILT [ZOOM] | stop | preset TOKEN",
	  "Steer a PTZ camera in your scope (velocities -1..1, a move lasts 1 s); audited." },
	{ "export", c_export, R_EXPORT, 5, ANY, CC_CAMERA,
	  "CAMERA FROM TO --purpose TEXT --requester TEXT -o DIR",
	  "An evidence package of a time range (`camgate export`), signed and audited; you are "
	  "its performer." },
	{ "hold", c_hold, R_EXPORT, 5, ANY, CC_CAMERA, "CAMERA FROM TO --reason TEXT",
	  "Keep footage in the ring until released (legal hold; `camgate hold`), audited." },
	{ "hold list", c_hold_list, R_EXPORT, 0, 0, 0, "", "The active holds." },
	{ "hold release", c_hold_release, R_EXPORT, 1, 1, 0, "ID",
	  "Release a hold: its footage may be overwritten again. Audited." },
	{ "time", c_time, R_ALL, 0, 0, CC_ALWAYS, "", "The gateway's clock, UTC and local." },
	{ "reboot", c_reboot, R_INST, 0, 0, 0, "", "Restart the gateway (asks first)." },
	{ "factory-reset", c_factory_reset, R_ADMIN, 0, 0, 0, "",
	  "Remove every account, camera and uplink setting (asks first). Footage, the audit log "
	  "and the device key stay; the next login is a first start." },
};
#undef ANY
const size_t console__ncmds = sizeof(console__cmds) / sizeof(console__cmds[0]);

static const char *roles_text(unsigned int roles, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int r = 0; r < ROLE__COUNT && n < cap; r++)
		if (roles & ROLE_BIT(r))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "",
					      account_role_name((enum account_role)r));
	return buf;
}

void console__help(struct console *c, char *const *w, int n)
{
	bool full, any = false;

	for (size_t i = 0; i < console__ncmds; i++) {
		const struct console_cmd *cmd = &console__cmds[i];

		if (!(cmd->roles & ROLE_BIT(c->who.role)) ||
		    !console__path_match(cmd->path, w, n, &full))
			continue;
		any = true;
		if (full)
			console__printf(c, "usage: %s %s\n  %s\n", cmd->path, cmd->args, cmd->help);
		else
			console__printf(c, "  %-15s %-24s %s\n", cmd->path, cmd->args, cmd->help);
	}
	if (!any)
		console__printf(c, "no command starts with that (try help)\n");
}

void console__complete(struct console *c, char *const *w, int n,
		       void (*fn)(void *arg, const char *cand), void *arg)
{
	char word[32];

	for (size_t i = 0; i < console__ncmds; i++) {
		const struct console_cmd *cmd = &console__cmds[i];
		const char *p = cmd->path;
		bool full;

		if (!(cmd->roles & ROLE_BIT(c->who.role)))
			continue;
		for (int k = 0; k < n && *p; k++) {
			p += strcspn(p, " ");
			p += strspn(p, " ");
		}
		if (console__path_match(cmd->path, w, n, &full) && !full) {
			snprintf(word, sizeof(word), "%.*s", (int)strcspn(p, " "), p);
			fn(arg, word);
		}
	}
	for (int k = n - 1; k >= 0; k--) {
		const struct console_cmd *cmd;
		int words;

		cmd = console__lookup(k + 1, w, &words);
		if (cmd && words == n && (cmd->flags & CC_CAMERA))
			console__camera_names(c, fn, arg);
		if (cmd)
			break;
	}
}

void console_doc(FILE *out)
{
	char roles[96];

	fputs("| Command | Arguments | Roles | What it does |\n|---|---|---|---|\n", out);
	for (size_t i = 0; i < console__ncmds; i++) {
		const struct console_cmd *cmd = &console__cmds[i];

		fprintf(out, "| `%s` | %s%s%s | %s | %s%s%s |\n", cmd->path, *cmd->args ? "`" : "",
			cmd->args, *cmd->args ? "`" : "",
			roles_text(cmd->roles, roles, sizeof(roles)), cmd->help,
			cmd->flags & CC_CHANGE ? " *Staged until `commit`.*" : "",
			cmd->flags & CC_CAMERA ? " *Camera scope checked.*" : "");
	}
}

static int c_help(struct console *c, int argc, char **argv)
{
	if (!argc)
		console__printf(c, "Commands for role %s (? after a word, or Tab, helps too):\n",
				account_role_name(c->who.role));
	console__help(c, argv, argc);
	return 0;
}

static int c_exit(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (c->nchg && !c->leave_warned) {
		console__printf(c,
				"%zu staged changes are not committed: commit, discard, or exit "
				"again to drop them.\n",
				c->nchg);
		c->leave_warned = true;
		return -EBUSY;
	}
	console__audit(c, "logout", c->o->source, "exit");
	c->logged_in = false;
	return 0;
}

static int c_passwd(struct console *c, int argc, char **argv)
{
	char cur[ACCOUNT_PW_MAX + 2], pw[ACCOUNT_PW_MAX + 2];
	struct account tmp;
	int ret;

	(void)argc;
	(void)argv;
	ret = console__read_secret(c, "current password: ", cur, sizeof(cur));
	if (!ret)
		ret = accounts_login(c->o->acc, c->who.name, cur, console__now(c), &tmp, NULL);
	mbedtls_platform_zeroize(cur, sizeof(cur));
	if (ret == -EACCES || ret == -EAGAIN || ret == -ENOENT)
		console__printf(c, "error: wrong password\n");
	if (ret)
		return ret;
	ret = console__new_password(c, c->who.name, pw, sizeof(pw));
	if (!ret)
		ret = accounts_set_password(c->o->acc, c->who.name, pw, false, console__now(c));
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (ret == -EINVAL)
		console__printf(c, "error: the new password must differ from the old one\n");
	if (ret)
		return ret;
	c->who.must_change = false;
	console__audit(c, "password-changed", c->who.name, "own");
	console__printf(c, "password changed\n");
	return 0;
}

static cJSON *read_json(const char *path)
{
	char *text = malloc(STATUS_MAX + 1);
	FILE *f = fopen(path, "r");
	cJSON *j = NULL;
	size_t n;

	if (f && text) {
		n = fread(text, 1, STATUS_MAX, f);
		text[n] = '\0';
		j = cJSON_Parse(text);
	}
	if (f)
		fclose(f);
	free(text);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

static int c_show_status(struct console *c, int argc, char **argv)
{
	struct termsafe_buf tb = { 0 };
	char path[4096], when[32];
	const cJSON *cam, *sto;
	cJSON *j;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/status.json", c->o->state_dir);
	j = read_json(path);
	if (!j) {
		console__printf(c, "no status snapshot in %s: is the daemon running?\n", path);
		return -ENOENT;
	}
	format_time_ms((int64_t)num(j, "time_utc_ms"), when, sizeof(when));
	/* Errors and codec names come from cameras: escaped (lib/termsafe.h). */
	console__printf(c, "gateway %s, firmware %s, %s, snapshot %s, up %.0f s\n",
			termsafe_add(&tb, str(j, "gateway")), termsafe_add(&tb, str(j, "firmware")),
			termsafe_add(&tb, str(j, "mode")), when, num(j, "uptime_s"));
	cJSON_ArrayForEach (cam, cJSON_GetObjectItemCaseSensitive(j, "cameras")) {
		if (!console__may_camera(c, str(cam, "name")))
			continue;
		tb.used = 0;
		console__printf(
			c, "  camera %-16s %-12s %s %.0fx%.0f %.1f fps %.0f kbit/s, %.0f segments%s%s\n",
			termsafe_add(&tb, str(cam, "name")), termsafe_add(&tb, str(cam, "state")),
			termsafe_add(&tb, str(cam, "video_codec")), num(cam, "width"),
			num(cam, "height"), num(cam, "fps"), num(cam, "bitrate_bps") / 1000,
			num(cam, "segments"), *str(cam, "last_error") ? ", last error: " : "",
			termsafe_add(&tb, str(cam, "last_error")));
	}
	sto = cJSON_GetObjectItemCaseSensitive(j, "storage");
	console__printf(c,
			"  storage %.1f of %.1f GiB used, %.1f GiB pinned, %.0f segments, %.0f "
			"pending upload\n",
			num(sto, "bytes_used") / 1073741824.0,
			num(sto, "bytes_total") / 1073741824.0,
			num(sto, "bytes_pinned") / 1073741824.0, num(sto, "segs"),
			num(sto, "segs_pending_upload"));
	console__printf(c, "  alarms %d active (show alarms)\n",
			cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "alarms")));
	cJSON_Delete(j);
	return 0;
}

static int c_show_ring(struct console *c, int argc, char **argv)
{
	static const char *const args[] = { "ring", "stat", NULL };

	(void)argc;
	(void)argv;
	return console__spawn(c, NULL, args, false) ? -EIO : 0;
}

static int c_show_alarms(struct console *c, int argc, char **argv)
{
	struct termsafe_buf tb;
	const cJSON *a;
	cJSON *arr = NULL;
	char when[32];
	int n = 0;

	(void)argc;
	(void)argv;
	if (alarm_active_json(c->o->sdb, &arr)) {
		console__printf(c, "error: cannot read the alarms\n");
		return -EIO;
	}
	cJSON_ArrayForEach (a, arr) {
		if (*str(a, "camera") && !console__may_camera(c, str(a, "camera")))
			continue;
		format_time_ms((int64_t)num(a, "since_ms"), when, sizeof(when));
		tb.used = 0;
		console__printf(c, "  %-30s %-12s since %s (x%.0f): %s\n",
				termsafe_add(&tb, str(a, "code")),
				*str(a, "camera") ? termsafe_add(&tb, str(a, "camera")) : "-", when,
				num(a, "count"), termsafe_add(&tb, str(a, "message")));
		n++;
	}
	if (!n)
		console__printf(c, "no active alarms\n");
	cJSON_Delete(arr);
	return 0;
}

static int c_show_version(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	console__printf(c, "camgate %s\n", CAMGATE_VERSION);
	return 0;
}

static int c_time(struct console *c, int argc, char **argv)
{
	int64_t now = console__now(c);
	time_t t = (time_t)(now / 1000);
	char utc[32], local[48];
	struct tm tm;

	(void)argc;
	(void)argv;
	format_time_ms(now, utc, sizeof(utc));
	localtime_r(&t, &tm);
	strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S %z", &tm);
	console__printf(c, "%s (local %s)\n", utc, local);
	return 0;
}

static int c_discover(struct console *c, int argc, char **argv)
{
	const char *args[16] = { "discover" };
	int n = 1;

	for (int i = 0; i < argc && n < 15; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	console__audit(c, "discover", "lan", "");
	return console__spawn(c, NULL, args, false) ? -EIO : 0;
}

/* `camgate @verb ARGS... --performer YOU`: the performer is who is
 * logged in, never a word typed: refused, and ours comes last, where
 * getopt keeps it over any earlier one. */
static int spawn_as_me(struct console *c, const char *const *pre, int npre, int argc, char **argv)
{
	const char *args[CONSOLE_ARGS_MAX + 8];
	int n = 0;

	for (int i = 0; i < npre; i++)
		args[n++] = pre[i];
	for (int i = 0; i < argc && n < CONSOLE_ARGS_MAX; i++) {
		if (!strncmp(argv[i], "--pe", 4) || !strcmp(argv[i], "--")) {
			console__printf(c, "error: the performer is you (%s); it cannot be set\n",
					c->who.name);
			return -EINVAL;
		}
		args[n++] = argv[i];
	}
	args[n++] = "--performer";
	args[n++] = c->who.name;
	args[n] = NULL;
	return console__spawn(c, NULL, args, false) ? -EIO : 0;
}

static int c_export(struct console *c, int argc, char **argv)
{
	static const char *const pre[] = { "export" };

	return spawn_as_me(c, pre, 1, argc, argv);
}

static int c_hold(struct console *c, int argc, char **argv)
{
	static const char *const pre[] = { "hold" };

	return spawn_as_me(c, pre, 1, argc, argv);
}

static int c_hold_release(struct console *c, int argc, char **argv)
{
	static const char *const pre[] = { "hold", "--release" };

	return spawn_as_me(c, pre, 2, argc, argv);
}

static int c_hold_list(struct console *c, int argc, char **argv)
{
	static const char *const args[] = { "hold", "--list", NULL };

	(void)argc;
	(void)argv;
	return console__spawn(c, NULL, args, false) ? -EIO : 0;
}

static int c_uplink_test(struct console *c, int argc, char **argv)
{
	static const char *const args[] = { "uplink", "test", NULL };

	(void)argc;
	(void)argv;
	return console__spawn(c, NULL, args, false) ? -EIO : 0;
}

static int c_reboot(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!c->o->reboot_argv) {
		console__printf(c, "error: reboot is not available on this gateway\n");
		return -ENOTSUP;
	}
	if (c->nchg)
		console__printf(c, "%zu staged changes will be lost.\n", c->nchg);
	if (!console__confirm(c, "The gateway restarts; recording stops until it is back."))
		return -ECANCELED;
	console__audit(c, "reboot", "gateway", "");
	return console__spawn(c, "", (const char *const *)c->o->reboot_argv, false) ? -EIO : 0;
}

static int c_factory_reset(struct console *c, int argc, char **argv)
{
	int ret;

	(void)argc;
	(void)argv;
	if (!console__confirm(c, "Every account, camera and uplink setting will be removed."))
		return -ECANCELED;
	console__stage_drop(c);
	ret = console__stage_begin(c);
	if (!ret) {
		console__printf(c, "staging the reset of the config:\n");
		ret = console__cmd_factory_config(c);
	}
	if (!ret)
		ret = console__cmd_commit(c, 0, NULL);
	if (ret) {
		console__printf(c, "error: the config could not be reset; accounts kept\n");
		return ret;
	}
	ret = accounts_wipe(c->o->acc);
	if (!ret)
		ret = console__mark_remove(c);
	console__audit(c, "factory-reset", "gateway", ret ? "accounts NOT wiped" : "");
	console__printf(c, "factory reset done; the next login is a first start\n");
	c->logged_in = false;
	return ret;
}
