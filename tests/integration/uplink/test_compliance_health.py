# SPDX-License-Identifier: GPL-2.0-or-later
"""R11 health signals through `camgate run` and a real central (nginx over
mutual TLS), docs/compliance.md: a camera that records, but under the
[compliance] bitrate_min_kbps floor, has its fault duty opened after
fault_after with a detail naming the signal; the duty is in the status
object central holds and a "compliance" event; central lowering the floor
(set-setting) closes it while the camera keeps recording."""

import json
import sys
from pathlib import Path

import pytest

import cglib

sys.path.append(str(Path(__file__).resolve().parent))
from test_compliance import GW, DEFAULTS, duty, events  # noqa: E402


def central_fault(central, cam):
    try:
        st = json.loads(central.file("gateways/%s/status.json" % GW).read_text())
    except (OSError, ValueError):
        return None
    for r in st.get("compliance", []):
        if r["kind"] == "fault" and r["camera"] == cam:
            return r
    return None


def test_bitrate_floor_opens_fault(env, central_mtls, uplink_config, schema_check):
    cams = env.cameras(cams=1)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"cam1": cams.url(1)},
                  gateway={"status_interval": "1s"}, commands_interval="1s")
    # No test camera sends a gigabit per second: it is under the floor
    # as soon as a segment is measured.
    cg.write_raw(cg.conf.read_text() + DEFAULTS + "bitrate_min_kbps = 1000000\n")
    cg.start()
    cg.wait_segments({"cam1": 1}, 60)

    # (With fault_after at 1 s the fault may open while it still
    # connects; the detail then moves to the health signal.)
    d = cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("open") == 1 and
                 duty(cg, "fault", "cam1")["detail"].startswith("bitrate ") and
                 duty(cg, "fault", "cam1"), 30)
    assert d, duty(cg, "fault", "cam1")
    assert "kbit/s under 1000000" in d["detail"], d
    r = cglib.poll(lambda: "bitrate" in (central_fault(central_mtls, "cam1") or {}).get(
        "detail", "") and central_fault(central_mtls, "cam1"), 20)
    assert r and r["requirement"] == "R11" and "kbit/s under 1000000" in r["detail"], r
    assert cglib.poll(lambda: any(m.startswith("fault opened") for m in
                                events(central_mtls, "cam1")), 20), events(central_mtls, "cam1")

    # Central turns the floor off: healthy, the fault closes.
    cmds = central_mtls.file("gateways/%s/commands" % GW)
    cmds.mkdir(parents=True, exist_ok=True)
    (cmds / "b1.json").write_text(json.dumps({"command": "set-setting", "args": {
        "key": "compliance.bitrate_min_kbps", "value": "0"}}))
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("open") == 0, 30), \
        duty(cg, "fault", "cam1")
    assert cg.stop() == 0
    counts = schema_check(central_mtls, GW)
    assert counts.get("status.schema.json", 0) >= 1, counts


@pytest.mark.budget(150)
def test_gap_keeps_fault_open(env, central_mtls, uplink_config):
    """A camera that went away and came back left a gap in its recording:
    with [compliance] gaps_max = 1 the fault stays open after it records
    again, its detail the gap instead of the stream down."""
    cams = env.cameras(cams=1)
    cg = env.camgate()
    uplink_config(cg, central_mtls, {"cam1": cams.url(1)},
                  gateway={"status_interval": "1s"}, commands_interval="1s")
    cg.write_raw(cg.conf.read_text() + DEFAULTS + "gaps_max = 1\n")
    cg.start()
    cg.wait_segments({"cam1": 2}, 60)
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("open") == 0, 30), \
        duty(cg, "fault", "cam1")
    cams.stop()
    assert cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("detail", "").startswith(
        "stream down"), 60), duty(cg, "fault", "cam1")
    cams.start()
    d = cglib.poll(lambda: (duty(cg, "fault", "cam1") or {}).get("detail") ==
                 "1 stream gap within an hour" and duty(cg, "fault", "cam1"), 90)
    assert d and d["open"] == 1, duty(cg, "fault", "cam1")
    assert cg.stop() == 0
