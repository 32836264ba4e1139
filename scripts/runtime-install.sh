#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# runtime-install.sh BOARD DESTROOT - copies the lean runtime's shared
# libraries (build/BOARD/runtime/lib, scripts/runtime-build.sh) into
# DESTROOT/usr/lib/camgate, where a camgate built with RUNTIME=lean looks
# for them (its RUNPATH; the libraries find their siblings there too).
# Each library is copied stripped of its symbol table, with its soname
# link; headers, .pc files and development links stay behind.
#
# Environment: RUNTIME_DIR (default build/BOARD/runtime).
set -eu
die() { echo "runtime-install: error: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 BOARD DESTROOT"
BOARD=$1
DEST=$2/usr/lib/camgate
cd "$(dirname "$0")/.."
RT=${RUNTIME_DIR:-build/$BOARD/runtime}
[ -f "$RT/.camgate-runtime.mk" ] || die "no complete runtime in $RT: make runtime BOARD=$BOARD"
triple=$(sed -n 's/^TOOLCHAIN *:= *//p' "board/$BOARD/board.mk")
[ -n "$triple" ] || die "board $BOARD has no cross toolchain"
mkdir -p "$DEST"
n=0
# Real files named by their full version (libavformat.so.59.27.100), then
# the soname links the loader opens (libavformat.so.59).
for f in "$RT"/lib/lib*.so.*; do
	if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
	"$triple-strip" --strip-unneeded -o "$DEST/${f##*/}" "$f"
	chmod 0644 "$DEST/${f##*/}"
	n=$((n + 1))
done
for l in "$RT"/lib/lib*.so.*; do
	[ -L "$l" ] || continue
	ln -sfn "$(readlink "$l")" "$DEST/${l##*/}"
done
[ "$n" -gt 0 ] || die "no libraries in $RT/lib"
echo "runtime-install: $n libraries in $DEST ($(du -sk "$DEST" | cut -f1) KiB)"
