/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blocklist - cameras central has flagged as insecure or uncertified (R9):
 * make/model/firmware patterns central sends with the `blocklist` command,
 * kept in state.db (tables blocklist*, module "blocklist").
 *
 * A camera whose registry record (manufacturer, model, firmware) matches
 * an entry is blocked: camgate run neither records nor forwards it, raises
 * the alarm "camera-blocked" and writes an audit row when it becomes
 * blocked. It stays blocked until the list changes (a new list drops
 * every override) or an admin overrides it on the console with a reason
 * (`blocklist override`, audited). Patterns are shell globs (fnmatch),
 * case-insensitive; a missing or empty field matches anything, and an
 * entry with every field empty is refused.
 *
 * Guarantees (tests/unit/blocklist_test.c, tests/integration/uplink/
 * test_camgate_policy.py::test_blocklist_*):
 *  B1  blocklist_set() replaces the whole list in one transaction, bumps
 *      the list generation and drops the overrides of the old list.
 *  B2  blocklist_generation() changes with every list and every override,
 *      so the daemon knows when to apply them again.
 *
 * Threads: any; statedb serialises.
 * Errors: 0 or -errno: -EINVAL (a malformed list: @msg says why), -EIO.
 */
#ifndef CAMGATE_FIRMWARE_BLOCKLIST_H
#define CAMGATE_FIRMWARE_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct statedb;
struct registry;
struct cJSON;

#define BLOCKLIST_MAX 256 /* entries */

/* Migrate the tables; the other calls do it too. */
int blocklist_open(struct statedb *db);

/* Replace the list by @list, a JSON array of objects {"make", "model",
 * "firmware", "reason"} (strings, each optional; @list borrowed), as
 * @actor ("central"), audited (B1). -EINVAL with @msg saying what is
 * wrong; the old list stays. */
int blocklist_set(struct statedb *db, const struct cJSON *list, const char *actor, char *msg,
		  size_t cap);

/* Does (@make, @model, @firmware) match an entry? 1 yes (@why gets the
 * entry and its reason), 0 no, -EIO. */
int blocklist_match(struct statedb *db, const char *make, const char *model, const char *firmware,
		    char *why, size_t cap);

/* Is camera @camera blocked now: its registry record matches and no
 * override of the current list exists? 1 yes (@why says which entry),
 * 0 no (also when it has no registry record), -errno. On a change of
 * that answer the alarm "camera-blocked" is raised or cleared and an
 * audit row ("camera-blocked", "camera-unblocked") written. */
int blocklist_camera(struct statedb *db, struct registry *reg, const char *camera, char *why,
		     size_t cap);

/* The admin @actor lets @camera record despite the current list;
 * @reason is required (-EINVAL without). Audited. */
int blocklist_override(struct statedb *db, const char *camera, const char *actor,
		       const char *reason);

/* B2. *genp 0 before any list. */
int blocklist_generation(struct statedb *db, int64_t *genp);

/* The list and the overrides as a new JSON object {"entries": [...],
 * "overrides": [...], "blocked": [...]} (caller frees). */
int blocklist_json(struct statedb *db, struct cJSON **outp);

#endif /* CAMGATE_FIRMWARE_BLOCKLIST_H */
