#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian 12 package camgate's build, tests, benchmarks and
# demo need. Idempotent: only missing packages are fetched. Run as root.
set -eu

# libpwquality-dev and cracklib-runtime: the password policy's library and
# its dictionary (firmware/accounts.c); a gateway image needs both at run time.
BUILD="gcc make pkg-config libavformat-dev libavcodec-dev libavutil-dev
 libsqlite3-dev libmbedtls-dev libssl-dev libxxhash-dev libinih-dev libcjson-dev libcmocka-dev
 libcurl4-openssl-dev gsoap libgsoap-dev libedit-dev libpwquality-dev cracklib-runtime
 clang-format clang"
TEST="ffmpeg sqlite3 nginx-light openssl iproute2 procps psmisc
 python3 python3-pytest python3-pytest-xdist python3-jsonschema python3-gi gir1.2-gst-rtsp-server-1.0
 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
 gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav
 chromium python3-websocket"
CROSS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
 libc6-dev-armhf-cross qemu-user dpkg-dev ca-certificates"
# The S3 central of tests/integration/uplink/test_s3_radosgw.py
# (scripts/ceph-central.sh: monitor, OSD, radosgw, radosgw-admin; no
# manager needed) and libfaketime for its skewed-clock gateway.
S3CENTRAL="radosgw ceph-mon ceph-osd ceph-common faketime"
# make image / keys / bundle (scripts/mkimage.sh, scripts/mkbundle.sh) and
# `camgate update`'s tests: mmdebstrap runs the target's maintainer scripts
# under qemu-user-static, squashfs-tools packs the image, rauc signs and
# checks bundles; dbus-daemon is the private session bus of the update
# tests' rauc service (tests/integration/updatelib.py).
# The boot test (tests/boot): qemu-system-aarch64 and its UEFI firmware
# (AAVMF), grub-mkimage/grub-editenv for the EFI system partition, mtools
# and dosfstools to fill it without a mount, fdisk's sfdisk for the GPT.
FIRMWARE="mmdebstrap squashfs-tools rauc qemu-user-static dbus-daemon
 qemu-system-arm qemu-efi-aarch64 grub-common mtools dosfstools fdisk"

# The lean runtime of the images (scripts/runtime-build.sh): mbedtls builds
# with CMake (its configuration set by its own scripts/config.py, python3);
# curl, nghttp2 and FFmpeg ship their configure scripts; dpkg-source (CROSS)
# unpacks the source packages.
RUNTIME="cmake python3"

pkgs="$BUILD $TEST $CROSS $S3CENTRAL $FIRMWARE $RUNTIME"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
# npm fetches the fleet view's hls.js (web/build.sh). A machine whose
# nodejs package already brings npm keeps it; else Debian's npm.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# web/fleet/vendor/: hls.js at the version web/package-lock.json pins.
web() { sh "$(dirname "$0")/../web/build.sh"; }
if [ -z "$missing" ]; then
	echo "deps: all $(echo $pkgs | wc -w) packages present"
	web
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
web
echo "deps: done"
