// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * registry - camera records and their change log in state.db (see
 * registry.h for the guarantees). One table of fields drives the SQL, the
 * comparison, the change log and the JSON record, so a new field is one
 * line here plus one migration step.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif.h"
#include "firmware/registry.h"
#include "firmware/registry_int.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "storage/statedb.h"

#define TXT(n, o)                                                                                  \
	{                                                                                          \
#n, F_TEXT, o, offsetof(struct registry_camera, n),                                \
			sizeof(((struct registry_camera *)0)->n)                                   \
	}
#define NUM(n, o)                                                                                  \
	{                                                                                          \
#n, F_INT, o, offsetof(struct registry_camera, n), sizeof(int64_t)                 \
	}
#define FLAG(n, o)                                                                                 \
	{                                                                                          \
#n, F_BOOL, o, offsetof(struct registry_camera, n), sizeof(bool)                   \
	}

const struct registry__field registry__fields[] = {
	TXT(endpoint, O_DEVICE),
	TXT(manufacturer, O_DEVICE),
	TXT(model, O_DEVICE),
	TXT(firmware, O_DEVICE),
	TXT(serial, O_DEVICE),
	TXT(hardware_id, O_DEVICE),
	TXT(mac, O_DEVICE),
	TXT(ip, O_DEVICE),
	TXT(xaddr, O_DEVICE),
	TXT(xaddr_raw, O_DEVICE),
	TXT(profiles, O_DEVICE),
	TXT(stream_uri, O_DEVICE),
	TXT(stream_uri_raw, O_DEVICE),
	TXT(snapshot_uri, O_DEVICE),
	TXT(scope_name, O_DEVICE),
	TXT(scope_location, O_DEVICE),
	TXT(scope_hardware, O_DEVICE),
	NUM(media_version, O_DEVICE),
	FLAG(ptz, O_DEVICE),
	TXT(auth, O_VOLATILE),
	NUM(clock_offset_ms, O_VOLATILE),
	NUM(last_seen_ms, O_VOLATILE),
	TXT(provider_unit, O_INSTALLER),
	TXT(update_method, O_INSTALLER),
	NUM(update_interval_ms, O_INSTALLER),
	TXT(data_users, O_INSTALLER),
	TXT(owner, O_INSTALLER),
	TXT(sharing_class, O_INSTALLER),
	FLAG(enabled, O_INSTALLER),
	FLAG(gone, O_META),
	NUM(first_seen_ms, O_META),
	NUM(missed_rounds, O_VOLATILE),
	TXT(gone_reason, O_META),
};
const size_t registry__nfields = sizeof(registry__fields) / sizeof(registry__fields[0]);

/* Append only: step N takes the registry from version N to N+1. Never edit
 * a step; add one (and its field above). */
static const char *const registry_steps[] = {
	"CREATE TABLE registry_cameras ("
	" name TEXT PRIMARY KEY,"
	" endpoint TEXT NOT NULL DEFAULT '', manufacturer TEXT NOT NULL DEFAULT '',"
	" model TEXT NOT NULL DEFAULT '', firmware TEXT NOT NULL DEFAULT '',"
	" serial TEXT NOT NULL DEFAULT '', hardware_id TEXT NOT NULL DEFAULT '',"
	" mac TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '',"
	" xaddr TEXT NOT NULL DEFAULT '', xaddr_raw TEXT NOT NULL DEFAULT '',"
	" profiles TEXT NOT NULL DEFAULT '', stream_uri TEXT NOT NULL DEFAULT '',"
	" stream_uri_raw TEXT NOT NULL DEFAULT '', snapshot_uri TEXT NOT NULL DEFAULT '',"
	" scope_name TEXT NOT NULL DEFAULT '', scope_location TEXT NOT NULL DEFAULT '',"
	" scope_hardware TEXT NOT NULL DEFAULT '', media_version INTEGER NOT NULL DEFAULT 0,"
	" ptz INTEGER NOT NULL DEFAULT 0, auth TEXT NOT NULL DEFAULT '',"
	" clock_offset_ms INTEGER NOT NULL DEFAULT 0, last_seen_ms INTEGER NOT NULL DEFAULT 0,"
	" provider_unit TEXT NOT NULL DEFAULT '',"
	" update_method TEXT NOT NULL DEFAULT 'onvif-auto'"
	"  CHECK (update_method IN ('onvif-auto', 'manual')),"
	" update_interval_ms INTEGER NOT NULL DEFAULT 600000,"
	" data_users TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',"
	" sharing_class TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1,"
	" gone INTEGER NOT NULL DEFAULT 0, first_seen_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX registry_cameras_endpoint ON registry_cameras(endpoint);"
	"CREATE INDEX registry_cameras_serial ON registry_cameras(serial);"
	"CREATE INDEX registry_cameras_mac ON registry_cameras(mac);"
	"CREATE INDEX registry_cameras_ip ON registry_cameras(ip);"
	"CREATE TABLE registry_changes ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" ts_ms INTEGER NOT NULL,"
	" camera TEXT NOT NULL,"
	" cause TEXT NOT NULL CHECK (cause IN ('discovery', 'installer', 'central')),"
	" event TEXT NOT NULL,"
	" field TEXT NOT NULL,"
	" old TEXT,"
	" new TEXT);"
	"CREATE INDEX registry_changes_camera ON registry_changes(camera, id);",
	/* 1 -> 2: gone from evidence, not from one silent round. */
	"ALTER TABLE registry_cameras ADD COLUMN missed_rounds INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE registry_cameras ADD COLUMN gone_reason TEXT NOT NULL DEFAULT '';",
};

const char *registry_cause_name(enum registry_cause c)
{
	switch (c) {
	case REGISTRY_CAUSE_INSTALLER:
		return "installer";
	case REGISTRY_CAUSE_CENTRAL:
		return "central";
	default:
		return "discovery";
	}
}

const char *registry_event_name(enum registry_event e)
{
	static const char *const names[] = { "unchanged", "new",      "changed",
					     "returned",  "replaced", "gone" };

	return (unsigned int)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

static int build_sql(struct registry *reg)
{
	size_t sel = 0, ins = 0, q = 0;
	char qs[REGISTRY_SQL_MAX];

	sel += (size_t)snprintf(reg->select_sql, sizeof(reg->select_sql), "SELECT name");
	ins += (size_t)snprintf(reg->insert_sql, sizeof(reg->insert_sql),
				"INSERT OR REPLACE INTO registry_cameras (name");
	q += (size_t)snprintf(qs, sizeof(qs), "?");
	for (size_t i = 0; i < registry__nfields; i++) {
		sel += (size_t)snprintf(reg->select_sql + sel, sizeof(reg->select_sql) - sel,
					", %s", registry__fields[i].col);
		ins += (size_t)snprintf(reg->insert_sql + ins, sizeof(reg->insert_sql) - ins,
					", %s", registry__fields[i].col);
		q += (size_t)snprintf(qs + q, sizeof(qs) - q, ", ?");
	}
	sel += (size_t)snprintf(reg->select_sql + sel, sizeof(reg->select_sql) - sel,
				" FROM registry_cameras");
	ins += (size_t)snprintf(reg->insert_sql + ins, sizeof(reg->insert_sql) - ins,
				") VALUES (%s)", qs);
	return sel < sizeof(reg->select_sql) && ins < sizeof(reg->insert_sql) ? 0 : -E2BIG;
}

int registry_open(struct statedb *db, struct registry **regp)
{
	struct registry *reg;
	int ret;

	ret = statedb_migrate(db, "registry", registry_steps,
			      (int)(sizeof(registry_steps) / sizeof(registry_steps[0])));
	if (ret)
		return ret;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->db = db;
	ret = build_sql(reg);
	if (ret) {
		free(reg);
		return ret;
	}
	*regp = reg;
	return 0;
}

void registry_close(struct registry *reg)
{
	free(reg);
}

/* "prof0 H264 1920x1080@25; prof1 H264 640x360@15" */
static void profiles_text(const struct onvif_camera *cam, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cam->nprofiles && len < cap; i++) {
		const struct onvif_profile *p = &cam->profiles[i];
		int n = snprintf(out + len, cap - len, "%s%s %s %dx%d@%g", i ? "; " : "", p->token,
				 p->encoding[0] ? p->encoding : "?", p->width, p->height,
				 (double)p->fps);

		if (n < 0 || (size_t)n >= cap - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
}

void registry_from_onvif(const struct onvif_camera *cam, struct registry_camera *out)
{
	const struct onvif_found *f = &cam->found;
	const struct onvif_profile *main_p = cam->nprofiles ? &cam->profiles[0] : NULL;

	memset(out, 0, sizeof(*out));
#define CP(dst, src) snprintf(out->dst, sizeof(out->dst), "%s", src)
	CP(endpoint, f->endpoint);
	CP(manufacturer, cam->info.manufacturer);
	CP(model, cam->info.model);
	CP(firmware, cam->info.firmware);
	CP(serial, cam->info.serial);
	CP(hardware_id, cam->info.hardware_id);
	CP(mac, cam->net.mac);
	CP(ip, f->peer);
	CP(xaddr, f->xaddr);
	CP(xaddr_raw, f->xaddrs_raw);
	CP(stream_uri, main_p ? main_p->stream_uri : "");
	CP(stream_uri_raw, main_p ? main_p->stream_uri_raw : "");
	CP(snapshot_uri, cam->snapshot_uri);
	CP(scope_name, f->scopes.name);
	CP(scope_location, f->scopes.location);
	CP(scope_hardware, f->scopes.hardware);
	CP(auth, onvif_auth_name(cam->auth));
	CP(update_method, "onvif-auto");
#undef CP
	profiles_text(cam, out->profiles, sizeof(out->profiles));
	out->media_version = cam->media_version;
	out->ptz = cam->has_ptz;
	out->clock_offset_ms = cam->clock_offset_ms;
	out->update_interval_ms = REGISTRY_INTERVAL_DEFAULT_MS;
	out->enabled = true;
}

void registry__field_text(const struct registry__field *f, const struct registry_camera *c,
			  char *buf, size_t cap)
{
	const char *p = (const char *)c + f->off;

	switch (f->type) {
	case F_TEXT:
		snprintf(buf, cap, "%s", p);
		break;
	case F_INT:
		snprintf(buf, cap, "%" PRId64, *(const int64_t *)(const void *)p);
		break;
	case F_BOOL:
		snprintf(buf, cap, "%s", *(const bool *)(const void *)p ? "true" : "false");
		break;
	}
}

bool registry__field_equal(const struct registry__field *f, const struct registry_camera *a,
			   const struct registry_camera *b)
{
	const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;

	if (f->type == F_TEXT)
		return !strcmp(pa, pb);
	return !memcmp(pa, pb, f->size);
}

const struct registry__field *registry__field_find(const char *col)
{
	for (size_t i = 0; i < registry__nfields; i++)
		if (!strcmp(registry__fields[i].col, col))
			return &registry__fields[i];
	return NULL;
}

/* A lower-case name from the scope name, else the serial, else the
 * endpoint's tail: [a-z0-9-], at most REGISTRY_NAME_MAX - 4 bytes so a
 * "-NN" suffix still fits. */
void registry__make_name(const struct registry_camera *c, char *out, size_t cap)
{
	const char *src = c->scope_name[0] ? c->scope_name : c->serial[0] ? c->serial : c->endpoint;
	size_t o = 0, len = strlen(src),
	       lim = cap < REGISTRY_NAME_MAX - 4 ? cap : REGISTRY_NAME_MAX - 4;

	if (src == c->endpoint && len > 12)
		src += len - 12;
	if (!c->scope_name[0] && lim > 4) {
		memcpy(out, "cam-", 4);
		o = 4;
	}
	for (; *src && o + 1 < lim; src++) {
		unsigned char ch = (unsigned char)*src;

		if (isalnum(ch))
			out[o++] = (char)tolower(ch);
		else if (o && out[o - 1] != '-')
			out[o++] = '-';
	}
	while (o && out[o - 1] == '-')
		o--;
	if (!o)
		o = (size_t)snprintf(out, lim, "camera");
	out[o] = '\0';
}

/* The last 4 letters and digits of the serial, else of the MAC, else of
 * the endpoint reference: what tells apart cameras of one scope name. */
static void stable_suffix(const struct registry_camera *c, char *out, size_t cap)
{
	const char *src = c->serial[0] ? c->serial : c->mac[0] ? c->mac : c->endpoint;
	char tmp[REGISTRY_URI_MAX];
	size_t n = 0, keep;

	for (; *src && n + 1 < sizeof(tmp); src++)
		if (isalnum((unsigned char)*src))
			tmp[n++] = (char)tolower((unsigned char)*src);
	tmp[n] = '\0';
	keep = n < REGISTRY_SUFFIX_LEN ? n : REGISTRY_SUFFIX_LEN;
	keep = keep < cap ? keep : cap - 1;
	memcpy(out, tmp + n - keep, keep);
	out[keep] = '\0';
}

void registry_new_name(const struct registry_camera *c, bool suffixed, char *out)
{
	char base[REGISTRY_NAME_MAX], sfx[REGISTRY_SUFFIX_LEN + 1];
	size_t blen;

	registry__make_name(c, base, sizeof(base));
	stable_suffix(c, sfx, sizeof(sfx));
	blen = strlen(base);
	if (!suffixed || !sfx[0] ||
	    (blen >= strlen(sfx) && !strcmp(base + blen - strlen(sfx), sfx))) {
		snprintf(out, REGISTRY_NAME_MAX, "%s", base);
		return;
	}
	snprintf(out, REGISTRY_NAME_MAX, "%.*s-%s", (int)(REGISTRY_NAME_MAX - 2 - strlen(sfx)),
		 base, sfx);
}

bool registry_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n && n < REGISTRY_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       n &&
	       name[0] != '.' && name[0] != '-';
}
