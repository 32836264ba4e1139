/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watchdog - the board's hardware watchdog, or the sandbox driver of the
 * host board.
 *
 * The device is named by the board (defaults.conf "watchdog"):
 *   /dev/watchdog...  Linux watchdog API: WDIOC_SETTIMEOUT at open,
 *                     WDIOC_KEEPALIVE per pet, 'V' written before close
 *                     on a clean stop (magic close: the driver disarms);
 *                     closed without it, the watchdog stays armed and the
 *                     board resets when the timeout runs out.
 *   sandbox:PATH      the SANDBOX DRIVER: no device; PATH, a small text
 *                     file rewritten (atomically) at open, at each pet and
 *                     at close, records what a real watchdog would have
 *                     seen, for tests to read:
 *                         driver sandbox
 *                         timeout_s 15
 *                         pets 42
 *                         last_pet_mono_ms 123456
 *                         state armed | magic-closed | closed-armed
 *   none              no watchdog (watchdog_open() returns -ENOENT).
 *
 * Ownership: watchdog_open() allocates; watchdog_close() frees. One thread
 * (the daemon's main thread) uses a handle. Errors are logged here once.
 */
#ifndef CAMGATE_DRIVERS_WATCHDOG_H
#define CAMGATE_DRIVERS_WATCHDOG_H

#include <stdbool.h>

#define WATCHDOG_SANDBOX_PREFIX "sandbox:"

struct watchdog;

/* Opens @spec and arms it with @timeout_s (the driver may round it; the
 * value in force is logged). -ENOENT for "none" or an empty spec; another
 * negative errno when the device cannot be opened. */
int watchdog_open(const char *spec, int timeout_s, struct watchdog **wdp);
/* One keepalive. 0 or a negative errno (logged). */
int watchdog_pet(struct watchdog *wd);
/* @clean: magic close (disarm); otherwise closed armed, as a crash would
 * leave it. Frees @wd; NULL is a no-op. */
void watchdog_close(struct watchdog *wd, bool clean);

#endif /* CAMGATE_DRIVERS_WATCHDOG_H */
