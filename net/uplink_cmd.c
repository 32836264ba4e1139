// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command channel (docs/uplink.md, "Commands"). The uplink polls
 * GET {root}/commands/ and gets a JSON array whose elements are either
 * commands ({"id", "command", "args"}) or directory entries of a plain
 * WebDAV/nginx listing ({"name": "ID.json", "type": "file"}), whose
 * bodies it then GETs. Each command runs once (its id is remembered in
 * state.db) and its result is PUT to results/{id}.json through the outbox,
 * so it survives an outage like everything else.
 *
 * New commands are one entry in the handler table. Uplink thread only.
 */
#include "net/uplink_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define CMD_MSG_MAX 256

struct cmd_handler {
	const char *name;
	/* 0 done; -ENOTSUP refused; other -errno failed. @msg says what. */
	int (*fn)(struct uplink *up, const cJSON *args, char *msg, size_t cap);
	const char *help;
};

static int cmd_resend_registry(struct uplink *up, const cJSON *args, char *msg, size_t cap)
{
	int ret = uplink_registry_resend(up);

	(void)args;
	if (ret == -ENOTSUP)
		snprintf(msg, cap, "this gateway has no registry");
	else if (ret)
		snprintf(msg, cap, "queueing the registry failed: %s", strerror(-ret));
	else
		snprintf(msg, cap, "registry records queued");
	return ret;
}

static int cmd_set_setting(struct uplink *up, const cJSON *args, char *msg, size_t cap)
{
	const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "key"));
	const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "value"));
	int ret;

	if (!key || !value) {
		snprintf(msg, cap, "args must hold \"key\" and \"value\" strings");
		return -EINVAL;
	}
	if (!up->hooks.set_setting) {
		snprintf(msg, cap, "settings cannot be changed remotely on this gateway");
		return -ENOTSUP;
	}
	msg[0] = '\0';
	ret = up->hooks.set_setting(up->hooks.arg, key, value, msg, cap);
	if (!msg[0])
		snprintf(msg, cap, ret ? "%s: %s" : "%s set", key, strerror(-ret));
	return ret;
}

static const struct cmd_handler handlers[] = {
	{ "resend-registry", cmd_resend_registry, "PUT every camera's registry record again" },
	{ "set-setting", cmd_set_setting, "set a reloadable setting: args {key, value}" },
};

static const char *outcome(int ret)
{
	return !ret ? "done" : ret == -ENOTSUP ? "refused" : "failed";
}

/* Log, report (the daemon audits it, R8) and queue the result of command
 * @id, once it ran (or was refused unread). */
static void answer(struct uplink *up, const char *id, const char *name, int ret, const char *msg,
		   int64_t now)
{
	char path[OUTBOX_PATH_MAX];
	cJSON *res;

	log_notice("uplink: command %s (%s) from central: %s: %s", id, name ? name : "?",
		   outcome(ret), msg);
	{
		struct uplink_outcome o = { .kind = UPLINK_OUT_COMMAND,
					    .time_ms = now,
					    .id = id,
					    .command = name ? name : "?",
					    .status = outcome(ret),
					    .detail = msg };

		uplink__report(up, &o);
	}
	res = cJSON_CreateObject();
	if (!res)
		return;
	cJSON_AddStringToObject(res, "id", id);
	cJSON_AddStringToObject(res, "command", name ? name : "");
	cJSON_AddStringToObject(res, "status", outcome(ret));
	cJSON_AddStringToObject(res, "message", msg);
	cJSON_AddStringToObject(res, "gateway", up->cfg.gateway_id);
	cJSON_AddNumberToObject(res, "time_ms", (double)now);
	snprintf(path, sizeof(path), "results/%s.json", id);
	uplink__put_json(up, OUTBOX_RESULT, path, res, now, 0);
	cJSON_Delete(res);
}

static void run_command(struct uplink *up, const char *id, const cJSON *cmd)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cmd, "command"));
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(cmd, "args");
	char msg[CMD_MSG_MAX] = "";
	int64_t now = uplink__now(up);
	bool fresh = false, mine = false;
	int ret = -ENOTSUP;

	if (outbox_cmd_seen(up->ob, id, now, &fresh) || !fresh)
		return;

	for (size_t i = 0; name && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(handlers[i].name, name)) {
			ret = handlers[i].fn(up, args, msg, sizeof(msg));
			mine = true;
		}
	/* The rest is the gateway's policy (blocklist, PTZ ...). */
	if (!mine && name && up->hooks.command) {
		ret = up->hooks.command(up->hooks.arg, name, args, msg, sizeof(msg));
		if (ret == -ENOSYS) {
			ret = -ENOTSUP;
			msg[0] = '\0';
		} else if (!msg[0]) {
			snprintf(msg, sizeof(msg), "%s: %s", name, ret ? strerror(-ret) : "done");
		}
	}
	if (!msg[0])
		snprintf(msg, sizeof(msg), "unknown command '%s'", name ? name : "(none)");
	answer(up, id, name, ret, msg, now);
}

/* A listed command object that cannot be run (@why): refused once, like
 * an unknown command, so it is neither fetched nor logged again. */
static void refuse_unread(struct uplink *up, const char *id, const char *why)
{
	int64_t now = uplink__now(up);
	bool fresh = false;

	if (outbox_cmd_seen(up->ob, id, now, &fresh) || !fresh)
		return;
	answer(up, id, NULL, -ENOTSUP, why, now);
}

/* A listing entry "ID.json" -> "ID", if it is one. */
static bool listing_id(const char *name, char *id, size_t cap)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 6 || n - 5 >= cap || strcmp(name + n - 5, ".json"))
		return false;
	memcpy(id, name, n - 5);
	id[n - 5] = '\0';
	return uplink_id_ok(id);
}

static void fetch_listed(struct uplink *up, const char *name)
{
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		if (up->slots[i].kind == XF_NONE) {
			uplink__start_get(up, &up->slots[i], XF_CMD_GET, name);
			return;
		}
}

void uplink__cmd_list_done(struct uplink *up, const char *body, size_t len)
{
	cJSON *arr = cJSON_ParseWithLength(body, len), *e;
	unsigned int fetches = 0;

	if (!cJSON_IsArray(arr)) {
		if (len)
			log_warn("uplink: commands/: not a JSON array; ignored");
		cJSON_Delete(arr);
		return;
	}
	cJSON_ArrayForEach (e, arr) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
		char lid[UPLINK_ID_MAX];
		bool known = true;

		if (id && uplink_id_ok(id)) {
			run_command(up, id, e);
		} else if (listing_id(name, lid, sizeof(lid)) && fetches < UPLINK_CMDS_MAX &&
			   !outbox_cmd_known(up->ob, lid, &known) && !known) {
			fetch_listed(up, name);
			fetches++;
		}
	}
	cJSON_Delete(arr);
}

void uplink__cmd_get_done(struct uplink *up, const char *name, const char *body, size_t len)
{
	cJSON *cmd = cJSON_ParseWithLength(body, len);
	char id[UPLINK_ID_MAX];

	if (!listing_id(name, id, sizeof(id)))
		log_warn("uplink: commands/%s: not a command name; ignored", name);
	else if (cJSON_IsObject(cmd))
		run_command(up, id, cmd);
	else
		refuse_unread(up, id, "the command is not a JSON object");
	cJSON_Delete(cmd);
}

void uplink__cmd_too_big(struct uplink *up, const char *name)
{
	char id[UPLINK_ID_MAX], why[64];

	snprintf(why, sizeof(why), "the command object is over %d bytes", UPLINK_CMD_MAX);
	if (listing_id(name, id, sizeof(id)))
		refuse_unread(up, id, why);
}
