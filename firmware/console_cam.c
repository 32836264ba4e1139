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

#include "firmware/compliance.h"
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
	/* R2 device information of a manual camera (discovery's otherwise) */
	{ "manufacturer", "manufacturer", false },
	{ "model", "model", false },
	{ "serial", "serial", false },
	{ "firmware", "firmware", false },
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

/* The value staged for registry field @field of camera @cam, or NULL. */
static const char *staged_reg(struct console *c, const char *cam, const char *field)
{
	const char *v = NULL;
	char object[64];

	snprintf(object, sizeof(object), "camera:%s", cam);
	for (size_t i = 0; i < c->nchg; i++)
		if (!strcmp(c->chg[i].object, object) && !strcmp(c->chg[i].reg_field, field))
			v = c->chg[i].reg_value;
	return v;
}

/* R2 mandatory fields: console key, registry field, [compliance] default. */
static const struct {
	const char *key, *field, *def;
} mandatory[] = {
	{ "unit", "provider_unit", "unit" },
	{ "users", "data_users", "users" },
	{ "owner", "owner", "owner" },
	{ "location", "scope_location", "location" },
};

static const char *reg_text(struct registry_camera *rc, const char *field)
{
	return !strcmp(field, "provider_unit") ? rc->provider_unit
	       : !strcmp(field, "data_users")  ? rc->data_users
	       : !strcmp(field, "owner")       ? rc->owner
					       : rc->scope_location;
}

/* The empty mandatory fields of @cam as the commit would leave them:
 * staged value, else the registry's, else the staged [compliance] default. */
static void cam_missing(struct console *c, const char *cam, char *out, size_t cap)
{
	struct registry_camera *rc = calloc(1, sizeof(*rc));
	char def[CONFIG_WRITE_LINE];
	size_t len = 0;

	out[0] = '\0';
	if (!rc)
		return;
	if (c->o->reg && registry_get(c->o->reg, cam, rc))
		memset(rc, 0, sizeof(*rc));
	for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
		const char *v = staged_reg(c, cam, mandatory[i].field);

		def[0] = '\0';
		config_write_get(c->stage, "compliance", mandatory[i].def, def, sizeof(def));
		if ((v ? *v : *reg_text(rc, mandatory[i].field)) || *def)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "",
					mandatory[i].key);
		if (len >= cap)
			break;
	}
	free(rc);
}

int console__cam_commit_check(struct console *c)
{
	char missing[64], section[64];
	int ret = 0;

	for (size_t i = 0; i < c->nchg; i++) {
		const char *cam = c->chg[i].object + 7;

		/* What makes a record: a new camera, a registry field. */
		if (strncmp(c->chg[i].object, "camera:", 7) ||
		    (strcmp(c->chg[i].action, "camera-add") &&
		     strcmp(c->chg[i].action, "registry-set")))
			continue;
		snprintf(section, sizeof(section), "camera:%s", cam);
		if (!config_write_has_section(c->stage, section) && !c->o->reg)
			continue;
		cam_missing(c, cam, missing, sizeof(missing));
		if (!*missing)
			continue;
		console__printf(c,
				"error: camera %s: R2 fields empty: %s (camera set %s KEY=VALUE, "
				"or gateway defaults: settings set compliance.KEY VALUE)\n",
				cam, missing, cam);
		ret = -EINVAL;
		break;
	}
	return ret;
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
	/* R2: a manual camera is in the registry from its commit on, so its
	 * record goes to central like a discovered one's. */
	if (!ret && !staged_reg(c, argv[0], "update_method"))
		ret = cam_apply(c, argv[0], "method=manual");
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

static int show_duty(void *arg, const struct compliance_row *r)
{
	struct console *c = arg;
	struct termsafe_buf tb = { 0 };
	char deadline[32] = "-", since[32] = "-";

	if (*r->camera && !console__may_camera(c, r->camera))
		return 0;
	if (r->deadline_ms)
		format_time_ms(r->deadline_ms, deadline, sizeof(deadline));
	if (r->since_ms)
		format_time_ms(r->since_ms, since, sizeof(since));
	console__printf(c, "  %-16s %-4s %-16s %-8s %-8s %-24s %-24s %s\n",
			*r->camera ? termsafe_add(&tb, r->camera) : "(gateway)", r->req, r->kind,
			compliance_state_name(r->state), r->open ? "open" : "closed", deadline,
			since, termsafe_add(&tb, r->detail));
	return 0;
}

int console__cmd_show_compliance(struct console *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	console__printf(c, "  %-16s %-4s %-16s %-8s %-8s %-24s %-24s %s\n", "CAMERA", "REQ", "DUTY",
			"STATE", "", "DEADLINE", "SINCE", "DETAIL");
	return compliance_list(c->o->sdb, show_duty, c);
}

/* maintenance done CAMERA --note TEXT...: R11, audited with the user. */
int console__cmd_maintenance_done(struct console *c, int argc, char **argv)
{
	char note[CONSOLE_TEXT_MAX] = "";
	size_t len = 0;
	int ret;

	if (strcmp(argv[1], "--note")) {
		console__printf(c, "usage: maintenance done CAMERA --note TEXT\n");
		return -EINVAL;
	}
	for (int i = 2; i < argc && len < sizeof(note); i++)
		len += (size_t)snprintf(note + len, sizeof(note) - len, "%s%s", i > 2 ? " " : "",
					argv[i]);
	if (!*note || !config_write_value_ok(note)) {
		console__printf(c, "error: --note needs a text\n");
		return -EINVAL;
	}
	if (c->o->reg) {
		struct registry_camera *rc = malloc(sizeof(*rc));

		ret = rc ? registry_get(c->o->reg, argv[0], rc) : -ENOMEM;
		free(rc);
		if (ret) {
			console__printf(c, "error: no camera %s in the registry\n", argv[0]);
			return ret;
		}
	}
	ret = compliance_maintenance_done(c->o->sdb, argv[0], console__now(c), c->who.name, note);
	if (ret)
		console__printf(c, "error: maintenance not recorded\n");
	else
		console__printf(c, "maintenance of %s recorded; the next is due in 6 months\n",
				argv[0]);
	return ret;
}
