#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check`: the whole suite, in order, ending with ONE summary line
# "N passed, N failed" over everything that ran:
#   1. style gate (clang-format, SPDX, banned functions)    1 check
#      layer gate (no include reaches a higher layer)       1 check
#      board gate (facts, overlays, README'd files, image inputs) 1 check
#   2. unit tests, plain build                              cmocka, each test
#   3. unit tests, ASan + UBSan build                       cmocka, each test
#   4. unit tests for aarch64 and armhf under qemu-user (skip: CAMGATE_CROSS=0)
#                                                           cmocka, each test
#      and aarch64's again against the lean runtime (CAMGATE_LEAN_BOARDS)
#   5. fuzz targets, a few seconds each over their corpora  1 check
#   6. integration tests (real RTSP servers, nginx over TLS, ONVIF
#      simulators in network namespaces, real files)        pytest, each test
# A stage that cannot even build counts as one failure and the run goes on.
set -u
MAKE=${MAKE:-make}
J=${J:--j2}
passed=0
failed=0
log=build/check.log
mkdir -p build
: > "$log"

add_counts() {	# file with "PASSED FAILED"
	if [ -f "$1" ]; then
		read -r p f < "$1"
		passed=$((passed + p))
		failed=$((failed + f))
	else
		failed=$((failed + 1))
	fi
}

stage() {
	echo "=== $1"
}

stage "style"
if sh scripts/format-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if sh scripts/layer-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if sh scripts/board-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

for variant in plain san; do
	if [ $variant = plain ]; then args=""; o=build/host; else args="SANITIZE=address,undefined"; o=build/host-san; fi
	stage "unit tests ($variant)"
	rm -f "$o/unit-counts"
	if $MAKE $J $args all unit >>"$log" 2>&1; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
			sh tests/run-unit.sh "$o" ""
	else
		echo "build failed ($variant): see $log"; tail -20 "$log"
	fi
	add_counts "$o/unit-counts"
done

stage "generated docs"
if build/host/camgate config doc 2>/dev/null | cmp -s - docs/config.md; then
	echo "docs/config.md matches the settings table"
	passed=$((passed + 1))
else
	echo "docs/config.md is stale or camgate did not build: run 'make docs'"
	failed=$((failed + 1))
fi
if python3 scripts/schema-doc.py 2>/dev/null | cmp -s - docs/objects.md; then
	echo "docs/objects.md matches docs/schema/"
	passed=$((passed + 1))
else
	echo "docs/objects.md is stale: run 'make docs' (scripts/schema-doc.py)"
	failed=$((failed + 1))
fi

# One gateway board per architecture: imx6ul (armhf) here against Debian's
# libraries, rpi4 (aarch64) below against the lean runtime; the other two
# pairings are in `make check-long` (the suite's time budget: each run under
# qemu costs minutes, and the two runs here cover both architectures and
# both runtimes).
for b in ${CAMGATE_DEBIAN_BOARDS:-imx6ul}; do
	[ "${CAMGATE_CROSS:-1}" != 0 ] || break
	arch=$(sed -n 's/^TOOLCHAIN *:= *\([^-]*\)-.*/\1/p' "board/$b/board.mk")
	stage "unit tests ($arch under qemu-user)"
	rm -f "build/$b/unit-counts"
	if $MAKE $J BOARD="$b" sysroot >>"$log" 2>&1 && $MAKE $J BOARD="$b" all unit >>"$log" 2>&1; then
		sh tests/run-unit.sh "build/$b" "$($MAKE -s BOARD="$b" print-run)"
	else
		echo "$arch build failed: see $log"; tail -20 "$log"
	fi
	add_counts "build/$b/unit-counts"
done

# The same unit tests linked against the lean runtime of the images
# (scripts/runtime-build.sh: FFmpeg and libcurl on mbedtls from Debian's
# sources; built once per machine and Debian point release, kept in
# /var/cache/camgate/runtime). aarch64 here; armhf's in `make check-long`. The integration stage below runs the aarch64 camgate of this
# build under qemu-user too (tests/integration/uplink/test_lean_runtime.py).
for b in ${CAMGATE_LEAN_BOARDS:-rpi4}; do
	[ "${CAMGATE_CROSS:-1}" != 0 ] || break
	stage "unit tests ($b, lean runtime, under qemu-user)"
	rm -f "build/$b-lean/unit-counts"
	t0=$(date +%s)
	if $MAKE BOARD="$b" runtime >>"$log" 2>&1 &&
		$MAKE $J BOARD="$b" RUNTIME=lean all unit >>"$log" 2>&1; then
		echo "lean runtime and build: $(($(date +%s) - t0)) s"
		sh tests/run-unit.sh "build/$b-lean" "$($MAKE -s BOARD="$b" RUNTIME=lean print-run)"
	else
		echo "$b lean build failed: see $log"; tail -20 "$log"
	fi
	add_counts "build/$b-lean/unit-counts"
done

stage "fuzz targets (short runs over their corpora)"
if $MAKE -s fuzz-check ONVIF_FUZZ_SECONDS=${FUZZ_CHECK_SECONDS:-5} \
	FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-5} >>"$log" 2>&1; then
	echo "fuzz: no crash"
	passed=$((passed + 1))
else
	echo "fuzz: a target crashed or did not build: see $log"; tail -20 "$log"
	failed=$((failed + 1))
fi

stage "integration tests"
rm -f build/integration-counts
CAMGATE_BIN=$(pwd)/build/host/camgate sh tests/run-integration.sh
add_counts build/integration-counts

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
