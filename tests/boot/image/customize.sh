#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# customize.sh ROOT - the boot test image's last step (mkimage.sh,
# IMAGE_EXTRA=tests/boot/image): mount points on the read-only slot, the
# network and the interim mark-good unit enabled, the data directories'
# owners recorded for the test (it makes the data partition).
set -eu
R=$1
mkdir -p "$R/data" "$R/boot/efi" "$R/var/lib/rauc"
chmod 0755 "$R/usr/libexec/camgate-boottest/mark-good"
systemctl --root="$R" enable systemd-networkd.service camgate-mark-good.service
systemctl --root="$R" enable systemd-networkd-wait-online.service 2>/dev/null || true
