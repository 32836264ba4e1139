// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console - one session: first start, login, forced password change, the
 * command loop, logout. The session states and what ends each:
 *
 *   FIRST_BOOT --admin password set--> COMMANDS
 *   LOGIN --right password--> (MUST_CHANGE --changed--> ) COMMANDS
 *   any state --EOF, Ctrl-D, idle, hang-up, stop--> END (audited)
 *   COMMANDS --exit / logout--> END
 *
 * Dispatch checks, in this order, each with its own message: the command
 * exists, the role may run it, the argument count fits, and (CC_CAMERA)
 * the camera is in the account's scope. Handlers can trust all four.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "firmware/audit.h"
#include "lib/log.h"
#include "lib/parse.h"

/* A failed login's verdict comes this long after the password was
 * entered, whatever the reason (R5: a prober learns nothing from time). */
#define CONSOLE_FAIL_DELAY_MS 1000
#define CONSOLE_LOGIN_TRIES   3 /* prompts per session before it ends */

extern char **environ;

void console__printf(struct console *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fflush(c->out);
}

int64_t console__now(const struct console *c)
{
	return c->o->now_ms ? c->o->now_ms() : time_now_ms();
}

void console__audit(struct console *c, const char *action, const char *object, const char *detail)
{
	const char *actor = c->logged_in ? c->who.name : "-";

	if (audit_record(c->o->sdb, console__now(c), actor, action, object, detail))
		console__printf(c, "warning: the audit log could not be written\n");
}

bool console__may_camera(struct console *c, const char *camera)
{
	return account_may_camera(&c->who, camera);
}

bool console__confirm(struct console *c, const char *question)
{
	const char *line;

	console__printf(c, "%s\n", question);
	line = console__readline(c, "type yes to confirm: ");
	if (line && !strcmp(line, "yes"))
		return true;
	if (line)
		console__printf(c, "cancelled\n");
	return false;
}

int console__new_password(struct console *c, const char *for_name, char *buf, size_t cap)
{
	char again[ACCOUNT_PW_MAX + 2];
	const char *why;
	int ret;

	for (;;) {
		ret = console__read_secret(c, "new password: ", buf, cap);
		if (!ret)
			ret = console__read_secret(c, "again: ", again, sizeof(again));
		if (ret == -ECANCELED || ret == -EPIPE)
			break;
		why = ret == -E2BIG	   ? "too long (at most 128 bytes)"
		      : strcmp(buf, again) ? "the two entries differ"
					   : accounts_password_problem(for_name, buf);
		if (!why)
			break;
		console__printf(c, "password not accepted: %s\n", why);
	}
	mbedtls_platform_zeroize(again, sizeof(again));
	if (ret)
		mbedtls_platform_zeroize(buf, cap);
	return ret ? -ECANCELED : 0;
}

int console__spawn(struct console *c, const char *config, const char *const *args,
		   bool quiet_stdout)
{
	const char *argv[16] = { c->o->self_exe, "-c", config ? config : c->o->config_path };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	int n = 3, status = 0, ret;
	pid_t pid;

	if (config && !*config)
		n = 0;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (!argv[0]) {
		console__printf(c, "error: not available on this gateway\n");
		return -ENOTSUP;
	}
	fflush(c->out);
	/* The child starts with default signals and nothing blocked, whatever
	 * the daemon's threads or `camgate console` set for themselves. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGTERM);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c->o->out_fd, 2);
	if (quiet_stdout)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, c->o->out_fd, 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	ret = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret) {
		console__printf(c, "error: cannot run %s: %s\n", argv[0], strerror(ret));
		return -ret;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- dispatch ---- */

static bool cmd_allowed(const struct console *c, const struct console_cmd *cmd)
{
	if (!(cmd->roles & ROLE_BIT(c->who.role)))
		return false;
	return !c->who.must_change || (cmd->flags & CC_ALWAYS);
}

int console__exec(struct console *c, int argc, char **argv)
{
	const struct console_cmd *cmd;
	int words, nargs;

	if (argc && !strcmp(argv[argc - 1], "?")) {
		console__help(c, argv, argc - 1);
		return 0;
	}
	cmd = console__lookup(argc, argv, &words);
	if (!cmd) {
		console__printf(c, "error: unknown command '%s' (try help)\n", argv[0]);
		return -ENOENT;
	}
	if (!cmd_allowed(c, cmd)) {
		console__printf(c, "error: '%s' is not allowed for role %s%s\n", cmd->path,
				account_role_name(c->who.role),
				c->who.must_change ? " until the password is changed" : "");
		console__audit(c, "denied", cmd->path, "role");
		return -EPERM;
	}
	nargs = argc - words;
	if (nargs < cmd->min_args || (cmd->max_args != CC_ARGS_ANY && nargs > cmd->max_args)) {
		console__printf(c, "usage: %s %s\n", cmd->path, cmd->args);
		return -EINVAL;
	}
	if ((cmd->flags & CC_CAMERA) && !console__may_camera(c, argv[words])) {
		console__printf(c, "error: camera '%s' is outside your scope\n", argv[words]);
		console__audit(c, "denied", argv[words], "scope");
		return -EPERM;
	}
	return cmd->fn(c, nargs, argv + words);
}

static bool line_has_secret(int argc, char **argv)
{
	const struct console_cmd *cmd;
	int words;

	cmd = console__lookup(argc, argv, &words);
	if (cmd && (cmd->flags & CC_NOHIST))
		return true;
	for (int i = 0; i < argc; i++)
		if (strstr(argv[i], "password") || strstr(argv[i], "token"))
			return true;
	return false;
}

static void run_line(struct console *c, const char *line)
{
	char buf[CONSOLE_LINE_MAX + 1], *argv[CONSOLE_ARGS_MAX];
	const char *err;
	int argc = 0, ret;

	ret = console__split(line, buf, sizeof(buf), argv, &argc, &err);
	if (ret == -E2BIG) {
		console__printf(c, "error: more than %d words\n", CONSOLE_ARGS_MAX);
		return;
	}
	if (ret) {
		console__printf(c, "error: %s\n", err);
		return;
	}
	if (!argc)
		return;
	if (!line_has_secret(argc, argv))
		console__history_add(c, line);
	console__exec(c, argc, argv);
}

/* ---- login ---- */

/* Sleeps until the monotonic @deadline_ms (now or past: returns). */
static void pause_until(int64_t deadline_ms)
{
	int64_t ms = deadline_ms - time_mono_ms();
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A first-start attempt that did not end with an admin: in the audit
 * log, and in the system log (the audit log of a new folder is new too). */
static void first_boot_audit(struct console *c, const char *action, const char *detail)
{
	log_warn("console %s: %s: %s", c->o->source, action, detail);
	console__audit(c, action, c->o->source, detail);
}

/* The audit detail of a failed login: the true reason, which the person
 * at the console is not told. */
static void fail_detail(int ret, int64_t retry_ms, char *buf, size_t cap)
{
	if (ret == -EAGAIN)
		snprintf(buf, cap, "account locked for %lld s more", (long long)(retry_ms / 1000));
	else if (ret == -ENOENT)
		snprintf(buf, cap, "unknown account");
	else if (ret == -EACCES)
		snprintf(buf, cap, "wrong password");
	else
		snprintf(buf, cap, "%s", strerror(-ret));
}

static int first_boot(struct console *c)
{
	char pw[ACCOUNT_PW_MAX + 2];
	int ret;

	console__printf(c, "First start: no account exists yet.\n"
			   "Set the password of the administrator account 'admin'.\n");
	ret = console__new_password(c, "admin", pw, sizeof(pw));
	if (ret) {
		first_boot_audit(c, "first-boot-failed",
				 ret == -ECANCELED ? "cancelled" : "no password given");
		return ret;
	}
	/* Recorded before the account exists: a gateway never has an
	 * account without the record. */
	ret = console__mark_write(c);
	if (!ret)
		ret = accounts_add(c->o->acc, "admin", ROLE_ADMIN, "*", pw, false, console__now(c));
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (ret) {
		console__printf(c, "error: cannot create the account: %s\n", strerror(-ret));
		first_boot_audit(c, "first-boot-failed", strerror(-ret));
		return ret;
	}
	ret = accounts_get(c->o->acc, "admin", console__now(c), &c->who);
	if (ret)
		return ret;
	c->logged_in = true;
	console__audit(c, "first-boot-admin", c->o->source, "admin password set");
	console__audit(c, "login", c->o->source, "ok");
	return 0;
}

/* No account here, but is this really a first start? (console_mark.c) */
static int first_boot_or_refuse(struct console *c)
{
	char was[1024], detail[1200];
	int ret = console__mark_read(c, was, sizeof(was));

	if (ret == -ENOENT)
		return first_boot(c);
	if (ret)
		snprintf(was, sizeof(was), "(record unreadable: %s)", strerror(-ret));
	console__printf(c,
			"No account in %s, but this gateway has had accounts (in %s).\n"
			"First start refused: the state folder was moved or replaced. Restore\n"
			"state.db and device.key, or gateway.state_dir, and log in.\n",
			c->o->state_dir, was);
	snprintf(detail, sizeof(detail), "no account in %s; accounts were in %s", c->o->state_dir,
		 was);
	first_boot_audit(c, "first-boot-refused", detail);
	return 1;
}

/* One login attempt: 0 logged in, -EACCES try again, -EPIPE the end. */
static int login_once(struct console *c)
{
	char pw[ACCOUNT_PW_MAX + 2], name[ACCOUNT_NAME_MAX + 1], detail[64];
	int64_t retry = 0, verdict_at;
	const char *line;
	int ret;

	line = console__readline(c, "login: ");
	if (!line)
		return -EPIPE;
	if (!*line)
		return -EACCES;
	snprintf(name, sizeof(name), "%s", line);
	ret = console__read_secret(c, "password: ", pw, sizeof(pw));
	if (ret == -EPIPE)
		return ret;
	if (ret == -ECANCELED)
		return -EACCES;
	verdict_at = time_mono_ms() +
		     (c->o->fail_delay_ms ? c->o->fail_delay_ms : CONSOLE_FAIL_DELAY_MS);
	ret = accounts_login(c->o->acc, name, pw, console__now(c), &c->who, &retry);
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (!ret) {
		c->logged_in = true;
		console__audit(c, "login", c->o->source, "ok");
		return 0;
	}
	/* The attempt is in the audit log before the verdict is shown, so
	 * whoever sees the verdict can already find the record. Unknown
	 * name, wrong password and locked account get one message at one
	 * time after the password; only the audit row tells them apart. */
	fail_detail(ret, retry, detail, sizeof(detail));
	if (audit_record(c->o->sdb, console__now(c), name, "login-failed", c->o->source, detail))
		console__printf(c, "warning: the audit log could not be written\n");
	pause_until(verdict_at);
	console__printf(c, "Login incorrect.\n");
	return -EACCES;
}

static int forced_change(struct console *c)
{
	char pw[ACCOUNT_PW_MAX + 2];
	int ret;

	console__printf(c, "Your password must be changed now.\n");
	do {
		ret = console__new_password(c, c->who.name, pw, sizeof(pw));
		if (!ret)
			ret = accounts_set_password(c->o->acc, c->who.name, pw, false,
						    console__now(c));
		if (ret == -EINVAL)
			console__printf(c,
					"error: the new password must differ from the old one\n");
	} while (ret == -EINVAL);
	mbedtls_platform_zeroize(pw, sizeof(pw));
	if (ret)
		return ret;
	c->who.must_change = false;
	console__audit(c, "password-changed", c->who.name, "own, at login");
	console__printf(c, "Password changed.\n");
	return 0;
}

static int log_in(struct console *c)
{
	unsigned int n = 0;
	int ret;

	ret = accounts_count(c->o->acc, &n);
	if (ret)
		return ret;
	if (!n) {
		ret = first_boot_or_refuse(c);
		if (ret <= 0)
			return ret;
	} else {
		/* Gateways whose accounts predate the record get it now. */
		console__mark_write(c);
	}
	for (int i = 0; i < CONSOLE_LOGIN_TRIES; i++) {
		ret = login_once(c);
		if (ret != -EACCES)
			break;
	}
	if (ret)
		return ret;
	console__printf(c, "Logged in as %s (%s).\n", c->who.name, account_role_name(c->who.role));
	if (c->who.must_change)
		return forced_change(c);
	return 0;
}

/* ---- the session ---- */

static const char *end_reason(const struct console *c)
{
	if (c->timed_out)
		return "idle timeout";
	if (c->hangup)
		return "hang-up";
	if (c->stopped)
		return "stopped";
	return c->eof ? "end of input" : "exit";
}

static void command_loop(struct console *c)
{
	char prompt[64];
	const char *line;

	for (;;) {
		snprintf(prompt, sizeof(prompt), "%s%s> ", c->who.name, c->nchg ? "*" : "");
		line = console__readline(c, prompt);
		if (!line)
			break;
		run_line(c, line);
		if (!c->logged_in)
			return;
	}
}

static void session(struct console *c)
{
	const char *why;

	console__printf(c, "\ncamgate %s console (%s)\n", CAMGATE_VERSION, c->o->source);
	if (log_in(c))
		goto out;
	console__printf(c, "Type help for the commands, ? after a word for help on it.\n");
	console__warn_retention(c);
	command_loop(c);
out:
	why = end_reason(c);
	if (c->timed_out)
		console__printf(c, "\nidle timeout: logged out\n");
	if (c->logged_in)
		console__audit(c, "logout", c->o->source, why);
	c->logged_in = false;
	if (c->nchg)
		log_notice("console %s: %zu staged changes dropped (%s)", c->o->source, c->nchg,
			   why);
}

int console_run(const struct console_opts *o)
{
	struct console *c = calloc(1, sizeof(*c));
	locale_t loc, old = (locale_t)0;
	int fd, ret;

	if (!c)
		return -ENOMEM;
	c->o = o;
	fd = dup(o->out_fd);
	c->out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!c->out) {
		if (fd >= 0)
			close(fd);
		free(c);
		return -EIO;
	}
	/* UTF-8 for libedit in this thread only: the daemon's locale stays. */
	loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (loc)
		old = uselocale(loc);
	ret = console__io_open(c);
	if (!ret)
		session(c);
	console__stage_drop(c);
	console__io_close(c);
	if (loc) {
		uselocale(old);
		freelocale(loc);
	}
	fclose(c->out);
	mbedtls_platform_zeroize(&c->who, sizeof(c->who));
	free(c);
	return ret;
}
