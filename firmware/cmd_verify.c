// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate verify DIR [--fingerprint HEX]` (firmware/verify.h). Needs no
 * config and no state: an auditor runs it on another machine.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "firmware/cmd.h"
#include "firmware/verify.h"

static const char verify_usage[] =
	"usage: camgate verify DIR [--fingerprint HEX]\n\n"
	"Checks offline every segment's SHA-256, the hash chain and every signature of\n"
	"a gateway folder as central stores it (media/ and chain/), a folder of them\n"
	"(gateways/ID/...), or an export package (manifest.json). Every finding is a\n"
	"line \"FINDING camera time seq: what\"; exit status 3 when there is one.\n"
	"--fingerprint: the gateway key fingerprint to require (camgate identity show).\n";

int cmd_verify(const struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fp = NULL;
	unsigned int findings = 0;
	int c, ret;

	(void)ctx;
	while ((c = cmd_getopt("verify", argc, argv, "f:h", opts)) != -1) {
		switch (c) {
		case 'f':
			fp = optarg;
			if (!strncmp(fp, "sha256:", 7))
				fp += 7;
			if (strlen(fp) != 64) {
				fprintf(stderr,
					"camgate: error: verify: --fingerprint wants the 64 "
					"hex digits `camgate identity show` prints\n");
				return CMD_USAGE;
			}
			break;
		case 'h':
			fputs(verify_usage, stdout);
			return CMD_OK;
		default:
			fputs(verify_usage, stderr);
			return CMD_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(verify_usage, stderr);
		return CMD_USAGE;
	}
	ret = verify_dir(argv[optind], fp, stdout, &findings);
	if (ret == -ENOENT) {
		fprintf(stderr, "camgate: error: verify: %s holds no chain/ or manifest.json\n",
			argv[optind]);
		return CMD_FAIL;
	}
	if (ret) {
		fprintf(stderr, "camgate: error: verify: %s: %s\n", argv[optind], strerror(-ret));
		return CMD_FAIL;
	}
	return findings ? CMD_PROBLEMS : CMD_OK;
}
