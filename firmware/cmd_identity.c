// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate identity show|csr`: the gateway's signing identity
 * (firmware/identity.h), for central's CA and for the auditor who checks
 * an export against the fingerprint central registered.
 */
#include <stdio.h>
#include <string.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/identity.h"

#define CSR_MAX 2048

static const char identity_usage[] =
	"usage: camgate [-c FILE] identity show|csr [--subject CN=...,O=...]\n\n"
	"  show   the public key fingerprint (SHA-256 of the DER public key) and the key\n"
	"  csr    a PKCS#10 certificate request for central's CA (PEM on stdout);\n"
	"         the subject defaults to CN=<uplink gateway id>\n\n"
	"The key pair (ECDSA P-256) is made on first use: STATE_DIR/identity.key, 0600.\n";

int cmd_identity(const struct cmd_ctx *ctx, int argc, char **argv)
{
	char subject[160], csr[CSR_MAX];
	const char *want_subject = NULL;
	struct identity *id = NULL;
	struct config *cfg;
	int ret = CMD_OK;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(identity_usage, stdout);
		return CMD_OK;
	}
	if (argc == 4 && !strcmp(argv[1], "csr") && !strcmp(argv[2], "--subject"))
		want_subject = argv[3];
	else if (argc != 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "csr"))) {
		fputs(identity_usage, stderr);
		return CMD_USAGE;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	if (identity_open(cfg->state_dir, &id)) {
		fprintf(stderr, "camgate: error: identity: cannot load or create %s/%s\n",
			cfg->state_dir, IDENTITY_KEY_NAME);
		config_free(cfg);
		return CMD_FAIL;
	}
	if (!strcmp(argv[1], "show")) {
		printf("fingerprint: sha256:%s\n%s", identity_fingerprint(id),
		       identity_public_pem(id));
	} else {
		if (!want_subject) {
			snprintf(subject, sizeof(subject), "CN=%s",
				 cfg->gateway_id && *cfg->gateway_id ? cfg->gateway_id : "camgate");
			want_subject = subject;
		}
		if (identity_csr(id, want_subject, csr, sizeof(csr))) {
			fprintf(stderr, "camgate: error: identity csr: cannot write the request\n");
			ret = CMD_FAIL;
		} else {
			fputs(csr, stdout);
		}
	}
	identity_close(id);
	config_free(cfg);
	return ret;
}
