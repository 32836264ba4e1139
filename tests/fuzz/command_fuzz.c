// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * command_fuzz - arbitrary bytes as a command object from central
 * (libFuzzer).
 *
 * Central's commands are untrusted JSON: the uplink parses each body with
 * cJSON_ParseWithLength() (net/uplink_cmd.c) and hands "args" to the
 * gateway's table (firmware/daemon_policy.c). The one whose arguments go
 * furthest is `blocklist`: args.entries is validated and stored in
 * state.db by blocklist_set(). Each input is parsed the same way and its
 * args.entries given to blocklist_set() against a real state.db in
 * $TMPDIR (else /dev/shm), with one registered camera.
 *
 * Properties (a broken one aborts):
 *  - a refused list (-EINVAL) says why and leaves the list generation
 *    as it was (B1: the old list stays);
 *  - an accepted list bumps the generation and blocklist_json() then
 *    holds as many entries as the input array;
 *  - blocklist_match() and blocklist_camera() answer 0 or 1, never an
 *    error, whatever the patterns.
 * See tests/fuzz/README.md.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/blocklist.h"
#include "firmware/registry.h"
#include "lib/log.h"
#include "storage/statedb.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[128];
static struct statedb *fz_db;
static struct registry *fz_reg;
static unsigned long fz_runs;

static void fz_fail(const char *what, int ret)
{
	fprintf(stderr, "command_fuzz: %s (%d)\n", what, ret);
	abort();
}

static void fz_cleanup(void)
{
	static const char *const names[] = { "state.db", "state.db-wal", "state.db-shm" };
	char path[256];

	registry_close(fz_reg);
	statedb_close(fz_db);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz_dir, names[i]);
		unlink(path);
	}
	rmdir(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *level = getenv("FUZZ_LOG_LEVEL");
	struct registry_camera c = { .enabled = true, .update_method = "manual" };
	enum registry_event ev;
	int lvl = LOG_DEBUG, ret;
	struct stat st;

	(void)argc;
	(void)argv;
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("command_fuzz", LOG_DEST_PLAIN, lvl);
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/command_fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz_dir))
		fz_fail("mkdtemp", -errno);
	ret = statedb_open(fz_dir, &fz_db);
	if (!ret)
		ret = registry_open(fz_db, &fz_reg);
	if (!ret)
		ret = blocklist_open(fz_db);
	if (ret)
		fz_fail("state.db", ret);
	snprintf(c.name, sizeof(c.name), "door");
	snprintf(c.manufacturer, sizeof(c.manufacturer), "Acme");
	snprintf(c.model, sizeof(c.model), "X100-PRO");
	snprintf(c.firmware, sizeof(c.firmware), "1.0.3");
	snprintf(c.serial, sizeof(c.serial), "SN-door");
	snprintf(c.ip, sizeof(c.ip), "10.0.0.4");
	ret = registry_observe(fz_reg, &c, 1000, &ev, NULL);
	if (ret)
		fz_fail("registry_observe", ret);
	atexit(fz_cleanup);
	return 0;
}

/* The audit and alarm rows each accepted list writes would make state.db
 * grow without bound over millions of runs. */
static void fz_trim(void)
{
	struct sqlite3 *db;

	if (++fz_runs % 4096)
		return;
	db = statedb_lock(fz_db);
	sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL);
	statedb_unlock(fz_db);
}

static void fz_check(const cJSON *entries, int ret, int64_t g0, const char *msg)
{
	int64_t g1 = 0;
	cJSON *out = NULL;
	char why[256];
	int m;

	if (blocklist_generation(fz_db, &g1))
		fz_fail("blocklist_generation", -EIO);
	if (ret == -EINVAL) {
		if (!msg[0])
			fz_fail("refused without saying why", ret);
		if (g1 != g0)
			fz_fail("a refused list changed the generation", (int)(g1 - g0));
	} else if (ret) {
		fz_fail("blocklist_set", ret);
	} else {
		if (g1 <= g0)
			fz_fail("an accepted list kept the generation", (int)(g1 - g0));
		if (blocklist_json(fz_db, &out))
			fz_fail("blocklist_json", -EIO);
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "entries")) !=
		    cJSON_GetArraySize(entries))
			fz_fail("stored entries differ in number from the list",
				cJSON_GetArraySize(entries));
		cJSON_Delete(out);
	}
	m = blocklist_match(fz_db, "Acme", "X100-PRO", "1.0.3", why, sizeof(why));
	if (m < 0 || m > 1)
		fz_fail("blocklist_match", m);
	m = blocklist_camera(fz_db, fz_reg, "door", why, sizeof(why));
	if (m < 0 || m > 1)
		fz_fail("blocklist_camera", m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *cmd = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(cmd, "args");
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(args, "entries");
	char msg[256] = "";
	int64_t g0 = 0;
	int ret;

	if (!cJSON_IsObject(cmd)) {
		cJSON_Delete(cmd);
		return 0;
	}
	if (blocklist_generation(fz_db, &g0))
		fz_fail("blocklist_generation", -EIO);
	ret = blocklist_set(fz_db, entries, "central", msg, sizeof(msg));
	fz_check(entries, ret, g0, msg);
	fz_trim();
	cJSON_Delete(cmd);
	return 0;
}
