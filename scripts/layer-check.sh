#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Layer gate for `make check`: a module includes only headers of its own
# layer or of the layers below it (docs/architecture.md, "Layers"):
#
#   lib       may include  lib
#   drivers   may include  lib, drivers
#   storage   may include  lib, storage
#   net       may include  lib, storage, net
#   firmware  may include  everything
#
# tests/ and board/ are exempt. Prints FILE:LINE for each include that
# reaches up (or sideways between drivers and storage); exits 1 if any.
# Usage: scripts/layer-check.sh [TREE]   (default: this repository)
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2
allowed() { # $1: the including module, $2: the included one
	case "$1:$2" in
	lib:lib) return 0 ;;
	drivers:lib | drivers:drivers) return 0 ;;
	storage:lib | storage:storage) return 0 ;;
	net:lib | net:storage | net:net) return 0 ;;
	firmware:*) return 0 ;;
	esac
	return 1
}
bad=0
# Every file on disk, tracked or not: a new file is checked before it is added.
files=$(for d in lib drivers storage net; do [ -d "$d" ] && find "$d" -name '*.[ch]'; done | sort)
for f in $files; do
	[ -f "$f" ] || continue
	from=${f%%/*}
	# Each '#include "module/..."' as "LINE module"; <net/if.h> and the
	# like are the system's.
	hits=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(lib|drivers|storage|net|firmware)/' "$f" |
		sed -E 's|^([0-9]+):[^"]*"([a-z]+)/.*|\1 \2|')
	[ -n "$hits" ] || continue
	while read -r line to; do
		if ! allowed "$from" "$to"; then
			echo "$f:$line: $from/ must not include $to/ (layers: lib < drivers, storage < net < firmware)"
			bad=$((bad + 1))
		fi
	done <<HITS
$hits
HITS
done
if [ "$bad" -ne 0 ]; then
	echo "layers: $bad includes reach a higher layer"
	exit 1
fi
echo "layers: $(echo "$files" | wc -w) files keep to their layer"
