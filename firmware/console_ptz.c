// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_ptz - `ptz CAMERA move|stop|preset ...` (R1 control rights):
 * the rights check, the ONVIF call and the audit are firmware/ptz.c's,
 * shared with central's `ptz` command. The committed config gives the
 * camera's credentials (sealed ones revealed with the device key) and
 * the registry its ONVIF address.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <stdio.h>

#include "firmware/config.h"
#include "firmware/ptz.h"
#include "firmware/registry.h"
#include "firmware/secrets.h"

int console__cmd_ptz(struct console *c, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct registry *reg = NULL;
	struct ptz_req r;
	char msg[256];
	int ret = ptz_parse(argc - 1, argv + 1, &r, msg, sizeof(msg));

	if (ret) {
		console__printf(c, "error: %s\n", msg);
		return ret;
	}
	ret = config_load(c->o->config_path, &cfg);
	if (!ret)
		ret = secrets_config_reveal(c->o->sec, cfg);
	if (!ret)
		ret = registry_open(c->o->sdb, &reg);
	if (ret) {
		console__printf(c, "error: the config or the registry could not be read\n");
	} else {
		ret = ptz_run(c->o->sdb, reg, cfg, &c->who, argv[0], &r, msg, sizeof(msg));
		console__printf(c, "%s%s\n", ret ? "error: " : "", msg);
	}
	registry_close(reg);
	config_free(cfg);
	return ret;
}
