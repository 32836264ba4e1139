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

# Lines "URI|SUITE|COMPONENTS|KEYRING" for every enabled binary source of the
# host, one-line (.list) and deb822 (.sources) formats alike.
host_sources() {
	set -- /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources
	for f; do
		[ -f "$f" ] || continue
		case "$f" in
		*.sources)
			awk '
			function flush(  nu, ns, u, s, i, j) {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
					nu = split(uris, u, /[ \t]+/)
					ns = split(suites, s, /[ \t]+/)
					for (i = 1; i <= nu; i++)
						for (j = 1; j <= ns; j++)
							print u[i] "|" s[j] "|" comps "|" key
				}
				types = uris = suites = comps = key = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { next }
			{
				k = tolower($0); sub(/:.*/, "", k)
				v = $0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
				if (k == "types") types = v
				else if (k == "uris") uris = v
				else if (k == "suites") suites = v
				else if (k == "components") comps = v
				else if (k == "signed-by") key = v
				else if (k == "enabled") enabled = tolower(v)
			}
			END { flush() }' "$f"
			;;
		*)
			awk '
			/^[ \t]*deb[ \t]/ {
				line = $0; sub(/#.*/, "", line); key = ""
				if (match(line, /\[[^]]*\]/)) {
					opts = substr(line, RSTART + 1, RLENGTH - 2)
					line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
					if (match(opts, /signed-by=[^ \t]+/))
						key = substr(opts, RSTART + 10, RLENGTH - 10)
				}
				n = split(line, w, /[ \t]+/)
				i = (w[1] == "") ? 2 : 1
				comps = w[i + 3]
				for (j = i + 4; j <= n; j++) if (w[j] != "") comps = comps " " w[j]
				print w[i + 1] "|" w[i + 2] "|" comps "|" key
			}' "$f"
			;;
		esac
	done
}

# Writes the private sources list: the host's archive entries for its own
# release (third-party repositories on other suites are left out), or
# SYSROOT_MIRROR when set.
write_sources() {
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || codename=bookworm
	default_key=
	[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
		default_key=/usr/share/keyrings/debian-archive-keyring.gpg
	if [ -n "${SYSROOT_MIRROR:-}" ]; then
		for s in ${SYSROOT_SUITES:-$codename $codename-updates}; do
			echo "$SYSROOT_MIRROR|$s|${SYSROOT_COMPONENTS:-main}|"
		done
	else
		host_sources
	fi | sort -u | while IFS='|' read -r uri suite comps key; do
		case "$suite" in
		"$codename"|"$codename"[-/]*) ;;
		*) continue ;;
		esac
		case "$key" in
		/*) ;;
		*) key=$default_key ;;
		esac
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nArchitectures: %s\n' \
			"$uri" "$suite" "${comps:-main}" "$ARCH"
		[ -z "$key" ] || printf 'Signed-By: %s\n' "$key"
		echo
	done > "$APTROOT/etc/apt/sources.list.d/target.sources"
	grep -q '^URIs:' "$APTROOT/etc/apt/sources.list.d/target.sources" ||
		die "no Debian $codename archive in /etc/apt/sources.list{,.d}; set SYSROOT_MIRROR=http://deb.debian.org/debian"
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
