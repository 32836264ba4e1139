# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the ONVIF tests: a private network (tests/camsim/netns.sh)
with simulated cameras (onvif_sim) in it, and `camgate discover` run from
the gateway's namespace.

WS-Discovery is multicast: every probe these tests cause is sent inside
namespaces created here and removed at teardown, never from the machine's
own namespace. Without root (or without `ip`) the tests are skipped.

Environment:
  CAMGATE_BIN    the binary under test (must have the `discover` command)
  ONVIF_SIM_BIN  the simulator (default: onvif_sim next to the unit tests
                 of CAMGATE_BIN's build folder, else build/host/tests)
"""

import json
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cglib  # noqa: E402

NETNS_SH = cglib.CAMSIM / "netns.sh"
SIM_READY_S = 10
PASSWORD = "cam-pass-1"


def sim_bin():
    env = os.environ.get("ONVIF_SIM_BIN")
    if env:
        return Path(env)
    near = cglib.CAMGATE_BIN.parent / "tests" / "onvif_sim"
    return near if near.exists() else cglib.REPO / "build" / "host" / "tests" / "onvif_sim"


def have_discover():
    try:
        r = subprocess.run([str(cglib.CAMGATE_BIN), "discover", "--help"],
                           capture_output=True, text=True, timeout=10)
    except OSError:
        return False
    return r.returncode == 0 and "discover" in r.stdout


class Sim:
    def __init__(self, proc, xaddr, uuid, ip, log):
        self.proc, self.xaddr, self.uuid, self.ip, self.log = proc, xaddr, uuid, ip, log

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class OnvifNet:
    """One private network: NAME-gw plus LANS camera namespaces."""

    def __init__(self, name, lans, workdir, logs, prefix=24):
        self.name, self.lans, self.workdir = name, lans, Path(workdir)
        self.prefix = prefix  # of each LAN: 10.77.K.0/PREFIX
        self.sims = []
        self.logs = logs  # (title, path) shown when a test fails
        self.next_host = [10] * lans
        out = subprocess.run(["sh", str(NETNS_SH), "up", name, str(lans),
                              str(prefix)],
                             capture_output=True, text=True, timeout=30)
        if out.returncode:
            raise RuntimeError("netns.sh up failed: " + out.stderr)
        self.gw = name + "-gw"

    def start_cam(self, lan=0, *args, wait=True, ip=None):
        """A camera on LAN @lan with its own address (the next free one,
        or @ip); @args go to onvif_sim."""
        if ip is None:
            ip = "10.77.%d.%d" % (lan, self.next_host[lan])
            self.next_host[lan] += 1
        ns, dev = "%s-cam%d" % (self.name, lan), "%s-c%d" % (self.name, lan)
        subprocess.run(["ip", "-n", ns, "addr", "add",
                        "%s/%d" % (ip, self.prefix), "dev", dev],
                       check=True, timeout=10)
        log = self.workdir / ("sim-%s.log" % ip)
        cmd = ["ip", "netns", "exec", ns, str(sim_bin()), "--ip", ip, "--port", "80",
               "--probe-delay-ms", "100", "--user", "admin", "--pass", PASSWORD,
               "--serial", "SN-%s" % ip] + [str(a) for a in args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=open(log, "wb"), text=True)
        sim = Sim(p, None, None, ip, log)
        self.sims.append(sim)
        self.logs.append(("onvif_sim %s" % ip, log))
        if wait:
            self.wait_ready(sim)
        return sim

    def wait_ready(self, sim):
        r, _, _ = select.select([sim.proc.stdout], [], [], SIM_READY_S)
        line = sim.proc.stdout.readline() if r else ""
        if not line.startswith("READY "):
            raise RuntimeError("onvif_sim at %s did not start: %s %s"
                               % (sim.ip, line, cglib.log_tail(sim.log)))
        _, sim.xaddr, sim.uuid = line.split()

    def start_cams(self, n, lan=0, *args, ips=None):
        """@n cameras, at @ips if given."""
        sims = [self.start_cam(lan, *args, wait=False,
                               ip=ips[i] if ips else None) for i in range(n)]
        for s in sims:
            self.wait_ready(s)
        return sims

    def gw_run(self, *args, timeout=60):
        """A command in the gateway's namespace; CompletedProcess."""
        return subprocess.run(["ip", "netns", "exec", self.gw] + [str(a) for a in args],
                              capture_output=True, text=True, timeout=timeout)

    def discover(self, *args, timeout=60):
        """`camgate discover --json ...` in the gateway namespace: (docs, result).
        docs: the discovery document, then one per --watch event."""
        pw = self.workdir / "password"
        pw.write_text(PASSWORD + "\n")
        r = self.gw_run(cglib.CAMGATE_BIN, "discover", "--json", "--user", "admin",
                        "--password-file", pw, *args, timeout=timeout)
        docs, text, dec = [], r.stdout, json.JSONDecoder()
        text = text.strip()
        while text:
            obj, end = dec.raw_decode(text)
            docs.append(obj)
            text = text[end:].strip()
        return docs, r

    def close(self):
        for s in self.sims:
            s.stop()
        subprocess.run(["sh", str(NETNS_SH), "down", self.name],
                       capture_output=True, timeout=30)


@pytest.fixture
def onvif_net(request, tmp_path):
    """A fresh private network per test; removed even when the test fails."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 for network namespaces")
    if not sim_bin().exists():
        pytest.skip("no onvif_sim at %s (make unit)" % sim_bin())
    if not have_discover():
        pytest.skip("%s has no `discover` command" % cglib.CAMGATE_BIN)
    # param: the number of LANs, or {"lans": N, "prefix": P}
    param = getattr(request, "param", 1)
    if not isinstance(param, dict):
        param = {"lans": param}
    name = "cgo%d" % (os.getpid() % 100000)
    request.node.cg_logs = []
    net = OnvifNet(name, param.get("lans", 1), tmp_path, request.node.cg_logs,
                   prefix=param.get("prefix", 24))
    try:
        yield net
    finally:
        net.close()
