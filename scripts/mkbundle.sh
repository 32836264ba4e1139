#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mkbundle.sh BOARD IMAGE_DIR [OUT] - a signed RAUC bundle of IMAGE_DIR's
# rootfs.squashfs (`make bundle BOARD=...`), by default
# IMAGE_DIR/camgate-BOARD-VERSION.raucb.
#
# The manifest's compatible is the one in the board's
# rootfs/etc/rauc/system.conf (one place), its version the firmware
# version (`camgate update` refuses a lower one), its build the
# SOURCE_DATE_EPOCH the image was built with. Format verity: the signature
# covers the manifest, which holds the payload's dm-verity root hash, so
# `rauc info --keyring` checks the signer and `rauc install` checks every
# block of the payload as it reads it.
# Key and certificate: RAUC_KEY and RAUC_CERT (default the development pair
# of `make keys`; a release build points them at the release key).
# Tests set BUNDLE_COMPATIBLE and BUNDLE_VERSION (the host board has no
# system.conf: it is never updated).
set -eu
die() { echo "mkbundle: error: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 BOARD IMAGE_DIR [OUT]"
BOARD=$1
IMG=$2
cd "$(dirname "$0")/.."
KEY=${RAUC_KEY:-build/keys/dev.key.pem}
CERT=${RAUC_CERT:-build/keys/dev.cert.pem}
SYSCONF=board/$BOARD/rootfs/etc/rauc/system.conf
[ -n "${BUNDLE_COMPATIBLE:-}" ] || [ -f "$SYSCONF" ] || die "$SYSCONF missing: board $BOARD takes no updates"
[ -f "$IMG/rootfs.squashfs" ] || die "$IMG/rootfs.squashfs missing (make image BOARD=$BOARD)"
[ -f "$KEY" ] && [ -f "$CERT" ] || die "$KEY or $CERT missing (make keys)"
command -v rauc >/dev/null || die "rauc missing (make deps)"
work=$(mktemp -d "$IMG/bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
compatible=${BUNDLE_COMPATIBLE:-$(sed -n 's/^compatible=//p' "$SYSCONF")}
[ -n "$compatible" ] || die "$SYSCONF has no compatible="
version=${BUNDLE_VERSION:-$(sed -n 's/^version //p' "$IMG/manifest.txt" 2>/dev/null)}
if [ -z "$version" ]; then
	sh scripts/version.sh "$work/version.h"
	version=$(sed -n 's/.*CAMGATE_VERSION "\(.*\)"/\1/p' "$work/version.h")
fi
build=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
OUT=${3:-$IMG/camgate-$BOARD-$version.raucb}

# A hard link where possible: the image is large.
ln "$IMG/rootfs.squashfs" "$work/rootfs.squashfs" 2>/dev/null ||
	cp "$IMG/rootfs.squashfs" "$work/rootfs.squashfs"
cat > "$work/manifest.raucm" <<EOM
[update]
compatible=$compatible
version=$version
build=$build

[bundle]
format=verity

[image.rootfs]
filename=rootfs.squashfs
EOM
rm -f "$OUT"
rauc bundle --cert="$CERT" --key="$KEY" "$work" "$OUT" >/dev/null 2>"$work/log" ||
	{ cat "$work/log" >&2; die "rauc bundle failed"; }
echo "mkbundle: $OUT ($compatible $version, $(du -m "$OUT" | cut -f1) MB), signed by $CERT"
