# SPDX-License-Identifier: GPL-2.0-or-later
"""state.db lost under `camgate run` while four cameras record and upload:
removed (with its -wal and -shm), or overwritten in place with garbage.

The running connection would keep writing to what it opened (an unlinked
inode, or pages no restart can read), so every later audit and outbox row
would vanish at the next start. camgate checks the file each status tick
(statedb_check()), stops with a failed exit when it is gone, and the next
start re-creates it (moving a garbage file aside as
state.db.corrupt-EPOCH), raises `state-db-lost` with an audit row, and
the uplink's ring scan re-sends the whole ring: every segment central
acknowledged before is still there unchanged, and every ring segment is
at central byte for byte with no hole (docs/storage.md, "state.db lost";
docs/architecture.md, "One record of a segment's upload")."""

import hashlib
import os
from pathlib import Path

import pytest

import cglib
from test_camgate_outage import GW, NAMES, check_complete, finish, media_acks, start_recording

STOP_S = 10  # status_interval is 1 s; the check runs each tick


def central_copies(central):
	"""{path: sha256} of every media segment central holds."""
	root = central.file("gateways/" + GW) / "media"
	return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
		for p in root.glob("*/*.m4s")}


def lose_and_restart(env, central, uplink_config, damage, says):
	srv, cg = start_recording(env, central, uplink_config)
	cglib.wait_for("a few segments at central", lambda: len(media_acks(central)) >= 6, 30)
	damage(cg.state_dir / "state.db")
	cglib.wait_for("camgate to stop on the lost state.db", lambda: not cg.running(), STOP_S, 0.1)
	assert cg.proc.returncode != 0, "camgate went on (or stopped cleanly) without its state.db"
	log = cg.log.read_text()
	assert says in log, log[-2000:]
	before = central_copies(central)
	assert before
	cg.start()

	def alarmed():
		rows = cg.db_rows("SELECT message FROM alarms WHERE code = 'state-db-lost'"
				  " AND active = 1")
		return rows or None
	cglib.wait_for("the state-db-lost alarm", alarmed, 10, 0.2)
	audit = cg.db_rows("SELECT action FROM audit WHERE action = 'state-db-lost'")
	assert len(audit) == 1, audit
	cams = finish(cg, srv)
	assert cg.verify().returncode == 0
	after = central_copies(central)
	changed = {p for p, h in before.items() if after.get(p) != h}
	assert not changed, "acknowledged segments lost or changed at central: %s" % sorted(changed)
	return cg, cams, before


@pytest.mark.budget(90)
def test_state_db_removed_while_running(env, central_mtls, uplink_config, uplink_check,
					schema_check):
	central = central_mtls

	def remove(db):
		for suffix in ("", "-wal", "-shm"):
			Path(str(db) + suffix).unlink(missing_ok=True)
	cg, cams, before = lose_and_restart(env, central, uplink_config, remove,
					    "state.db was removed or replaced while running")
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("removed: %d segments at central before, %d in the ring, all at central"
	      % (len(before), sum(len(c["segments"]) for c in cams)))


@pytest.mark.budget(90)
def test_state_db_overwritten_while_running(env, central_mtls, uplink_config, uplink_check,
					    schema_check):
	central = central_mtls

	def overwrite(db):
		# The file and its -wal, in place (same inodes), as a failing
		# flash would: the -wal alone could otherwise make the file
		# whole again at the next checkpoint.
		for p in (db, Path(str(db) + "-wal")):
			size = p.stat().st_size
			with open(p, "r+b") as f:
				f.write(os.urandom(max(size, 4096)))
	cg, cams, before = lose_and_restart(env, central, uplink_config, overwrite,
					    "state.db was overwritten (not a database)")
	aside = list(cg.state_dir.glob("state.db.corrupt-*"))
	assert aside, "the garbage file was not kept aside"
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("overwritten: %d segments at central before, %d in the ring, all at central; "
	      "kept aside: %s" % (len(before), sum(len(c["segments"]) for c in cams),
				  [p.name for p in aside]))
