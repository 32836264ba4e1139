# SPDX-License-Identifier: GPL-2.0-or-later
"""The unicast CIDR sweep of `camgate discover` over networks where most
addresses hold no host: every probe to an absent host waits in the
kernel on ARP, holding socket buffer, and probes sent meanwhile must be
paced and retried, not lost. Three cameras, the rest of a /24 (and of a
/22) empty; all three are found and the output says how many addresses
were probed and how many probes failed. Every probe stays inside the
namespaces the fixture creates (no default route there)."""

import re
import time

import cglib
import pytest

# The cameras sit at the end of the range, after a few hundred probes to
# absent hosts (a sweep that drops probes loses the last ones).
CAMS_24 = ["10.77.0.130", "10.77.0.201", "10.77.0.254"]
CAMS_22 = ["10.77.1.77", "10.77.2.200", "10.77.3.254"]
SUMMARY = re.compile(r"^(\d+) cameras? found \((\d+) addresses probed, "
                     r"(\d+) probes? failed\)$", re.M)


def sweep(net, cidr, cams, hosts, budget_s, *args):
    sims = net.start_cams(len(cams), ips=cams)
    t0 = time.monotonic()
    docs, r = net.discover("--timeout", "1s", "--no-multicast", "--no-details",
                           "--cidr", cidr, *args, timeout=budget_s + 30)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    found = {c["endpoint"]: c["peer"] for c in docs[0]["cameras"]}
    assert found == {s.uuid: s.ip for s in sims}, r.stderr[-2000:]
    sw = docs[0]["sweep"]
    assert sw == {"addresses": hosts, "probed": hosts, "failed": 0}, sw
    assert took < budget_s, "a sweep of %s took %.1f s" % (cidr, took)
    return sims


@pytest.mark.budget(120)
def test_sweep_24_finds_all(onvif_net):
    sweep(onvif_net, "10.77.0.0/24", CAMS_24, 254, 40)
    # The text output says the same in its summary line.
    r = onvif_net.gw_run(cglib.CAMGATE_BIN, "discover", "--no-multicast",
                         "--no-details", "--timeout", "1s",
                         "--cidr", "10.77.0.0/24", timeout=70)
    assert r.returncode == 0, r.stderr
    m = SUMMARY.search(r.stdout)
    assert m, r.stdout
    assert (int(m[1]), int(m[2]), int(m[3])) == (3, 254, 0), m[0]


@pytest.mark.budget(180)
@pytest.mark.parametrize("onvif_net", [{"lans": 1, "prefix": 22}], indirect=True)
def test_sweep_22_finds_all(onvif_net):
    sweep(onvif_net, "10.77.0.0/22", CAMS_22, 1022, 100)



@pytest.mark.budget(180)
@pytest.mark.parametrize("onvif_net", [{"lans": 1, "prefix": 22}], indirect=True)
def test_sweep_22_at_full_rate_retries(onvif_net):
    """At the highest rate the probes to absent hosts outrun ARP: the
    socket buffer fills (the sweep socket's is raised, but only as far
    as net.core.wmem_max lets it), and the probes the kernel refuses
    meanwhile are sent once it has room again, none lost."""
    sweep(onvif_net, "10.77.0.0/22", CAMS_22, 1022, 100, "--rate", "10000")


def test_sweep_rate_checked(onvif_net):
    r = onvif_net.gw_run(cglib.CAMGATE_BIN, "discover", "--no-multicast",
                         "--rate", "10001", "--cidr", "10.77.0.0/30")
    assert r.returncode != 0 and "rate" in r.stderr.lower() + r.stdout.lower()
