// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_policy - `blocklist show` and `blocklist override` (R9): what
 * central blocked, and an admin's decision to let one camera record anyway
 * (firmware/blocklist.h; the daemon applies it within a status tick); the
 * warning at login while no retention floor is set (R10).
 */
#include "firmware/console_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/blocklist.h"
#include "firmware/config.h"
#include "firmware/retention.h"
#include "lib/termsafe.h"

static void print_rows(struct console *c, const cJSON *o, const char *name, const char *title)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, name), *e, *f;
	char buf[256];

	console__printf(c, "%s:%s\n", title, cJSON_GetArraySize(arr) ? "" : " none");
	cJSON_ArrayForEach (e, arr) {
		console__printf(c, " ");
		cJSON_ArrayForEach (f, e) {
			if (cJSON_IsString(f))
				console__printf(c, " %s=%s", f->string,
						termsafe(f->valuestring, buf, sizeof(buf), NULL));
			else
				console__printf(c, " %s=%.0f", f->string, f->valuedouble);
		}
		console__printf(c, "\n");
	}
}

int console__cmd_blocklist_show(struct console *c, int argc, char **argv)
{
	cJSON *o = NULL;

	(void)argc;
	(void)argv;
	if (blocklist_json(c->o->sdb, &o)) {
		console__printf(c, "error: the blocklist could not be read\n");
		return -EIO;
	}
	print_rows(c, o, "entries", "blocklist from central");
	print_rows(c, o, "blocked", "cameras blocked");
	print_rows(c, o, "overrides", "overrides");
	cJSON_Delete(o);
	return 0;
}

int console__cmd_blocklist_override(struct console *c, int argc, char **argv)
{
	char reason[CONSOLE_TEXT_MAX] = "";
	size_t n = 0;

	for (int i = 1; i < argc && n < sizeof(reason); i++)
		n += (size_t)snprintf(reason + n, sizeof(reason) - n, "%s%s", i > 1 ? " " : "",
				      argv[i]);
	if (strlen(reason) < 4) {
		console__printf(c, "error: say why this camera may record despite the blocklist\n");
		return -EINVAL;
	}
	if (blocklist_override(c->o->sdb, argv[0], c->who.name, reason)) {
		console__printf(c, "error: the override could not be stored\n");
		return -EIO;
	}
	console__printf(c,
			"%s may record despite the current blocklist (audited); a new list "
			"from central ends this override\n",
			argv[0]);
	return 0;
}

void console__warn_retention(struct console *c)
{
	struct config *cfg = NULL;

	if (c->who.role != ROLE_ADMIN && c->who.role != ROLE_INSTALLER)
		return;
	if (!config_load(c->o->config_path, &cfg) && retention_ring_floor(cfg) <= 0)
		console__printf(c, "warning: no retention floor is set (R10): e.g. `settings set "
				   "storage.retention_floor 30d`, then commit\n");
	config_free(cfg);
}
