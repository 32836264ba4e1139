// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * camgate - one binary, many subcommands, so a firmware image carries a
 * single executable and its libraries once.
 */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_defaults.h"
#include "drivers/stream/stream.h"
#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/daemon.h"
#include "firmware/status.h"
#include "lib/log.h"
#include "version.h"

struct command {
	const char *name;
	int (*fn)(const struct cmd_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_run(const struct cmd_ctx *ctx, int argc, char **argv);
static int cmd_status(const struct cmd_ctx *ctx, int argc, char **argv);
static int cmd_config_cmd(const struct cmd_ctx *ctx, int argc, char **argv);
static int cmd_version(const struct cmd_ctx *ctx, int argc, char **argv);
static int cmd_help(const struct cmd_ctx *ctx, int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "[--syslog]", "record every enabled camera (foreground daemon)" },
	{ "status", cmd_status, "[--json]", "the running daemon's last status snapshot" },
	{ "ring", cmd_ring, "ls|stat|verify|rebuild|cat ...",
	  "inspect, check, repair and export footage" },
	{ "config", cmd_config_cmd, "check|doc",
	  "validate the config file, or print the settings reference" },
	{ "console", cmd_console, "[--tty DEV | --board-tty] [--doc]",
	  "the installer console (docs/console.md)" },
	{ "discover", cmd_discover, "[--json] [--timeout S] [--iface X] [--cidr A/B]",
	  "find ONVIF cameras and how to record them" },
	{ "uplink", cmd_uplink, "test [--url U --ca F --pin P --cert F --key F --auth K ...]",
	  "check the link to central step by step" },
	{ "bench-ring", cmd_bench_ring, "--dir D [--segments N] [--size BYTES]",
	  "ring append throughput against a plain sequential write" },
	{ "identity", cmd_identity, "show|csr [--subject S]",
	  "the gateway's signing key: fingerprint, certificate request" },
	{ "verify", cmd_verify, "DIR [--fingerprint HEX]",
	  "check segments, hash chain and signed checkpoints offline" },
	{ "export", cmd_export, "CAMERA FROM TO --purpose T --requester T --performer U -o DIR",
	  "an evidence package of a time range, signed, audited (R12)" },
	{ "hold", cmd_hold, "CAMERA FROM TO --reason T --performer U | --release ID | --list",
	  "keep footage in the ring until released (legal hold), audited" },
	{ "update", cmd_update, "[--check] [--force --admin NAME] [--keyring PEM] FILE|URL",
	  "verify a signed RAUC bundle and install it into the other slot" },
	{ "version", cmd_version, "", "print the firmware version" },
	{ "help", cmd_help, "[COMMAND]", "this text" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"usage: camgate [-c FILE] [-v|-q] COMMAND [ARGS]\n\n"
		"  -c, --config FILE   configuration (default $CAMGATE_CONFIG or %s)\n"
		"  -v, --verbose       debug logging;  -q, --quiet  errors only\n\n"
		"commands:\n",
		BOARD_CONFIG);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-11s %-40s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fputs("\nexit codes: 0 ok, 1 failure, 2 usage error, 3 verify found problems\n"
	      "`camgate COMMAND --help` describes each command.\n",
	      out);
}

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

struct config *cmd_config(const struct cmd_ctx *ctx)
{
	struct config *cfg;
	int ret = config_load(ctx->config_path, &cfg);

	if (ret) {
		if (ret == -EINVAL)
			log_err("%s: invalid configuration (see above)", ctx->config_path);
		return NULL;
	}
	return cfg;
}

static int cmd_run(const struct cmd_ctx *ctx, int argc, char **argv)
{
	bool use_syslog = argc > 1 && !strcmp(argv[1], "--syslog");

	if (want_help(argc, argv)) {
		puts("usage: camgate [-c FILE] run [--syslog]\n\n"
		     "Records every enabled camera of the config into the ring until\n"
		     "SIGTERM or SIGINT (clean stop: open segments are finished and\n"
		     "stored). SIGHUP reloads the config and applies the difference.\n"
		     "Logs go to stderr, or to syslog with --syslog.");
		return CMD_OK;
	}
	if (argc > 2 || (argc == 2 && !use_syslog)) {
		log_err("run: unexpected argument '%s'", argv[1]);
		return CMD_USAGE;
	}
	log_init("camgate", use_syslog ? LOG_DEST_SYSLOG : LOG_DEST_STDERR, ctx->log_level);
	return daemon_run(ctx->config_path) ? CMD_FAIL : CMD_OK;
}

static int cmd_status(const struct cmd_ctx *ctx, int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	struct config *cfg;
	int ret;

	if (want_help(argc, argv)) {
		puts("usage: camgate [-c FILE] status [--json]\n\n"
		     "Prints the status snapshot the daemon writes to STATE_DIR/status.json:\n"
		     "cameras, storage and active alarms.");
		return CMD_OK;
	}
	if (argc > 2 || (argc == 2 && !json)) {
		log_err("status: unexpected argument '%s'", argv[1]);
		return CMD_USAGE;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	ret = status_print(cfg, json);
	config_free(cfg);
	return ret ? CMD_FAIL : CMD_OK;
}

static int cmd_config_cmd(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct config *cfg;

	if (want_help(argc, argv) || argc != 2) {
		fputs("usage: camgate [-c FILE] config check|doc\n\n"
		      "  check  parse and validate FILE; errors as FILE:LINE: key: message\n"
		      "  doc    print the settings reference (Markdown)\n",
		      want_help(argc, argv) ? stdout : stderr);
		return want_help(argc, argv) ? CMD_OK : CMD_USAGE;
	}
	if (!strcmp(argv[1], "doc")) {
		config_doc(stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "check")) {
		log_err("config: unknown subcommand '%s'", argv[1]);
		return CMD_USAGE;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	if (cfg->secret_exposed) {
		log_err("%s: a secret is readable by group or others (see above)",
			ctx->config_path);
		config_free(cfg);
		return CMD_FAIL;
	}
	printf("%s: ok, gateway %s, %zu cameras\n", ctx->config_path, cfg->gateway_id,
	       cfg->ncameras);
	config_free(cfg);
	return CMD_OK;
}

static int cmd_version(const struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	if (want_help(argc, argv)) {
		puts("usage: camgate version\n\nPrints the firmware version and the board.");
		return CMD_OK;
	}
	if (argc > 1) {
		log_err("version: unexpected argument '%s'", argv[1]);
		return CMD_USAGE;
	}
	printf("camgate %s (board %s)\n", CAMGATE_VERSION, BOARD_NAME);
	return CMD_OK;
}

static int cmd_help(const struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	for (size_t i = 0; argc > 1 && i < NCOMMANDS; i++) {
		if (!strcmp(commands[i].name, argv[1])) {
			char *args[] = { argv[1], (char *)"--help", NULL };

			return commands[i].fn(ctx, 2, args);
		}
	}
	usage(stdout);
	return CMD_OK;
}

/* glibc's defaults suit a desktop, not a gateway recording cameras on
 * threads of their own: an arena per thread keeps each thread's
 * high-water mark, and the mmap threshold that rises after a big block is
 * freed (the decoder frames of a camera's probe) sends later big buffers
 * into those arenas, where they stay. Fixed values stop both; above 1 MiB
 * a block is mapped and goes back to the kernel when freed (below, the
 * muxer's per-fragment buffers come and go too often to map each). */
#ifdef __GLIBC__
static void main_tune_malloc(void)
{
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 10);
}
#else
static void main_tune_malloc(void)
{
	/* other C libraries: their own allocator, their own defaults */
}
#endif

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },	    { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    { NULL, 0, NULL, 0 },
	};
	struct cmd_ctx ctx = { .config_path = getenv("CAMGATE_CONFIG") };
	int level = LOG_INFO, c;

	main_tune_malloc(); /* before any thread */
	if (!ctx.config_path || !*ctx.config_path)
		ctx.config_path = BOARD_CONFIG;
	/* "+": stop at the first non-option, the subcommand parses the rest. */
	while ((c = cmd_getopt(NULL, argc, argv, "+c:vqhV", opts)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		case 'q':
			level = LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		case 'V':
			return cmd_version(&ctx, 0, NULL);
		default:
			usage(stderr);
			return CMD_USAGE;
		}
	}
	ctx.log_level = level;
	log_init("camgate", LOG_DEST_PLAIN, level);
	stream_log_libav(); /* libav's chatter goes to debug, not the terminal */
	if (optind >= argc) {
		usage(stderr);
		return CMD_USAGE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(commands[i].name, argv[optind])) {
			int sub = optind;

			optind = 0; /* GNU getopt: reinitialise for the subcommand */
			return commands[i].fn(&ctx, argc - sub, argv + sub);
		}
	}
	log_err("unknown command '%s' (try camgate help)", argv[optind]);
	return CMD_USAGE;
}
