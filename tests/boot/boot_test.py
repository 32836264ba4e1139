#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot test of the rpi4 image under qemu-system-aarch64 (`make boot-test`).

The image is `make image BOARD=rpi4` with the test's layer
(IMAGE_EXTRA=tests/boot/image: GRUB's arm64 EFI modules, the A/B
system.conf for grub, fstab onto the data partition, DHCP, a root shell on
the serial console, the interim mark-good unit). Everything runs inside a
network namespace this test creates (nothing leaves it): a simulated RTSP
camera (tests/camsim/rtsp_cam.py) and the test central (scripts/central.sh,
nginx over mutual TLS) on the namespace's loopback, which the guest reaches
as 10.0.2.2 through qemu's user networking.

The disk (a sparse file, no loop device): GPT with 1 EFI system partition
(GRUB, grub.cfg, grubenv), 2 slot A (the image's squashfs, read-only
root), 3 slot B, 4 data (ext4: camgate's config, state, ring; RAUC's
status).

  boot  - the image's own kernel and initrd (taken from the slot) booted
          directly (-kernel/-initrd, root=/dev/vda2): systemd starts
          camgate, which records the camera and uploads; proved by
          central's files (a segment, status.json of this gateway id) and
          the serial console log.
  ab    - the same disk under UEFI firmware (AAVMF) and GRUB with RAUC's
          grub backend: `camgate update` on the serial console installs a
          signed bundle into slot B, the reboot runs B, which is marked
          good; a bundle whose camgate never becomes healthy goes into A,
          is booted once, marked bad and rolled back to B.

Usage: boot_test.py [--step boot|ab|all] IMAGE_DIR WORK_DIR
Root; needs qemu-system-arm, qemu-efi-aarch64, grub-common, mtools,
dosfstools, e2fsprogs, fdisk, squashfs-tools, rauc, nginx, python3-gi.
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GW = "gw-boot-01"
CENTRAL_PORT = 8443
CAM_PORT = 8554
HOST = "10.0.2.2"  # the namespace's loopback, as qemu's user network shows it
MIB = 1 << 20
# The data partition: the ring (8 x 4 MiB), state.db, RAUC status, room to spare
# above camgate's state-disk-low alarm (16 MiB).
DATA_SIZE = 96 * MIB
AAVMF_CODE = "/usr/share/AAVMF/AAVMF_CODE.fd"
AAVMF_VARS = "/usr/share/AAVMF/AAVMF_VARS.fd"
T0 = time.monotonic()


def log(msg):
    sys.stderr.write("boot-test [%6.1f s]: %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def run(*args, **kw):
    kw.setdefault("check", True)
    return subprocess.run(list(args), **kw)


class Fail(Exception):
    pass


# --- the namespace, the camera, central ----------------------------------

class Net:
    """A network namespace with lo up, the camera and central in it."""

    def __init__(self, work):
        self.ns = "cgboot%d" % os.getpid()
        self.work = work
        self.central = os.path.join(work, "central")
        self.procs = []
        run("ip", "netns", "add", self.ns)
        run("ip", "-n", self.ns, "link", "set", "lo", "up")

    def exec_args(self, *args):
        return ["ip", "netns", "exec", self.ns] + list(args)

    def pki(self):
        """central.sh's PKI, made here first so the server certificate
        names 10.0.2.2 (central.sh keeps a PKI it finds)."""
        p = os.path.join(self.central, "pki")
        os.makedirs(p, exist_ok=True)

        def ossl(*a):
            run("openssl", *a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def key(n):
            ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-out", "%s/%s.key" % (p, n))

        def ca(n, cn):
            key(n)
            ossl("req", "-x509", "-new", "-key", "%s/%s.key" % (p, n), "-out", "%s/%s.crt" % (p, n),
                 "-days", "30", "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

        def leaf(n, c, cn, ext):
            key(n)
            ossl("req", "-new", "-key", "%s/%s.key" % (p, n), "-out", "%s/%s.csr" % (p, n),
                 "-subj", "/CN=" + cn)
            with open("%s/%s.ext" % (p, n), "w") as f:
                f.write(ext + "\n")
            ossl("x509", "-req", "-in", "%s/%s.csr" % (p, n), "-CA", "%s/%s.crt" % (p, c),
                 "-CAkey", "%s/%s.key" % (p, c), "-CAcreateserial", "-days", "30",
                 "-extfile", "%s/%s.ext" % (p, n), "-out", "%s/%s.crt" % (p, n))

        ca("ca", "camgate boot test central CA")
        ca("client-ca", "camgate boot test gateway CA")
        leaf("server", "ca", "central", "subjectAltName=IP:%s,IP:127.0.0.1" % HOST)
        leaf("client", "client-ca", GW, "extendedKeyUsage=clientAuth")
        return p

    def start(self):
        pki = self.pki()
        run(*self.exec_args("sh", os.path.join(TOP, "scripts/central.sh"), "start",
                            self.central, str(CENTRAL_PORT)), stdout=subprocess.DEVNULL)
        ready = os.path.join(self.work, "cam.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        cam_log = open(os.path.join(self.work, "camera.log"), "w")
        # Small and light: the guest is emulated (TCG).
        p = subprocess.Popen(self.exec_args(
            "/usr/bin/python3", os.path.join(TOP, "tests/camsim/rtsp_cam.py"),
            "--address", "127.0.0.1", "--port", str(CAM_PORT), "--cams", "1",
            "--size", "640x360", "--bitrate", "400k", "--audio", "none",
            "--clip-dir", os.path.join(TOP, "build/clips"), "--ready-file", ready,
            "--max-lifetime", "7200"), stdout=cam_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.procs.append(p)
        for _ in range(600):
            if os.path.exists(ready):
                break
            if p.poll() is not None:
                raise Fail("camera simulator exited (%s/camera.log)" % self.work)
            time.sleep(0.2)
        else:
            raise Fail("camera simulator not ready in 120 s")
        return pki

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        run("sh", os.path.join(TOP, "scripts/central.sh"), "stop", self.central, check=False)
        run("ip", "netns", "del", self.ns, check=False)

    def www(self, rel):
        return os.path.join(self.central, "www", "gateways", GW, rel)


# --- the disk -------------------------------------------------------------

def extract(sqfs, dest, *paths):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    run("unsquashfs", "-q", "-n", "-d", dest, sqfs, *paths, stdout=subprocess.DEVNULL)


def slot_boot_files(root):
    """The kernel and initrd of an extracted slot (/boot)."""
    k = sorted(glob.glob(os.path.join(root, "boot/vmlinuz-*")))
    i = sorted(glob.glob(os.path.join(root, "boot/initrd.img-*")))
    if not k or not i:
        raise Fail("the image has no kernel or initrd in /boot")
    return k[-1], i[-1]


def owner(root, name, db):
    with open(os.path.join(root, "etc", db)) as f:
        for line in f:
            p = line.split(":")
            if p[0] == name:
                return int(p[2])
    raise Fail("no %s in the image's /etc/%s" % (name, db))


CONFIG = """\
# The boot test's gateway (tests/boot/boot_test.py), on the data partition.
[gateway]
id = {gw}
state_dir = /var/lib/camgate
log_level = info
console_tty = none
status_interval = 2s

[storage]
dir = /srv/camgate/ring
extents = 8
extent_size = 4M
retention_floor = 0s
on_full = overwrite

[stream]
segment_duration = 2s
transport = tcp

[uplink]
base_url = https://{host}:{port}
ca_file = /etc/camgate/ca.crt
client_cert = /etc/camgate/client.crt
client_key = /etc/camgate/client.key
status_interval = 3s
commands_interval = 0

[onvif]
discovery = no

[camera:cam1]
url = rtsp://{host}:{cam}/cam1
"""


def make_data(work, root, pki, size):
    """The data partition's ext4 image, made from a tree (mkfs.ext4 -d)."""
    tree = os.path.join(work, "data")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    uid = owner(root, "camgate", "passwd")
    gid = owner(root, "camgate", "group")
    etc = os.path.join(tree, "camgate/etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "camgate.conf"), "w") as f:
        f.write(CONFIG.format(gw=GW, host=HOST, port=CENTRAL_PORT, cam=CAM_PORT))
    shutil.copy(os.path.join(pki, "ca.crt"), os.path.join(etc, "ca.crt"))
    shutil.copy(os.path.join(pki, "client.crt"), os.path.join(etc, "client.crt"))
    shutil.copy(os.path.join(pki, "client.key"), os.path.join(etc, "client.key"))
    for n in os.listdir(etc):
        os.chown(os.path.join(etc, n), 0, gid)
        os.chmod(os.path.join(etc, n), 0o640)
    os.chown(etc, 0, gid)
    os.chmod(etc, 0o750)
    for d in ("camgate/state", "camgate/ring"):
        os.makedirs(os.path.join(tree, d))
        os.chown(os.path.join(tree, d), uid, gid)
        os.chmod(os.path.join(tree, d), 0o750)
    os.makedirs(os.path.join(tree, "rauc"))
    img = os.path.join(work, "data.img")
    if os.path.exists(img):
        os.unlink(img)
    run("mkfs.ext4", "-q", "-L", "cgdata", "-d", tree, img, "%dM" % (size // MIB))
    return img


GRUB_CFG = """\
# RAUC's grub backend (its documentation's example): ORDER and A_OK/A_TRY,
# B_OK/B_TRY in grubenv beside this file. The first slot in ORDER that is
# OK and not yet tried boots and gets its TRY flag; `rauc status
# mark-good` clears it. A slot booted once and never marked good is
# skipped at the next boot: rolled back.
set default=0
set timeout=0
set ORDER="A B"
set A_OK=0
set B_OK=0
set A_TRY=0
set B_TRY=0
load_env
regexp --set=1:disk '^([^,]*),' "$root"
set default=-1
for SLOT in $ORDER; do
    if [ "$SLOT" == "A" ]; then
        INDEX=0
        OK=$A_OK
        TRY=$A_TRY
        A_TRY=1
    fi
    if [ "$SLOT" == "B" ]; then
        INDEX=1
        OK=$B_OK
        TRY=$B_TRY
        B_TRY=1
    fi
    if [ "$OK" -eq 1 -a "$TRY" -eq 0 ]; then
        default=$INDEX
        break
    fi
done
if [ "$default" -eq -1 ]; then
    echo "no bootable slot: ORDER=$ORDER A_OK=$A_OK A_TRY=$A_TRY B_OK=$B_OK B_TRY=$B_TRY"
    sleep 5
    reboot
fi
# Reset the TRY flag of a slot already marked good (RAUC's example).
if [ "$default" -eq 0 ]; then
    if [ "$A_OK" -eq 1 -a "$A_TRY" -eq 1 ]; then A_TRY=0; fi
    if [ "$B_OK" -eq 1 -a "$B_TRY" -eq 1 ]; then B_TRY=0; fi
fi
save_env A_TRY A_OK B_TRY B_OK ORDER
echo "boot-select: ORDER=$ORDER A_OK=$A_OK A_TRY=$A_TRY B_OK=$B_OK B_TRY=$B_TRY default=$default"
set CMDLINE="ro console=ttyAMA0,115200 panic=10"
menuentry "Slot A" {
    linux ($disk,gpt2)/vmlinuz root=/dev/vda2 rootfstype=squashfs $CMDLINE rauc.slot=A
    initrd ($disk,gpt2)/initrd.img
}
menuentry "Slot B" {
    linux ($disk,gpt3)/vmlinuz root=/dev/vda3 rootfstype=squashfs $CMDLINE rauc.slot=B
    initrd ($disk,gpt3)/initrd.img
}
"""


def make_esp(work, root, size):
    """FAT EFI system partition: GRUB (made from the image's own arm64-efi
    modules), grub.cfg and a fresh grubenv (slot A good)."""
    img = os.path.join(work, "esp.img")
    if os.path.exists(img):
        os.unlink(img)
    efi = os.path.join(work, "BOOTAA64.EFI")
    run("grub-mkimage", "-O", "arm64-efi", "-d", os.path.join(root, "usr/lib/grub/arm64-efi"),
        "-o", efi, "-p", "/EFI/BOOT",
        "part_gpt", "fat", "squash4", "ext2", "normal", "linux", "loadenv", "test", "echo",
        "regexp", "configfile", "sleep", "reboot", "halt", "gzio", "xzio", "lzopio", "search")
    cfg = os.path.join(work, "grub.cfg")
    with open(cfg, "w") as f:
        f.write(GRUB_CFG)
    env = os.path.join(work, "grubenv")
    if os.path.exists(env):
        os.unlink(env)
    run("grub-editenv", env, "create")
    run("grub-editenv", env, "set", "ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=0", "B_TRY=0")
    run("mkfs.vfat", "-n", "CGESP", "-C", img, str(size // 1024), stdout=subprocess.DEVNULL)
    run("mmd", "-i", img, "::/EFI", "::/EFI/BOOT")
    run("mcopy", "-i", img, efi, cfg, env, "::/EFI/BOOT/")
    return img


def make_disk(work, parts):
    """GPT disk from partition images: parts is [(name, size, type, image)].
    Written with dd at each partition's offset (no loop device)."""
    disk = os.path.join(work, "disk.img")
    if os.path.exists(disk):
        os.unlink(disk)
    total = MIB + sum(p[1] for p in parts) + MIB
    with open(disk, "wb") as f:
        f.truncate(total)
    script = "label: gpt\n" + "".join(
        "size=%dKiB, type=%s, name=%s\n" % (s // 1024, t, n) for n, s, t, _ in parts)
    run("sfdisk", "-q", disk, input=script.encode(), stdout=subprocess.DEVNULL)
    table = json.loads(run("sfdisk", "-J", disk, stdout=subprocess.PIPE).stdout)
    for (n, s, t, img), p in zip(parts, table["partitiontable"]["partitions"]):
        if img:
            if os.path.getsize(img) > p["size"] * 512:
                raise Fail("%s does not fit its partition" % img)
            run("dd", "if=" + img, "of=" + disk, "bs=1M", "conv=notrunc,sparse",
                "oflag=seek_bytes", "seek=%d" % (p["start"] * 512), "status=none")
    return disk


ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LINUX_TYPE = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"


# --- the guest --------------------------------------------------------------

class Guest:
    """qemu-system-aarch64 in the namespace; its serial console on a unix
    socket (the test types into it) and in console.log."""

    def __init__(self, net, work, disk, kernel=None, initrd=None, extra_disks=()):
        self.work = work
        self.console_log = os.path.join(work, "console.log")
        self.sock_path = os.path.join(work, "serial.sock")
        for p in (self.sock_path,):
            if os.path.exists(p):
                os.unlink(p)
        args = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2",
                "-m", "1024", "-nographic", "-monitor", "none", "-name", "camgate-boot-test",
                "-chardev", "socket,id=ser0,path=%s,server=on,wait=on,logfile=%s,logappend=on"
                % (self.sock_path, self.console_log),
                "-serial", "chardev:ser0",
                "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=",
                "-device", "virtio-rng-pci",
                "-drive", "if=none,id=d0,format=raw,file=" + disk,
                "-device", "virtio-blk-pci,drive=d0"]
        for i, d in enumerate(extra_disks):
            args += ["-drive", "if=none,id=x%d,format=raw,readonly=on,file=%s" % (i, d),
                     "-device", "virtio-blk-pci,drive=x%d" % i]
        if kernel:
            args += ["-kernel", kernel, "-initrd", initrd, "-append",
                     "root=/dev/vda2 rootfstype=squashfs ro console=ttyAMA0,115200 "
                     "panic=10 rauc.slot=A"]
        else:
            vars_copy = os.path.join(work, "AAVMF_VARS.fd")
            shutil.copy(AAVMF_VARS, vars_copy)
            args += ["-drive", "if=pflash,format=raw,readonly=on,file=" + AAVMF_CODE,
                     "-drive", "if=pflash,format=raw,file=" + vars_copy]
        self.qemu_log = open(os.path.join(work, "qemu.log"), "a")
        self.proc = subprocess.Popen(net.exec_args(*args), stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.buf = ""
        self.lock = threading.Lock()
        for _ in range(100):
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.sock_path)
                break
            except OSError:
                self.sock.close()
                if self.proc.poll() is not None:
                    raise Fail("qemu exited at start (%s/qemu.log)" % work)
                time.sleep(0.1)
        else:
            raise Fail("no serial socket from qemu")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                d = self.sock.recv(4096)
            except OSError:
                return
            if not d:
                return
            with self.lock:
                self.buf += d.decode("utf-8", "replace")

    def mark(self):
        with self.lock:
            return len(self.buf)

    def wait(self, pattern, timeout, since=0):
        """The first match of pattern in the console output after since."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                m = rx.search(self.buf, since)
            if m:
                return m
            if self.proc.poll() is not None:
                raise Fail("qemu exited waiting for %r" % pattern)
            time.sleep(0.5)
        raise Fail("no %r on the serial console in %d s" % (pattern, timeout))

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def shell(self, cmd, timeout=120):
        """Run cmd in the serial console's root shell: (status, output)."""
        tag = "%x" % int(time.monotonic() * 1000)
        since = self.mark()
        self.send("%s; echo \"@@rc-%s=$?@@\"" % (cmd, tag))
        m = self.wait(r"@@rc-%s=(\d+)@@" % tag, timeout, since)
        with self.lock:
            out = self.buf[since:m.start()]
        return int(m.group(1)), out

    def login(self, since, timeout):
        """The autologin shell's prompt after a boot."""
        self.wait(r"camgate:~#", timeout, since)
        time.sleep(1)
        self.send("")
        # Kernel and camgate messages to the console stay on; the shell
        # output is found by its tags.

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            self.sock.close()
        except OSError:
            pass
        self.qemu_log.close()


# --- the checks -------------------------------------------------------------

def wait_central(net, timeout, since_time=0):
    """A segment and status.json of GW at central, written after since_time."""
    end = time.monotonic() + timeout
    seg = status = None
    while time.monotonic() < end:
        segs = [p for p in glob.glob(net.www("media/cam1/*.m4s")) + glob.glob(net.www("media/cam1/*.mp4"))
                if not os.path.basename(p).startswith("init") and os.path.getmtime(p) > since_time]
        st = net.www("status.json")
        if segs and os.path.exists(st) and os.path.getmtime(st) > since_time:
            try:
                status = json.load(open(st))
            except ValueError:
                status = None
            if status and status.get("uplink", {}).get("link") == "up":
                seg = sorted(segs, key=os.path.getmtime)[-1]
                return seg, status
        time.sleep(2)
    listing = subprocess.run(["find", os.path.join(net.central, "www")], stdout=subprocess.PIPE,
                             text=True).stdout
    raise Fail("central has no segment and status.json (link up) of %s in %d s; it holds:\n%s"
               % (GW, timeout, listing[-3000:]))


def check_segment(seg):
    """The segment central holds is video that ffprobe reads."""
    init = sorted(glob.glob(os.path.join(os.path.dirname(seg), "init-*.mp4")))
    data = b""
    if init and not seg.endswith(".mp4"):
        data = open(init[-1], "rb").read()
    data += open(seg, "rb").read()
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                        "-of", "csv=p=0", "-i", "pipe:0"], input=data, stdout=subprocess.PIPE)
    if b"h264" not in p.stdout:
        raise Fail("%s is not H.264 video to ffprobe (%r)" % (seg, p.stdout))


def step_boot(net, work, sqfs, root, pki):
    data = make_data(work, root, pki, DATA_SIZE)
    esp = make_esp(work, root, 32 * MIB)
    slot = slot_size(sqfs)
    disk = make_disk(work, [("esp", 32 * MIB, ESP_TYPE, esp), ("rootfs-a", slot, LINUX_TYPE, sqfs),
                            ("rootfs-b", slot, LINUX_TYPE, None), ("data", DATA_SIZE, LINUX_TYPE, data)])
    kernel, initrd = slot_boot_files(root)
    log("boot: direct kernel boot of %s (slot A, TCG)" % os.path.basename(kernel))
    start = time.monotonic()
    wall = time.time()
    g = Guest(net, work, disk, kernel, initrd)
    try:
        g.login(0, 900)
        t_login = time.monotonic() - start
        log("boot: root shell on the serial console %.0f s after qemu" % t_login)
        seg, status = wait_central(net, 600, wall)
        t_up = time.monotonic() - start
        check_segment(seg)
        log("boot: central holds %s and status.json (link up, daemon %s) %.0f s after qemu"
            % (os.path.relpath(seg, net.central), status.get("daemon_state"), t_up))
        if status.get("gateway") != GW:
            raise Fail("status.json names gateway %r" % status.get("gateway"))
        # systemd's own word (the console shows "Starting camgate.service",
        # and the "Started" line may come after the shell took the console).
        rc, out = g.shell("systemctl is-active camgate.service; findmnt -n -o FSTYPE,OPTIONS /", 60)
        lines = [w.strip() for w in out.splitlines()[1:]]
        if "active" not in lines or not any(re.match(r"squashfs\s+ro\b", w) for w in lines):
            raise Fail("camgate not active or / not a read-only squashfs:\n" + out)
        rc, out = g.shell("systemctl --failed --no-legend --plain | cat", 60)
        failed = [w.split()[0] for w in out.splitlines()[1:] if w.strip() and "@@rc" not in w]
        log("boot: failed units: %s" % (" ".join(failed) or "none"))
        g.send("systemctl poweroff")
        try:
            g.proc.wait(120)
        except subprocess.TimeoutExpired:
            pass
        return {"login_s": round(t_login), "uploaded_s": round(t_up)}
    finally:
        g.stop()


def slot_size(sqfs):
    return ((os.path.getsize(sqfs) * 5 // 4) // MIB + 32) * MIB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", default="all", choices=("boot", "ab", "all"))
    ap.add_argument("image_dir")
    ap.add_argument("work")
    a = ap.parse_args()
    if os.getuid() != 0:
        sys.exit("boot-test: run as root (network namespace, owners on the data partition)")
    sqfs = os.path.abspath(os.path.join(a.image_dir, "rootfs.squashfs"))
    if not os.path.exists(sqfs):
        sys.exit("boot-test: %s missing (make boot-test builds it)" % sqfs)
    for t in ("qemu-system-aarch64", "grub-mkimage", "grub-editenv", "mcopy", "mkfs.vfat",
              "mkfs.ext4", "sfdisk", "unsquashfs", "ffprobe", "openssl"):
        if not shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            sys.exit("boot-test: %s missing (make deps)" % t)
    # A stop (make's, a CI timeout) still runs the clean-up below: qemu,
    # the camera, central and the namespace go with the test.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    work = os.path.abspath(a.work)
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    root = os.path.join(work, "slot")
    extract(sqfs, root, "boot", "vmlinuz", "initrd.img", "etc/passwd", "etc/group",
            "usr/lib/grub/arm64-efi")
    net = Net(work)
    results = {}
    try:
        pki = net.start()
        if a.step in ("boot", "all"):
            results["boot"] = step_boot(net, work, sqfs, root, pki)
        if a.step in ("ab", "all"):
            import boot_ab  # noqa: E402 (tests/boot/boot_ab.py)
            results["ab"] = boot_ab.step_ab(sys.modules[__name__], net, work, sqfs, root, pki)
    except (Fail, subprocess.CalledProcessError) as e:
        log("FAIL: %s" % e)
        log("console log: %s/console.log (last lines below)" % work)
        try:
            sys.stderr.write("".join(open(os.path.join(work, "console.log"),
                                          errors="replace").readlines()[-40:]))
        except OSError:
            pass
        return 1
    finally:
        net.close()
    log("PASS %s (total %.0f s)" % (json.dumps(results), time.monotonic() - T0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
