// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_parse - command lines into words, and words into commands.
 * Pure functions over the table; tests/fuzz/console_line_fuzz.c feeds
 * them arbitrary lines.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <string.h>

int console__split(const char *line, char *buf, size_t cap, char **argv, int *argcp,
		   const char **errp)
{
	const char *p = line;
	size_t o = 0;
	int argc = 0;

	*errp = NULL;
	for (;;) {
		char quote = 0;

		p += strspn(p, " \t");
		if (!*p || *p == '\n' || *p == '\r')
			break;
		if (argc == CONSOLE_ARGS_MAX)
			return -E2BIG;
		argv[argc++] = buf + o;
		for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
			unsigned char ch = (unsigned char)*p;

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				if ((ch == '\n' || ch == '\r') && !p[1] && !quote)
					break;
				*errp = "control characters are not allowed";
				return -EINVAL;
			}
			if (quote && ch == (unsigned char)quote) {
				quote = 0;
				continue;
			}
			if (!quote && (ch == '"' || ch == '\'')) {
				quote = (char)ch;
				continue;
			}
			if (ch == '\\' && quote != '\'' && p[1])
				ch = (unsigned char)*++p;
			if (o + 2 > cap)
				return -E2BIG;
			buf[o++] = (char)ch;
		}
		if (quote) {
			*errp = "unterminated quote";
			return -EINVAL;
		}
		if (o + 1 > cap)
			return -E2BIG;
		buf[o++] = '\0';
	}
	*argcp = argc;
	return 0;
}

bool console__path_match(const char *path, char *const *w, int n, bool *fullp)
{
	const char *p = path;

	for (int i = 0; i < n; i++) {
		size_t len = strcspn(p, " ");

		if (!*p || strlen(w[i]) != len || strncmp(p, w[i], len))
			return false;
		p += len;
		p += strspn(p, " ");
	}
	if (fullp)
		*fullp = !*p;
	return true;
}

const struct console_cmd *console__lookup(int argc, char *const *argv, int *nwordsp)
{
	const struct console_cmd *best = NULL;
	int best_n = 0;

	for (size_t i = 0; i < console__ncmds; i++) {
		const char *path = console__cmds[i].path;
		int words = 1;
		bool full;

		for (const char *s = path; *s; s++)
			words += *s == ' ';
		if (words <= argc && words > best_n &&
		    console__path_match(path, argv, words, &full) && full) {
			best = &console__cmds[i];
			best_n = words;
		}
	}
	*nwordsp = best_n;
	return best;
}
