// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * getopt_long for the subcommands, with errors in the voice of every
 * other error ("camgate: error: ring: unrecognized option '--x'") instead
 * of getopt's own, which names argv[0]: the binary's full path.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "firmware/cmd.h"
#include "lib/log.h"

int cmd_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[64];
	const char *bad;
	int c;

	/* A leading ':' (after GNU's '+') makes a missing argument ':'. */
	if (shortopts[0] == '+')
		snprintf(opts, sizeof(opts), "+:%s", shortopts + 1);
	else
		snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	if (optopt && optopt != '?' && strncmp(bad, "--", 2)) {
		if (c == ':')
			log_err("%s%soption '-%c' requires an argument", cmd ? cmd : "",
				cmd ? ": " : "", optopt);
		else
			log_err("%s%sunrecognized option '-%c'", cmd ? cmd : "", cmd ? ": " : "",
				optopt);
	} else {
		log_err("%s%s%s '%s'", cmd ? cmd : "", cmd ? ": " : "",
			c == ':' ? "option requires an argument:" : "unrecognized option", bad);
	}
	return '?';
}
