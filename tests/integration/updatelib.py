# SPDX-License-Identifier: GPL-2.0-or-later
"""Update kits for the update tests (tests/integration/console/test_update.py,
tests/integration/uplink/test_update_central.py): real key pairs
(scripts/mkkeys.sh), real RAUC bundles (scripts/mkbundle.sh, Debian's rauc)
and the SANDBOX RAUC stand-in for what this host cannot do.

The host has no A/B slots and no bootloader, so `rauc install` and
`rauc status` (booted slot, mark-good, mark-bad) cannot run here for real:
the stand-in script records install and mark-* calls in a log and keeps the
booted slot's boot status in a file; every other command, `rauc info`
(the signature, manifest and board check) included, is the real rauc."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWER = "99.0.0"
OLDER = "0.0.1"

STAND_IN = r"""#!/bin/sh
# SANDBOX RAUC: stand-in for the slot operations of this host (no A/B
# slots, no bootloader); `rauc info` and the rest go to the real rauc.
d=$(dirname "$0")
case "$1" in
install)
	echo "install $2" >> "$d/rauc.log"
	echo "installing $2: succeeded"
	exit 0;;
status)
	case "${2:-}" in
	mark-good)
		echo "mark-good" >> "$d/rauc.log"
		echo good > "$d/boot_status"
		echo "marked slot rootfs.1 as good"
		exit 0;;
	mark-bad)
		echo "mark-bad ${3:-}" >> "$d/rauc.log"
		echo bad > "$d/boot_status"
		echo "marked slot rootfs.1 as bad"
		exit 0;;
	esac
	bs=$(cat "$d/boot_status" 2>/dev/null || echo good)
	printf '{"compatible":"camgate-host","booted":"B","boot_primary":"rootfs.1","slots":[{"rootfs.0":{"class":"rootfs","bootname":"A","state":"inactive","boot_status":"good"}},{"rootfs.1":{"class":"rootfs","bootname":"B","state":"booted","boot_status":"%s"}}]}\n' "$bs"
	exit 0;;
esac
exec rauc "$@"
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
    """The SANDBOX RAUC stand-in in its own folder @d."""

    def __init__(self, d, boot_status=None):
        self.d = Path(d)
        self.d.mkdir(parents=True, exist_ok=True)
        self.path = self.d / "sandbox-rauc"
        self.path.write_text(STAND_IN)
        self.path.chmod(0o755)
        if boot_status:
            (self.d / "boot_status").write_text(boot_status + "\n")

    def calls(self):
        log = self.d / "rauc.log"
        return log.read_text().splitlines() if log.exists() else []
