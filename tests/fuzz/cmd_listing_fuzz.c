// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_listing_fuzz - what central answers on the command channel
 * (libFuzzer): net/uplink_cmd.c as it is, its neighbours replaced by
 * recording stubs.
 *
 * The first byte picks what the rest is:
 *   0  the answer to GET commands/ on a WebDAV central: a JSON array of
 *      command objects and directory entries;
 *   1  the answer to the S3 poll (ListObjectsV2 XML, <Key> elements);
 *   2  a command object fetched by name: the name up to the first
 *      newline, the body after it.
 * Each input is handled twice, as two polls: what ran the first time
 * must not run or be fetched again.
 *
 * Properties (a broken one aborts):
 *  - every GET started names "ID.json" with a valid id (uplink_id_ok:
 *    no '/', no "..", nothing hidden) that has not been handled, at most
 *    UPLINK_CMDS_MAX per answer and never more than the free slots;
 *  - every result queued is results/ID.json of a valid id, at most once
 *    per id, with status done, refused or failed, and reported once;
 *  - a command runs (reaches the gateway's hook) only under a valid id.
 * See tests/fuzz/README.md.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/uplink_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_IDS_MAX 256

static struct uplink *fz_up;
static char fz_seen[FZ_IDS_MAX][UPLINK_ID_MAX]; /* outbox's handled ids */
static unsigned int fz_nseen, fz_gets, fz_results, fz_reports, fz_hooks;

static void fz_fail(const char *what, const char *s)
{
	fprintf(stderr, "cmd_listing_fuzz: %s: '%s'\n", what, s ? s : "(null)");
	abort();
}

static bool seen(const char *id)
{
	for (unsigned int i = 0; i < fz_nseen; i++)
		if (!strcmp(fz_seen[i], id))
			return true;
	return false;
}

/* ---- the neighbours of uplink_cmd.c ---- */

int64_t uplink__now(const struct uplink *up)
{
	(void)up;
	return 1765065600000;
}

int outbox_cmd_known(struct outbox *ob, const char *id, bool *knownp)
{
	(void)ob;
	*knownp = seen(id);
	return 0;
}

int outbox_cmd_seen(struct outbox *ob, const char *id, int64_t now_ms, bool *newp)
{
	(void)ob;
	(void)now_ms;
	if (!uplink_id_ok(id))
		fz_fail("an invalid id marked handled", id);
	*newp = !seen(id);
	if (*newp && fz_nseen < FZ_IDS_MAX)
		snprintf(fz_seen[fz_nseen++], UPLINK_ID_MAX, "%s", id);
	return 0;
}

int uplink__start_get(struct uplink *up, struct uplink_slot *s, int kind, const char *name)
{
	char id[UPLINK_ID_MAX + 8];
	size_t n = strlen(name);

	(void)up;
	if (kind != XF_CMD_GET || s->kind != XF_NONE)
		fz_fail("a GET on a busy slot or of another kind", name);
	if (n < 6 || n - 5 >= UPLINK_ID_MAX || strcmp(name + n - 5, ".json"))
		fz_fail("a GET of something not ID.json", name);
	snprintf(id, sizeof(id), "%.*s", (int)(n - 5), name);
	if (!uplink_id_ok(id) || strchr(name, '/'))
		fz_fail("a GET of an invalid id", name);
	if (seen(id))
		fz_fail("a GET of a command already handled", name);
	if (++fz_gets > UPLINK_CMDS_MAX)
		fz_fail("more GETs than UPLINK_CMDS_MAX in one answer", name);
	s->kind = XF_CMD_GET; /* busy until the next poll */
	snprintf(s->cmd_name, sizeof(s->cmd_name), "%s", name);
	return 0;
}

int uplink__put_json(struct uplink *up, int kind, const char *path, struct cJSON *obj,
		     int64_t now_ms, int64_t due_ms)
{
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "status"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "id"));
	char want[OUTBOX_PATH_MAX];

	(void)up;
	(void)now_ms;
	(void)due_ms;
	if (kind != OUTBOX_RESULT || !id || !uplink_id_ok(id))
		fz_fail("a result of another kind or without a valid id", path);
	snprintf(want, sizeof(want), "results/%s.json", id);
	if (strcmp(path, want))
		fz_fail("a result under another path", path);
	if (!status ||
	    (strcmp(status, "done") && strcmp(status, "refused") && strcmp(status, "failed")))
		fz_fail("a result with an unknown status", status);
	fz_results++;
	return 0;
}

void uplink__report(struct uplink *up, struct uplink_outcome *o)
{
	(void)up;
	if (o->kind != UPLINK_OUT_COMMAND || !uplink_id_ok(o->id))
		fz_fail("a report of a command without a valid id", o->id);
	fz_reports++;
}

int uplink_registry_resend(struct uplink *up)
{
	(void)up;
	return -ENOTSUP;
}

/* The gateway's hooks: they see only commands under a valid id. */
static int hook_set(void *arg, const char *key, const char *value, char *msg, size_t cap)
{
	(void)arg;
	(void)value;
	fz_hooks++;
	if (!strcmp(key, "storage.retention_floor"))
		return 0;
	snprintf(msg, cap, "%s cannot be set remotely", key);
	return -ENOTSUP;
}

static int hook_command(void *arg, const char *name, const cJSON *args, char *msg, size_t cap)
{
	(void)arg;
	(void)args;
	fz_hooks++;
	if (!strcmp(name, "blocklist"))
		return -EINVAL;
	if (!strcmp(name, "ptz"))
		return 0;
	(void)msg;
	(void)cap;
	return -ENOSYS;
}

/* ---- the target ---- */

static void poll_once(int mode, const char *body, size_t len)
{
	fz_gets = 0;
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		fz_up->slots[i].kind = XF_NONE;
	fz_up->cfg.auth = mode == 1 ? UPLINK_AUTH_SIGV4 : UPLINK_AUTH_NONE;
	if (mode < 2) {
		uplink__cmd_list_done(fz_up, body, len);
		return;
	}
	/* A fetched command: NAME\nBODY */
	{
		const char *nl = memchr(body, '\n', len);
		char name[UPLINK_ID_MAX + 8];
		size_t n = nl ? (size_t)(nl - body) : len;

		if (n >= sizeof(name) || memchr(body, '\0', n))
			return;
		memcpy(name, body, n);
		name[n] = '\0';
		if (nl)
			uplink__cmd_get_done(fz_up, name, nl + 1, len - n - 1);
		else
			uplink__cmd_too_big(fz_up, name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int results, hooks;
	char *body;

	if (size < 1 || size > 65536)
		return 0;
	body = malloc(size); /* a copy ending where the input does, as curl's buffer */
	if (!body)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	fz_nseen = fz_results = fz_reports = fz_hooks = 0;
	poll_once(data[0] % 3, body, size - 1);
	if (fz_results != fz_reports)
		fz_fail("results queued and reported differ", NULL);
	if (fz_hooks > fz_results)
		fz_fail("a command ran without a result", NULL);
	/* The same answer again: nothing new runs, nothing handled is fetched. */
	results = fz_results;
	hooks = fz_hooks;
	poll_once(data[0] % 3, body, size - 1);
	if (fz_results != results || fz_hooks != hooks)
		fz_fail("a command ran or was answered twice", NULL);
	free(body);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *level = getenv("FUZZ_LOG_LEVEL");
	int lvl = LOG_ERR;

	(void)argc;
	(void)argv;
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("cmd_listing_fuzz", LOG_DEST_PLAIN, lvl);
	fz_up = calloc(1, sizeof(*fz_up));
	if (!fz_up)
		abort();
	fz_up->cfg.base_url = "https://central.example/bucket";
	fz_up->cfg.gateway_id = "gw-1";
	snprintf(fz_up->root, sizeof(fz_up->root), "https://central.example/gateways/gw-1/");
	fz_up->hooks.set_setting = hook_set;
	fz_up->hooks.command = hook_command;
	return 0;
}
