# SPDX-License-Identifier: GPL-2.0-or-later
"""The A/B step of the boot test (tests/boot/boot_test.py --step ab).

UEFI firmware (AAVMF) loads GRUB from the EFI system partition; grub.cfg
(RAUC's grub backend pattern) picks the slot. On the serial console's root
shell:
  1. slot A boots, camgate uploads, the interim mark-good unit marks A good;
  2. `camgate update` installs bundle "good" (version 0.1.1, the same
     rootfs with a marker file) into slot B; reboot: B boots (rauc.slot=B,
     the marker), camgate uploads again, B is marked good;
  3. `camgate update` installs bundle "broken" (0.1.2, camgate's unit
     runs /bin/false) into slot A; reboot: A boots once, camgate never
     becomes healthy, the unit marks A bad and reboots; GRUB skips A and
     B runs again: rolled back.
The bundles reach the guest on a second, read-only virtio disk (ext4).
"""

import json
import os
import shutil
import subprocess
import time

MIB = 1 << 20
GOOD_VERSION = "0.1.1"
BAD_VERSION = "0.1.2"
# The broken variant's trial time for the interim mark-good unit (the
# image's is 240 s): the test waits for it once.
BAD_TRIAL_SECONDS = 90


def variants(bt, work, sqfs):
    """The two bundles, cached beside the work folder by the image's size
    and time (unsquashfs and two mksquashfs take minutes here)."""
    st = os.stat(sqfs)
    cache = work.rstrip("/") + "-bundles"
    key = "%d-%d" % (st.st_size, int(st.st_mtime))
    out = os.path.join(cache, key)
    good = os.path.join(out, "good.raucb")
    bad = os.path.join(out, "broken.raucb")
    if os.path.exists(good) and os.path.exists(bad):
        return good, bad
    if os.path.exists(cache):
        shutil.rmtree(cache)
    os.makedirs(out)
    tree = os.path.join(cache, "tree")
    bt.log("ab: unpacking the slot to make the bundles' rootfs variants")
    bt.run("unsquashfs", "-q", "-n", "-d", tree, sqfs, stdout=subprocess.DEVNULL)

    def pack(name, version):
        d = os.path.join(cache, name)
        os.makedirs(d)
        # gzip: GRUB's squash4 reads it, and it is quick to make here.
        bt.run("mksquashfs", tree, os.path.join(d, "rootfs.squashfs"), "-noappend", "-comp", "gzip",
               "-no-progress", "-quiet", stdout=subprocess.DEVNULL)
        env = dict(os.environ, BUNDLE_VERSION=version)
        dst = os.path.join(out, name + ".raucb")
        bt.run("sh", os.path.join(bt.TOP, "scripts/mkbundle.sh"), "rpi4", d, dst, env=env,
               cwd=bt.TOP, stdout=subprocess.DEVNULL)
        shutil.rmtree(d)
        return dst

    marker = os.path.join(tree, "etc/camgate-boottest-variant")
    with open(marker, "w") as f:
        f.write("update-good\n")
    good = pack("good", GOOD_VERSION)
    with open(marker, "w") as f:
        f.write("update-broken\n")
    dropin = os.path.join(tree, "etc/systemd/system/camgate.service.d/broken.conf")
    with open(dropin, "w") as f:
        f.write("# The boot test's broken update: camgate never runs.\n"
                "[Service]\nExecStartPre=\nExecStart=\nExecStart=/bin/false\n")
    mg = os.path.join(tree, "etc/systemd/system/camgate-mark-good.service.d")
    os.makedirs(mg, exist_ok=True)
    with open(os.path.join(mg, "trial.conf"), "w") as f:
        f.write("[Service]\nEnvironment=TRIAL_SECONDS=%d\n" % BAD_TRIAL_SECONDS)
    bad = pack("broken", BAD_VERSION)
    shutil.rmtree(tree)
    return good, bad


def bundles_disk(bt, work, good, bad):
    d = os.path.join(work, "bundles")
    os.makedirs(d, exist_ok=True)
    shutil.copy(good, os.path.join(d, "good.raucb"))
    shutil.copy(bad, os.path.join(d, "broken.raucb"))
    size = os.path.getsize(good) + os.path.getsize(bad) + 32 * MIB
    img = os.path.join(work, "bundles.img")
    bt.run("mkfs.ext4", "-q", "-L", "cgbundles", "-d", d, img, "%dM" % (size // MIB))
    shutil.rmtree(d)
    return img


def rauc_status(bt, g):
    rc, out = g.shell("rauc status --detailed --output-format=json 2>/dev/null", 120)
    line = [w for w in out.splitlines() if w.startswith("{")]
    if rc or not line:
        raise bt.Fail("rauc status failed:\n" + out)
    return json.loads(line[-1])


def slot_state(st, bootname):
    for s in st["slots"]:
        for v in s.values():
            if v.get("bootname") == bootname:
                return v
    return {}



def boot_slot(bt, g, slot, since, timeout=900):
    """The kernel command line names slot; returns the console mark there."""
    m = g.wait(r"Kernel command line:[^\n]*rauc\.slot=([AB])", timeout, since)
    if m.group(1) != slot:
        raise bt.Fail("slot %s booted, %s expected" % (m.group(1), slot))
    return m.start()


def step_ab(bt, net, work, sqfs, root, pki):
    good, bad = variants(bt, work, sqfs)
    bundles = bundles_disk(bt, work, good, bad)
    data = bt.make_data(work, root, pki, bt.DATA_SIZE)
    esp = bt.make_esp(work, root, 32 * MIB)
    slot = max(bt.slot_size(sqfs), max(os.path.getsize(good), os.path.getsize(bad)) + 64 * MIB)
    slot = (slot // MIB) * MIB
    disk = bt.make_disk(work, [("esp", 32 * MIB, bt.ESP_TYPE, esp),
                               ("rootfs-a", slot, bt.LINUX_TYPE, sqfs),
                               ("rootfs-b", slot, bt.LINUX_TYPE, None),
                               ("data", bt.DATA_SIZE, bt.LINUX_TYPE, data)])
    res = {}
    t0 = time.monotonic()
    wall = time.time()
    bt.log("ab: UEFI + GRUB boot of slot A")
    g = bt.Guest(net, work, disk, extra_disks=[bundles])
    try:
        at = boot_slot(bt, g, "A", 0)
        g.wait(r"mark-good: camgate healthy, slot A good", 900, at)
        res["uefi_boot_to_good_s"] = round(time.monotonic() - t0)
        g.login(at, 120)
        bt.wait_central(net, 300, wall)
        bt.log("ab: slot A good after %d s; installing the good bundle into B"
               % res["uefi_boot_to_good_s"])

        t = time.monotonic()
        rc, out = g.shell("mount -o ro /dev/vdb /mnt; camgate update /mnt/good.raucb >/tmp/u.log 2>&1; r=$?; tail -n 5 /tmp/u.log; (exit $r)",
                          1800)
        if rc:
            raise bt.Fail("camgate update of the good bundle failed:\n" + out)
        res["install_good_s"] = round(time.monotonic() - t)
        bt.log("ab: installed in %d s: %s" % (res["install_good_s"], out.strip().splitlines()[-1:]))
        st = rauc_status(bt, g)
        if st.get("boot_primary") != "rootfs.1":
            raise bt.Fail("slot B (rootfs.1) is not primary after install: %s" % json.dumps(st)[:800])

        since = g.mark()
        t = time.monotonic()
        wall = time.time()
        g.send("umount /mnt; reboot")
        bs = boot_slot(bt, g, "B", since)
        g.wait(r"mark-good: camgate healthy, slot B good", 900, bs)
        res["reboot_to_b_good_s"] = round(time.monotonic() - t)
        g.login(bs, 120)
        bt.wait_central(net, 300, wall)
        rc, out = g.shell("cat /etc/camgate-boottest-variant", 60)
        if "update-good" not in out:
            raise bt.Fail("slot B does not run the good bundle's rootfs:\n" + out)
        st = rauc_status(bt, g)
        if st.get("booted") != "B" or slot_state(st, "B").get("boot_status") != "good":
            raise bt.Fail("slot B not booted and good: %s" % json.dumps(st)[:800])
        bt.log("ab: slot B booted the update and is good (%d s); installing the broken bundle into A"
               % res["reboot_to_b_good_s"])

        rc, out = g.shell("mount -o ro /dev/vdb /mnt; camgate update /mnt/broken.raucb >/tmp/u.log 2>&1; r=$?; tail -n 5 /tmp/u.log; (exit $r)",
                          1800)
        st = rauc_status(bt, g)
        if rc or st.get("boot_primary") != "rootfs.0":
            raise bt.Fail("the broken bundle did not install into A:\n%s\n%s" % (out, json.dumps(st)[:800]))
        since = g.mark()
        t = time.monotonic()
        g.send("umount /mnt; reboot")
        a = boot_slot(bt, g, "A", since)
        g.wait(r"mark-good: camgate not healthy within \d+ s: slot marked bad", 900, a)
        bt.log("ab: the broken slot A was marked bad; expecting B")
        b = boot_slot(bt, g, "B", a)
        g.wait(r"mark-good: camgate healthy, slot B good", 900, b)
        res["rollback_s"] = round(time.monotonic() - t)
        g.login(b, 120)
        rc, out = g.shell("cat /etc/camgate-boottest-variant", 60)
        if "update-good" not in out:
            raise bt.Fail("after the rollback the good rootfs does not run:\n" + out)
        st = rauc_status(bt, g)
        if st.get("booted") != "B" or slot_state(st, "A").get("boot_status") != "bad":
            raise bt.Fail("after the rollback: %s" % json.dumps(st)[:800])
        bt.log("ab: rolled back to B in %d s (A bad)" % res["rollback_s"])
        g.send("systemctl poweroff")
        try:
            g.proc.wait(120)
        except subprocess.TimeoutExpired:
            pass
        return res
    finally:
        g.stop()
