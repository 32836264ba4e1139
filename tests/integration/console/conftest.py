# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures of the console tests (helpers in consolelib.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cglib  # noqa: E402
from consolelib import Gateway, console_supported  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _need_console():
    if not console_supported():
        pytest.skip("%s has no console command yet (main.c table)"
                    % cglib.CAMGATE_BIN)


@pytest.fixture
def gw(request, tmp_path):
    g = Gateway(tmp_path)
    request.node.cg_logs = [("console session", g.log)]
    yield g
    g.close()
