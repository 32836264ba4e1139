// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_cam - the camera commands: add, set, remove, enable, disable,
 * show cameras, show camera. Config keys are staged in [camera:NAME]
 * through console_cfg.c (validated as a whole, secrets sealed); registry
 * fields (owner, unit, location ...) wait in the change list until commit.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/config.h"
#include "firmware/registry.h"
#include "firmware/sharing.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "lib/url.h"

/* Keys of a [camera:NAME] section. */
static const char *const cam_keys[] = {
	"url",	       "username",	   "password",	      "enabled",
	"transport",   "segment_duration", "connect_timeout", "stall_timeout",
	"backoff_min", "backoff_max",	   "retention_floor",
};

/* Console names of registry fields (firmware/registry.h). */
static const struct {
	const char *key;
	const char *field;
	bool duration;
} reg_keys[] = {
	{ "owner", "owner", false },
	{ "unit", "provider_unit", false },
	{ "location", "scope_location", false },
	{ "sharing", "sharing_class", false },
	{ "users", "data_users", false },
	{ "update", "update_interval_ms", true },
	{ "method", "update_method", false },
};

static int reg_value(struct console *c, const char *cam, size_t i, const char *value)
{
	char buf[32], detail[CONSOLE_TEXT_MAX], object[64];
	int64_t ms;

	if (!value || !config_write_value_ok(value) || strlen(value) >= 128) {
		console__printf(c, "error: %s needs a value of at most 127 characters\n",
				reg_keys[i].key);
		return -EINVAL;
	}
	if (reg_keys[i].duration) {
		if (parse_duration_ms(value, &ms) || ms <= 0) {
			console__printf(c, "error: %s: expected a duration such as 10m\n",
					reg_keys[i].key);
			return -EINVAL;
		}
		snprintf(buf, sizeof(buf), "%lld", (long long)ms);
		value = buf;
	}
	if (sharing_field_check(reg_keys[i].field, value, detail, sizeof(detail))) {
		console__printf(c, "error: %s\n", detail); /* R14/R15 */
		return -EINVAL;
	}
	if (!c->o->reg)
		console__printf(c, "warning: no registry here; %s is not kept\n", reg_keys[i].key);
	snprintf(object, sizeof(object), "camera:%s", cam);
	snprintf(detail, sizeof(detail), "%s: -> %s", reg_keys[i].field, value);
	return console__add_change(c, "registry-set", object, detail, reg_keys[i].field, value);
}

/* One KEY=VALUE (or a bare secret KEY) for camera @cam. */
static int cam_apply(struct console *c, const char *cam, const char *kv)
{
	char key[32], section[64], b[CONSOLE_TEXT_MAX];
	const char *eq = strchr(kv, '='), *value = eq ? eq + 1 : NULL;
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);

	snprintf(key, sizeof(key), "%.*s", (int)n, kv);
	snprintf(section, sizeof(section), "camera:%s", cam);
	for (size_t i = 0; i < sizeof(reg_keys) / sizeof(reg_keys[0]); i++)
		if (!strcmp(key, reg_keys[i].key))
			return reg_value(c, cam, i, value);
	if (!console__in_list(key, cam_keys, sizeof(cam_keys) / sizeof(cam_keys[0]))) {
		console__printf(c, "error: unknown camera key '%s' (help camera set)\n", key);
		return -EINVAL;
	}
	if (!strcmp(key, "url") && value && url_redact(value, b, sizeof(b)) != value) {
		console__printf(c, "error: put credentials in username= and password=, not in "
				   "the URL (they would be stored in clear)\n");
		return -EINVAL;
	}
	if (value && !*value && console__is_secret_key(key))
		value = NULL;
	return console__stage_set(c, section, key, value, "camera-set");
}

static bool camera_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n < CONFIG_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       n;
}

static int cam_exists(struct console *c, const char *cam, bool want)
{
	char section[64];

	snprintf(section, sizeof(section), "camera:%s", cam);
	if (config_write_has_section(c->stage, section) == want)
		return 0;
	console__printf(c, "error: camera %s %s\n", cam,
			want ? "does not exist" : "exists already");
	return want ? -ENOENT : -EEXIST;
}

int console__cmd_camera_add(struct console *c, int argc, char **argv)
{
	char url[CONFIG_WRITE_LINE + 8];
	struct console_snap s;
	int ret;

	if (!camera_name_ok(argv[0])) {
		console__printf(c, "error: camera names are 1-31 of A-Z a-z 0-9 . _ -\n");
		return -EINVAL;
	}
	ret = console__snap_take(c, &s);
	if (!ret)
		ret = cam_exists(c, argv[0], false);
	/* The whole URL or nothing: a cut one would record the wrong stream. */
	if (!ret && snprintf(url, sizeof(url), "url=%s", argv[1]) >= (int)sizeof(url)) {
		console__printf(c, "error: url longer than %d bytes\n", CONFIG_LINE_MAX);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cam_apply(c, argv[0], url);
	if (!ret)
		snprintf(c->chg[c->nchg - 1].action, sizeof(c->chg[0].action), "camera-add");
	for (int i = 2; !ret && i < argc; i++)
		ret = cam_apply(c, argv[0], argv[i]);
	ret = console__snap_finish(c, &s, ret);
	if (!ret)
		console__printf(c, "camera %s staged (commit to apply)\n", argv[0]);
	return ret;
}

int console__cmd_camera_set(struct console *c, int argc, char **argv)
{
	struct console_snap s;
	int ret = console__snap_take(c, &s);

	if (!ret)
		ret = cam_exists(c, argv[0], true);
	for (int i = 1; !ret && i < argc; i++)
		ret = cam_apply(c, argv[0], argv[i]);
	return console__snap_finish(c, &s, ret);
}

static int cam_enabled(struct console *c, const char *cam, bool on)
{
	struct console_snap s;
	int ret = console__snap_take(c, &s);

	if (!ret)
		ret = cam_exists(c, cam, true);
	if (!ret)
		ret = cam_apply(c, cam, on ? "enabled=yes" : "enabled=no");
	return console__snap_finish(c, &s, ret);
}

int console__cmd_camera_enable(struct console *c, int argc, char **argv)
{
	(void)argc;
	return cam_enabled(c, argv[0], true);
}

int console__cmd_camera_disable(struct console *c, int argc, char **argv)
{
	(void)argc;
	return cam_enabled(c, argv[0], false);
}

int console__cmd_camera_remove(struct console *c, int argc, char **argv)
{
	char section[64];
	struct console_snap s;
	int ret;

	(void)argc;
	ret = console__snap_take(c, &s);
	if (!ret)
		ret = cam_exists(c, argv[0], true);
	if (!ret &&
	    !console__confirm(c, "The camera stops recording at commit; its footage stays."))
		ret = -ECANCELED;
	snprintf(section, sizeof(section), "camera:%s", argv[0]);
	if (!ret)
		ret = config_write_remove_section(c->stage, section);
	if (!ret)
		ret = console__add_change(c, "camera-remove", section, "", NULL, NULL);
	return console__snap_finish(c, &s, ret);
}

/* Discovered cameras are named by the registry (registry_new_name());
 * the installer may give one a name of their own, kept from then on. */
int console__cmd_camera_rename(struct console *c, int argc, char **argv)
{
	struct registry_camera *rc;
	char section[64], detail[CONSOLE_TEXT_MAX];
	struct console_snap s;
	int ret = 0;

	(void)argc;
	if (!registry_name_ok(argv[1])) {
		console__printf(c, "error: camera names are 1-31 of A-Z a-z 0-9 . _ -\n");
		return -EINVAL;
	}
	if (!console__may_camera(c, argv[1])) {
		console__printf(c, "error: %s is outside your cameras\n", argv[1]);
		return -EPERM;
	}
	if (!c->o->reg) {
		console__printf(c, "error: no registry here\n");
		return -ENOENT;
	}
	rc = malloc(sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	snprintf(section, sizeof(section), "camera:%s", argv[0]);
	if (registry_get(c->o->reg, argv[0], rc) ||
	    (!console__stage_begin(c) && config_write_has_section(c->stage, section))) {
		console__printf(c,
				"error: %s is no discovered camera (a configured one is renamed "
				"by camera remove and camera add)\n",
				argv[0]);
		ret = -ENOENT;
	} else if (!registry_get(c->o->reg, argv[1], rc)) {
		console__printf(c, "error: camera %s exists already\n", argv[1]);
		ret = -EEXIST;
	}
	free(rc);
	if (!ret)
		ret = console__snap_take(c, &s);
	else
		return ret;
	snprintf(detail, sizeof(detail), "name: %s -> %s", argv[0], argv[1]);
	ret = console__add_change(c, "camera-rename", section, detail, "name", argv[1]);
	ret = console__snap_finish(c, &s, ret);
	if (!ret)
		console__printf(c, "camera %s renamed to %s at commit\n", argv[0], argv[1]);
	return ret;
}

struct names {
	struct console *c;
	void (*fn)(void *arg, const char *name);
	void *arg;
};

static int name_of_section(void *arg, const char *section)
{
	struct names *nm = arg;

	if (console__may_camera(nm->c, section + 7))
		nm->fn(nm->arg, section + 7);
	return 0;
}

void console__camera_names(struct console *c, void (*fn)(void *arg, const char *name), void *arg)
{
	struct names nm = { c, fn, arg };

	if (!console__stage_begin(c))
		config_write_sections(c->stage, "camera:", name_of_section, &nm);
}

static void show_one(void *arg, const char *name)
{
	struct console *c = arg;
	struct termsafe_buf tb = { 0 };
	char section[64], en[16] = "yes", url[CONFIG_WRITE_LINE] = "", b[CONFIG_WRITE_LINE];

	snprintf(section, sizeof(section), "camera:%s", name);
	config_write_get(c->stage, section, "enabled", en, sizeof(en));
	config_write_get(c->stage, section, "url", url, sizeof(url));
	console__printf(c, "  %-16s enabled=%-4s %s\n", termsafe_add(&tb, name),
			termsafe_add(&tb, en), termsafe_add(&tb, url_redact(url, b, sizeof(b))));
}

int console__cmd_show_cameras(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	console__camera_names(c, show_one, c);
	if (c->nchg)
		console__printf(c, "(with %zu staged changes)\n", c->nchg);
	return 0;
}

int console__cmd_show_camera(struct console *c, int argc, char **argv)
{
	struct termsafe_buf tb = { 0 };
	struct registry_camera rc;
	char section[64];
	int ret;

	(void)argc;
	ret = console__stage_begin(c);
	snprintf(section, sizeof(section), "camera:%s", argv[0]);
	if (!ret)
		ret = cam_exists(c, argv[0], true);
	if (ret)
		return ret;
	console__printf(c, "  [%s]\n", section);
	config_write_keys(c->stage, section, console__print_key, c);
	if (!c->o->reg || registry_get(c->o->reg, argv[0], &rc))
		return 0;
	/* The device fields come from the camera over ONVIF, the registry
	 * fields from central: escaped (lib/termsafe.h), stored raw. */
	if (*rc.manufacturer || *rc.model)
		console__printf(c, "  device: %s %s firmware %s serial %s ip %s%s\n",
				termsafe_add(&tb, rc.manufacturer), termsafe_add(&tb, rc.model),
				termsafe_add(&tb, rc.firmware), termsafe_add(&tb, rc.serial),
				termsafe_add(&tb, rc.ip), rc.gone ? " (gone)" : "");
	tb.used = 0;
	console__printf(c, "  registry:\n");
	console__printf(c,
			"    owner=%s unit=%s location=%s sharing=%s users=%s method=%s "
			"update=%llds\n",
			termsafe_add(&tb, rc.owner), termsafe_add(&tb, rc.provider_unit),
			termsafe_add(&tb, rc.scope_location), termsafe_add(&tb, rc.sharing_class),
			termsafe_add(&tb, rc.data_users), termsafe_add(&tb, rc.update_method),
			(long long)(rc.update_interval_ms / 1000));
	return 0;
}
