/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd - the subcommands of the one `camgate` binary (busybox style).
 *
 * Each returns the process exit code:
 *   0 success, 1 failure (the reason is printed), 2 usage error,
 *   3 `ring verify` found problems.
 * @argv[0] is the subcommand's own name; options follow getopt_long.
 */
#ifndef CAMGATE_FIRMWARE_CMD_H
#define CAMGATE_FIRMWARE_CMD_H

#define CMD_OK	     0
#define CMD_FAIL     1
#define CMD_USAGE    2
#define CMD_PROBLEMS 3

#include <stddef.h>
#include <stdint.h>

struct config;

struct cmd_ctx {
	const char *config_path; /* -c, $CAMGATE_CONFIG or the board's */
	int log_level;		 /* -v / -q; the config may override */
};

int cmd_ring(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_bench_ring(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_discover(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_uplink(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_console(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_identity(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_verify(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_export(const struct cmd_ctx *ctx, int argc, char **argv);
int cmd_hold(const struct cmd_ctx *ctx, int argc, char **argv);

struct statedb;
/* NULL when account @performer may export or hold @camera's footage
 * (admin, operator within its scope, central), else why not (R12). */
const char *cmd_footage_refusal(struct statedb *sdb, const char *performer, const char *camera);

struct export_pkg_req;
struct export_pkg_report;
/* Builds the package of @rq (firmware/export_pkg.h) or says why not. */
typedef int (*cmd_export_build_fn)(void *arg, const struct export_pkg_req *rq,
				   struct export_pkg_report *rep, char *why, size_t cap);
/* R12, one path for the shell, the console and central's command:
 * refused (-EPERM, @why says why) unless @rq has purpose and requester
 * and its performer's account may export the camera; else @build, then
 * the audit row (`export`, or `export-refused` / `export-failed`, @via
 * appended to its detail when not NULL) and a hold of the range
 * (*@hold_id; 0 when it could not be placed). Other errors: @build's, or
 * -EIO when the audit row failed (the package must not be handed out). */
int cmd_export_audited(struct statedb *sdb, const struct export_pkg_req *rq, const char *via,
		       cmd_export_build_fn build, void *arg, struct export_pkg_report *rep,
		       int64_t *hold_id, char *why, size_t cap);
int cmd_update(const struct cmd_ctx *ctx, int argc, char **argv);

struct option;

/* getopt_long() whose errors are logged as "camgate: error: @cmd: ..."
 * (@cmd NULL for the global options) and always returned as '?'. */
int cmd_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Loads ctx->config_path; prints why not and returns NULL on failure. */
struct config *cmd_config(const struct cmd_ctx *ctx);

#endif /* CAMGATE_FIRMWARE_CMD_H */
