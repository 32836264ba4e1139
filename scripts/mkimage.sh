#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkimage.sh BOARD BINARY OUTDIR - the root filesystem image of a gateway
# board (`make image BOARD=rpi4|imx6ul`):
#   OUTDIR/rootfs.squashfs   the root filesystem of one A/B slot
#   OUTDIR/manifest.txt      version, board, build time, package versions
#                            and the SHA-256 of every file in the image
#   OUTDIR/build.log         mmdebstrap's output
#
# Built by mmdebstrap (Debian's packages, from the archive this machine is
# configured with: toolchain/apt-sources.sh), the minbase variant plus
# board/common/image-packages and board/BOARD/image-packages; the target's
# maintainer scripts run under qemu-user-static. Then, in customize hooks:
# camgate (BINARY, stripped) as /usr/bin/camgate, the overlay
# (board/common/rootfs, then board/BOARD/rootfs), the RAUC keyring
# (RAUC_CERT, default build/keys/dev.cert.pem), the camgate user
# (sysusers.d), its directories (tmpfiles.d), rootfs.perms, the unit
# enabled. A NEEDED library of camgate missing from the image is an error.
#
# IMAGE_EXTRA=DIR adds a variant's layer on top of the board's (the qemu
# boot test's, tests/boot/image): DIR/image-packages to the package list,
# DIR/rootfs over the overlay, DIR/customize.sh run last with the new root
# as its argument. A release image has none.
#
# Reproducibility: SOURCE_DATE_EPOCH is the commit time (git log -1 %ct)
# unless set; mmdebstrap clamps file times to it and drops its own
# non-reproducible files, mksquashfs stamps every inode and the
# superblock with it. Two builds of one commit differ only when the
# archive moved between them (other package versions: the manifest's
# package list shows it) or where a maintainer script writes what the
# epoch does not govern (docs/performance.md, "Image").
#
# Foreign architectures need binfmt_misc: when the kernel has no handler
# for the target, this script registers Debian's qemu-user-static one
# (/usr/lib/binfmt.d) for the build and removes what it added afterwards
# (IMAGE_BINFMT=0: fail instead). Root is needed (mmdebstrap root mode,
# owners in the image).
set -eu

say() { echo "mkimage: $*"; }
die() { echo "mkimage: error: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: $0 BOARD BINARY OUTDIR"
BOARD=$1
BINARY=$2
OUT=$3
cd "$(dirname "$0")/.."
TOP=$(pwd)
BDIR=board/$BOARD
[ -f "$BDIR/board.mk" ] || die "unknown board '$BOARD'"
ARCH=$(sed -n 's/^ARCH[[:space:]]*:*=[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$BDIR/board.mk")
case "$ARCH" in
arm64) QARCH=aarch64 TRIPLE=aarch64-linux-gnu ;;
armhf) QARCH=arm TRIPLE=arm-linux-gnueabihf ;;
*) die "board $BOARD (ARCH '$ARCH') has no image: only gateway boards do" ;;
esac
[ -f "$BINARY" ] || die "$BINARY missing (make BOARD=$BOARD)"
sh scripts/board-check.sh >/dev/null || die "board files incomplete: sh scripts/board-check.sh"
CERT=${RAUC_CERT:-build/keys/dev.cert.pem}
[ -f "$CERT" ] || die "$CERT missing: make keys (or RAUC_CERT=release certificate)"
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap root mode; owners in the image)"
for t in mmdebstrap mksquashfs "$TRIPLE-strip" "qemu-$QARCH-static"; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' missing (make deps)"
done

: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
EXTRA=${IMAGE_EXTRA:-}
if [ -n "$EXTRA" ]; then
	[ -d "$EXTRA" ] || die "IMAGE_EXTRA=$EXTRA is not a directory"
	EXTRA=$(realpath "$EXTRA")
fi
# A camgate built with RUNTIME=lean (its RUNPATH is /usr/lib/camgate)
# takes the lean runtime's libraries in place of the Debian packages marked
# "lean" in the lists.
LEAN=
if "$TRIPLE-objdump" -p "$BINARY" | grep -q 'RUNPATH *\/usr\/lib\/camgate$'; then
	LEAN=1
	[ -f "build/$BOARD/runtime/.camgate-runtime.mk" ] ||
		die "$BINARY is a RUNTIME=lean build and build/$BOARD/runtime is incomplete: make runtime BOARD=$BOARD"
fi
PACKAGES=$(cat board/common/image-packages "$BDIR/image-packages" \
	${EXTRA:+$(ls "$EXTRA/image-packages" 2>/dev/null)} |
	sed -e "${LEAN:+/#[[:space:]]*lean\$/d}" -e 's/#.*//' | xargs | tr ' ' ',')
lean_hook=true
[ -z "$LEAN" ] || lean_hook="sh '$TOP/scripts/runtime-install.sh' '$BOARD' \"\$1\""
# The variant's hooks, when there is one (empty hooks are no-ops).
extra_overlay=true
extra_hook=true
if [ -n "$EXTRA" ] && [ -d "$EXTRA/rootfs" ]; then
	extra_overlay="tar -C '$EXTRA/rootfs' -cf - . | tar -C \"\$1\" -xf - --no-same-owner"
fi
if [ -n "$EXTRA" ] && [ -f "$EXTRA/customize.sh" ]; then
	extra_hook="sh '$EXTRA/customize.sh' \"\$1\""
fi

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
WORK=$OUT/work
rm -rf "$WORK" "$OUT/rootfs.squashfs" "$OUT/manifest.txt"
mkdir -p "$WORK"
sh toolchain/apt-sources.sh "$ARCH" > "$WORK/sources"
# The firmware version as camgate prints it (scripts/version.sh), which
# bundles carry and `camgate update` compares.
sh scripts/version.sh "$WORK/version.h"
VERSION=$(sed -n 's/.*CAMGATE_VERSION "\(.*\)"/\1/p' "$WORK/version.h")

# binfmt_misc: register the target's handler if the kernel lacks one.
BINFMT=/proc/sys/fs/binfmt_misc
mounted_binfmt=
added_binfmt=
cleanup() {
	[ -z "$added_binfmt" ] || echo -1 > "$BINFMT/$added_binfmt" || true
	# Unmount only what this run mounted, and only when no handler is left
	# (a concurrent build for the other architecture may still need it).
	if [ -n "$mounted_binfmt" ] && [ -z "$(ls "$BINFMT" | grep -v -x -e register -e status)" ]; then
		umount "$BINFMT" || true
	fi
	# --one-file-system: never into a mount an interrupted mmdebstrap left.
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT INT TERM
if [ ! -e "$BINFMT/qemu-$QARCH" ]; then
	[ "${IMAGE_BINFMT:-1}" != 0 ] || die "no binfmt_misc handler for $QARCH (IMAGE_BINFMT=0)"
	if [ ! -e "$BINFMT/register" ]; then
		mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc"
		mounted_binfmt=1
	fi
	grep -v '^#' "/usr/lib/binfmt.d/qemu-$QARCH.conf" > "$BINFMT/register" ||
		die "cannot register qemu-$QARCH-static with binfmt_misc"
	added_binfmt=qemu-$QARCH
	say "registered qemu-$QARCH-static with binfmt_misc for this build"
fi

strip_bin=$WORK/camgate
"$TRIPLE-strip" -o "$strip_bin" "$BINARY"
perms=$WORK/perms
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$BDIR/rootfs.perms" > "$perms"

start=$(date +%s)
say "mmdebstrap $ARCH ($(echo "$PACKAGES" | tr ',' ' ' | wc -w) packages over minbase), log $OUT/build.log"
# Hooks run on the host with $1 the new root. systemd's --root tools are
# the host's (same systemd release as the target's bookworm); chown runs
# inside (chroot, under qemu) so owner names resolve in the image's
# /etc/passwd, not the host's.
# The initramfs is made once, at the end (after the overlays: its module
# list, etc/initramfs-tools/modules, comes from board/common/rootfs): under
# qemu each run takes many minutes, and the kernel's postinst and initramfs-tools' trigger would
# each make one. Until then update-initramfs is diverted to a no-op (as
# live-build does).
UIR=/usr/sbin/update-initramfs
mmdebstrap --mode=root --variant=minbase --architectures="$ARCH" \
	--skip=check/qemu --include="$PACKAGES" \
	--essential-hook="chroot \"\$1\" dpkg-divert --local --rename --divert $UIR.camgate --add $UIR" \
	--essential-hook="printf '#!/bin/sh\nexit 0\n' > \"\$1$UIR\" && chmod 0755 \"\$1$UIR\"" \
	--customize-hook="rm -f \"\$1$UIR\" && chroot \"\$1\" dpkg-divert --local --rename --remove $UIR" \
	--customize-hook="install -m 0755 '$strip_bin' \"\$1/usr/bin/camgate\"" \
	--customize-hook="$lean_hook" \
	--customize-hook="tar -C '$TOP/board/common/rootfs' -cf - . | tar -C \"\$1\" -xf - --no-same-owner" \
	--customize-hook="tar -C '$TOP/$BDIR/rootfs' -cf - . | tar -C \"\$1\" -xf - --no-same-owner" \
	--customize-hook="install -D -m 0644 '$TOP/$CERT' \"\$1/etc/rauc/keyring.pem\"" \
	--customize-hook="systemd-sysusers --root=\"\$1\"" \
	--customize-hook="systemd-tmpfiles --root=\"\$1\" --create camgate.conf" \
	--customize-hook="while read -r p m o; do chroot \"\$1\" chown \"\$o\" \"\$p\" && chroot \"\$1\" chmod \"\$m\" \"\$p\" || exit 1; done < '$perms'" \
	--customize-hook="systemctl --root=\"\$1\" enable camgate.service" \
	--customize-hook="$extra_overlay" \
	--customize-hook="$extra_hook" \
	--customize-hook="for k in \$(ls \"\$1/lib/modules\"); do chroot \"\$1\" update-initramfs -c -k \$k || exit 1; done" \
	--customize-hook="echo camgate > \"\$1/etc/hostname\"" \
	--customize-hook="dpkg-query --admindir=\"\$1/var/lib/dpkg\" -W -f='\${Package} \${Version}\n' > '$WORK/packages'" \
	bookworm "$WORK/root" - < "$WORK/sources" > "$OUT/build.log" 2>&1 ||
	{ tail -n 20 "$OUT/build.log" >&2; die "mmdebstrap failed (log $OUT/build.log)"; }
say "rootfs done in $(($(date +%s) - start)) s: $(du -sm "$WORK/root" | cut -f1) MB"

# Every NEEDED library of camgate resolves inside the image.
missing=
for lib in $("$TRIPLE-objdump" -p "$strip_bin" | awk '/NEEDED/ {print $2}'); do
	[ -e "$WORK/root/usr/lib/$TRIPLE/$lib" ] || [ -e "$WORK/root/lib/$TRIPLE/$lib" ] ||
		{ [ -n "$LEAN" ] && [ -e "$WORK/root/usr/lib/camgate/$lib" ]; } ||
		missing="$missing $lib"
done
[ -z "$missing" ] || die "camgate needs$missing, which the image lacks: add the package to board/common/image-packages"

# Clamp what the hooks wrote after mmdebstrap's own clamping.
find "$WORK/root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

{
	echo "# camgate image manifest"
	echo "version $VERSION"
	echo "board $BOARD"
	echo "arch $ARCH"
	echo "runtime ${LEAN:+lean (build/$BOARD/runtime)}${LEAN:-debian}"
	[ -z "$EXTRA" ] || echo "variant ${EXTRA#"$TOP"/}"
	echo "build_time $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ) (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, the commit time)"
	echo "camgate_sha256 $(sha256sum "$strip_bin" | cut -d' ' -f1)"
	echo "# packages: name version"
	sed 's/^/package /' "$WORK/packages" | LC_ALL=C sort
	echo "# files: sha256 path (regular files; links and directories carry no content)"
	(cd "$WORK/root" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
		sed 's/^/file /'
} > "$OUT/manifest.txt"

mksquashfs "$WORK/root" "$OUT/rootfs.squashfs" -noappend -comp xz \
	-no-progress -quiet >> "$OUT/build.log" 2>&1 ||
	die "mksquashfs failed (log $OUT/build.log)"
say "done in $(($(date +%s) - start)) s: $OUT/rootfs.squashfs $(du -m "$OUT/rootfs.squashfs" | cut -f1) MB," \
	"$(grep -c '^file ' "$OUT/manifest.txt") files in manifest.txt"
