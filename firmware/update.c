// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update - download, verify and install a RAUC bundle (firmware/update.h).
 */
#include "firmware/update.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "board_defaults.h"
#include "firmware/audit.h"
#include "lib/fsutil.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sha256.h"
#include "lib/termsafe.h"
#include "net/uplink_fetch.h"
#include "version.h"

extern char **environ;

#define UPDATE_OUT_MAX (64 * 1024) /* what rauc says, kept */
#define UPDATE_STAGING "update.raucb"
#define UPDATE_RECORD  "update.json"

static const char *const state_names[UPDATE_NSTATES] = {
	"idle",	 "downloading", "verifying",   "refused", "installing", "installed-reboot-pending",
	"trial", "good",	"rolled-back", "failed",
};

const char *update_state_name(enum update_state st)
{
	return st >= 0 && st < UPDATE_NSTATES ? state_names[st] : "idle";
}

int update_state_parse(const char *name)
{
	for (int i = 0; i < UPDATE_NSTATES; i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

const char *update_rauc(void)
{
	const char *r = getenv("CAMGATE_RAUC");

	return r && *r ? r : "rauc";
}

int update_spawn(char *const argv[], char *out, size_t cap)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	int fds[2], status, ret;
	ssize_t n;
	pid_t pid;
	char sink[512];

	*out = 0;
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(out, cap, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (ret) {
		close(fds[0]);
		snprintf(out, cap, "cannot run %s: %s", argv[0], strerror(ret));
		return -1;
	}
	for (;;) { /* all of it read, what fits kept */
		bool room = len + 1 < cap;

		n = read(fds[0], room ? out + len : sink, room ? cap - len - 1 : sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (room)
			len += (size_t)n;
	}
	out[len] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* VALUE of a shell-format line KEY='VALUE' in @text (rauc info
 * --output-format=shell). */
static void field(const char *text, const char *key, char *out, size_t cap)
{
	size_t n = strlen(key), len;

	*out = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, n) || l[n] != '=' || l[n + 1] != '\'')
			continue;
		l += n + 2;
		len = strcspn(l, "'\n");
		if (len >= cap)
			len = cap - 1;
		memcpy(out, l, len);
		out[len] = 0;
		return;
	}
}

/* The last line of @text that is not a RAUC_ variable, made printable:
 * rauc's own reason for a failure. */
static void last_words(const char *text, char *out, size_t cap)
{
	const char *best = NULL, *l = text;
	size_t len = 0;

	while (l && *l) {
		size_t n = strcspn(l, "\n");

		if (n && strncmp(l, "RAUC_", 5)) {
			best = l;
			len = n;
		}
		l = l[n] ? l + n + 1 : NULL;
	}
	*out = 0;
	if (best) {
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, best);
		termsafe(line, out, cap, NULL);
	}
}

/* "X.Y.Z", "X.Y.Z-N-gHASH", "X.Y.Z-gHASH", each maybe "-dirty"
 * (scripts/version.sh) -> X, Y, Z, N (commits after the tag; 0 without). */
static int version_parse(const char *v, long long out[4])
{
	char *end;

	memset(out, 0, 4 * sizeof(out[0]));
	for (int i = 0; i < 3; i++) {
		out[i] = strtoll(v, &end, 10);
		if (end == v || out[i] < 0 || (i < 2 && *end != '.'))
			return -EINVAL;
		v = end + (i < 2);
	}
	if (*v == '-' && v[1] >= '0' && v[1] <= '9') {
		out[3] = strtoll(v + 1, &end, 10);
		v = end;
	}
	return *v == 0 || *v == '-' ? 0 : -EINVAL;
}

int update_version_cmp(const char *a, const char *b)
{
	long long x[4], y[4];

	if (version_parse(a, x) || version_parse(b, y))
		return -2;
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

struct run {
	const struct update_req *rq;
	char *why;
	size_t cap;
};

static void step(struct run *r, enum update_state st, const char *action, const char *detail,
		 uint64_t got, uint64_t total)
{
	if (action && r->rq->sdb)
		audit_record(r->rq->sdb, 0, r->rq->actor, action, r->rq->source, detail);
	if (r->rq->step)
		r->rq->step(r->rq->arg, st, detail, got, total);
}

/* A refusal or failure: @why, one log line, audit row, step; returns @ret. */
static int __attribute__((format(printf, 4, 5)))
stop(struct run *r, int ret, enum update_state st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, r->cap, fmt, ap);
	va_end(ap);
	log_err("update: %s: %s: %s", r->rq->source, st == UPDATE_REFUSED ? "refused" : "failed",
		r->why);
	step(r, st, st == UPDATE_REFUSED ? "update-refused" : "update-failed", r->why, 0, 0);
	return ret;
}

static void progress(void *arg, uint64_t got, uint64_t total)
{
	step(arg, UPDATE_DOWNLOADING, NULL, "", got, total);
}

static int download(struct run *r, const char *path)
{
	const struct update_req *rq = r->rq;
	uint8_t sum[SHA256_LEN], want[SHA256_LEN];
	char why[512], hex[2 * SHA256_LEN + 1];
	int ret;

	if (rq->sha256 &&
	    (strlen(rq->sha256) != 2 * SHA256_LEN || hex_decode(rq->sha256, want, sizeof(want))))
		return stop(r, -EPERM, UPDATE_REFUSED, "sha256 is not 64 hex digits");
	if (!rq->ucfg)
		return stop(r, -EINVAL, UPDATE_FAILED, "no trust settings for a download");
	step(r, UPDATE_DOWNLOADING, "update-download", rq->sha256 ? rq->sha256 : "", 0, 0);
	ret = uplink_fetch_large(rq->ucfg, rq->source, path, rq->max_bytes, progress, r, rq->cancel,
				 why, sizeof(why));
	if (ret) {
		/* Space back first: on a full disk the audit row needs it. */
		unlink(path);
		return stop(r, ret, UPDATE_FAILED, "download failed: %s", why);
	}
	if (!rq->sha256)
		return 0;
	ret = sha256_file(path, sum);
	if (ret)
		return stop(r, ret, UPDATE_FAILED, "%s: %s", path, strerror(-ret));
	if (memcmp(sum, want, sizeof(sum)))
		return stop(r, -EPERM, UPDATE_REFUSED,
			    "the download's SHA-256 is %s, not the %s asked for (changed on "
			    "the way or at the server)",
			    hex_encode(sum, sizeof(sum), hex), rq->sha256);
	return 0;
}

static int verify_install(struct run *r, const char *file, char *out)
{
	const struct update_req *rq = r->rq;
	char kopt[300], expect[64], compatible[128], version[128], detail[512], words[256];
	char *info[] = { (char *)update_rauc(),	  "info",	kopt,
			 "--output-format=shell", (char *)file, NULL };
	char *install[] = { (char *)update_rauc(), "install", (char *)file, NULL };
	struct update_record rec = { 0 };
	int cmp, st;

	snprintf(kopt, sizeof(kopt), "--keyring=%s", rq->keyring);
	step(r, UPDATE_VERIFYING, NULL, "", 0, 0);
	st = update_spawn(info, out, UPDATE_OUT_MAX);
	last_words(out, words, sizeof(words));
	if (st)
		return stop(r, -EPERM, UPDATE_REFUSED,
			    "signature or bundle check failed (rauc info --keyring=%s): %s",
			    rq->keyring, *words ? words : "no reason given");
	field(out, "RAUC_MF_COMPATIBLE", compatible, sizeof(compatible));
	field(out, "RAUC_MF_VERSION", version, sizeof(version));
	snprintf(expect, sizeof(expect), "camgate-%s", BOARD_NAME);
	if (strcmp(compatible, expect))
		return stop(r, -EPERM, UPDATE_REFUSED, "bundle is for '%s', this board is '%s'",
			    compatible, expect);
	cmp = update_version_cmp(version, CAMGATE_VERSION);
	if (cmp == -2)
		return stop(r, -EPERM, UPDATE_REFUSED, "version '%s' is not X.Y.Z[-N-gHASH]",
			    version);
	if (cmp < 0 && !rq->force)
		return stop(r, -EPERM, UPDATE_REFUSED,
			    "downgrade from %s to %s: only an admin may force one%s",
			    CAMGATE_VERSION, version,
			    strcmp(rq->actor, "central") ? " (--force --admin NAME)"
							 : " (central: \"force\": true)");
	snprintf(detail, sizeof(detail), "signed by a trusted key, %s %s (running %s)%s",
		 compatible, version, CAMGATE_VERSION,
		 cmp >= 0			? ""
		 : strcmp(rq->actor, "central") ? ", a DOWNGRADE forced by an admin"
						: ", a DOWNGRADE forced by central");
	step(r, UPDATE_VERIFYING, cmp < 0 ? "update-downgrade-forced" : "update-verified", detail,
	     0, 0);
	snprintf(r->why, r->cap, "%s", detail);
	if (rq->check)
		return 0;
	step(r, UPDATE_INSTALLING, "update-installing", version, 0, 0);
	st = update_spawn(install, out, UPDATE_OUT_MAX);
	if (st) {
		last_words(out, words, sizeof(words));
		return stop(r, -EIO, UPDATE_FAILED,
			    "rauc install: %s; the running slot is unchanged",
			    *words ? words : "failed");
	}
	snprintf(rec.state, sizeof(rec.state), "%s", update_state_name(UPDATE_INSTALLED));
	snprintf(rec.version, sizeof(rec.version), "%s", version);
	snprintf(rec.from, sizeof(rec.from), "%s", CAMGATE_VERSION);
	snprintf(rec.actor, sizeof(rec.actor), "%s", rq->actor);
	snprintf(rec.detail, sizeof(rec.detail), "from %s", rq->source);
	if (rq->state_dir && update_record_write(rq->state_dir, &rec))
		log_warn("update: the update record in %s could not be written: the next "
			 "boot's trial relies on rauc's slot status alone",
			 rq->state_dir);
	snprintf(r->why, r->cap,
		 "%s in the inactive slot; it boots next (reboot), and the bootloader falls back "
		 "if it never reports healthy",
		 version);
	step(r, UPDATE_INSTALLED, "update-installed", r->why, 0, 0);
	return 0;
}

int update_run(const struct update_req *rq, char *why, size_t cap)
{
	struct run r = { rq, why, cap };
	char staging[4096], *out = malloc(UPDATE_OUT_MAX);
	const char *file = rq->source;
	bool url = strstr(rq->source, "://") != NULL;
	int ret;

	*why = 0;
	if (!out)
		return -ENOMEM;
	step(&r, url ? UPDATE_DOWNLOADING : UPDATE_VERIFYING, "update-start",
	     rq->check ? "check only" : "check and install", 0, 0);
	if (url) {
		snprintf(staging, sizeof(staging), "%s/%s", rq->state_dir, UPDATE_STAGING);
		file = staging;
		ret = download(&r, staging);
	} else {
		ret = 0;
	}
	if (!ret)
		ret = verify_install(&r, file, out);
	if (url && unlink(staging) && errno != ENOENT)
		log_warn("update: %s: %s", staging, strerror(errno));
	free(out);
	return ret;
}

int update_record_read(const char *state_dir, struct update_record *r)
{
	char path[4096];
	struct {
		const char *key;
		char *out;
		size_t cap;
	} f[] = {
		{ "state", r->state, sizeof(r->state) },
		{ "version", r->version, sizeof(r->version) },
		{ "from", r->from, sizeof(r->from) },
		{ "actor", r->actor, sizeof(r->actor) },
		{ "detail", r->detail, sizeof(r->detail) },
	};
	cJSON *o;
	char *text;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s", state_dir, UPDATE_RECORD);
	text = fs_read_all(path, NULL);
	if (!text)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	o = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -EBADMSG;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, f[i].key));

		snprintf(f[i].out, f[i].cap, "%s", v ? v : "");
	}
	r->time_ms = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "time_ms"));
	cJSON_Delete(o);
	return update_state_parse(r->state) < 0 ? -EBADMSG : 0;
}

int update_record_write(const char *state_dir, const struct update_record *r)
{
	char path[4096], *text;
	cJSON *o = cJSON_CreateObject();
	int ret = -ENOMEM;

	snprintf(path, sizeof(path), "%s/%s", state_dir, UPDATE_RECORD);
	if (o && cJSON_AddStringToObject(o, "state", r->state) &&
	    cJSON_AddStringToObject(o, "version", r->version) &&
	    cJSON_AddStringToObject(o, "from", r->from) &&
	    cJSON_AddStringToObject(o, "actor", r->actor) &&
	    cJSON_AddStringToObject(o, "detail", r->detail) &&
	    cJSON_AddNumberToObject(o, "time_ms",
				    (double)(r->time_ms ? r->time_ms : time_now_ms()))) {
		text = cJSON_Print(o);
		ret = text ? fs_replace(path, text, strlen(text), 0640) : -ENOMEM;
		cJSON_free(text);
	}
	cJSON_Delete(o);
	return ret;
}

int update_slot_booted(bool *good, char *booted, size_t bcap, char *why, size_t cap)
{
	char *argv[] = { (char *)update_rauc(), "status", "--output-format=json", NULL };
	char *out = malloc(UPDATE_OUT_MAX);
	const cJSON *slot, *s;
	cJSON *o = NULL;
	const char *b;
	int st, ret = -EBADMSG;

	*good = false;
	*booted = 0;
	if (!out)
		return -ENOMEM;
	st = update_spawn(argv, out, UPDATE_OUT_MAX);
	if (st) {
		last_words(out, why, cap);
		free(out);
		return -ENODEV;
	}
	/* rauc may log before the JSON: it starts at the first '{'. */
	o = strchr(out, '{') ? cJSON_Parse(strchr(out, '{')) : NULL;
	b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "booted"));
	snprintf(why, cap, "rauc status: no booted slot in its JSON");
	cJSON_ArrayForEach (slot, cJSON_GetObjectItemCaseSensitive(o, "slots")) {
		cJSON_ArrayForEach (s, slot) { /* {"rootfs.0": {...}} */
			const char *bn = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(s, "bootname"));
			const char *state =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "state"));
			const char *bs = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(s, "boot_status"));

			if (!((b && bn && !strcmp(b, bn)) || (state && !strcmp(state, "booted"))))
				continue;
			snprintf(booted, bcap, "%s", bn ? bn : s->string);
			*good = bs && !strcmp(bs, "good");
			snprintf(why, cap, "slot %s: boot status %s", booted, bs ? bs : "unknown");
			ret = 0;
		}
	}
	cJSON_Delete(o);
	free(out);
	return ret;
}
