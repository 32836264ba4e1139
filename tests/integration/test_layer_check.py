# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/layer-check.sh, the layer gate of `make check`: an include that
reaches a higher layer (or between drivers/ and storage/) is named as
FILE:LINE and fails the check; the allowed directions, system headers
such as <net/if.h> and the exempt folders pass; the repository itself keeps to its layers."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "layer-check.sh"


def run(tree):
	return subprocess.run(["sh", str(SCRIPT), str(tree)], capture_output=True, text=True,
			      timeout=60)


def write(tree, files):
	for name, text in files.items():
		p = tree / name
		p.parent.mkdir(parents=True, exist_ok=True)
		p.write_text(text)


ALLOWED = {
	"lib/a.h": '#include "lib/b.h"\n',
	"drivers/onvif/d.c": '#include <net/if.h>\n#include "lib/a.h"\n#include "drivers/stream/s.h"\n',
	"storage/s.c": '#include <stdio.h>\n#include "lib/a.h"\n#include "storage/r.h"\n',
	"net/n.c": '#include "lib/a.h"\n#include "storage/r.h"\n#include "net/o.h"\n',
	"firmware/f.c": '#include "net/n.h"\n#include "drivers/onvif/d.h"\n#include "storage/s.h"\n',
	"tests/unit/t.c": '#include "firmware/f.h"\n',
	"board/host/b.c": '#include "firmware/f.h"\n',
}


def test_allowed_directions_pass(tmp_path):
	write(tmp_path, ALLOWED)
	r = run(tmp_path)
	assert r.returncode == 0, r.stdout + r.stderr


def test_each_upward_include_is_named(tmp_path):
	write(tmp_path, dict(ALLOWED, **{
		"net/uplink_x.c": '#include <errno.h>\n\n#include "firmware/alarm.h"\n',
		"net/uplink_y.h": '  #  include "drivers/stream/stream.h"\n',
		"storage/z.c": '#include "lib/a.h"\n#include "drivers/serial/serial.h"\n',
		"drivers/stream/w.c": '#include "storage/ring.h"\n',
		"lib/v.c": '#include "net/uplink.h"\n',
	}))
	r = run(tmp_path)
	assert r.returncode == 1, r.stdout
	named = sorted(l.split(": ")[0] for l in r.stdout.splitlines() if l.count(":") >= 2)
	assert named == ["drivers/stream/w.c:1", "lib/v.c:1", "net/uplink_x.c:3",
			 "net/uplink_y.h:1", "storage/z.c:2"], r.stdout
	assert "layers: 5 includes reach a higher layer" in r.stdout


def test_repository_keeps_to_its_layers():
	r = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, timeout=60)
	assert r.returncode == 0, r.stdout + r.stderr
