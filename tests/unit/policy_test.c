// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policy_test - the policy modules on a real state.db: the blocklist (R9:
 * matching, a malformed list changes nothing, overrides end with a new
 * list), the retention forecast (R10) on fixed ring figures, and the PTZ
 * rights and request parser (R1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "firmware/accounts.h"
#include "firmware/blocklist.h"
#include "firmware/config.h"
#include "firmware/ptz.h"
#include "firmware/registry.h"
#include "firmware/retention.h"
#include "firmware/secevent.h"
#include "storage/ring.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

#define HOUR 3600000ll

struct fix {
	char dir[256];
	struct statedb *db;
	struct registry *reg;
};

static int setup(void **state)
{
	static struct fix f;

	testutil_mkdtemp(f.dir, sizeof(f.dir), "policy_test");
	assert_int_equal(statedb_open(f.dir, &f.db), 0);
	assert_int_equal(registry_open(f.db, &f.reg), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	registry_close(f->reg);
	statedb_close(f->db);
	testutil_rmtree(f->dir);
	return 0;
}

static int set_list(struct fix *f, const char *json, char *msg, size_t cap)
{
	cJSON *o = cJSON_Parse(json);
	int ret = blocklist_set(f->db, o, "central", msg, cap);

	cJSON_Delete(o);
	return ret;
}

static void add_camera(struct fix *f, const char *name, const char *make, const char *model,
		       const char *fw)
{
	struct registry_camera c = { .enabled = true, .update_method = "manual" };
	enum registry_event ev;

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.manufacturer, sizeof(c.manufacturer), "%s", make);
	snprintf(c.model, sizeof(c.model), "%s", model);
	snprintf(c.firmware, sizeof(c.firmware), "%s", fw);
	snprintf(c.serial, sizeof(c.serial), "SN-%s", name);
	snprintf(c.ip, sizeof(c.ip), "10.0.0.%zu", strlen(name));
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, NULL), 0);
}

static void test_blocklist(void **state)
{
	struct fix *f = *state;
	char msg[256], why[256];
	int64_t g0, g1, g2, g3;

	add_camera(f, "door", "Acme", "X100-PRO", "1.0.3");
	add_camera(f, "yard", "Other", "Y1", "2.0");
	assert_int_equal(blocklist_generation(f->db, &g0), 0);
	assert_int_equal(blocklist_match(f->db, "Acme", "X100-PRO", "1.0.3", why, sizeof(why)), 0);
	assert_int_equal(
		set_list(f, "[{\"make\": \"acme\", \"model\": \"x100*\", \"reason\": \"cve\"}]",
			 msg, sizeof(msg)),
		0);
	assert_int_equal(blocklist_generation(f->db, &g1), 0);
	assert_true(g1 > g0);
	assert_int_equal(blocklist_match(f->db, "ACME", "X100-PRO", "9", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "cve"));
	assert_int_equal(blocklist_match(f->db, "Acme", "X200", "1.0.3", why, sizeof(why)), 0);
	/* Malformed lists say why and leave the list as it was. */
	assert_int_equal(set_list(f, "{\"make\": \"acme\"}", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(set_list(f, "[{\"reason\": \"all\"}]", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "every camera"));
	assert_int_equal(set_list(f, "[{\"make\": 7}]", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(blocklist_match(f->db, "acme", "x100", "", why, sizeof(why)), 1);
	assert_int_equal(blocklist_generation(f->db, &g2), 0);
	assert_int_equal(g2, g1);
	/* Override: needs a reason; lasts until the list changes. */
	assert_int_equal(blocklist_override(f->db, "door", "admin", ""), -EINVAL);
	assert_int_equal(blocklist_override(f->db, "door", "admin", "vetted"), 0);
	assert_int_equal(blocklist_generation(f->db, &g3), 0);
	assert_true(g3 > g2);
	assert_int_equal(set_list(f, "[{\"firmware\": \"2.*\"}]", msg, sizeof(msg)), 0);
	assert_int_equal(blocklist_match(f->db, "Other", "Y1", "2.0", why, sizeof(why)), 1);
	assert_int_equal(blocklist_match(f->db, "Acme", "X100-PRO", "1.0.3", why, sizeof(why)), 0);
	/* A camera without device information is never blocked. */
	assert_int_equal(blocklist_camera(f->db, f->reg, "nowhere", why, sizeof(why)), 0);
}

static void test_retention_forecast(void **state)
{
	struct ring_stat st = { .bytes_total = 100ull << 20, .segs = 10 };
	struct retention_forecast fc;
	int64_t now = 1000 * HOUR;

	(void)state;
	/* No rate yet: nothing forecast. */
	retention_forecast(&st, now, 24 * HOUR, &fc);
	assert_int_equal(fc.capacity_ms, 0);
	assert_int_equal(fc.breach_at_ms, 0);
	/* 10 MiB in one hour: the ring holds 10 h; 20 h under way to full. */
	st.bytes_used = 10ull << 20;
	st.oldest_utc_ms = now - HOUR;
	st.newest_utc_ms = now;
	retention_forecast(&st, now, 24 * HOUR, &fc);
	assert_true(fc.capacity_ms > 10 * HOUR - 1000 && fc.capacity_ms < 10 * HOUR + 1000);
	assert_true(fc.breach_at_ms > now + 9 * HOUR - 1000 &&
		    fc.breach_at_ms < now + 9 * HOUR + 1000);
	/* A floor the ring holds: no breach. */
	retention_forecast(&st, now, 8 * HOUR, &fc);
	assert_int_equal(fc.breach_at_ms, 0);
	/* A full ring that cannot hold it: breached now. */
	st.bytes_used = st.bytes_total;
	st.oldest_utc_ms = now - 10 * HOUR;
	retention_forecast(&st, now, 24 * HOUR, &fc);
	assert_int_equal(fc.breach_at_ms, now);
	/* No floor: never breached. */
	retention_forecast(&st, now, 0, &fc);
	assert_int_equal(fc.breach_at_ms, 0);
}

static void test_ptz_rights_and_parse(void **state)
{
	struct account op = { .name = "op", .role = ROLE_OPERATOR, .scope = "door,gate" };
	struct account aud = { .name = "aud", .role = ROLE_AUDITOR, .scope = "*" };
	struct ptz_req r;
	char msg[128];
	char *mv[] = { "move", "0.5", "-1", "0.1" }, *bad[] = { "move", "2", "0" },
	     *pr[] = { "preset", "preset1" }, *st[] = { "stop" }, *junk[] = { "spin" };

	(void)state;
	assert_true(ptz_may(&op, "door"));
	assert_false(ptz_may(&op, "yard"));
	assert_false(ptz_may(&aud, "door"));
	assert_int_equal(ptz_parse(4, mv, &r, msg, sizeof(msg)), 0);
	assert_int_equal(r.action, PTZ_MOVE);
	assert_true(r.pan > 0.49f && r.tilt < -0.99f);
	assert_int_equal(ptz_parse(3, bad, &r, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "pan"));
	assert_int_equal(ptz_parse(2, pr, &r, msg, sizeof(msg)), 0);
	assert_string_equal(r.preset, "preset1");
	assert_int_equal(ptz_parse(1, st, &r, msg, sizeof(msg)), 0);
	assert_int_equal(r.action, PTZ_STOP);
	assert_int_equal(ptz_parse(1, junk, &r, msg, sizeof(msg)), -EINVAL);
}

static int ptz_cmd(struct fix *f, struct accounts *acc, const struct config *cfg, const char *json,
		   char *msg, size_t cap)
{
	cJSON *o = cJSON_Parse(json);
	int ret = ptz_central(f->db, acc, f->reg, cfg, o, msg, cap);

	cJSON_Delete(o);
	return ret;
}

/* Central's ptz: the same rights check as the console's, for the account
 * central names; refusals audited. No camera is reached here (none has
 * an ONVIF address): tests/integration/onvif/test_ptz.py steers one. */
static void test_ptz_central(void **state)
{
	struct fix *f = *state;
	struct accounts *acc = NULL;
	struct config *cfg = NULL;
	char msg[256];
	int64_t now = 1767600000000ll;

	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(accounts_open(f->db, 1000, &acc), 0);
	assert_int_equal(
		accounts_add(acc, "op", ROLE_OPERATOR, "door", "operator-pw-1", false, now), 0);
	assert_int_equal(accounts_add(acc, "aud", ROLE_AUDITOR, "*", "auditor-pw-1", false, now),
			 0);
	assert_int_equal(
		ptz_cmd(f, acc, cfg, "{\"user\": \"op\", \"camera\": \"door\"}", msg, sizeof(msg)),
		-EINVAL);
	assert_non_null(strstr(msg, "action"));
	assert_int_equal(
		ptz_cmd(f, acc, cfg,
			"{\"user\": \"nobody\", \"camera\": \"door\", \"action\": \"stop\"}", msg,
			sizeof(msg)),
		-ENOTSUP);
	assert_int_equal(ptz_cmd(f, acc, cfg,
				 "{\"user\": \"aud\", \"camera\": \"door\", \"action\": \"stop\"}",
				 msg, sizeof(msg)),
			 -ENOTSUP);
	assert_non_null(strstr(msg, "may not steer"));
	assert_int_equal(ptz_cmd(f, acc, cfg,
				 "{\"user\": \"op\", \"camera\": \"yard\", \"action\": \"stop\"}",
				 msg, sizeof(msg)),
			 -ENOTSUP);
	assert_int_equal(ptz_cmd(f, acc, cfg,
				 "{\"user\": \"op\", \"camera\": \"door\", \"action\": \"move\","
				 " \"pan\": 1.5}",
				 msg, sizeof(msg)),
			 -EINVAL);
	/* Allowed, but the registry knows no ONVIF address for it. */
	assert_int_equal(ptz_cmd(f, acc, cfg,
				 "{\"user\": \"op\", \"camera\": \"door\", \"action\": \"move\","
				 " \"pan\": 0.5, \"tilt\": 0}",
				 msg, sizeof(msg)),
			 -ENOENT);
	accounts_close(acc);
	config_free(cfg);
}

static bool has_event(const struct secevent_batch *b, const char *start)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strncmp(b->ev[i].message, start, strlen(start)))
			return true;
	return false;
}

/* R16 from the registry's change log: a firmware change and another
 * device at a known camera's address; the cursor moves only when the
 * caller commits it. */
static void test_secevent_registry(void **state)
{
	struct fix *f = *state;
	struct secevent_batch *b = calloc(1, sizeof(*b));
	struct registry_camera c = { .enabled = true, .update_method = "onvif-auto" };
	enum registry_event ev;

	assert_non_null(b);
	snprintf(c.name, sizeof(c.name), "door");
	snprintf(c.endpoint, sizeof(c.endpoint), "urn:uuid:1");
	snprintf(c.xaddr, sizeof(c.xaddr), "http://10.0.0.9/onvif/device_service");
	snprintf(c.ip, sizeof(c.ip), "10.0.0.9");
	snprintf(c.serial, sizeof(c.serial), "SN-1");
	snprintf(c.mac, sizeof(c.mac), "44:19:b6:00:00:01");
	snprintf(c.firmware, sizeof(c.firmware), "1.0");
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, NULL), 0);
	/* The first scan starts at the newest row: history is not news. */
	assert_int_equal(secevent_scan(f->db, b), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(secevent_skip(f->db, b), 0);
	snprintf(c.firmware, sizeof(c.firmware), "6.6-unknown");
	assert_int_equal(registry_observe(f->reg, &c, 2000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_CHANGED);
	assert_int_equal(secevent_scan(f->db, b), 0);
	assert_true(has_event(b, "firmware-changed: camera door firmware '1.0' -> '6.6-unknown'"));
	/* Not committed: the next scan finds it again. */
	assert_int_equal(secevent_scan(f->db, b), 0);
	assert_true(has_event(b, "firmware-changed"));
	assert_int_equal(secevent_skip(f->db, b), 0);
	assert_int_equal(secevent_scan(f->db, b), 0);
	assert_int_equal(b->n, 0);
	/* Another device at its address. */
	snprintf(c.endpoint, sizeof(c.endpoint), "urn:uuid:2");
	snprintf(c.serial, sizeof(c.serial), "SN-EVIL");
	snprintf(c.mac, sizeof(c.mac), "de:ad:be:ef:00:01");
	assert_int_equal(registry_observe(f->reg, &c, 3000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_REPLACED);
	assert_int_equal(secevent_scan(f->db, b), 0);
	assert_true(
		has_event(b, "new-device: another device answers at the address of camera door"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocklist, setup, teardown),
		cmocka_unit_test(test_retention_forecast),
		cmocka_unit_test_setup_teardown(test_secevent_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ptz_central, setup, teardown),
		cmocka_unit_test(test_ptz_rights_and_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
