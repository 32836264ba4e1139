/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon - `camgate run`: storage, one stream per enabled camera, status.
 *
 * Lifecycle (one state at a time, logged): STARTING -> RUNNING ->
 * (RELOADING -> RUNNING)* -> STOPPING -> exit. The main thread owns the
 * configuration, the camera table and the timers; stream threads only
 * call the sink, which touches the ring and the alarm/audit tables.
 * Signals: SIGTERM/SIGINT stop cleanly (open segments are finished and
 * stored), SIGHUP reloads the config and applies the difference: added,
 * changed and removed cameras; untouched cameras keep recording.
 */
#ifndef CAMGATE_FIRMWARE_DAEMON_H
#define CAMGATE_FIRMWARE_DAEMON_H

/* Runs until SIGTERM/SIGINT. @config_path is borrowed.
 * Returns 0 after a clean stop, negative errno when start-up failed. */
int daemon_run(const char *config_path);

#endif /* CAMGATE_FIRMWARE_DAEMON_H */
