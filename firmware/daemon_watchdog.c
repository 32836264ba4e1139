// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_watchdog - `camgate run` pets the board's watchdog
 * (drivers/watchdog) once a second from the main loop, and only while
 * every critical thread progresses (firmware/liveness.h): a hung storage
 * write or a hung uplink thread stops the pets and the hardware resets the
 * board within its timeout; a hung camera does not. The main thread is
 * the one that pets, so a hung main loop stops them too. An orderly exit
 * closes the device with the magic 'V'; a crash leaves it armed.
 * Main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/watchdog/watchdog.h"
#include "firmware/daemon_int.h"
#include "firmware/liveness.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/parse.h"

#include "board_defaults.h"

#define GW_PET_INTERVAL_MS 1000

/* The board's watchdog ("none", a device, or the sandbox driver whose
 * relative file name lives in state_dir). */
void gw_watchdog_start(struct gw *gw)
{
	const char *spec = BOARD_WATCHDOG;
	size_t plen = strlen(WATCHDOG_SANDBOX_PREFIX);
	char path[512];
	int64_t timeout_s = 15;
	int ret;

	if (!strncmp(spec, WATCHDOG_SANDBOX_PREFIX, plen) && spec[plen] != '/') {
		snprintf(path, sizeof(path), "%s%s/%s", WATCHDOG_SANDBOX_PREFIX, gw->cfg->state_dir,
			 spec + plen);
		spec = path;
	}
	/* A board fact (defaults.conf); scripts/board-check.sh insists on it. */
	if (parse_i64(BOARD_WATCHDOG_TIMEOUT, 1, 3600, &timeout_s))
		log_err("watchdog: board timeout '%s' is not 1..3600 s; using 15 s",
			BOARD_WATCHDOG_TIMEOUT);
	ret = watchdog_open(spec, (int)timeout_s, &gw->wd);
	if (ret == -ENOENT && !strcmp(BOARD_WATCHDOG, "none"))
		log_info("watchdog: none on this board");
	else if (ret)
		log_err("watchdog: not petted (%s): a hang will not reset the board",
			strerror(-ret));
	gw->wd_next_ms = 0;
}

void gw_watchdog_tick(struct gw *gw)
{
	char why[128];
	int64_t now = clock_mono_ms();

	if (!gw->wd || now < gw->wd_next_ms)
		return;
	gw->wd_next_ms = now + GW_PET_INTERVAL_MS;
	if (!liveness_ok(gw->live, why, sizeof(why))) {
		if (!gw->wd_starved)
			log_err("watchdog: %s; no more pets: the board resets when the "
				"watchdog runs out",
				why);
		gw->wd_starved = true;
		return;
	}
	if (gw->wd_starved)
		log_notice("watchdog: every critical thread progresses again; petting");
	gw->wd_starved = false;
	watchdog_pet(gw->wd);
}

void gw_watchdog_stop(struct gw *gw)
{
	watchdog_close(gw->wd, true);
	gw->wd = NULL;
}
