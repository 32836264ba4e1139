# SPDX-License-Identifier: GPL-2.0-or-later
"""Update kits for the update tests (tests/integration/console/test_update.py,
tests/integration/uplink/test_update_central.py): real key pairs
(scripts/mkkeys.sh), real RAUC bundles (scripts/mkbundle.sh, Debian's rauc)
and the SANDBOX RAUC stand-in for what this host cannot do.

`rauc install` cannot run here: it mounts the bundle through dm-verity,
and this host's kernel has no device mapper. So `install` goes to the
SANDBOX RAUC stand-in script, which records the call; every other command
is the real rauc: `rauc info` (the signature, manifest and board check)
and `rauc status` with mark-good and mark-bad, answered by a real
`rauc service` (RaucService) on a private D-Bus session bus, configured
with two slot files and `bootloader=custom`, whose backend script keeps
the primary slot and each slot's good/bad state in files."""

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWER = "99.0.0"
OLDER = "0.0.1"

STAND_IN = r"""#!/bin/sh
# SANDBOX RAUC: stand-in for `rauc install` (this host has no device
# mapper for the bundle's dm-verity mount); every other command is the
# real rauc.
d=$(dirname "$0")
if [ "$1" = install ]; then
	echo "install $2" >> "$d/rauc.log"
	echo "installing $2: succeeded"
	exit 0
fi
exec rauc "$@"
"""

BACKEND = r"""#!/bin/sh
# bootloader=custom backend of the test's rauc service: the boot selection
# a bootloader keeps, in files next to this script.
d=$(dirname "$0")
echo "$*" >> "$d/backend.log"
case "$1" in
get-primary) cat "$d/primary" 2>/dev/null || echo B;;
set-primary) echo "$2" > "$d/primary";;
get-state) cat "$d/state.$2" 2>/dev/null || echo good;;
set-state) echo "$3" > "$d/state.$2";;
get-current) echo B;;
*) exit 1;;
esac
"""

SYSTEM_CONF = """[system]
compatible=camgate-host
bootloader=custom
data-directory={d}/data
bundle-formats=-plain

[handlers]
bootloader-custom-backend={d}/backend.sh

[keyring]
path={keyring}

[slot.rootfs.0]
device={d}/slotA
type=raw
bootname=A

[slot.rootfs.1]
device={d}/slotB
type=raw
bootname=B
"""


def sh(*args, env=None):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120,
                       cwd=ROOT, env=dict(os.environ, **(env or {})))
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def make_kit(d):
    """Two key pairs in @d, a small image and bundles made from it:
    {newer, older, other_key, other_board, tampered: paths, keyring: the
    good certificate}."""
    d = Path(d)
    for k in ("good", "other"):
        sh("sh", "scripts/mkkeys.sh", d / k)
    img = d / "img"
    (img / "root").mkdir(parents=True)
    (img / "root" / "payload").write_bytes(os.urandom(64 * 1024))  # verity wants > 4 KiB
    sh("mksquashfs", img / "root", img / "rootfs.squashfs", "-noappend", "-quiet")

    def bundle(name, version, key="good", compatible="camgate-host"):
        out = d / ("%s.raucb" % name)
        sh("sh", "scripts/mkbundle.sh", "host", img, out,
           env={"RAUC_KEY": str(d / key / "dev.key.pem"),
                "RAUC_CERT": str(d / key / "dev.cert.pem"),
                "BUNDLE_COMPATIBLE": compatible, "BUNDLE_VERSION": version})
        return out

    b = {"newer": bundle("newer", NEWER), "older": bundle("older", OLDER),
         "other_key": bundle("other-key", NEWER, key="other"),
         "other_board": bundle("other-board", NEWER, compatible="camgate-rpi4")}
    # The signature and the signed manifest sit at the end of the bundle,
    # before its 8-byte size: flip a byte there.
    t = d / "tampered.raucb"
    data = bytearray(b["newer"].read_bytes())
    data[-200] ^= 0xFF
    t.write_bytes(bytes(data))
    b["tampered"] = t
    b["keyring"] = d / "good" / "dev.cert.pem"
    return b


class StandIn:
    """The SANDBOX RAUC stand-in (install only) in its own folder @d."""

    def __init__(self, d):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.path = self.d / "sandbox-rauc"
        self.path.write_text(STAND_IN)
        self.path.chmod(0o755)

    def calls(self):
        log = self.d / "rauc.log"
        return log.read_text().splitlines() if log.exists() else []


class RaucService:
    """A real `rauc service` for slot B booted (--override-boot-slot) on a
    private D-Bus session bus, in @d; env() is what a client (camgate, rauc
    status) needs to reach it. @states: the slots' initial good/bad."""

    def __init__(self, d, keyring, states=None):
        self.d = Path(d)
        (self.d / "data").mkdir(parents=True, exist_ok=True)
        for slot in ("slotA", "slotB"):
            with open(self.d / slot, "wb") as f:
                f.truncate(4 << 20)
        backend = self.d / "backend.sh"
        backend.write_text(BACKEND)
        backend.chmod(0o755)
        for name, st in (states or {}).items():
            (self.d / ("state." + name)).write_text(st + "\n")
        self.conf = self.d / "system.conf"
        self.conf.write_text(SYSTEM_CONF.format(d=self.d, keyring=keyring))
        self.bus = "unix:path=%s" % (self.d / "bus")
        self.procs = []
        self.log = open(self.d / "service.log", "ab")
        self.procs.append(subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--address=" + self.bus],
            stdout=self.log, stderr=self.log))
        self._wait(lambda: (self.d / "bus").exists(), "the D-Bus socket")
        self.procs.append(subprocess.Popen(
            ["rauc", "service", "--conf=%s" % self.conf, "--override-boot-slot=B"],
            stdout=self.log, stderr=self.log, env=dict(os.environ, **self.env())))
        self._wait(lambda: subprocess.run(["rauc", "status"], capture_output=True,
                                          env=dict(os.environ, **self.env()),
                                          timeout=10).returncode == 0, "rauc service")

    def _wait(self, pred, what):
        end = time.monotonic() + 15
        while not pred():
            if time.monotonic() > end or any(p.poll() is not None for p in self.procs):
                raise RuntimeError("%s did not come up: %s" % (
                    what, (self.d / "service.log").read_text(errors="replace")[-2000:]))
            time.sleep(0.1)

    def env(self):
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus, "DBUS_STARTER_BUS_TYPE": "session"}

    def backend(self):
        """The backend calls that change the boot selection, in order."""
        log = self.d / "backend.log"
        return [l for l in (log.read_text().splitlines() if log.exists() else [])
                if l.startswith("set-")]

    def state(self, slot):
        p = self.d / ("state." + slot)
        return p.read_text().strip() if p.exists() else "good"

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.log.close()
