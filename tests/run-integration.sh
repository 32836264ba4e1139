#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The integration suite (tests/integration, pytest) against a built camgate.
#   CAMGATE_BIN   the binary under test (default build/host/camgate)
#   PYTEST_ARGS   extra pytest arguments, e.g. "-k record -x"
#   PYTEST_WORKERS  parallel pytest-xdist workers (default 2; 0 runs in one
#                 process). Tests spend most of their time waiting on
#                 cameras and central, and a file's tests stay together on
#                 one worker (--dist loadfile) for its module fixtures.
# JUnit XML goes to build/integration.xml and "PASSED FAILED" to
# build/integration-counts (errors count as failures, skips as neither),
# for tests/run-all.sh. The exit code is pytest's,
# except that "no tests collected" (5) is a failure too, and the whole run
# is bounded in time so a hang cannot stall CI.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
: "${CAMGATE_BIN:=$top/build/host/camgate}"
export CAMGATE_BIN
mkdir -p build

# The suite needs the Debian python3 (python3-gi), not one earlier on PATH.
py=/usr/bin/python3
if ! "$py" -c 'import gi, pytest' 2>/dev/null; then
	echo "run-integration: $py lacks gi or pytest (make deps)" >&2
	exit 1
fi

workers=${PYTEST_WORKERS:-2}
xdist=""
if [ "$workers" != 0 ]; then
	if "$py" -c 'import xdist' 2>/dev/null; then
		xdist="-n $workers --dist loadfile"
	else
		echo "run-integration: no pytest-xdist (make deps); one worker" >&2
	fi
fi

# shellcheck disable=SC2086
# Test files live in build/pytest, which pytest empties at the start of
# each run (no three runs kept in /tmp); a passed test's files are removed
# as it ends (conftest.py), a failed test's stay for its report.
timeout -k 30 1500 "$py" -m pytest -q -p no:cacheprovider --basetemp="$top/build/pytest" \
	--junitxml=build/integration.xml $xdist ${PYTEST_ARGS:-} tests/integration
rc=$?
echo "run-integration: $(du -sm build/pytest 2>/dev/null | cut -f1) MiB left in build/pytest"
rm -f build/integration-counts
if [ -f build/integration.xml ]; then
	"$py" - <<'PY' > build/integration-counts
import xml.etree.ElementTree as ET
root = ET.parse("build/integration.xml").getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skip = sum(int(s.get("skipped", 0)) for s in suites)
print(t - bad - skip, bad)
PY
fi
case $rc in
0) ;;
5) echo "run-integration: no tests were collected" >&2; rc=1; echo "0 1" > build/integration-counts ;;
124|137) echo "run-integration: suite exceeded 1500 s" >&2; rc=1
	read -r p f < build/integration-counts 2>/dev/null || { p=0; f=0; }
	echo "$p $((f + 1))" > build/integration-counts ;;
esac
exit $rc
