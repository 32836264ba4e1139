# SPDX-License-Identifier: GPL-2.0-or-later
"""`camgate bench-ring`, the installer's check of the ring's disk: it
makes its folder when that is new (its usage says "empty or new"),
measures, and says plainly why when the folder cannot be made."""

import re

import cglib


def _bench(cg, folder):
    # No config needed: --dir says where; a tiny run (4 x 64 KiB, 1 round).
    return cg.cli("bench-ring", "--dir", folder, "--segments", 4, "--size", 65536,
                  "--rounds", 1, config="/dev/null", timeout=cglib.CLI_TIMEOUT_S)


def test_new_folder_is_made(env, tmp_path):
    cg = env.camgate()
    folder = tmp_path / "disk" / "bench"
    (tmp_path / "disk").mkdir()
    r = _bench(cg, folder)
    assert r.returncode == 0, r.stderr
    for what in ("ring append", "ring writer", "ratio append/plain"):
        assert re.search(r"^%s\s+[0-9.]+" % what, r.stdout, re.M), r.stdout
    assert folder.is_dir()


def test_folder_that_cannot_be_made(env, tmp_path):
    cg = env.camgate()
    (tmp_path / "a-file").write_text("not a folder\n")
    r = _bench(cg, tmp_path / "a-file" / "bench")
    assert r.returncode != 0
    assert "bench-ring: %s" % (tmp_path / "a-file" / "bench") in r.stderr, r.stderr
    assert "Not a directory" in r.stderr, r.stderr
