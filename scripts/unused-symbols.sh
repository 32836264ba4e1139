#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Global functions of the library that no other object of the library or
# the program references: each is dead, used only by its unit test, or
# could be static. Prints "symbol object tests=N" (N: files under tests/
# that name it). Run after `make`; O defaults to build/host.
#   sh scripts/unused-symbols.sh [O]
set -eu
O=${1:-build/host}
[ -d "$O/obj" ] || { echo "unused-symbols: no $O/obj: run make first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objs=$(find "$O/obj/lib" "$O/obj/storage" "$O/obj/drivers" "$O/obj/net" "$O/obj/firmware" \
	-name '*.o' | sort)
for o in $objs; do
	nm -g --defined-only "$o" | awk -v o="$o" '$2 == "T" { print $3, o }'
done | sort > "$tmp/defs"
for o in $objs; do
	nm -u "$o" | awk '{ print $2 }'
done | sort -u > "$tmp/uses"
join -v1 "$tmp/defs" "$tmp/uses" | while read -r sym obj; do
	[ "$sym" = main ] && continue
	n=$(grep -rlw -- "$sym" tests | wc -l)
	echo "$sym ${obj#"$O"/obj/} tests=$n"
done
