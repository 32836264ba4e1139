# SPDX-License-Identifier: GPL-2.0-or-later
"""Audit rows reach central exactly once (R8, firmware/audit.h): `camgate
run` ships them as events, a batch per status tick, and commits the ship
cursor in the transaction of the batch's outbox rows. Killed with SIGKILL
again and again while it ships, then let finish, it has put every row of
the audit table at central once: no row twice, none missing."""

import json
import random
import re
import sqlite3
import time

import pytest

import cglib

GW = "gw-audit-ship"
ROWS = 1200  # about 19 batches of 64
KILLS = 8

# The core schema's first step (storage/statedb.c), as a firmware before
# the hash chain left state.db: the rows are chained at the first start.
CORE_STEP = """
CREATE TABLE audit (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
  actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE alarms (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1,
  code TEXT NOT NULL, camera TEXT NOT NULL, message TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1, cleared_ms INTEGER);
CREATE INDEX alarms_active ON alarms(active, code, camera);
CREATE TABLE schema (module TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO schema VALUES ('core', 1);
"""


def seed(state_dir, n):
	db = sqlite3.connect(str(state_dir / "state.db"))
	try:
		db.executescript(CORE_STEP)
		now = int(time.time() * 1000) - n
		db.executemany("INSERT INTO audit (ts_ms, actor, action, object, detail)"
			       " VALUES (?, 'admin', 'setting', ?, ?)",
			       [(now + i, "gateway.row%d" % i, "seeded row %d" % i)
				for i in range(n)])
		db.commit()
	finally:
		db.close()


def central_audit_ids(central):
	"""[audit id] of every audit event at central, one per object."""
	ids = []
	for p in (central.file("gateways/" + GW) / "events").glob("*.json"):
		try:
			ev = json.loads(p.read_text())
		except ValueError:
			continue  # being written
		if ev.get("type") == "audit":
			ids.append(int(re.match(r"audit #(\d+) at ", ev["message"]).group(1)))
	return ids


def shipped_all(cg):
	last = cg.db_rows("SELECT max(id) AS id FROM audit")[0]["id"]
	return cg.db_rows("SELECT id FROM audit_shipped")[0]["id"] == last


@pytest.mark.budget(120)
def test_audit_rows_exactly_once_across_kill9(env, central_mtls, uplink_config, schema_check):
	central = central_mtls
	cg = env.camgate()
	uplink_config(cg, central, {}, gateway={"id": GW, "status_interval": "500ms"})
	seed(cg.state_dir, ROWS)
	rnd = random.Random(13)
	cg.start()
	for i in range(KILLS):
		before = len(central_audit_ids(central))
		if i % 2:
			# Right as the next batch lands: the kill falls inside
			# the shipping of a batch or the one after it (unless a
			# slow machine let it ship everything meanwhile).
			cglib.wait_for("more audit events at central",
				       lambda: len(central_audit_ids(central)) > before or
				       shipped_all(cg), 20, 0.01)
		else:
			time.sleep(rnd.uniform(0.05, 1.2))
		cg.kill9()
		cg.start(wait_ring=False)

	def all_shipped():
		cg.assert_running()
		rows = [r["id"] for r in cg.db_rows("SELECT id FROM audit ORDER BY id")]
		cursor = cg.db_rows("SELECT id FROM audit_shipped")[0]["id"]
		if cursor != rows[-1] or cg.db_rows("SELECT id FROM outbox WHERE kind = 6"):
			return None
		return rows
	cglib.wait_for("every audit row shipped", all_shipped, 60, 0.5)
	# Central's status object carries the daemon's state (asserted last).
	try:
		state_ok = cglib.wait_for("a status at central", lambda: json.loads(
			central.file("gateways/%s/status.json" % GW).read_text()).get(
				"daemon_state") == "RUNNING", 10, 0.2)
	except cglib.Failure:
		state_ok = False
	assert cg.stop() == 0
	rows = [r["id"] for r in cg.db_rows("SELECT id FROM audit ORDER BY id")]
	assert len(rows) > ROWS  # the seeded ones, the chain's rows, each start's
	got = sorted(central_audit_ids(central))
	dup = sorted({i for i in got if got.count(i) > 1})
	assert not dup, "shipped twice: %s" % dup[:20]
	assert got == rows, "missing at central: %s" % sorted(set(rows) - set(got))[:20]
	assert state_ok, "central's status.json has no daemon_state RUNNING"
	schema_check(central, GW)
