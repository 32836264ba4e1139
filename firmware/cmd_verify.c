// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate verify DIR|URL [--fingerprint HEX]` (firmware/verify.h). A DIR
 * needs no config and no state: an auditor runs it on another machine. A
 * URL is fetched from central first (net/uplink_fetch.h) with the
 * config's [uplink] trust and credentials, into a temporary folder.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/cmd.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/verify.h"
#include "lib/fsutil.h"
#include "net/uplink.h"
#include "net/uplink_fetch.h"

static const char verify_usage[] =
	"usage: camgate verify DIR|URL [--fingerprint HEX]\n\n"
	"Checks offline every segment's SHA-256, the hash chain and every signature of\n"
	"a gateway folder as central stores it (media/ and chain/), a folder of them\n"
	"(gateways/ID/...), or an export package (manifest.json). Every finding is a\n"
	"line \"FINDING camera time seq: what\"; exit status 3 when there is one.\n"
	"--fingerprint: the gateway key fingerprint to require (camgate identity show).\n"
	"URL (https://..., below [uplink] base_url): a gateway folder or one of its\n"
	"exports/ID/ at central, fetched first with the config's uplink credentials.\n";

#define URL_CAP 1024

/* An export at central: its folder, then the checkpoints of its camera and
 * the files its manifest lists, from the gateway folder @gw_url. */
static int fetch_export(const struct uplink_cfg *u, const char *url, const char *gw_url,
			const char *dest, const char *pkg, size_t *files, char *why, size_t cap)
{
	char src[URL_CAP], dst[8400], *text;
	const char *camera;
	const cJSON *j;
	cJSON *m;
	size_t n = 0;
	int ret = fs_mkdir_p(pkg, 0750);

	if (!ret)
		ret = uplink_fetch_tree(u, url, pkg, files, why, cap);
	if (ret)
		return ret;
	snprintf(dst, sizeof(dst), "%s/manifest.json", pkg);
	text = fs_read_all(dst, NULL);
	m = text ? cJSON_Parse(text) : NULL;
	free(text);
	camera = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "camera"));
	if (!camera || !uplink_id_ok(camera)) {
		snprintf(why, cap, "%.900s: no manifest.json naming its camera", url);
		cJSON_Delete(m);
		return -EPROTO;
	}
	if (snprintf(src, sizeof(src), "%schain/%s/", gw_url, camera) >= (int)sizeof(src)) {
		cJSON_Delete(m);
		return -ENAMETOOLONG;
	}
	snprintf(dst, sizeof(dst), "%s/chain/%s", dest, camera);
	ret = fs_mkdir_p(dst, 0750);
	if (!ret)
		ret = uplink_fetch_tree(u, src, dst, &n, why, cap);
	*files += n;
	snprintf(dst, sizeof(dst), "%s/media/%s", dest, camera);
	if (!ret)
		ret = fs_mkdir_p(dst, 0750);
	for (int k = 0; k < 2 && !ret; k++)
		cJSON_ArrayForEach (j,
				    cJSON_GetObjectItemCaseSensitive(m, k ? "segments" : "inits")) {
			const char *file =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "file"));

			/* A name verify would not accept is left for it to report. */
			if (!file || strstr(file, "..") || strncmp(file, "media/", 6))
				continue;
			if (snprintf(src, sizeof(src), "%s%s", gw_url, file) >= (int)sizeof(src) ||
			    snprintf(dst, sizeof(dst), "%s/%s", dest, file) >= (int)sizeof(dst))
				continue;
			ret = uplink_fetch_file(u, src, dst, why, cap);
			if (ret == -ENOENT) /* verify names it missing */
				ret = 0;
			else if (ret)
				break;
			else
				(*files)++;
		}
	cJSON_Delete(m);
	return ret;
}

/* @url into a temporary folder; its path to verify into @path. */
static int fetch(const struct cmd_ctx *ctx, const char *url, char *tmp, char *path, size_t cap)
{
	struct uplink_cfg u;
	struct config *cfg = cmd_config(ctx);
	char base[URL_CAP], why[1024] = "";
	const char *x;
	size_t files = 0, n;
	int ret;

	if (!cfg)
		return -EINVAL;
	snprintf(base, sizeof(base), "%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/");
	config_uplink_fill(cfg, &u);
	ret = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
	snprintf(path, cap, "%s", tmp);
	x = strstr(base, "/exports/");
	n = x ? strlen(x + 9) : 0;
	if (!ret && x && n > 1 && !memchr(x + 9, '/', n - 1)) {
		/* .../exports/{id}/: the gateway folder is what precedes it */
		char gw[URL_CAP];

		snprintf(gw, sizeof(gw), "%.*s/", (int)(x - base), base);
		snprintf(path, cap, "%s/exports/%.*s", tmp, (int)(n - 1), x + 9);
		ret = fetch_export(&u, base, gw, tmp, path, &files, why, sizeof(why));
	} else if (!ret) {
		ret = uplink_fetch_tree(&u, base, tmp, &files, why, sizeof(why));
	}
	if (ret)
		fprintf(stderr, "camgate: error: verify: %s\n", why[0] ? why : strerror(-ret));
	else
		fprintf(stderr, "camgate: verify: %zu files fetched from %s\n", files, base);
	curl_global_cleanup();
	config_free(cfg);
	return ret;
}

int cmd_verify(const struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fp = NULL;
	unsigned int findings = 0;
	char tmp[4096] = "", dir[8192];
	int c, ret;

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
	if (!strncmp(argv[optind], "https://", 8) || !strncmp(argv[optind], "http://", 7)) {
		const char *t = getenv("TMPDIR");

		snprintf(tmp, sizeof(tmp), "%s/camgate-verify-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmp)) {
			fprintf(stderr, "camgate: error: verify: %s: %s\n", tmp, strerror(errno));
			return CMD_FAIL;
		}
		ret = fetch(ctx, argv[optind], tmp, dir, sizeof(dir));
		if (ret) {
			fs_remove_tree(tmp);
			return CMD_FAIL;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s", argv[optind]);
	}
	ret = verify_dir(dir, fp, stdout, &findings);
	if (tmp[0])
		fs_remove_tree(tmp);
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
