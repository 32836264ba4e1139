// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_tty - console sessions on a serial line, one after another:
 * what the daemon's console thread and `camgate console --tty` run.
 * A session that ends by hang-up, idle timeout or logout is followed by
 * a fresh banner and login prompt; a device that cannot be opened (a USB
 * adapter unplugged) is tried again every TTY_RETRY_MS. The stop fd ends
 * the loop at any of these points.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/serial/serial.h"
#include "firmware/console.h"
#include "lib/log.h"

#define TTY_RETRY_MS 5000 /* device missing: try again after */
#define TTY_PAUSE_MS 1000 /* between sessions on one line */

/* True when @fd is readable within @ms (a stop request). */
static bool wait_stop(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fd < 0) {
		usleep((useconds_t)ms * 1000);
		return false;
	}
	return poll(&p, 1, ms) > 0;
}

int console_tty_loop(const struct console_opts *base, const char *dev, unsigned int baud,
		     unsigned int serial_flags)
{
	struct console_opts o = *base;
	bool absent = false;
	char copy[256];
	int fd, ret;

	snprintf(copy, sizeof(copy), "%s", dev);
	o.source = basename(copy);
	while (!wait_stop(base->stop_fd, 0)) {
		ret = serial_open(dev, baud, serial_flags, &fd);
		if (ret) {
			if (!absent)
				log_warn("console: %s cannot be opened (%s); trying again every %d "
					 "s",
					 dev, strerror(-ret), TTY_RETRY_MS / 1000);
			absent = true;
			if (wait_stop(base->stop_fd, TTY_RETRY_MS))
				break;
			continue;
		}
		if (absent)
			log_notice("console: %s is back", dev);
		absent = false;
		o.in_fd = o.out_fd = fd;
		ret = console_run(&o);
		close(fd);
		if (ret == -ENOMEM)
			return ret;
		if (wait_stop(base->stop_fd, TTY_PAUSE_MS))
			break;
	}
	return 0;
}
