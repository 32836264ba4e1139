/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * console - the installer console: login, roles, and one table of
 * commands (firmware/console_cmds.c) that drives dispatch, role and
 * camera-scope checks, help, tab completion and docs/console.md.
 *
 * Line editing and history are libedit's (docs/console.md says why);
 * input goes through our own read function, which gives libedit UTF-8
 * characters and implements the idle timeout, hang-up and stop.
 *
 * A session:
 *   first start (no account has ever existed, firmware/console_mark.c):
 *   set the admin password, logged in;
 *   else login: name, password (never echoed), lockout per accounts.h;
 *   a password that must change (C3) is changed before anything else;
 *   commands until exit, Ctrl-D on an empty line, the idle timeout, a
 *   hang-up, or @stop_fd becoming readable.
 * Every login (success and failure, with the source), logout and change
 * is an audit row (firmware/audit.h).
 *
 * Changes are staged: camera, uplink and settings commands edit a copy of
 * the INI config, each edit checked at once (the whole file is validated,
 * so an invalid value never stays staged); `commit` writes the file
 * atomically (firmware/config_write.h), applies registry fields, audits
 * each change with old and new values (secrets masked) and asks the
 * daemon to reload (SIGHUP to the pid in STATE_DIR/camgate.pid, or
 * @reload). `discard` drops them; leaving with staged changes asks first.
 * Secrets are sealed with the device key (firmware/secrets.h) before they
 * are staged and are never printed back.
 *
 * Threads: console_run() blocks its caller for one session and touches
 * nothing the recording threads own: state.db through statedb, the
 * config only as a file. The daemon runs it on a thread of its own.
 */
#ifndef CAMGATE_FIRMWARE_CONSOLE_H
#define CAMGATE_FIRMWARE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct statedb;
struct accounts;
struct secrets;
struct registry;

#define CONSOLE_IDLE_DEFAULT_MS (5 * 60 * 1000)

struct console_opts {
	const char *config_path; /* the INI file commit replaces */
	const char *state_dir;	 /* for camgate.pid */
	struct statedb *sdb;	 /* borrowed; audit and accounts live here */
	struct accounts *acc;	 /* borrowed */
	struct secrets *sec;	 /* borrowed */
	struct registry *reg;	 /* borrowed, may be NULL: no registry fields */
	int in_fd;		 /* borrowed; a tty gets line editing */
	int out_fd;		 /* borrowed */
	int stop_fd;		 /* readable: end the session now; -1: none */
	const char *source;	 /* audit "object" of logins: "ttyS0", "stdin" */
	const char *term;	 /* terminal type for libedit; NULL: $TERM, else vt100 */
	int64_t idle_ms;	 /* 0: CONSOLE_IDLE_DEFAULT_MS; < 0: none */
	int64_t fail_delay_ms;	 /* failed login: verdict this long after the password; 0: 1000 */
	/* `camgate` binary for commands run as a child with the console as
	 * their output (discover, uplink test, status, ring stat, and the
	 * validation of staged changes). NULL: those commands are not
	 * available and validation runs in-process. */
	const char *self_exe;
	/* What `reboot` runs; NULL: the command says it is not available. */
	const char *const *reboot_argv;
	/* Ask the daemon to reload the config; NULL: SIGHUP to the pid in
	 * STATE_DIR/camgate.pid. Returns 0 or -errno. */
	int (*reload)(void *arg);
	void *reload_arg;
	/* Wall clock in ms (accounts, audit); NULL: the system's. */
	int64_t (*now_ms)(void);
};

/* One session on @o->in_fd/out_fd; returns when it ends (see above).
 * 0: the session ended normally (exit, EOF, idle, hang-up, stop).
 * -EIO: the terminal or state.db failed; -ENOMEM. */
int console_run(const struct console_opts *o);

/* Sessions on a serial line, one after another, until @base->stop_fd is
 * readable (then 0): opens @dev with drivers/serial (@baud, @serial_flags
 * SERIAL_*), runs console_run() with in/out on it, closes it, and starts
 * again; a device that cannot be opened (USB adapter unplugged) is tried
 * again every few seconds. @base is copied per session; its in_fd, out_fd
 * and source are replaced. For the daemon's console thread. */
int console_tty_loop(const struct console_opts *base, const char *dev, unsigned int baud,
		     unsigned int serial_flags);

/* The command reference in Markdown, from the table (docs/console.md). */
void console_doc(FILE *out);

#endif /* CAMGATE_FIRMWARE_CONSOLE_H */
