/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidfile - STATE_DIR/camgate.pid, how the console and `camgate status`
 * find the running daemon.
 *
 * The daemon writes it once RUNNING and removes it at a clean stop; a
 * kill -9 leaves it behind, so a reader trusts a pid only when that
 * process is alive and is camgate (/proc/PID/comm), never a reused pid.
 */
#ifndef CAMGATE_FIRMWARE_PIDFILE_H
#define CAMGATE_FIRMWARE_PIDFILE_H

#include <sys/types.h>

#define PIDFILE_NAME "camgate.pid"

/* The daemon's own pid into @state_dir (borrowed). -errno, logged. */
int pidfile_write(const char *state_dir);
void pidfile_remove(const char *state_dir);

/* The running daemon of @state_dir in *pidp. -ENOENT: no pid file (never
 * started, or stopped cleanly). -ESRCH: the file names no live camgate
 * (killed or crashed). -EINVAL: the file holds no pid. */
int pidfile_daemon(const char *state_dir, pid_t *pidp);

#endif /* CAMGATE_FIRMWARE_PIDFILE_H */
