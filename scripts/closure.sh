#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# closure.sh BINARY SYSROOT [TRIPLE] - the run-time closure of a target
# binary, the way the dynamic loader would find it, without running it:
# NEEDED entries (objdump -p) resolved recursively in SYSROOT's library
# directories (/lib/TRIPLE, /usr/lib/TRIPLE, /lib, /usr/lib). Prints one
# line per library (size in bytes, soname, path; symlinks followed) and a
# last line "total: N libraries, B bytes (+ binary S bytes)". A NEEDED
# that resolves nowhere is printed as "missing" and makes the exit code 1.
# For the host (SYSROOT /) this is what ldd lists, minus the vDSO.
# CLOSURE_DIRS: host directories searched first, as the binary's RUNPATH
# would be (the lean runtime: scripts/runtime-install.sh BOARD DIR, then
# CLOSURE_DIRS=DIR/usr/lib/camgate).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BINARY SYSROOT [TRIPLE]" >&2; exit 2; }
bin=$1
root=$(realpath "$2")
triple=${3:-$(gcc -dumpmachine)}
objdump=objdump
command -v "$triple-objdump" >/dev/null 2>&1 && objdump=$triple-objdump
dirs="${CLOSURE_DIRS:+$CLOSURE_DIRS }$root/lib/$triple $root/usr/lib/$triple $root/lib $root/usr/lib"
seen=$(mktemp)
queue=$(mktemp)
trap 'rm -f "$seen" "$queue"' EXIT
needed() { "$objdump" -p "$1" 2>/dev/null | awk '/^ *NEEDED/ {print $2}'; }
needed "$bin" > "$queue"
bad=0 n=0 total=0
while [ -s "$queue" ]; do
	lib=$(head -n 1 "$queue")
	sed -i 1d "$queue"
	grep -qxF "$lib" "$seen" && continue
	echo "$lib" >> "$seen"
	path=
	for d in $dirs; do
		if [ -e "$d/$lib" ]; then path=$(realpath "$d/$lib"); break; fi
	done
	if [ -z "$path" ]; then
		echo "missing $lib"
		bad=1
		continue
	fi
	size=$(stat -c %s "$path")
	n=$((n + 1))
	total=$((total + size))
	echo "$size $lib ${path#"$root"}"
	needed "$path" >> "$queue"
done
echo "total: $n libraries, $total bytes (+ binary $(stat -c %s "$bin") bytes)"
exit "$bad"
