// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_console - the installer console of `camgate run`, on the board's
 * tty, beside recording.
 *
 * Threads: gw_console_start() and gw_console_stop() run on the main
 * thread; gw_console_main() is the console thread. It opens its own
 * registry handle and uses gw->acc and gw->sec; the daemon reaches it only
 * through gw->console_stop. It never reads gw->cfg, which the main
 * thread replaces at every reload: the config path, state_dir and tty name
 * are copied for it before it starts.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/serial/serial.h"
#include "firmware/accounts.h"
#include "firmware/config.h"
#include "firmware/console.h"
#include "firmware/daemon_int.h"
#include "firmware/registry.h"
#include "lib/log.h"

static void *gw_console_main(void *arg)
{
	struct gw *gw = arg;
	struct registry *reg = NULL;
	struct console_opts o = {
		.config_path = gw->con_config_path,
		.state_dir = gw->con_state_dir,
		.sdb = gw->sdb,
		.acc = gw->acc,
		.sec = gw->sec,
		.stop_fd = gw->console_stop[0],
		.self_exe = "/proc/self/exe",
		.in_fd = -1,
		.out_fd = -1,
	};
	unsigned int baud = serial_board_baud();

	/* The registry has one owner thread: the console gets its own handle. */
	if (registry_open(gw->sdb, &reg))
		reg = NULL;
	o.reg = reg;
	log_notice("console: on %s at %u baud", gw->con_tty, baud);
	console_tty_loop(&o, gw->con_tty, baud, 0);
	registry_close(reg);
	return NULL;
}

/* The installer console runs beside recording; it never blocks it. */
void gw_console_start(struct gw *gw)
{
	if (!strcmp(gw->cfg->console_tty, "none"))
		return;
	gw->con_config_path = strdup(gw->cfg->path);
	gw->con_state_dir = strdup(gw->cfg->state_dir);
	gw->con_tty = strdup(gw->cfg->console_tty);
	if (!gw->con_config_path || !gw->con_state_dir || !gw->con_tty ||
	    accounts_open(gw->sdb, 0, &gw->acc) || pipe2(gw->console_stop, O_CLOEXEC)) {
		log_err("console: not started; recording goes on");
		return;
	}
	gw->console_running = !pthread_create(&gw->console, NULL, gw_console_main, gw);
}

void gw_console_stop(struct gw *gw)
{
	if (gw->console_running) {
		if (write(gw->console_stop[1], "x", 1) < 0)
			log_warn("console: cannot signal its thread: %m");
		pthread_join(gw->console, NULL);
		close(gw->console_stop[0]);
		close(gw->console_stop[1]);
		gw->console_running = false;
	}
	accounts_close(gw->acc);
	gw->acc = NULL;
	free(gw->con_config_path);
	free(gw->con_state_dir);
	free(gw->con_tty);
	gw->con_config_path = gw->con_state_dir = gw->con_tty = NULL;
}
