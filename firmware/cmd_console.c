// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate console`: the installer console on standard input and output
 * (a local session, or a test driving it over a pty), or on a serial line
 * with --tty; and console_tty_loop(), which the daemon's console thread
 * runs on the board's tty.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board_defaults.h"
#include "drivers/serial/serial.h"
#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/console.h"
#include "firmware/registry.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

#define SELF_EXE       "/proc/self/exe"
#define ITERATIONS_ENV "CAMGATE_PBKDF2_ITERATIONS"

static const char console_usage[] =
	"usage: camgate [-c FILE] console [--tty DEV | --board-tty] [--baud N] [--modem]\n"
	"                                 [--idle S] [--doc]\n\n"
	"  (no option)   one session on standard input and output\n"
	"  --tty DEV     sessions on serial line DEV, one after another, until stopped\n"
	"  --board-tty   the same on the board's console tty (" BOARD_CONSOLE_TTY ")\n"
	"  --baud N      line speed (board default " BOARD_CONSOLE_BAUD ")\n"
	"  --modem       a carrier (DCD) drop hangs up the session\n"
	"  --idle S      log out after S seconds without input (default 300; 0: never)\n"
	"  --doc         print the command reference (Markdown) and exit\n\n"
	"Commands, roles and staging are described in docs/console.md.\n";

static const char *const reboot_argv[] = { "/sbin/reboot", NULL };

struct console_env {
	struct config *cfg;
	struct statedb *sdb;
	struct accounts *acc;
	struct secrets *sec;
	struct registry *reg;
};

static void env_close(struct console_env *e)
{
	registry_close(e->reg);
	secrets_close(e->sec);
	accounts_close(e->acc);
	statedb_close(e->sdb);
	config_free(e->cfg);
}

static int env_open(const struct cmd_ctx *ctx, struct console_env *e)
{
	const char *it = getenv(ITERATIONS_ENV);
	int64_t iterations = 0;
	int ret;

	/* A first start may have no config yet: the console creates it. */
	if (access(ctx->config_path, F_OK) && errno == ENOENT) {
		log_notice("%s does not exist yet: starting from the defaults", ctx->config_path);
		ret = config_defaults(&e->cfg);
	} else {
		e->cfg = cmd_config(ctx);
		ret = e->cfg ? 0 : -EINVAL;
	}
	if (!ret && it && parse_i64(it, 1000, 100000000, &iterations)) {
		log_err("%s: expected 1000 to 100000000", ITERATIONS_ENV);
		ret = -EINVAL;
	}
	if (!ret)
		ret = statedb_open(e->cfg->state_dir, &e->sdb);
	if (!ret)
		ret = audit_key_open(e->sdb, e->cfg->state_dir);
	if (!ret)
		ret = accounts_open(e->sdb, (unsigned int)iterations, &e->acc);
	if (!ret)
		ret = secrets_open(e->cfg->state_dir, &e->sec);
	if (!ret && registry_open(e->sdb, &e->reg)) {
		log_warn("console: no camera registry; registry fields cannot be set");
		e->reg = NULL;
	}
	return ret;
}

struct console_args {
	const char *tty;
	unsigned int baud;
	unsigned int flags;
	int64_t idle_ms;
	bool doc;
};

static int parse_args(int argc, char **argv, struct console_args *a)
{
	static const struct option opts[] = {
		{ "tty", required_argument, NULL, 't' },  { "board-tty", no_argument, NULL, 'B' },
		{ "baud", required_argument, NULL, 'b' }, { "modem", no_argument, NULL, 'm' },
		{ "idle", required_argument, NULL, 'i' }, { "doc", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },	  { NULL, 0, NULL, 0 },
	};
	int64_t s;
	int ch;

	a->baud = serial_board_baud();
	while ((ch = cmd_getopt("console", argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 't':
			a->tty = optarg;
			break;
		case 'B':
			a->tty = serial_board_tty();
			break;
		case 'b':
			if (serial_baud_parse(optarg, &a->baud))
				return -EINVAL;
			break;
		case 'm':
			a->flags |= SERIAL_MODEM;
			break;
		case 'i':
			if (parse_duration_ms(optarg, &s) || s < 0)
				return -EINVAL;
			a->idle_ms = s ? s : -1;
			break;
		case 'd':
			a->doc = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	return optind < argc ? -EINVAL : 0;
}

int cmd_console(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct console_args a = { 0 };
	struct console_env e = { 0 };
	struct console_opts o = { 0 };
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret) {
		fputs(console_usage, ret > 0 ? stdout : stderr);
		return ret > 0 ? CMD_OK : CMD_USAGE;
	}
	if (a.doc) {
		console_doc(stdout);
		return CMD_OK;
	}
	/* The console prints what matters; routine log lines would only
	 * interleave with it on the same terminal. -v shows them. */
	if (ctx->log_level == LOG_INFO)
		log_set_level(LOG_WARNING);
	if (env_open(ctx, &e)) {
		env_close(&e);
		return CMD_FAIL;
	}
	/* Ctrl-C belongs to the line editor. A terminal that goes away ends
	 * the session through EIO on read, which audits the logout; SIGHUP's
	 * default would kill the process before that. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	o = (struct console_opts){
		.config_path = ctx->config_path,
		.state_dir = e.cfg->state_dir,
		.sdb = e.sdb,
		.acc = e.acc,
		.sec = e.sec,
		.reg = e.reg,
		.in_fd = 0,
		.out_fd = 1,
		.stop_fd = -1,
		.source = isatty(0) ? ttyname(0) : "stdin",
		.idle_ms = a.idle_ms,
		.self_exe = SELF_EXE,
		.reboot_argv = strcmp(BOARD_NAME, "host") ? reboot_argv : NULL,
	};
	if (!o.source)
		o.source = "tty";
	if (a.tty)
		ret = console_tty_loop(&o, a.tty, a.baud, a.flags);
	else
		ret = console_run(&o);
	env_close(&e);
	return ret ? CMD_FAIL : CMD_OK;
}
