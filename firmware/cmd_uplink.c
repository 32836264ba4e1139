// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate uplink test`: is central reachable, and safely? The steps
 * (url, dns, tcp, tls, pin, client certificate, auth + PUT, GET round
 * trip, DELETE) run in net/uplink_probe.c; this file takes the settings
 * and prints one verdict per step in plain words, so an installer at the
 * serial console can tell a DNS problem from a firewall, a wrong CA, a
 * stale pin, a missing client certificate or bad credentials.
 * Settings come from the config file's [gateway] and [uplink] sections
 * (the link `camgate run` would use); options override them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "lib/termsafe.h"
#include "net/uplink.h"
#include "net/uplink_probe.h"

struct test {
	int failed;
};

/* One verdict per line: ok, FAIL or skip, the step, the detail. The
 * detail can quote what central or its TLS stack said: escaped. */
static void print_step(void *arg, const struct uplink_probe_step *s)
{
	char safe[TERMSAFE_CAP(256)];
	struct test *t = arg;

	printf("%-6s %-12s %s\n",
	       s->verdict == UPLINK_PROBE_OK	 ? "ok"
	       : s->verdict == UPLINK_PROBE_FAIL ? "FAIL"
						 : "skip",
	       s->name, termsafe(s->detail, safe, sizeof(safe), NULL));
	if (s->http_code)
		printf("                    HTTP %ld\n", s->http_code);
	fflush(stdout);
	if (s->verdict == UPLINK_PROBE_FAIL)
		t->failed++;
}

static const char usage_text[] =
	"usage: camgate [-c FILE] uplink test [--url URL] [--gateway ID] [--ca FILE]\n"
	"       [--pin sha256//B64] [--cert FILE] [--key FILE]\n"
	"       [--auth none|bearer|basic|sigv4] [--token T] [--user U] [--password P]\n"
	"       [--sigv4 aws:amz:REGION:SERVICE]\n\n"
	"Checks the link to central step by step (DNS, TCP, TLS chain and host\n"
	"name, pin, client certificate, authentication, PUT/GET round trip) and\n"
	"prints a verdict for each. Exit 0 when every step passed.\n\n"
	"Tests the central of the config file's [gateway] and [uplink] sections,\n"
	"with its sealed token or password opened as the daemon opens them; each\n"
	"option given overrides its setting. Without a config file, --url is\n"
	"required.\n";

static int parse_auth(const char *s)
{
	static const char *const names[] = { "none", "bearer", "basic", "sigv4" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* Options into @o, whose NULL strings (and auth -1) mean "not given".
 * Returns a CMD_* code when done (help, usage error), -1 to go on. */
static int parse_args(struct uplink_cfg *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", 1, NULL, 'u' },      { "gateway", 1, NULL, 'g' }, { "ca", 1, NULL, 'C' },
		{ "pin", 1, NULL, 'p' },      { "cert", 1, NULL, 'c' },	   { "key", 1, NULL, 'k' },
		{ "auth", 1, NULL, 'a' },     { "token", 1, NULL, 't' },   { "user", 1, NULL, 'U' },
		{ "password", 1, NULL, 'P' }, { "sigv4", 1, NULL, 's' },   { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->auth = -1;
	optind = 1;
	while ((c = cmd_getopt("uplink test", argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'u':
			o->base_url = optarg;
			break;
		case 'g':
			o->gateway_id = optarg;
			break;
		case 'C':
			o->tls.ca_file = optarg;
			break;
		case 'p':
			o->tls.pin = optarg;
			break;
		case 'c':
			o->tls.cert_file = optarg;
			break;
		case 'k':
			o->tls.key_file = optarg;
			break;
		case 'a':
			o->auth = parse_auth(optarg);
			if (o->auth < 0) {
				log_err("uplink test: unknown auth '%s'", optarg);
				return CMD_USAGE;
			}
			break;
		case 't':
			o->token = optarg;
			break;
		case 'U':
			o->username = optarg;
			break;
		case 'P':
			o->password = optarg;
			break;
		case 's':
			o->sigv4 = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CMD_OK;
		default:
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		log_err("uplink test: unexpected argument '%s'", argv[optind]);
		return CMD_USAGE;
	}
	return -1;
}

/* The options given win over the file's settings. */
static void apply_overrides(struct uplink_cfg *u, const struct uplink_cfg *o)
{
	const char **dst[] = { &u->base_url,	  &u->gateway_id,   &u->tls.ca_file, &u->tls.pin,
			       &u->tls.cert_file, &u->tls.key_file, &u->token,	     &u->username,
			       &u->password,	  &u->sigv4 };
	const char *const src[] = { o->base_url,      o->gateway_id,   o->tls.ca_file, o->tls.pin,
				    o->tls.cert_file, o->tls.key_file, o->token,       o->username,
				    o->password,      o->sigv4 };

	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (src[i])
			*dst[i] = src[i];
	if (o->auth >= 0)
		u->auth = o->auth;
}

/* The config file's [uplink], when there is a file, with its sealed
 * values opened as the daemon opens them; *cfgp owns the strings @u
 * borrows. Without a file only the options count, and they must name
 * central. Returns a CMD_* code to stop with, or -1 to go on. */
static int load_settings(const struct cmd_ctx *ctx, const struct uplink_cfg *o,
			 struct uplink_cfg *u, struct config **cfgp)
{
	struct secrets *sec = NULL;
	struct config *cfg;
	int ret;

	uplink_cfg_defaults(u);
	u->gateway_id = "camgate";
	if (access(ctx->config_path, F_OK) && errno == ENOENT) {
		if (!o->base_url) {
			log_err("uplink test: no config file %s and no --url", ctx->config_path);
			return CMD_USAGE;
		}
		return -1;
	}
	cfg = cmd_config(ctx);
	if (!cfg)
		return CMD_FAIL;
	*cfgp = cfg;
	if (secrets_is_sealed(cfg->uplink.token) || secrets_is_sealed(cfg->uplink.password)) {
		ret = secrets_open(cfg->state_dir, &sec);
		if (!ret)
			ret = secrets_config_reveal(sec, cfg);
		secrets_close(sec);
		if (ret)
			return CMD_FAIL;
	}
	config_uplink_fill(cfg, u);
	if (!*u->base_url && !o->base_url) {
		log_err("uplink test: %s has no [uplink] base_url, and no --url was given",
			ctx->config_path);
		return CMD_USAGE;
	}
	return -1;
}

static int run_test(const struct uplink_cfg *cfg)
{
	struct test t = { 0 };

	if (uplink_probe(cfg, print_step, &t))
		return CMD_FAIL;
	printf("%s\n", t.failed ? "verdict: central is NOT usable (see FAIL above)"
				: "verdict: central is reachable and accepts our uploads");
	return t.failed ? CMD_FAIL : CMD_OK;
}

int cmd_uplink(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct uplink_cfg over = { 0 }, u;
	struct config *cfg = NULL;
	int ret;

	if (argc < 2 || strcmp(argv[1], "test")) {
		fputs(usage_text, argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? CMD_OK : CMD_USAGE;
	}
	ret = parse_args(&over, argc - 1, argv + 1);
	if (ret < 0)
		ret = load_settings(ctx, &over, &u, &cfg);
	if (ret >= 0)
		goto out;
	apply_overrides(&u, &over);
	if (!uplink_id_ok(u.gateway_id)) {
		log_err("uplink test: gateway id '%s' is not [A-Za-z0-9._-]", u.gateway_id);
		ret = CMD_USAGE;
		goto out;
	}
	ret = run_test(&u);
out:
	config_free(cfg);
	return ret;
}
