/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * console_int - internals shared by console.c (session), console_io.c
 * (terminal input, libedit), console_parse.c (words), console_cmds.c
 * (the table, show/user/log commands) and console_cfg.c (staged changes).
 * Nothing here is for other modules; use firmware/console.h.
 */
#ifndef CAMGATE_FIRMWARE_CONSOLE_INT_H
#define CAMGATE_FIRMWARE_CONSOLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <termios.h>

#include "firmware/accounts.h"
#include "firmware/config_write.h"
#include "firmware/console.h"
#include "version.h"

#define CONSOLE_LINE_MAX    4096 /* bytes of one command line */
#define CONSOLE_ARGS_MAX    32	 /* words of one command line */
#define CONSOLE_CHANGES_MAX 64	 /* staged changes before a commit */
#define CONSOLE_TEXT_MAX    512	 /* one staged value or description */
#define CONSOLE_HISTORY	    100

struct console;
struct console_ed;

/* A handler gets the words after the command's own; it prints its result
 * or its error itself and returns 0 or -errno. */
typedef int (*console_fn)(struct console *c, int argc, char **argv);

#define CC_CAMERA   0x1 /* argv[0] names a camera: scope-checked */
#define CC_CHANGE   0x2 /* stages a change (shown as such in help) */
#define CC_ALWAYS   0x4 /* allowed while a password change is pending */
#define CC_NOHIST   0x8 /* never kept in history (may carry a secret) */
#define CC_ARGS_ANY 0xff

#define R_ALL	 ROLES_ALL
#define R_ADMIN	 ROLE_BIT(ROLE_ADMIN)
#define R_INST	 (R_ADMIN | ROLE_BIT(ROLE_INSTALLER))
#define R_CHANGE (R_INST | ROLE_BIT(ROLE_CENTRAL))
#define R_VIEW	 (R_CHANGE | ROLE_BIT(ROLE_OPERATOR))
#define R_LOG	 (R_ADMIN | ROLE_BIT(ROLE_AUDITOR))
#define R_PEOPLE (R_ALL & ~ROLE_BIT(ROLE_CENTRAL))

struct console_cmd {
	const char *path; /* command words, "camera add" */
	console_fn fn;
	unsigned int roles;	    /* ROLE_BIT()s allowed */
	uint8_t min_args, max_args; /* words after path; CC_ARGS_ANY */
	uint8_t flags;		    /* CC_* */
	const char *args;	    /* synopsis of the arguments */
	const char *help;
};

extern const struct console_cmd console__cmds[];
extern const size_t console__ncmds;

/* A staged change, for the audit and the registry at commit. */
struct console_change {
	char action[32];	       /* "camera-add", "setting", ... */
	char object[64];	       /* "camera:gate", "uplink.base_url" */
	char detail[CONSOLE_TEXT_MAX]; /* "url: OLD -> NEW", secrets masked */
	char reg_field[32];	       /* registry field, "" when none */
	char reg_value[CONSOLE_TEXT_MAX];
};

struct console {
	const struct console_opts *o;
	FILE *out;
	/* Terminal input (console_io.c). */
	int in_fd;
	bool tty;
	uint8_t ibuf[256];
	size_t ipos, ilen;
	int64_t idle_deadline; /* monotonic ms; 0: none */
	bool eof, timed_out, hangup, stopped;
	size_t line_len;
	bool line_too_long, cancelled;
	struct console_ed *ed;
	char prompt[64];
	/* Session. */
	bool logged_in;
	struct account who;
	/* Staged changes (console_cfg.c). */
	struct config_write *stage;
	uint8_t stage_base[CONFIG_WRITE_HASHLEN];
	struct console_change *chg;
	size_t nchg;
	bool leave_warned;
};

/* ---- console.c ---- */
void console__printf(struct console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t console__now(const struct console *c);
void console__audit(struct console *c, const char *action, const char *object, const char *detail);
bool console__may_camera(struct console *c, const char *camera);
/* Runs one parsed line: lookup, role, arguments, scope, handler. */
int console__exec(struct console *c, int argc, char **argv);
/* Reads a new password twice, checks the policy; -ECANCELED. */
int console__new_password(struct console *c, const char *for_name, char *buf, size_t cap);
/* "yes" typed at @question? */
bool console__confirm(struct console *c, const char *question);
/* Runs `self_exe -c @config ARGS...` (@config NULL: the console's), or
 * with @config "" the NULL-terminated @args as they are, with the console
 * as its output; returns its exit status, or -errno. @quiet_stdout sends
 * stdout away. */
int console__spawn(struct console *c, const char *config, const char *const *args,
		   bool quiet_stdout);

/* ---- console_cam.c ---- */
/* R2: refuses (-EINVAL, said on the console) a commit that leaves a new
 * or edited camera without its mandatory registry fields. */
int console__cam_commit_check(struct console *c);
int console__cmd_show_compliance(struct console *c, int argc, char **argv);
int console__cmd_maintenance_done(struct console *c, int argc, char **argv);

/* ---- console_mark.c: "this gateway has had accounts" ---- */
/* 0: the record exists, the folder the accounts were last seen in is in
 * @state_dir; -ENOENT: no account has ever existed; other -errno. */
int console__mark_read(const struct console *c, char *state_dir, size_t cap);
/* Records that accounts exist in the console's state_dir (a no-op when
 * already so); logs its own failure. */
int console__mark_write(const struct console *c);
/* Factory reset: the next console is a first start again. */
int console__mark_remove(const struct console *c);

/* ---- console_io.c ---- */
int console__io_open(struct console *c);
void console__io_close(struct console *c);
/* A line from the editor (history, completion); NULL at the session's
 * end (EOF, idle, hang-up, stop: see c's flags). The string is valid
 * until the next call; the newline is stripped. */
const char *console__readline(struct console *c, const char *prompt);
void console__history_add(struct console *c, const char *line);
/* A line without echo (passwords). -ECANCELED: Ctrl-C; -EPIPE: the
 * session ends; -E2BIG: longer than @cap - 1 (the rest is swallowed). */
int console__read_secret(struct console *c, const char *prompt, char *buf, size_t cap);
bool console__ended(const struct console *c);

/* ---- console_parse.c ---- */
/* Splits @line into words in @buf (@cap bytes): blanks separate, "..."
 * and '...' group, backslash escapes the next character outside '...'.
 * -EINVAL with *errp set: unterminated quote, control character.
 * -E2BIG: more than CONSOLE_ARGS_MAX words or @buf too small. */
int console__split(const char *line, char *buf, size_t cap, char **argv, int *argcp,
		   const char **errp);
/* Does command path @path start with the @n words of @w? *fullp: it is
 * exactly those words (then the rest are arguments). */
bool console__path_match(const char *path, char *const *w, int n, bool *fullp);
/* The command for @argv: the longest path that matches, *nwordsp its
 * word count; NULL when none does. */
const struct console_cmd *console__lookup(int argc, char *const *argv, int *nwordsp);

/* ---- console_users.c ---- */
int console__cmd_user_add(struct console *c, int argc, char **argv);
int console__cmd_user_remove(struct console *c, int argc, char **argv);
int console__cmd_user_passwd(struct console *c, int argc, char **argv);
int console__cmd_user_set(struct console *c, int argc, char **argv);
int console__cmd_user_list(struct console *c, int argc, char **argv);
int console__cmd_log_show(struct console *c, int argc, char **argv);
int console__cmd_log_verify(struct console *c, int argc, char **argv);

/* ---- console_policy.c ---- */
int console__cmd_blocklist_show(struct console *c, int argc, char **argv);
int console__cmd_blocklist_override(struct console *c, int argc, char **argv);
/* At login, to admins and installers: no retention floor set (R10). */
void console__warn_retention(struct console *c);

/* ---- console_ptz.c ---- */
int console__cmd_ptz(struct console *c, int argc, char **argv);

/* ---- console_cmds.c ---- */
/* Help for the commands starting with @w[0..n) allowed to @role. */
void console__help(struct console *c, char *const *w, int n);
/* Completion candidates for word @n after @w[0..n): command words, then
 * camera names; @fn gets each. */
void console__complete(struct console *c, char *const *w, int n,
		       void (*fn)(void *arg, const char *cand), void *arg);

/* ---- console_cfg.c: staging, settings, commit ---- */
int console__stage_begin(struct console *c);
void console__stage_drop(struct console *c);
bool console__is_secret_key(const char *key);
bool console__in_list(const char *s, const char *const *list, size_t n);
int console__add_change(struct console *c, const char *action, const char *object,
			const char *detail, const char *reg_field, const char *reg_value);
/* A command's edits: take a snapshot first, finish with the command's
 * result; finish validates the staged file and rolls back on any error,
 * so nothing half-applied stays staged. */
struct console_snap {
	char *text;
	size_t nchg;
};
int console__snap_take(struct console *c, struct console_snap *s);
int console__snap_finish(struct console *c, struct console_snap *s, int ret);
/* Stages @key = @value in [@section]; a secret key (password, token) is
 * sealed first, and asked for when @value is NULL. */
int console__stage_set(struct console *c, const char *section, const char *key, const char *value,
		       const char *action);
/* config_write_keys() callback printing "key = value", secrets masked. */
int console__print_key(void *arg, const char *key, const char *value);

/* ---- console_cam.c ---- */
/* Camera names in the staged (or on-disk) config, for completion. */
void console__camera_names(struct console *c, void (*fn)(void *arg, const char *name), void *arg);
int console__cmd_camera_add(struct console *c, int argc, char **argv);
int console__cmd_camera_set(struct console *c, int argc, char **argv);
int console__cmd_camera_remove(struct console *c, int argc, char **argv);
int console__cmd_camera_enable(struct console *c, int argc, char **argv);
int console__cmd_camera_disable(struct console *c, int argc, char **argv);
int console__cmd_camera_rename(struct console *c, int argc, char **argv);
int console__cmd_show_cameras(struct console *c, int argc, char **argv);
int console__cmd_show_camera(struct console *c, int argc, char **argv);
int console__cmd_show_uplink(struct console *c, int argc, char **argv);
int console__cmd_uplink_set(struct console *c, int argc, char **argv);
int console__cmd_settings_set(struct console *c, int argc, char **argv);
int console__cmd_settings_show(struct console *c, int argc, char **argv);
int console__cmd_changes(struct console *c, int argc, char **argv);
int console__cmd_commit(struct console *c, int argc, char **argv);
int console__cmd_discard(struct console *c, int argc, char **argv);
/* Stages the removal of every camera and of [uplink] (factory reset). */
int console__cmd_factory_config(struct console *c);

#endif /* CAMGATE_FIRMWARE_CONSOLE_INT_H */
