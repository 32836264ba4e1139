# SPDX-License-Identifier: GPL-2.0-or-later
"""state.db lost under `camgate run` while four cameras record and upload:
removed (with its -wal and -shm), overwritten in place with garbage, or
one b-tree page damaged under a sound header (found by the periodic
quick_check, [gateway] state_check_interval).

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
import sqlite3
from pathlib import Path

import pytest

import cglib
from test_camgate_outage import GW, check_complete, finish, media_acks, start_recording

STOP_S = 10  # status_interval is 1 s; the check runs each tick


def central_copies(central):
	"""{path: sha256} of every media segment central holds."""
	root = central.file("gateways/" + GW) / "media"
	return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
		for p in root.glob("*/*.m4s")}


def lose_and_restart(env, central, uplink_config, damage, says, start=start_recording):
	srv, cg = start(env, central, uplink_config)
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


CHECK_S = 2  # [gateway] state_check_interval for the case below


def start_recording_checked(env, central, uplink_config):
	"""start_recording() with state.db's quick_check every CHECK_S."""
	return start_recording(env, central, uplink_config,
			       gateway={"state_check_interval": "%ds" % CHECK_S})


@pytest.mark.budget(90)
def test_state_db_page_damaged_while_running(env, central_mtls, uplink_config, uplink_check,
					     schema_check):
	"""One b-tree page in the middle of state.db overwritten, its header
	sound: statedb_check() cannot see it and the daemon would not read
	that page until the next start, which would refuse the file. The
	periodic quick_check finds it within state_check_interval, names it
	in the log, and the daemon stops as for an overwritten file."""
	central = central_mtls
	damaged = {}

	def damage_page(db):
		# The pages in the main file, not only in the -wal.
		conn = sqlite3.connect(str(db), timeout=10)
		try:
			busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
			assert busy[0] == 0, busy
			psize = conn.execute("PRAGMA page_size").fetchone()[0]
			# The `schema` table's page: written at open only, so the
			# running daemon does not rewrite it whole into the -wal
			# (which would make the file sound again at its checkpoint).
			page = conn.execute("SELECT rootpage FROM sqlite_schema"
					    " WHERE name = 'schema'").fetchone()[0]
			npages = conn.execute("PRAGMA page_count").fetchone()[0]
		finally:
			conn.close()
		assert 1 < page <= npages, (page, npages)
		damaged.update(page=page, npages=npages)
		with open(db, "r+b") as f:
			f.seek((page - 1) * psize)
			f.write(b"\xa5" * 512)
		head = db.read_bytes()[:16]
		assert head == b"SQLite format 3\0", head
	cg, cams, before = lose_and_restart(env, central, uplink_config, damage_page,
					    "state.db is damaged (quick_check)",
					    start=start_recording_checked)
	log = cg.log.read_text()
	assert "state.db: quick_check: Page %d" % damaged["page"] in log, log[-3000:]
	aside = list(cg.state_dir.glob("state.db.corrupt-*"))
	assert aside, "the damaged file was not kept aside"
	check_complete(central, cams, uplink_check)
	schema_check(central, GW)
	print("page %d of %d damaged: %d segments at central before, %d in the ring, all at "
	      "central; kept aside: %s" % (damaged["page"], damaged["npages"], len(before),
					  sum(len(c["segments"]) for c in cams),
					  [p.name for p in aside]))
