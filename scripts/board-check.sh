#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Board gate for `make check`: every board holds its facts, and every file
# a board's README names, its rootfs.perms lists or the image step needs
# exists. Per board (board/NAME, not board/common):
#   - board.mk, caps, defaults.conf, OWNERS; caps says has_watchdog, has_rtc
#     and has_serial; defaults.conf says name (= NAME), console_tty,
#     console_baud, storage_dir, watchdog, watchdog_timeout, led_status,
#     thermal;
#   - a gateway board (board.mk sets a TOOLCHAIN) also README.md,
#     rootfs.perms, image-packages and the whole overlay (OVERLAY below),
#     each found in board/NAME/rootfs or else board/common/rootfs;
#   - each backquoted file name in the README's "## Files" section exists
#     (looked up in the board folder, its overlay, the common overlay and
#     the repository); absolute paths are the target's and are skipped;
#   - each rootfs.perms path is in the overlay, a directory that tmpfiles.d
#     creates, or one the image step makes (IMAGE_MADE);
#   - the image recipe's inputs (IMAGE_INPUTS; `make image` itself takes
#     minutes and root, so make check only checks what it would read), and
#     a non-empty package list per gateway board.
# Prints one line per problem; exits 1 if any.
# Usage: scripts/board-check.sh [TREE]   (default: this repository)
set -u
cd "${1:-$(dirname "$0")/..}" || exit 2
OVERLAY="etc/systemd/system/camgate.service etc/init.d/camgate etc/default/camgate
 usr/lib/sysusers.d/camgate.conf usr/lib/tmpfiles.d/camgate.conf
 etc/udev/rules.d/60-camgate.rules etc/camgate/camgate.conf etc/rauc/system.conf"
IMAGE_MADE="/usr/bin/camgate /etc/rauc/keyring.pem"
IMAGE_INPUTS="scripts/mkimage.sh scripts/mkbundle.sh scripts/mkkeys.sh scripts/version.sh
 toolchain/apt-sources.sh board/common/image-packages"
CAPS="has_watchdog has_rtc has_serial"
DEFAULTS="name console_tty console_baud storage_dir watchdog watchdog_timeout led_status thermal"
bad=0
problem() {
	echo "board-check: $*"
	bad=1
}

# The overlay file $2 (relative) of board $1: its own, else the common one.
in_overlay() {
	[ -e "board/$1/rootfs/$2" ] || [ -e "board/common/rootfs/$2" ]
}

# Backquoted tokens of the README's "## Files" section that look like file
# names: no spaces, no '=', '*' or leading '-'.
readme_files() {
	awk '/^## /{ on = ($0 == "## Files") ; next } on' "$1" |
		grep -o '`[^`]*`' | tr -d '`' |
		grep -E '^[A-Za-z0-9_.@-][A-Za-z0-9_./@-]*$' | grep -v -e '^-' -e '=' || true
}

[ -d board ] || { echo "board-check: no board/ in $(pwd)"; exit 2; }
for f in $IMAGE_INPUTS; do
	[ -f "$f" ] || problem "$f: missing (an input of make image)"
done
nboards=0
for dir in board/*/; do
	b=$(basename "$dir")
	[ "$b" != common ] || continue
	nboards=$((nboards + 1))
	for f in board.mk caps defaults.conf OWNERS; do
		[ -f "$dir$f" ] || problem "$dir$f: missing"
	done
	for k in $CAPS; do
		grep -q "^$k=\(yes\|no\)$" "${dir}caps" 2>/dev/null ||
			problem "${dir}caps: no '$k=yes|no' line"
	done
	for k in $DEFAULTS; do
		grep -q "^$k[[:space:]]*=" "${dir}defaults.conf" 2>/dev/null ||
			problem "${dir}defaults.conf: no '$k = ...' line"
	done
	n=$(sed -n 's/^name[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p' "${dir}defaults.conf" 2>/dev/null)
	[ -z "$n" ] || [ "$n" = "$b" ] || problem "${dir}defaults.conf: name = $n, the folder is $b"
	toolchain=$(sed -n 's/^TOOLCHAIN[[:space:]]*:*=[[:space:]]*\([^[:space:]#]*\).*/\1/p' "${dir}board.mk" 2>/dev/null)
	if [ -n "$toolchain" ]; then
		[ -f "toolchain/$toolchain.mk" ] || problem "${dir}board.mk: toolchain/$toolchain.mk missing"
		for f in README.md rootfs.perms image-packages; do
			[ -f "$dir$f" ] || problem "$dir$f: missing (a gateway board needs it)"
		done
		[ -z "$(sed -e 's/#.*//' "${dir}image-packages" 2>/dev/null | xargs)" ] &&
			[ -f "${dir}image-packages" ] && problem "${dir}image-packages: no package"
		for f in $OVERLAY; do
			in_overlay "$b" "$f" || problem "${dir}rootfs/$f: missing (nor in board/common/rootfs)"
		done
	fi
	if [ -f "${dir}README.md" ]; then
		for f in $(readme_files "${dir}README.md"); do
			[ -e "$dir$f" ] || in_overlay "$b" "$f" || [ -e "$f" ] ||
				problem "${dir}README.md names '$f', which does not exist"
		done
	fi
	if [ -f "${dir}rootfs.perms" ]; then
		tmpfiles=$(cat "board/$b/rootfs/usr/lib/tmpfiles.d/camgate.conf" \
			"board/common/rootfs/usr/lib/tmpfiles.d/camgate.conf" 2>/dev/null)
		sed -e 's/#.*//' "${dir}rootfs.perms" | while read -r path mode owner; do
			[ -n "$path" ] || continue
			case " $IMAGE_MADE " in *" $path "*) continue ;; esac
			in_overlay "$b" "${path#/}" && continue
			echo "$tmpfiles" | grep -q "^d[[:space:]]\+$path[[:space:]]" && continue
			echo "board-check: ${dir}rootfs.perms: $path ($mode $owner) is in no overlay and no tmpfiles.d line"
		done | grep . && bad=1
	fi
done
[ "$nboards" -gt 0 ] || problem "no boards"
[ "$bad" -eq 0 ] && echo "board-check: $nboards boards complete"
exit "$bad"
