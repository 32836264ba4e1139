# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the integration suite: the camgate binary (CAMGATE_BIN,
default build/host/camgate), cached test clips, real RTSP camera servers,
broken servers, and camgate daemons. Every process started is killed at
teardown, every test runs under a wall-clock budget, and the logs of the
processes a failed test used are shown in its report."""

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cglib  # noqa: E402

DEFAULT_BUDGET_S = 90
CLIP_BUDGET_S = 400  # first run on a clean tree: encode every clip

# Clips the suite uses, encoded once into build/clips.
CLIP_SETS = [
    ["--codec", "h264,h265", "--audio", "aac,pcmu"],
    ["--codec", "h264", "--audio", "none", "--size", "640x360",
     "--bitrate", "1M"],
]

_module_logs = {}  # module name -> [(title, path)]
_module_failed = set()  # modules with a failed test: keep their files


def pytest_configure(config):
    config.addinivalue_line("markers",
                            "budget(seconds): wall-clock limit of the test")


@pytest.fixture(autouse=True)
def _test_budget(request):
    m = request.node.get_closest_marker("budget")
    secs = m.args[0] if m else DEFAULT_BUDGET_S
    with cglib.budget(secs, request.node.nodeid):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    item.cg_failed = True
    module = getattr(item, "module", None)
    if module is not None:
        _module_failed.add(module.__name__)
    logs = list(getattr(item, "cg_logs", []))
    if module is not None:
        logs += _module_logs.get(module.__name__, [])
    for title, path in logs:
        rep.sections.append(("%s (%s)" % (title, path), cglib.log_tail(path)))


@pytest.fixture(autouse=True)
def _clean_when_passed(request):
    """A passed test's files go (rings are preallocated: pytest would keep
    three runs of them); a failed test's stay for its report."""
    yield
    tmp = request.node.funcargs.get("tmp_path")
    if tmp is not None and not getattr(request.node, "cg_failed", False):
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def clips():
    """Encode the clips once (cached across runs in build/clips). The
    suite's workers (pytest-xdist) take turns: the first encodes, the
    others find the cache."""
    cglib.CLIP_DIR.mkdir(parents=True, exist_ok=True)
    lock = open(cglib.CLIP_DIR / ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with lock, cglib.budget(CLIP_BUDGET_S, "clip encoding"):
        for extra in CLIP_SETS:
            cmd = [cglib.PYTHON, str(cglib.CAMSIM / "rtsp_cam.py"),
                   "--prepare-only", "--cams", "2",
                   "--clip-dir", str(cglib.CLIP_DIR)] + extra
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=CLIP_BUDGET_S)
            if r.returncode:
                pytest.fail("clip preparation failed: %s\n%s"
                            % (" ".join(cmd), r.stderr), pytrace=False)
    return cglib.CLIP_DIR


@pytest.fixture
def procs(request):
    """Processes of one test."""
    request.node.cg_logs = []
    p = cglib.Procs(request.node.cg_logs)
    yield p
    p.close()


class Env:
    """What a fixture needs to start processes: where, and who kills."""

    def __init__(self, procs, workdir):
        self.procs = procs
        self.dir = Path(workdir)

    def cameras(self, name="cams", **kw):
        return cglib.CameraServer(self.procs, self.dir, name=name, **kw).start()

    def bad_server(self, mode):
        return cglib.BadServer(self.procs, self.dir, mode).start()

    def camgate(self, name="camgate"):
        if not cglib.CAMGATE_BIN.exists():
            pytest.fail("camgate binary %s not found: build it (make) "
                        "or set CAMGATE_BIN" % cglib.CAMGATE_BIN,
                        pytrace=False)
        return cglib.Camgate(self.procs, self.dir, name)


@pytest.fixture
def env(procs, tmp_path, clips):
    return Env(procs, tmp_path)


@pytest.fixture(scope="module")
def module_env(request, tmp_path_factory, clips):
    """For a recording shared by the tests of one module."""
    logs = _module_logs.setdefault(request.module.__name__, [])
    p = cglib.Procs(logs)
    name = request.module.__name__.rsplit(".", 1)[-1]
    d = tmp_path_factory.mktemp(name)
    yield Env(p, d)
    p.close()
    if request.module.__name__ not in _module_failed:
        shutil.rmtree(d, ignore_errors=True)
