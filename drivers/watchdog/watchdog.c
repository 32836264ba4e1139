// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * watchdog - /dev/watchdog (Linux watchdog API) and the sandbox driver
 * (watchdog.h). The sandbox goes through the same open/pet/close calls as
 * the device, so the daemon's petting logic is the one that runs on the
 * gateways; only the last step, the ioctl or the write, differs.
 */
#include "drivers/watchdog/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fsutil.h"
#include "lib/log.h"

struct watchdog {
	int fd;	       /* the device; -1 for the sandbox driver */
	char *sandbox; /* the sandbox driver's record file; NULL for a device */
	int timeout_s;
	unsigned long pets;
};

/* The sandbox record, replaced whole so a reader never sees half of it. */
static int wd_sandbox_write(struct watchdog *wd, const char *state)
{
	char buf[256];
	int n = snprintf(
		buf, sizeof(buf),
		"driver sandbox\ntimeout_s %d\npets %lu\nlast_pet_mono_ms %lld\nstate %s\n",
		wd->timeout_s, wd->pets, (long long)clock_mono_ms(), state);
	int ret = fs_replace(wd->sandbox, buf, (size_t)n, 0644);

	if (ret)
		log_err_limited("watchdog: sandbox %s: %s", wd->sandbox, strerror(-ret));
	return ret;
}

static int wd_device_open(struct watchdog *wd, const char *dev)
{
	int t = wd->timeout_s;

	wd->fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (wd->fd < 0) {
		int err = errno;

		log_err("watchdog: %s: %s", dev, strerror(err));
		return -err;
	}
	/* Armed from here on. A driver without a settable timeout keeps its
	 * own; say which is in force. */
	if (ioctl(wd->fd, WDIOC_SETTIMEOUT, &t) < 0 && ioctl(wd->fd, WDIOC_GETTIMEOUT, &t) < 0)
		t = -1;
	wd->timeout_s = t;
	log_notice("watchdog: %s armed, timeout %d s", dev, t);
	return 0;
}

int watchdog_open(const char *spec, int timeout_s, struct watchdog **wdp)
{
	struct watchdog *wd;
	size_t plen = strlen(WATCHDOG_SANDBOX_PREFIX);
	int ret;

	*wdp = NULL;
	if (!spec || !*spec || !strcmp(spec, "none"))
		return -ENOENT;
	wd = calloc(1, sizeof(*wd));
	if (!wd)
		return -ENOMEM;
	wd->fd = -1;
	wd->timeout_s = timeout_s;
	if (!strncmp(spec, WATCHDOG_SANDBOX_PREFIX, plen)) {
		wd->sandbox = strdup(spec + plen);
		ret = wd->sandbox && *wd->sandbox ? wd_sandbox_write(wd, "armed") : -EINVAL;
		if (!ret)
			log_notice("watchdog: sandbox driver, recording to %s", wd->sandbox);
	} else {
		ret = wd_device_open(wd, spec);
	}
	if (ret) {
		free(wd->sandbox);
		free(wd);
		return ret;
	}
	*wdp = wd;
	return 0;
}

int watchdog_pet(struct watchdog *wd)
{
	wd->pets++;
	if (wd->sandbox)
		return wd_sandbox_write(wd, "armed");
	if (ioctl(wd->fd, WDIOC_KEEPALIVE, 0) < 0) {
		int err = errno;

		log_err_limited("watchdog: keepalive: %s", strerror(err));
		return -err;
	}
	return 0;
}

void watchdog_close(struct watchdog *wd, bool clean)
{
	if (!wd)
		return;
	if (wd->sandbox) {
		wd_sandbox_write(wd, clean ? "magic-closed" : "closed-armed");
	} else {
		/* The magic character: the driver disarms on the close that
		 * follows it (unless the kernel says nowayout). */
		if (clean && write(wd->fd, "V", 1) != 1)
			log_err("watchdog: magic close: %s; it stays armed", strerror(errno));
		close(wd->fd);
		log_notice("watchdog: closed %s", clean ? "(disarmed)" : "armed");
	}
	free(wd->sandbox);
	free(wd);
}
