// SPDX-License-Identifier: GPL-2.0-or-later
/* registry: matching, events and the change log (registry.h G1-G4). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "firmware/registry.h"
#include "lib/log.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

struct fix {
	char dir[64];
	struct statedb *db;
	struct registry *reg;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	testutil_mkdtemp(f->dir, sizeof(f->dir), "registry_test");
	assert_int_equal(statedb_open(f->dir, &f->db), 0);
	assert_int_equal(registry_open(f->db, &f->reg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	registry_close(f->reg);
	statedb_close(f->db);
	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

static void camera(struct registry_camera *c, int i)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->endpoint, sizeof(c->endpoint), "urn:uuid:0000-%d", i);
	snprintf(c->manufacturer, sizeof(c->manufacturer), "Camsim");
	snprintf(c->model, sizeof(c->model), "SIM-1000");
	snprintf(c->firmware, sizeof(c->firmware), "1.0.0");
	snprintf(c->serial, sizeof(c->serial), "SN%d", i);
	snprintf(c->mac, sizeof(c->mac), "02:00:00:00:00:%02x", i);
	snprintf(c->ip, sizeof(c->ip), "10.77.0.%d", 10 + i);
	snprintf(c->xaddr, sizeof(c->xaddr), "http://10.77.0.%d/onvif/device_service", 10 + i);
	snprintf(c->stream_uri, sizeof(c->stream_uri), "rtsp://10.77.0.%d/stream", 10 + i);
	snprintf(c->scope_name, sizeof(c->scope_name), "Camsim Camera");
	snprintf(c->update_method, sizeof(c->update_method), "onvif-auto");
	snprintf(c->auth, sizeof(c->auth), "ws-security");
	c->update_interval_ms = REGISTRY_INTERVAL_DEFAULT_MS;
	c->enabled = true;
	c->media_version = 2;
}

struct tally {
	int rows;
	int64_t last_id;
	char want_field[32];
	char old_v[128], new_v[128], event[16], cause[16];
};

static int count_change(void *arg, const struct registry_change *ch)
{
	struct tally *t = arg;

	t->rows++;
	t->last_id = ch->id;
	if (!strcmp(ch->field, t->want_field)) {
		snprintf(t->old_v, sizeof(t->old_v), "%s",
			 ch->old_value ? ch->old_value : "(null)");
		snprintf(t->new_v, sizeof(t->new_v), "%s", ch->new_value);
		snprintf(t->event, sizeof(t->event), "%s", ch->event);
		snprintf(t->cause, sizeof(t->cause), "%s", ch->cause);
	}
	return 0;
}

static struct tally changes_since(struct fix *f, int64_t after, const char *field)
{
	struct tally t = { .rows = 0 };

	snprintf(t.want_field, sizeof(t.want_field), "%s", field);
	assert_int_equal(registry_changes(f->reg, after, 0, count_change, &t), 0);
	return t;
}

static void test_new_then_unchanged(void **state)
{
	struct fix *f = *state;
	struct registry_camera c, got;
	enum registry_event ev;
	char name[REGISTRY_NAME_MAX];
	struct tally t;

	camera(&c, 1);
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, name), 0);
	assert_int_equal(ev, REGISTRY_NEW);
	assert_string_equal(name, "camsim-camera");
	t = changes_since(f, 0, "serial");
	assert_true(t.rows >= 8);
	assert_string_equal(t.event, "new");
	assert_string_equal(t.cause, "discovery");
	assert_string_equal(t.old_v, "(null)");
	assert_string_equal(t.new_v, "SN1");
	/* Same camera again, only its clock moved: nothing to log (G4). */
	c.clock_offset_ms = 12345;
	assert_int_equal(registry_observe(f->reg, &c, 2000, &ev, name), 0);
	assert_int_equal(ev, REGISTRY_UNCHANGED);
	assert_int_equal(changes_since(f, t.last_id, "").rows, 0);
	assert_int_equal(registry_get(f->reg, "camsim-camera", &got), 0);
	assert_int_equal(got.clock_offset_ms, 12345);
	assert_int_equal(got.last_seen_ms, 2000);
	assert_int_equal(got.first_seen_ms, 1000);
}

static void test_changed_ip_and_firmware(void **state)
{
	struct fix *f = *state;
	struct registry_camera c;
	enum registry_event ev;
	struct tally t;

	camera(&c, 1);
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, NULL), 0);
	t = changes_since(f, 0, "");
	snprintf(c.ip, sizeof(c.ip), "10.77.0.99");
	snprintf(c.firmware, sizeof(c.firmware), "2.0.0");
	assert_int_equal(registry_observe(f->reg, &c, 2000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_CHANGED);
	t = changes_since(f, t.last_id, "firmware");
	assert_int_equal(t.rows, 2);
	assert_string_equal(t.old_v, "1.0.0");
	assert_string_equal(t.new_v, "2.0.0");
	assert_string_equal(t.event, "changed");
	/* A factory reset gives a new endpoint; the serial still matches. */
	snprintf(c.endpoint, sizeof(c.endpoint), "urn:uuid:reset");
	assert_int_equal(registry_observe(f->reg, &c, 3000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_CHANGED);
}

static void test_replaced(void **state)
{
	struct fix *f = *state;
	struct registry_camera a, b, got;
	enum registry_event ev;
	char name[REGISTRY_NAME_MAX];
	struct tally t;

	camera(&a, 1);
	assert_int_equal(registry_observe(f->reg, &a, 1000, &ev, name), 0);
	t = changes_since(f, 0, "");
	/* Another device at the same address: the position keeps its name. */
	camera(&b, 2);
	snprintf(b.ip, sizeof(b.ip), "%s", a.ip);
	assert_int_equal(registry_observe(f->reg, &b, 2000, &ev, name), 0);
	assert_int_equal(ev, REGISTRY_REPLACED);
	assert_string_equal(name, "camsim-camera");
	assert_int_equal(registry_get(f->reg, name, &got), 0);
	assert_string_equal(got.serial, "SN2");
	t = changes_since(f, t.last_id, "serial");
	assert_string_equal(t.event, "replaced");
	assert_string_equal(t.old_v, "SN1");
}

static void test_gone_and_returned(void **state)
{
	struct fix *f = *state;
	struct registry_camera a, b, got;
	enum registry_event ev;
	char na[REGISTRY_NAME_MAX], nb[REGISTRY_NAME_MAX], names[8][REGISTRY_NAME_MAX];
	struct tally t;
	size_t n;

	camera(&a, 1);
	camera(&b, 2);
	assert_int_equal(registry_observe(f->reg, &a, 1000, &ev, na), 0);
	assert_int_equal(registry_observe(f->reg, &b, 1000, &ev, nb), 0);
	/* The second of one scope name is told apart by its serial, not by
	 * the order the answers came in. */
	assert_string_equal(nb, "camsim-camera-sn2");
	/* Rounds at 5000, 6000, 7000: only a answered. Silence is counted,
	 * never enough by itself to make a camera gone. */
	for (int r = 1; r <= 3; r++) {
		int64_t t0 = 4000 + r * 1000;

		assert_int_equal(registry_observe(f->reg, &a, t0, &ev, NULL), 0);
		assert_int_equal(registry_count_missed(f->reg, t0 - 10, t0, 3, names, 8, &n), 0);
		assert_int_equal(n, r == 3 ? 1 : 0);
		assert_int_equal(registry_get(f->reg, nb, &got), 0);
		assert_false(got.gone);
		assert_int_equal(got.missed_rounds, r);
	}
	assert_string_equal(names[0], nb);
	/* The evidence was judged elsewhere; the registry keeps the why. */
	assert_int_equal(registry_set_gone(f->reg, nb, "no answer to 3 rounds", 7500), 0);
	assert_int_equal(registry_set_gone(f->reg, nb, "again", 7600), -EALREADY);
	assert_int_equal(registry_get(f->reg, nb, &got), 0);
	assert_true(got.gone);
	assert_string_equal(got.gone_reason, "no answer to 3 rounds");
	t = changes_since(f, 0, "gone_reason");
	assert_string_equal(t.new_v, "no answer to 3 rounds");
	/* A gone camera is no candidate any more. */
	assert_int_equal(registry_count_missed(f->reg, 7990, 8000, 3, names, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(registry_observe(f->reg, &b, 9000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_RETURNED);
	assert_int_equal(registry_get(f->reg, nb, &got), 0);
	assert_false(got.gone);
	assert_string_equal(got.gone_reason, "");
	assert_int_equal(got.missed_rounds, 0);
	/* One missed round after its return starts the count afresh. */
	assert_int_equal(registry_count_missed(f->reg, 9990, 10000, 3, names, 8, &n), 0);
	assert_int_equal(n, 0);
	/* A Bye, the way discovery takes it: by endpoint to name, then gone. */
	assert_int_equal(registry_endpoint_name(f->reg, a.endpoint, na), 0);
	assert_int_equal(registry_set_gone(f->reg, na, "said Bye", 7000), 0);
	assert_int_equal(registry_get(f->reg, na, &got), 0);
	assert_true(got.gone);
	assert_int_equal(registry_endpoint_name(f->reg, "urn:uuid:nobody", names[0]), -ENOENT);
	assert_int_equal(registry_endpoint_name(f->reg, b.endpoint, na), 0);
	assert_string_equal(na, nb);
}

/* Two cameras of one scope name, seen in either order by two fresh
 * registries (as discovery gives them: both answered one round, both get
 * the suffixed name), end with the same names. */
static void test_names_do_not_depend_on_order(void **state)
{
	struct fix *f = *state;
	struct registry_camera a, b;
	enum registry_event ev;
	char n1[2][REGISTRY_NAME_MAX], n2[2][REGISTRY_NAME_MAX], plain[REGISTRY_NAME_MAX];
	struct statedb *db2;
	struct registry *reg2;
	char dir2[64];

	camera(&a, 1);
	camera(&b, 2);
	snprintf(a.serial, sizeof(a.serial), "ACME-000417");
	snprintf(b.serial, sizeof(b.serial), "ACME-000952");
	registry_new_name(&a, false, plain);
	assert_string_equal(plain, "camsim-camera");
	registry_new_name(&a, true, a.name);
	registry_new_name(&b, true, b.name);
	assert_string_equal(a.name, "camsim-camera-0417");
	assert_string_equal(b.name, "camsim-camera-0952");
	assert_int_equal(registry_observe(f->reg, &a, 1000, &ev, n1[0]), 0);
	assert_int_equal(registry_observe(f->reg, &b, 1000, &ev, n1[1]), 0);
	testutil_mkdtemp(dir2, sizeof(dir2), "registry_test2");
	assert_int_equal(statedb_open(dir2, &db2), 0);
	assert_int_equal(registry_open(db2, &reg2), 0);
	assert_int_equal(registry_observe(reg2, &b, 1000, &ev, n2[1]), 0);
	assert_int_equal(registry_observe(reg2, &a, 1000, &ev, n2[0]), 0);
	assert_string_equal(n1[0], n2[0]);
	assert_string_equal(n1[1], n2[1]);
	registry_close(reg2);
	statedb_close(db2);
	testutil_rmtree(dir2);
	/* A newcomer whose plain name is taken gets its suffix, not "-2". */
	a.name[0] = '\0';
	camera(&b, 3);
	snprintf(b.serial, sizeof(b.serial), "ACME-001234");
	assert_int_equal(registry_observe(f->reg, &b, 2000, &ev, n1[0]), 0);
	camera(&a, 4);
	snprintf(a.serial, sizeof(a.serial), "ACME-005678");
	assert_int_equal(registry_observe(f->reg, &a, 2000, &ev, n1[1]), 0);
	assert_string_equal(n1[0], "camsim-camera");
	assert_string_equal(n1[1], "camsim-camera-5678");
	/* No serial: the MAC, else the endpoint reference. */
	camera(&a, 5);
	a.serial[0] = '\0';
	registry_new_name(&a, true, plain);
	assert_string_equal(plain, "camsim-camera-0005");
}

static void test_rename_sticks(void **state)
{
	struct fix *f = *state;
	struct registry_camera a, b, got;
	enum registry_event ev;
	char na[REGISTRY_NAME_MAX], nb[REGISTRY_NAME_MAX];
	struct tally t;

	camera(&a, 1);
	camera(&b, 2);
	assert_int_equal(registry_observe(f->reg, &a, 1000, &ev, na), 0);
	assert_int_equal(registry_observe(f->reg, &b, 1000, &ev, nb), 0);
	assert_int_equal(registry_rename(f->reg, na, "gate-north", REGISTRY_CAUSE_INSTALLER, 2000),
			 0);
	t = changes_since(f, 0, "name");
	assert_string_equal(t.event, "set");
	assert_string_equal(t.cause, "installer");
	assert_string_equal(t.old_v, na);
	assert_string_equal(t.new_v, "gate-north");
	assert_int_equal(registry_get(f->reg, na, &got), -ENOENT);
	/* Discovery sees it again (new firmware even): the name stays. */
	snprintf(a.firmware, sizeof(a.firmware), "1.0.1");
	assert_int_equal(registry_observe(f->reg, &a, 3000, &ev, na), 0);
	assert_int_equal(ev, REGISTRY_CHANGED);
	assert_string_equal(na, "gate-north");
	assert_int_equal(registry_rename(f->reg, "gate-north", nb, REGISTRY_CAUSE_INSTALLER, 4000),
			 -EEXIST);
	assert_int_equal(registry_rename(f->reg, "nobody", "x", REGISTRY_CAUSE_INSTALLER, 4000),
			 -ENOENT);
	assert_int_equal(registry_rename(f->reg, nb, "bad name", REGISTRY_CAUSE_INSTALLER, 4000),
			 -EINVAL);
	assert_int_equal(registry_rename(f->reg, nb, "-x", REGISTRY_CAUSE_INSTALLER, 4000),
			 -EINVAL);
	assert_int_equal(registry_get(f->reg, nb, &got), 0);
}

static void test_installer_fields(void **state)
{
	struct fix *f = *state;
	struct registry_camera c, got;
	enum registry_event ev;
	char name[REGISTRY_NAME_MAX];
	struct tally t;

	camera(&c, 1);
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, name), 0);
	t = changes_since(f, 0, "");
	assert_int_equal(registry_set(f->reg, name, "provider_unit", "Unit 7",
				      REGISTRY_CAUSE_INSTALLER, 2000),
			 0);
	assert_int_equal(registry_set(f->reg, name, "owner", "City", REGISTRY_CAUSE_CENTRAL, 2000),
			 0);
	t = changes_since(f, t.last_id, "owner");
	assert_int_equal(t.rows, 2);
	assert_string_equal(t.event, "set");
	assert_string_equal(t.cause, "central");
	assert_string_equal(t.old_v, "");
	assert_string_equal(t.new_v, "City");
	/* Discovery leaves them alone (G3). */
	assert_int_equal(registry_observe(f->reg, &c, 3000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_UNCHANGED);
	assert_int_equal(registry_get(f->reg, name, &got), 0);
	assert_string_equal(got.provider_unit, "Unit 7");
	assert_string_equal(got.owner, "City");
	/* Refused edits. */
	assert_int_equal(registry_set(f->reg, name, "serial", "X", REGISTRY_CAUSE_INSTALLER, 1),
			 -EINVAL);
	assert_int_equal(registry_set(f->reg, name, "nope", "X", REGISTRY_CAUSE_INSTALLER, 1),
			 -EINVAL);
	assert_int_equal(registry_set(f->reg, name, "update_method", "sometimes",
				      REGISTRY_CAUSE_INSTALLER, 1),
			 -EINVAL);
	assert_int_equal(
		registry_set(f->reg, name, "update_interval_ms", "-5", REGISTRY_CAUSE_INSTALLER, 1),
		-EINVAL);
	assert_int_equal(registry_set(f->reg, name, "enabled", "no", REGISTRY_CAUSE_INSTALLER, 1),
			 0);
	assert_int_equal(registry_get(f->reg, name, &got), 0);
	assert_false(got.enabled);
}

static void test_manual_camera(void **state)
{
	struct fix *f = *state;
	struct registry_camera got;
	char *json;

	assert_int_equal(registry_set(f->reg, "door", "stream_uri", "rtsp://10.0.0.5/live",
				      REGISTRY_CAUSE_INSTALLER, 1000),
			 0);
	assert_int_equal(registry_get(f->reg, "door", &got), 0);
	assert_string_equal(got.update_method, "manual");
	assert_string_equal(got.stream_uri, "rtsp://10.0.0.5/live");
	assert_int_equal(registry_get(f->reg, "window", &got), -ENOENT);
	assert_int_equal(registry_record_json(&got, &json), 0);
	assert_non_null(strstr(json, "\"update_method\":\"manual\""));
	assert_non_null(strstr(json, "\"name\":\"door\""));
	free(json);
	/* The record uses the contract's names (docs/uplink.md 6.1), not
	 * the table's: address, location, update_frequency, users as a list. */
	assert_int_equal(registry_set(f->reg, "door", "data_users", " police, ward 3 ,,transport",
				      REGISTRY_CAUSE_INSTALLER, 1000),
			 0);
	assert_int_equal(registry_set(f->reg, "door", "scope_location", "gate 3",
				      REGISTRY_CAUSE_INSTALLER, 1000),
			 0);
	assert_int_equal(registry_get(f->reg, "door", &got), 0);
	snprintf(got.ip, sizeof(got.ip), "10.0.0.5");
	assert_int_equal(registry_record_json(&got, &json), 0);
	assert_non_null(strstr(json, "\"users\":[\"police\",\"ward 3\",\"transport\"]"));
	assert_non_null(strstr(json, "\"address\":\"10.0.0.5\""));
	assert_non_null(strstr(json, "\"location\":{\"description\":\"gate 3\"}"));
	assert_non_null(strstr(json, "\"update_frequency\":\"on change\""));
	assert_null(strstr(json, "\"ip\""));
	assert_null(strstr(json, "data_users"));
	assert_null(strstr(json, "update_interval_ms"));
	assert_null(strstr(json, "_raw"));
	free(json);
}

static int count_cam(void *arg, const struct registry_camera *c)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static void test_reopen_keeps_everything(void **state)
{
	struct fix *f = *state;
	struct registry_camera c;
	enum registry_event ev;
	int n = 0;

	camera(&c, 3);
	assert_int_equal(registry_observe(f->reg, &c, 1000, &ev, NULL), 0);
	registry_close(f->reg);
	statedb_close(f->db);
	assert_int_equal(statedb_open(f->dir, &f->db), 0);
	assert_int_equal(registry_open(f->db, &f->reg), 0);
	assert_int_equal(registry_list(f->reg, count_cam, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(registry_observe(f->reg, &c, 2000, &ev, NULL), 0);
	assert_int_equal(ev, REGISTRY_UNCHANGED);
}

/* state.db holds accounts and the audit log: 0640 like every file
 * camgate makes, not SQLite's 0644; a wider one is narrowed at open. */
static void test_statedb_mode(void **state)
{
	struct fix *f = *state;
	char path[96];
	struct statedb *db;
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/s2", f->dir);
	assert_int_equal(statedb_open(path, &db), 0);
	statedb_close(db);
	snprintf(path, sizeof(path), "%s/s2/state.db", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/s2", f->dir);
	assert_int_equal(statedb_open(path, &db), 0);
	statedb_close(db);
	umask(old);
	snprintf(path, sizeof(path), "%s/s2/state.db", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_then_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statedb_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_ip_and_firmware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_and_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_do_not_depend_on_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_sticks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installer_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_camera, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
	};

	log_init("registry_test", LOG_DEST_PLAIN, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
