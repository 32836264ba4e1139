#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mksysroot.sh TRIPLE - a target sysroot made of Debian's own packages.
#
#   sh toolchain/mksysroot.sh aarch64-linux-gnu      (make sysroot BOARD=rpi4)
#
# Environment:
#   SYSROOT                  where to build (default build/sysroot/TRIPLE)
#   SYSROOT_MIRROR           archive URL (default: the host's configured
#                            Debian archive, see host_sources below)
#   SYSROOT_SUITES           suites for SYSROOT_MIRROR (default CODENAME
#                            CODENAME-updates)
#   SYSROOT_COMPONENTS       default "main"
#   SYSROOT_EXTRA_PACKAGES   more packages on top of toolchain/sysroot-packages
#   SYSROOT_FORCE=1          rebuild even when complete (picks up archive updates)
#
# Cost for bookworm: ~78 MB downloaded, 30-45 s, 202 MB unpacked for arm64
# (156 MB armhf), most of it the run-time libraries FFmpeg and libcurl pull in,
# which the unit tests need under qemu.
#
# Why not multiarch (dpkg --add-architecture): it moves dozens of host
# packages in lockstep, and one inconsistent foreign index makes the host's
# own `apt-get update` fail. Here a private apt root (its own sources list,
# an empty dpkg status, the host's keyrings) downloads the -dev packages with
# their dependency closure, dpkg-deb -x unpacks them, and absolute symlinks
# become relative so the tree works wherever it lies. The host's package
# state is never touched, so root is not needed (but works).
#
# Idempotent: a complete sysroot holds a stamp (.camgate-sysroot.mk) naming
# the architecture and package list; a matching stamp means nothing to do.
# Work happens in SYSROOT.partial and is renamed into place at the end, so an
# interrupted run never leaves a sysroot that looks complete. Downloads of a
# failed run are kept in SYSROOT.apt and reused by the next one.
set -eu

STAMP_NAME=.camgate-sysroot.mk
STAMP_VERSION=3
PKG_LIST=toolchain/sysroot-packages

say() { echo "mksysroot: $*"; }
die() { echo "mksysroot: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 TRIPLE (e.g. aarch64-linux-gnu)"
TRIPLE=$1
case "$TRIPLE" in
aarch64-linux-gnu)	ARCH=arm64 ;;
arm-linux-gnueabihf)	ARCH=armhf ;;
"")			die "no TRIPLE: this BOARD builds natively and needs no sysroot" ;;
*)			die "unknown triple '$TRIPLE' (known: aarch64-linux-gnu arm-linux-gnueabihf)" ;;
esac

cd "$(dirname "$0")/.."
[ -r "$PKG_LIST" ] || die "$PKG_LIST missing"
for tool in apt-get dpkg-deb realpath flock awk; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (Debian: apt-get install apt dpkg coreutils util-linux)"
done

SYSROOT=${SYSROOT:-build/sysroot/$TRIPLE}
mkdir -p "$(dirname "$SYSROOT")"
SYSROOT=$(realpath -m "$SYSROOT")
[ "$SYSROOT" != / ] || die "SYSROOT must not be /"
STAGE=$SYSROOT.partial
APTROOT=$SYSROOT.apt
LOG=$APTROOT/log

# One space-separated line. Package names never need quoting: the list is
# split unquoted below on purpose.
PACKAGES=$(sed -e 's/#.*//' "$PKG_LIST" | xargs)
PACKAGES="$PACKAGES${SYSROOT_EXTRA_PACKAGES:+ $SYSROOT_EXTRA_PACKAGES}"
STAMP_KEY="v$STAMP_VERSION arch=$ARCH packages=$PACKAGES"

stamp_matches() {
	[ -f "$SYSROOT/$STAMP_NAME" ] &&
		grep -qxF "SYSROOT_KEY := $STAMP_KEY" "$SYSROOT/$STAMP_NAME"
}

# The private sources list: the host's archive for the target
# architecture (toolchain/apt-sources.sh, shared with scripts/mkimage.sh).
write_sources() {
	sh toolchain/apt-sources.sh "$ARCH" > "$APTROOT/etc/apt/sources.list.d/target.sources" ||
		die "no Debian archive for $ARCH (toolchain/apt-sources.sh)"
}

# A private apt configuration: APT_CONFIG is read before the host's
# apt.conf.d, and Dir moves that to the (empty) private root, so host hooks
# (docker-clean, packagekit, DEP-11) stay out. Only the proxy carries over.
write_apt_conf() {
	mkdir -p "$APTROOT/etc/apt/sources.list.d" "$APTROOT/etc/apt/apt.conf.d" \
		"$APTROOT/etc/apt/preferences.d" "$APTROOT/var/lib/dpkg" \
		"$APTROOT/var/lib/apt/lists/partial" \
		"$APTROOT/var/cache/apt/archives/partial"
	: > "$APTROOT/var/lib/dpkg/status"
	eval "$(apt-config shell HTTP_PROXY Acquire::http::Proxy HTTPS_PROXY Acquire::https::Proxy)"
	cat > "$APTROOT/apt.conf" <<EOF
Dir "$APTROOT/";
Dir::State::status "$APTROOT/var/lib/dpkg/status";
Dir::Etc::Trusted "/etc/apt/trusted.gpg";
Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d/";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order { "gz"; };
Acquire::Retries "3";
EOF
	[ -z "${HTTP_PROXY:-}" ] || echo "Acquire::http::Proxy \"$HTTP_PROXY\";" >> "$APTROOT/apt.conf"
	[ -z "${HTTPS_PROXY:-}" ] || echo "Acquire::https::Proxy \"$HTTPS_PROXY\";" >> "$APTROOT/apt.conf"
}

papt() {
	APT_CONFIG=$APTROOT/apt.conf apt-get -q -y "$@" >> "$LOG" 2>&1
}

fail_log() {
	echo "---- last lines of $LOG:" >&2
	tail -n 15 "$LOG" >&2
	die "$1"
}

# --error-on=any: a mirror that cannot be reached is an error, not a warning
# followed by "Unable to locate package". Some archives' security index for a
# foreign architecture lags behind its Release file (seen for armhf): then
# retry without the security suites rather than give up.
apt_update() {
	src=$APTROOT/etc/apt/sources.list.d/target.sources
	say "fetching $ARCH package indices: $(awk '/^URIs:/ {u=$2} /^Suites:/ {printf "%s%s/%s", sep, u, $2; sep=" "}' "$src")"
	papt update --error-on=any && return 0
	grep -q '^E: Failed to fetch .*security.*binary-' "$LOG" ||
		fail_log "apt-get update failed (network, proxy or mirror; SYSROOT_MIRROR=URL picks another)"
	say "warning: the security index is inconsistent; retrying without the security suites"
	awk 'BEGIN { RS = ""; ORS = "\n\n" } !/Suites: [^\n]*security/' "$src" > "$src.tmp"
	mv "$src.tmp" "$src"
	papt update --error-on=any || fail_log "apt-get update failed"
}

download() {
	# shellcheck disable=SC2086
	n=$(APT_CONFIG=$APTROOT/apt.conf apt-get -s install $PACKAGES 2>>"$LOG" | grep -c '^Inst ') ||
		fail_log "cannot resolve: $PACKAGES"
	say "downloading $n $ARCH packages (log: $LOG)"
	# shellcheck disable=SC2086
	papt install --download-only $PACKAGES || fail_log "download failed"
}

# dpkg-deb -x runs no maintainer scripts, which is the point: nothing of the
# target executes on the host.
extract() {
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	n=0
	for deb in "$APTROOT"/var/cache/apt/archives/*.deb; do
		[ -f "$deb" ] || die "no .deb downloaded"
		dpkg-deb -x "$deb" "$STAGE" || die "cannot unpack $deb"
		dpkg-deb -f "$deb" Package Version | tr '\n' ' ' >> "$STAGE/.camgate-sysroot-packages"
		echo >> "$STAGE/.camgate-sysroot-packages"
		n=$((n + 1))
		[ $((n % 50)) -ne 0 ] || say "unpacked $n packages"
	done
	say "unpacked $n packages"
	prune
}

# Documentation, and static archives that sit next to a shared library of the
# same name: a dynamic link never reads them (about 40 MB for arm64). Static-
# only archives such as libc_nonshared.a stay, the linker needs them.
prune() {
	rm -rf "$STAGE/usr/share/doc" "$STAGE/usr/share/man" "$STAGE/usr/share/info" \
		"$STAGE/usr/share/locale" "$STAGE/usr/share/lintian" "$STAGE/usr/share/bug"
	find "$STAGE/usr/lib" -name 'lib*.a' | while IFS= read -r a; do
		if [ -e "${a%.a}.so" ] || [ -L "${a%.a}.so" ]; then
			rm -f "$a"
		fi
	done
}

# Absolute links (libfoo.so -> /lib/TRIPLE/libfoo.so.1) would point into the
# host; make them relative. Links that maintainer scripts would have made
# (update-alternatives) do not exist, since those scripts never run: report
# what dangles so a missing library at link time has an explanation.
fix_links() {
	find "$STAGE" -type l -lname '/*' | while IFS= read -r l; do
		t=$(readlink "$l")
		ln -sfn "$(realpath -ms --relative-to="$(dirname "$l")" "$STAGE$t")" "$l"
	done
	dangling=$(find "$STAGE" -xtype l | wc -l)
	[ "$dangling" -eq 0 ] ||
		say "note: $dangling dangling links (alternatives and the like), e.g. $(find "$STAGE" -xtype l | head -n 1)"
}

install_stage() {
	{
		echo "# Written by toolchain/mksysroot.sh: this sysroot is complete."
		echo "SYSROOT_KEY := $STAMP_KEY"
	} > "$STAGE/$STAMP_NAME"
	if [ -e "$SYSROOT" ]; then
		if [ -f "$SYSROOT/$STAMP_NAME" ]; then
			say "replacing the old sysroot"
			rm -rf "$SYSROOT"
		else
			rmdir "$SYSROOT" 2>/dev/null ||
				die "$SYSROOT exists and was not made by mksysroot.sh: remove it or pick another SYSROOT"
		fi
	fi
	cp "$LOG" "$STAGE/.camgate-sysroot.log"
	mv "$STAGE" "$SYSROOT"
}

# Concurrent make runs (several O= builds) wait for one builder.
exec 9> "$SYSROOT.lock"
flock 9

if [ -z "${SYSROOT_FORCE:-}" ] && stamp_matches; then
	touch "$SYSROOT/$STAMP_NAME"
	say "$SYSROOT is complete ($ARCH); nothing to do"
	exit 0
fi

start=$(date +%s)
say "building $ARCH sysroot in $SYSROOT"
mkdir -p "$APTROOT"
: > "$LOG"
write_apt_conf
write_sources
apt_update
download
extract
fix_links
install_stage
rm -rf "$APTROOT"
say "done in $(($(date +%s) - start)) s: $(du -sm "$SYSROOT" | cut -f1) MB in $SYSROOT"
