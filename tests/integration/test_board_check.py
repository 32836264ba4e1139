# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/board-check.sh, the board gate of `make check`: the repository's
boards are complete; a missing overlay file, a file a README names but
nobody wrote, a missing caps fact, a rootfs.perms line for a file that
no overlay ships and a missing input of the image recipe each fail it,
naming the file."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "board-check.sh"


def run(tree):
	return subprocess.run(["sh", str(SCRIPT), str(tree)], capture_output=True, text=True,
			      timeout=60)


@pytest.fixture
def tree(tmp_path):
	for d in ("board", "toolchain", "scripts"):
		shutil.copytree(ROOT / d, tmp_path / d)
	return tmp_path


def test_repository_boards_are_complete():
	r = run(ROOT)
	assert r.returncode == 0, r.stdout + r.stderr
	assert "boards complete" in r.stdout


def test_the_copy_passes(tree):
	r = run(tree)
	assert r.returncode == 0, r.stdout + r.stderr


def test_missing_overlay_file_fails(tree):
	(tree / "board/common/rootfs/usr/lib/sysusers.d/camgate.conf").unlink()
	r = run(tree)
	assert r.returncode == 1
	assert "board/rpi4/rootfs/usr/lib/sysusers.d/camgate.conf: missing" in r.stdout
	assert "board/imx6ul/rootfs/usr/lib/sysusers.d/camgate.conf: missing" in r.stdout


def test_board_specific_file_missing_fails(tree):
	(tree / "board/imx6ul/rootfs/etc/rauc/system.conf").unlink()
	r = run(tree)
	assert r.returncode == 1
	assert "board/imx6ul/rootfs/etc/rauc/system.conf: missing" in r.stdout
	assert "rpi4" not in r.stdout


def test_readme_names_a_file_that_does_not_exist(tree):
	readme = tree / "board/rpi4/README.md"
	text = readme.read_text().replace("## Files\n", "## Files\n\n- `etc/camgate/ghost.conf`: x\n")
	readme.write_text(text)
	r = run(tree)
	assert r.returncode == 1
	assert "board/rpi4/README.md names 'etc/camgate/ghost.conf'" in r.stdout


def test_perms_line_without_a_file_fails(tree):
	perms = tree / "board/rpi4/rootfs.perms"
	perms.write_text(perms.read_text() + "/etc/camgate/ghost.conf  0640  root:camgate\n")
	r = run(tree)
	assert r.returncode == 1
	assert "/etc/camgate/ghost.conf" in r.stdout


def test_missing_caps_fact_fails(tree):
	caps = tree / "board/host/caps"
	caps.write_text(caps.read_text().replace("has_watchdog=no\n", ""))
	r = run(tree)
	assert r.returncode == 1
	assert "board/host/caps: no 'has_watchdog=yes|no' line" in r.stdout


def test_image_input_missing_fails(tree):
	(tree / "board/common/image-packages").unlink()
	(tree / "toolchain/apt-sources.sh").unlink()
	r = run(tree)
	assert r.returncode == 1
	assert "board/common/image-packages: missing (an input of make image)" in r.stdout
	assert "toolchain/apt-sources.sh: missing" in r.stdout
