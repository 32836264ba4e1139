// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_mark - the record that this gateway has had accounts.
 *
 * First start (set the admin password, no login) is offered only when no
 * account has ever existed. An empty account table alone does not prove
 * that: gateway.state_dir is a setting, and a new folder has an empty
 * state.db (and a fresh audit log). So the fact is kept where no setting
 * reaches: the file CONFIG.accounts beside the config file, whose path
 * the board fixes (BOARD_CONFIG, or -c from the init script) and which no
 * setting can move. It is not kept in the device key store because
 * device.key lives in STATE_DIR and would move with it. Only
 * factory-reset (admin, audited) removes the record; after a lost
 * state.db, someone with a shell on the board removes it by hand.
 *
 * File: one line "state_dir=PATH\n" naming where the accounts were last
 * seen (for the refusal message), mode 0600, written to a temp file,
 * fsynced, renamed, directory fsynced.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"

#define MARK_SUFFIX   ".accounts"
#define MARK_PATH_MAX 4096

static int mark_path(const struct console *c, const char *suffix, char *buf, size_t cap)
{
	if (!c->o->config_path)
		return -ENOENT;
	if (snprintf(buf, cap, "%s" MARK_SUFFIX "%s", c->o->config_path, suffix) >= (int)cap)
		return -ENAMETOOLONG;
	return 0;
}

int console__mark_read(const struct console *c, char *state_dir, size_t cap)
{
	char path[MARK_PATH_MAX], line[MARK_PATH_MAX + 16] = "";
	FILE *f;
	int ret = mark_path(c, "", path, sizeof(path));

	if (ret)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(state_dir, cap, "%s", strncmp(line, "state_dir=", 10) ? "?" : line + 10);
	return 0;
}

int console__mark_write(const struct console *c)
{
	char path[MARK_PATH_MAX], was[MARK_PATH_MAX], text[MARK_PATH_MAX + 16];
	int n, ret;

	if (!console__mark_read(c, was, sizeof(was)) && !strcmp(was, c->o->state_dir))
		return 0;
	ret = mark_path(c, "", path, sizeof(path));
	if (ret)
		return ret;
	n = snprintf(text, sizeof(text), "state_dir=%s\n", c->o->state_dir);
	ret = fs_replace(path, text, (size_t)n, 0600);
	if (ret == -ENOENT) {
		/* A first start before any config: its folder comes first. */
		char dir[MARK_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", path);
		if (!mkdir(dirname(dir), 0750) || errno == EEXIST)
			ret = fs_replace(path, text, (size_t)n, 0600);
	}
	if (ret) {
		log_err("console: cannot record that accounts exist in %s: %s", path,
			strerror(-ret));
	}
	return ret;
}

int console__mark_remove(const struct console *c)
{
	char path[MARK_PATH_MAX];
	int ret = mark_path(c, "", path, sizeof(path));

	if (!ret && unlink(path) && errno != ENOENT)
		ret = -errno;
	if (!ret)
		ret = fs_fsync_parent(path);
	return ret;
}
