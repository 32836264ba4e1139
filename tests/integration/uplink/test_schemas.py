# SPDX-License-Identifier: GPL-2.0-or-later
"""docs/schema/ itself: every schema is valid JSON Schema (draft 2020-12),
docs/objects.md is what scripts/schema-doc.py makes of them, and the
schemas and schema_check can fail: the registry record in the form the
gateway used to send is refused, an object at a path no schema covers is
refused, and a status with an alarm kind added later is accepted."""

import json
import subprocess
import sys
import types

import pytest

import jsonschema

import cglib

# By path: in one session with tests/integration/onvif, a plain `from
# conftest import` may find that folder's conftest.
_fx = cglib.uplink_fixtures()
REPO, SCHEMA_DIR, _schemas = _fx.REPO, _fx.SCHEMA_DIR, _fx._schemas


def validator(name):
	return jsonschema.Draft202012Validator(
		json.loads((SCHEMA_DIR / (name + ".schema.json")).read_text()))


def test_schemas_valid_and_doc_current():
	assert len(_schemas()) >= 4
	out = subprocess.run([sys.executable, str(REPO / "scripts" / "schema-doc.py")],
			     capture_output=True, text=True, check=True).stdout
	assert out == (REPO / "docs" / "objects.md").read_text(), \
		"docs/objects.md is stale: run 'make docs'"


ADDED = {"gateway": "gw-1", "camera": "cam1", "version": 3,
	 "changed_at": "2026-01-05T10:00:04.123Z", "deadline": "2026-01-19T17:00:00.000Z"}


def test_registry_record_contract():
	v = validator("registry-record")
	good = dict(ADDED, name="cam1", manufacturer="Acme", model="X1", firmware="1.0",
		    serial="S1", mac="", address="10.0.0.5",
		    location={"description": "gate 3", "lat": 20.95, "lon": 107.08},
		    provider_unit="unit", update_method="onvif-auto",
		    update_frequency="every 600 s", users=["police"])
	assert not list(v.iter_errors(good))
	assert not list(v.iter_errors(dict(ADDED, removed=True)))
	# The table's column names, as sent before: refused.
	old = dict(good, ip="10.0.0.5", update_interval_ms=600000, data_users="police")
	for k in ("address", "update_frequency", "users", "location"):
		del old[k]
	msgs = " ".join(e.message for e in v.iter_errors(old))
	for k in ("ip", "update_interval_ms", "data_users", "address", "users", "location"):
		assert k in msgs, msgs
	assert list(v.iter_errors(dict(good, users="police")))
	assert list(v.iter_errors(dict(good, update_frequency="600000")))
	assert list(v.iter_errors(dict(ADDED, removed=True, name="x")))


def test_status_alarm_kinds_open():
	v = validator("status")
	st = {"gateway": "gw-1", "time": "2026-01-05T10:00:30.000Z", "firmware": "0.1",
	      "uplink_uptime_s": 1.5,
	      "uplink": {"link": "up", "last_success": None, "sent_objects": 0, "sent_bytes": 0,
			 "failures": 0, "lost_segments": 0, "last_error": "",
			 "queue": {p: {"objects": 0, "bytes": 0, "oldest": None}
				   for p in ("urgent", "live", "backlog")}},
	      "registry": {"pending_changes": 0, "oldest_change": None, "deadline": None,
			   "alarm_at": None},
	      "alarms": [{"code": "state-disk-full", "camera": "", "message": "m",
			  "since_ms": 1, "last_ms": 2, "count": 1}],
	      "something_new": {"x": 1}}
	assert not list(v.iter_errors(st))
	bad = json.loads(json.dumps(st))
	bad["alarms"][0]["code"] = "Not An Id"
	assert list(v.iter_errors(bad))
	bad = json.loads(json.dumps(st))
	bad["time"] = "2026-01-05 10:00:30"
	assert list(v.iter_errors(bad))


def test_schema_check_fails_on_bad_objects(tmp_path, schema_check):
	central = types.SimpleNamespace(file=lambda rel: tmp_path / rel)
	root = tmp_path / "gateways" / "gw-1"
	(root / "results").mkdir(parents=True)
	(root / "commands").mkdir()
	(root / "commands" / "c1.json").write_text("{not checked")
	(root / "results" / "c1.json").write_text(json.dumps(
		{"id": "c1", "command": "x", "status": "refused", "message": "m",
		 "gateway": "gw-1", "time_ms": 1}))
	assert schema_check(central, "gw-1") == {"command-result.schema.json": 1}
	(root / "results" / "c2.json").write_text(json.dumps({"id": "c2", "status": "ok"}))
	with pytest.raises(AssertionError, match="results/c2.json"):
		schema_check(central, "gw-1")
	(root / "results" / "c2.json").unlink()
	(root / "stray.json").write_text("{}")
	with pytest.raises(AssertionError, match="stray.json: 0 schemas"):
		schema_check(central, "gw-1")
