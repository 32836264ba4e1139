#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-unit.sh O_DIR [RUN_PREFIX] - run every O_DIR/tests/*_test (cmocka).
#
# Each binary runs with CMOCKA_MESSAGE_OUTPUT=TAP, under RUN_PREFIX when set
# (e.g. "qemu-aarch64 -L SYSROOT ..." for a cross build), with a time limit
# (UNIT_TIMEOUT seconds, default 120: qemu-user is several times slower).
# Its output is printed, and its "ok N" / "not ok N" lines counted.
# A binary counts one extra failure when it crashed (signal), timed out,
# printed fewer results than its TAP plan announced, or exited non-zero
# without reporting a failed test. The last line is
#   unit(O_DIR): N passed, N failed
# and O_DIR/unit-counts holds "PASSED FAILED" for an aggregator. Exit status
# is 0 only when nothing failed.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 O_DIR [RUN_PREFIX]" >&2
	exit 2
fi
O_DIR=$1
RUN_PREFIX=${2:-}
TIMEOUT=${UNIT_TIMEOUT:-120}
LOG_DIR=$O_DIR/tests/log
passed=0
failed=0
mkdir -p "$LOG_DIR" || exit 2

# The emulator's name for the headers ("env A=B qemu-arm -L ..." -> qemu-arm).
runner=
for w in $RUN_PREFIX; do
	case "$w" in
	env|*=*) ;;
	*) runner=${w##*/}; break ;;
	esac
done

# Prints "OK NOTOK PLANNED" for a TAP log. cmocka prints one plan per group,
# numbering from 1 each time, so plans are summed.
tap_counts() {
	awk '
	/^ok [0-9]/ { ok++ }
	/^not ok [0-9]/ { nok++ }
	/^1\.\.[0-9]+/ { split($1, p, /\.\./); plan += p[2] }
	END { printf "%d %d %d\n", ok, nok, plan }' "$1"
}

# Runs one binary; adds to passed/failed.
run_one() {
	bin=$1
	name=${bin##*/}
	log=$LOG_DIR/$name.tap
	echo "# $name${runner:+ (under $runner)}"
	# RUN_PREFIX is a command line: word splitting is wanted.
	# shellcheck disable=SC2086
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 5 "$TIMEOUT" $RUN_PREFIX "$bin" > "$log" 2>&1
	rc=$?
	cat "$log"
	# shellcheck disable=SC2046
	set -- $(tap_counts "$log")
	ok=$1 nok=$2 plan=$3
	extra=0
	if [ "$rc" -eq 124 ]; then
		echo "not ok - $name: timed out after $TIMEOUT s"
		extra=1
	elif [ "$rc" -eq 137 ]; then
		echo "not ok - $name: killed (SIGKILL: hung past the timeout, or out of memory)"
		extra=1
	elif [ "$rc" -gt 128 ]; then
		echo "not ok - $name: crashed (signal $((rc - 128)))"
		extra=1
	elif [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		echo "not ok - $name: exit status $rc without a failed test"
		extra=1
	elif [ $((ok + nok)) -lt "$plan" ]; then
		echo "not ok - $name: $((ok + nok)) results for a plan of $plan"
		extra=1
	elif [ $((ok + nok)) -eq 0 ]; then
		echo "# $name: no TAP results (not a cmocka test?)"
	fi
	passed=$((passed + ok))
	failed=$((failed + nok + extra))
}

found=0
for bin in "$O_DIR"/tests/*_test; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	found=$((found + 1))
	run_one "$bin"
done
[ "$found" -gt 0 ] || echo "# no unit test binaries in $O_DIR/tests"

echo "$passed $failed" > "$O_DIR/unit-counts"
echo "unit($O_DIR): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
