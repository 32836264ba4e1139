// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Link stub for tests/fuzz/console_line_fuzz.c: firmware/ptz.c calls the
 * gSOAP client, which the target does not link. The console's `ptz`
 * command then always answers that PTZ is not available here.
 */
#include <errno.h>
#include <stdio.h>

#include "firmware/ptz.h"

int ptz_parse(int argc, char *const *argv, struct ptz_req *r, char *msg, size_t cap)
{
	(void)argc;
	(void)argv;
	(void)r;
	snprintf(msg, cap, "ptz is not linked into this fuzz target");
	return -ENOTSUP;
}

int ptz_run(struct statedb *sdb, struct registry *reg, const struct config *cfg,
	    const struct account *who, const char *camera, const struct ptz_req *r, char *msg,
	    size_t cap)
{
	(void)sdb;
	(void)reg;
	(void)cfg;
	(void)who;
	(void)camera;
	(void)r;
	snprintf(msg, cap, "ptz is not linked into this fuzz target");
	return -ENOTSUP;
}
