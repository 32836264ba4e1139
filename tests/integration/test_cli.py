# SPDX-License-Identifier: GPL-2.0-or-later
"""The command-line interface as a consistent whole: every command's
--help prints its usage and exits 0 without a config file; errors carry
the `camgate: error:` prefix, never the binary's path; an unknown camera
is an error, a known one without footage is not."""

import subprocess

import pytest

import cglib

COMMANDS = [["run"], ["status"], ["ring"], ["ring", "ls"], ["ring", "stat"],
            ["ring", "verify"], ["ring", "rebuild"], ["ring", "cat"],
            ["config"], ["config", "check"], ["config", "doc"], ["console"],
            ["discover"], ["uplink"], ["uplink", "test"], ["bench-ring"],
            ["update"], ["version"], ["help"]]


def camgate(*args, config="/nonexistent/camgate.conf"):
    return subprocess.run([str(cglib.CAMGATE_BIN), "-c", str(config)] +
                          [str(a) for a in args], capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: "-".join(c))
def test_help_without_config(cmd):
    r = camgate(*cmd, "--help")
    assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    assert "usage:" in r.stdout, (cmd, r.stdout)
    assert r.stderr == "", (cmd, r.stderr)
    first = r.stdout.splitlines()[0]
    assert first.startswith("usage: camgate") and (cmd[-1] in first or cmd == ["help"]), first


@pytest.mark.parametrize("args", [["--bogus", "version"], ["ring", "ls", "--bogus"],
                                  ["discover", "--bogus"], ["uplink", "test", "--url"],
                                  ["bench-ring", "-x"], ["version", "extra"],
                                  ["update", "--bogus", "f.raucb"]],
                         ids=lambda a: "-".join(a))
def test_usage_errors_use_the_prefix(args):
    r = camgate(*args)
    assert r.returncode == 2, (args, r.stderr)
    assert r.stderr.startswith("camgate: error: "), r.stderr
    assert str(cglib.CAMGATE_BIN) not in r.stderr, r.stderr


def test_ring_ls_unknown_camera(env):
    """A camera of the config with no footage: exit 0 and says so. A name
    neither in the config nor in the ring: exit 1 and names it."""
    cg = env.camgate()
    cg.write_config({"cam1": "rtsp://127.0.0.1:9/none"})
    cg.start()
    cg.stop()
    r = cg.cli("ring", "ls", "cam1")
    assert r.returncode == 0, r.stderr
    assert "no footage of this camera" in r.stdout
    for extra in ([], ["--json"]):
        r = cg.cli("ring", "ls", "nosuchcamera", *extra)
        assert r.returncode == 1, (extra, r.stdout, r.stderr)
        assert "unknown camera 'nosuchcamera'" in r.stderr


def test_ring_created_audit_says_what(env):
    """The audit row of a new ring says what was made, not an empty detail."""
    cg = env.camgate()
    cg.write_config({"cam1": "rtsp://127.0.0.1:9/none"},
                    storage={"extents": 3, "extent_size": "2M"})
    cg.start()
    cg.stop()
    rows = cg.db_rows("SELECT object, detail FROM audit WHERE action = 'ring-created'")
    assert len(rows) == 1, rows
    assert rows[0]["detail"] == "3 extents of 2097152 bytes", rows


def test_version_from_git():
    """The version names the commit it was built from (scripts/version.sh),
    one value for `version`, the console and the status object."""
    import re
    r = camgate("version")
    assert r.returncode == 0, r.stderr
    m = re.match(r"^camgate (\d+\.\d+\.\d+)(?:-\d+)?(?:-g([0-9a-f]{7,}))?(-dirty)? "
                 r"\(board \w+\)$", r.stdout.strip())
    assert m, r.stdout
    top = cglib.CAMGATE_BIN.resolve().parents[2]
    inside = subprocess.run(["git", "-C", str(top), "rev-parse", "--git-dir"],
                            capture_output=True).returncode == 0
    if inside:
        assert m.group(2), "built from git but no commit in %r" % r.stdout
        assert subprocess.run(["git", "-C", str(top), "cat-file", "-e",
                               m.group(2) + "^{commit}"]).returncode == 0, r.stdout


def test_state_and_storage_parents_created(env):
    """state_dir and storage.dir whose parent folders do not exist yet:
    created (as mkdir -p), not 'cannot create: No such file or directory'."""
    cg = env.camgate()
    deep_state = cg.dir / "new" / "var" / "lib" / "camgate"
    deep_ring = cg.dir / "new" / "data" / "ring"
    cg.state_dir = deep_state
    cg.ring_dir = deep_ring
    cg.write_config({"cam1": "rtsp://127.0.0.1:9/none"})
    cg.start()
    assert cg.stop() == 0
    assert (deep_state / "state.db").exists()
    assert (deep_ring / "index.db").exists()


def test_config_is_a_directory(tmp_path):
    r = camgate("config", "check", config=tmp_path)
    assert r.returncode == 1, r.stdout
    assert "is a directory, not a config file" in r.stderr
    assert "ok" not in r.stdout


@pytest.mark.parametrize("args,says", [
    (["--jobs", "0"], "--jobs wants 1 to"), (["--jobs", "x"], "--jobs wants 1 to"),
    (["--timeout", "abc"], "--timeout wants a duration"),
    (["--call-timeout", "10ms"], "--call-timeout wants a duration"),
    (["--watch", "2d"], "--watch wants a duration")],
    ids=lambda a: "-".join(a) if isinstance(a, list) else "")
def test_discover_bad_values_say_why(args, says):
    """A bad option value is refused before anything is sent, and says so."""
    r = camgate("discover", *args)
    assert r.returncode == 2, (args, r.stderr)
    assert says in r.stderr and r.stderr.startswith("camgate: error: discover: "), r.stderr
