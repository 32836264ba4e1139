// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_cfg - staged changes: camera, uplink and settings commands edit
 * a copy of the INI config (firmware/config_write.h); `commit` writes it.
 *
 * Every command's edits are checked as a whole before they stay staged:
 * the staged file is rendered to CONFIG.staged and validated by
 * `camgate -c CONFIG.staged config check` (its messages, with file, line
 * and key, go straight to the console), or by config_load() in-process
 * when there is no binary to run (unit tests). An invalid edit is rolled
 * back from a snapshot, so nothing half-applied stays.
 *
 * Commit refuses when the file changed on disk since the first staged
 * edit (another console, a hand edit): discard and redo, rather than
 * overwrite someone else's change. Registry fields (owner, unit ...) are
 * not in the INI; they wait in the change list and go to the registry at
 * commit, logged there with cause installer or central.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/config.h"
#include "firmware/pidfile.h"
#include "firmware/registry.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "lib/url.h"
#include "storage/statedb.h"

#define CFG_PATH_MAX 4096
#define SECRET_MAX   1023 /* plain bytes of the longest secret setting (uplink token) */
#define SEALED_MAX   SECRETS_SEALED_LEN(SECRET_MAX)

static const char *const settings_sections[] = { "gateway", "storage", "stream",
						 "uplink",  "onvif",   "compliance" };

bool console__is_secret_key(const char *key)
{
	return !strcmp(key, "password") || !strcmp(key, "token");
}

bool console__in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

int console__stage_begin(struct console *c)
{
	int ret;

	if (c->stage)
		return 0;
	ret = config_write_load(c->o->config_path, &c->stage);
	if (ret) {
		console__printf(c, "error: cannot read %s\n", c->o->config_path);
		return ret;
	}
	config_write_loaded_hash(c->stage, c->stage_base);
	return 0;
}

void console__stage_drop(struct console *c)
{
	config_write_free(c->stage);
	c->stage = NULL;
	free(c->chg);
	c->chg = NULL;
	c->nchg = 0;
	c->leave_warned = false;
}

int console__add_change(struct console *c, const char *action, const char *object,
			const char *detail, const char *reg_field, const char *reg_value)
{
	struct console_change *grown, *ch;

	if (c->nchg == CONSOLE_CHANGES_MAX) {
		console__printf(c, "error: %d changes staged; commit first\n", CONSOLE_CHANGES_MAX);
		return -ENOBUFS;
	}
	grown = realloc(c->chg, (c->nchg + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->chg = grown;
	ch = &c->chg[c->nchg++];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->action, sizeof(ch->action), "%s", action);
	snprintf(ch->object, sizeof(ch->object), "%s", object);
	snprintf(ch->detail, sizeof(ch->detail), "%s", detail);
	snprintf(ch->reg_field, sizeof(ch->reg_field), "%s", reg_field ? reg_field : "");
	snprintf(ch->reg_value, sizeof(ch->reg_value), "%s", reg_value ? reg_value : "");
	return 0;
}

/* Validates the whole staged file (see the top of this file). */
static int stage_check(struct console *c)
{
	static const char *const args[] = { "config", "check", NULL };
	char path[CFG_PATH_MAX];
	struct config *cfg = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s.staged", c->o->config_path);
	/* Owner-only, so the check judges the values, not this copy's mode
	 * (config_write_save() keeps an existing file's mode). */
	ret = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ret >= 0)
		close(ret);
	ret = config_write_save(c->stage, path);
	if (ret) {
		console__printf(c, "error: cannot write %s\n", path);
		return ret;
	}
	if (c->o->self_exe) {
		ret = console__spawn(c, path, args, true) ? -EINVAL : 0;
	} else {
		ret = config_load(path, &cfg) ? -EINVAL : 0;
		config_free(cfg);
	}
	unlink(path);
	return ret;
}

int console__snap_take(struct console *c, struct console_snap *s)
{
	int ret = console__stage_begin(c);

	s->text = NULL;
	s->nchg = c->nchg;
	return ret ? ret : config_write_render(c->stage, &s->text, NULL);
}

/* Keeps the edits when @ret is 0 and they validate; else rolls back. */
int console__snap_finish(struct console *c, struct console_snap *s, int ret)
{
	struct config_write *old;

	if (!ret && c->nchg > s->nchg)
		ret = stage_check(c);
	if (ret && !config_write_parse(s->text, &old)) {
		config_write_free(c->stage);
		c->stage = old;
		c->nchg = s->nchg;
		if (ret == -EINVAL)
			console__printf(c, "not staged: fix the value and try again\n");
	}
	free(s->text);
	return ret;
}

/* A secret from @value, or asked for when @value is NULL, sealed. */
static int seal_value(struct console *c, const char *context, const char *value, char *out,
		      size_t cap)
{
	char plain[SECRET_MAX + 2], prompt[128];
	int ret = 0;

	if (!value) {
		snprintf(prompt, sizeof(prompt), "%s: ", context);
		ret = console__read_secret(c, prompt, plain, sizeof(plain));
		value = plain;
	}
	if (!ret)
		ret = secrets_seal(c->o->sec, context, value, out, cap);
	if (ret == -E2BIG)
		console__printf(c, "error: the secret is too long\n");
	memset(plain, 0, sizeof(plain));
	return ret;
}

/* Sets @key in @section, sealing secrets; records the change. */
int console__stage_set(struct console *c, const char *section, const char *key, const char *value,
		       const char *action)
{
	char old[CONFIG_WRITE_LINE] = "", sealed[SEALED_MAX], detail[CONSOLE_TEXT_MAX], context[96];
	char b1[CONSOLE_TEXT_MAX], b2[CONSOLE_TEXT_MAX];
	bool had;
	int ret;

	had = !config_write_get(c->stage, section, key, old, sizeof(old));
	if (console__is_secret_key(key)) {
		snprintf(context, sizeof(context), "%s.%s", section, key);
		ret = seal_value(c, context, value, sealed, sizeof(sealed));
		if (ret)
			return ret;
		value = sealed;
		snprintf(detail, sizeof(detail), "%s: (secret %s)", key, had ? "changed" : "set");
	} else {
		if (!value) {
			console__printf(c, "error: %s needs a value (%s=VALUE)\n", key, key);
			return -EINVAL;
		}
		snprintf(detail, sizeof(detail), "%s: %s -> %s", key,
			 had ? url_redact(old, b1, sizeof(b1)) : "(default)",
			 url_redact(value, b2, sizeof(b2)));
	}
	ret = config_write_set(c->stage, section, key, value);
	if (ret == -EINVAL)
		console__printf(c,
				"error: %s: control characters, blanks at either end and "
				"' ;' or ' #' are not allowed\n",
				key);
	return ret ? ret : console__add_change(c, action, section, detail, NULL, NULL);
}

/* Does @dir already hold this gateway's accounts (state.db with at least
 * one account, and device.key)? */
static bool state_dir_has_accounts(const char *dir)
{
	char path[CFG_PATH_MAX], key[CFG_PATH_MAX];
	struct statedb *db = NULL;
	struct accounts *acc = NULL;
	unsigned int n = 0;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	snprintf(key, sizeof(key), "%s/" SECRETS_KEY_NAME, dir);
	if (access(path, F_OK) || access(key, F_OK))
		return false;
	if (!statedb_open(dir, &db) && !accounts_open(db, 0, &acc))
		accounts_count(acc, &n);
	accounts_close(acc);
	statedb_close(db);
	return n > 0;
}

static int setting_refused(struct console *c, const char *section, const char *key, const char *why)
{
	char object[96];

	snprintf(object, sizeof(object), "%s.%s", section, key);
	console__printf(c, "error: %s: %s\n", object, why);
	console__audit(c, "setting-refused", object, why);
	return -EPERM;
}

/* SECTION.KEY VALUE, or KEY=VALUE for @fixed_section. Settings that decide
 * where accounts, secrets, the audit log or trust live are an admin's
 * (CONFIG_F_ADMIN in the settings table); moving the state folder is
 * refused unless the new one already holds the accounts, so it never
 * yields an empty account table (and a first start, and a fresh audit
 * log). */
static int setting_apply(struct console *c, const char *section, const char *key, const char *value)
{
	int flags;

	if (!console__in_list(section, settings_sections,
			      sizeof(settings_sections) / sizeof(settings_sections[0]))) {
		console__printf(
			c,
			"error: sections are gateway, storage, stream, uplink, onvif, compliance "
			"(cameras: camera set)\n");
		return -EINVAL;
	}
	flags = config_setting_flags(section, key);
	if (flags > 0 && (flags & CONFIG_F_ADMIN) && c->who.role != ROLE_ADMIN)
		return setting_refused(c, section, key, "admin only");
	if (!strcmp(section, "gateway") && !strcmp(key, "state_dir") && value &&
	    strcmp(value, c->o->state_dir) && !state_dir_has_accounts(value))
		return setting_refused(c, section, key,
				       "the new folder holds no accounts: copy state.db and "
				       "device.key there first (daemon stopped)");
	if (value && !*value && console__is_secret_key(key))
		value = NULL;
	return console__stage_set(c, section, key, value, "setting");
}

int console__cmd_uplink_set(struct console *c, int argc, char **argv)
{
	char key[64];
	struct console_snap s;
	int ret = console__snap_take(c, &s);

	for (int i = 0; !ret && i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq ? eq - argv[i] : (long)strlen(argv[i])),
			 argv[i]);
		ret = setting_apply(c, "uplink", key, eq ? eq + 1 : NULL);
	}
	return console__snap_finish(c, &s, ret);
}

int console__cmd_settings_set(struct console *c, int argc, char **argv)
{
	const char *dot = strchr(argv[0], '.');
	char section[32];
	struct console_snap s;
	int ret;

	if (!dot || dot == argv[0] || (size_t)(dot - argv[0]) >= sizeof(section)) {
		console__printf(c, "usage: settings set SECTION.KEY [VALUE]\n");
		return -EINVAL;
	}
	snprintf(section, sizeof(section), "%.*s", (int)(dot - argv[0]), argv[0]);
	ret = console__snap_take(c, &s);
	if (!ret)
		ret = setting_apply(c, section, dot + 1, argc > 1 ? argv[1] : NULL);
	return console__snap_finish(c, &s, ret);
}

int console__print_key(void *arg, const char *key, const char *value)
{
	struct console *c = arg;
	struct termsafe_buf tb = { 0 };
	char b[CONSOLE_TEXT_MAX];

	if (console__is_secret_key(key) || secrets_is_sealed(value))
		value = *value ? "(secret)" : "";
	/* Central may have set the value (set-setting): escaped. */
	console__printf(c, "    %-18s = %s\n", termsafe_add(&tb, key),
			termsafe_add(&tb, url_redact(value, b, sizeof(b))));
	return 0;
}

int console__cmd_settings_show(struct console *c, int argc, char **argv)
{
	size_t n = sizeof(settings_sections) / sizeof(settings_sections[0]);
	int ret = console__stage_begin(c);

	for (size_t i = 0; !ret && i < n; i++) {
		if (argc && strcmp(argv[0], settings_sections[i]))
			continue;
		console__printf(c, "  [%s]\n", settings_sections[i]);
		config_write_keys(c->stage, settings_sections[i], console__print_key, c);
	}
	if (c->nchg)
		console__printf(c, "(with %zu staged changes)\n", c->nchg);
	return ret;
}

int console__cmd_show_uplink(struct console *c, int argc, char **argv)
{
	static char uplink[] = "uplink";
	char *args[] = { uplink };

	(void)argc;
	(void)argv;
	return console__cmd_settings_show(c, 1, args);
}

int console__cmd_changes(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!c->nchg)
		console__printf(c, "no staged changes\n");
	for (size_t i = 0; i < c->nchg; i++)
		console__printf(c, "  %-14s %-20s %s\n", c->chg[i].action, c->chg[i].object,
				c->chg[i].detail);
	return 0;
}

int console__cmd_discard(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	console__printf(c, "%zu staged changes dropped\n", c->nchg);
	if (c->nchg)
		console__audit(c, "discard", "config", "");
	console__stage_drop(c);
	return 0;
}

static int section_drop(void *arg, const char *section)
{
	char **list = arg;

	for (int i = 0; i < 256; i++) {
		if (!list[i]) {
			list[i] = strdup(section);
			return list[i] ? 0 : -ENOMEM;
		}
	}
	return -E2BIG;
}

int console__cmd_factory_config(struct console *c)
{
	char *list[257] = { NULL };
	int ret;

	ret = config_write_sections(c->stage, "camera:", section_drop, list);
	for (int i = 0; !ret && list[i]; i++) {
		ret = config_write_remove_section(c->stage, list[i]);
		if (!ret)
			ret = console__add_change(c, "camera-remove", list[i], "factory reset",
						  NULL, NULL);
	}
	for (int i = 0; list[i]; i++)
		free(list[i]);
	if (!ret && config_write_has_section(c->stage, "uplink")) {
		ret = config_write_remove_section(c->stage, "uplink");
		if (!ret)
			ret = console__add_change(c, "setting", "uplink", "factory reset: removed",
						  NULL, NULL);
	}
	if (!ret && !c->nchg)
		ret = console__add_change(c, "setting", "config",
					  "factory reset: nothing to remove", NULL, NULL);
	return ret;
}

/* SIGHUP to the daemon named by STATE_DIR/camgate.pid, if it is one. */
static int reload_daemon(struct console *c)
{
	pid_t pid;
	int ret;

	if (c->o->reload)
		return c->o->reload(c->o->reload_arg);
	ret = pidfile_daemon(c->o->state_dir, &pid);
	if (ret)
		return ret == -EINVAL ? -ESRCH : ret;
	return kill(pid, SIGHUP) ? -errno : 0;
}

static void apply_registry(struct console *c, const struct console_change *ch)
{
	enum registry_cause cause =
		c->who.role == ROLE_CENTRAL ? REGISTRY_CAUSE_CENTRAL : REGISTRY_CAUSE_INSTALLER;

	if (!*ch->reg_field || !c->o->reg)
		return;
	if (!strcmp(ch->reg_field, "name")) {
		if (registry_rename(c->o->reg, ch->object + 7, ch->reg_value, cause,
				    console__now(c)))
			console__printf(c, "warning: camera %s not renamed\n", ch->object + 7);
		return;
	}
	if (registry_set(c->o->reg, ch->object + 7, ch->reg_field, ch->reg_value, cause,
			 console__now(c)))
		console__printf(c, "warning: registry field %s of %s not set\n", ch->reg_field,
				ch->object + 7);
}

int console__cmd_commit(struct console *c, int argc, char **argv)
{
	uint8_t now[CONFIG_WRITE_HASHLEN];
	int ret;

	(void)argc;
	(void)argv;
	if (!c->nchg) {
		console__printf(c, "nothing to commit\n");
		return 0;
	}
	ret = config_write_file_hash(c->o->config_path, now);
	if (!ret && memcmp(now, c->stage_base, sizeof(now))) {
		console__printf(c,
				"error: %s changed since your first staged change; discard and "
				"redo them\n",
				c->o->config_path);
		return -EAGAIN;
	}
	if (!ret)
		ret = stage_check(c);
	if (!ret)
		ret = console__cam_commit_check(c); /* R2 mandatory fields */
	if (!ret)
		ret = config_write_save(c->stage, c->o->config_path);
	if (ret) {
		console__printf(c, "error: nothing committed\n");
		return ret;
	}
	for (size_t i = 0; i < c->nchg; i++) {
		apply_registry(c, &c->chg[i]);
		console__audit(c, c->chg[i].action, c->chg[i].object, c->chg[i].detail);
	}
	console__printf(c, "%zu changes committed to %s\n", c->nchg, c->o->config_path);
	ret = reload_daemon(c);
	if (ret)
		console__printf(c,
				"no daemon is running (%s/%s %s): the changes apply at its "
				"next start\n",
				c->o->state_dir, PIDFILE_NAME,
				ret == -ENOENT ? "missing" : "stale");
	else
		console__printf(c, "daemon reloading\n");
	console__stage_drop(c);
	return 0;
}
