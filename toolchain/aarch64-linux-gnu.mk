# SPDX-License-Identifier: GPL-2.0-or-later
#
# aarch64-linux-gnu: 64-bit ARM Linux, Debian's cross gcc
# (gcc-aarch64-linux-gnu) and arm64 sysroot, qemu-aarch64 (qemu-user) to run
# tests. Boards add -mcpu/-mtune in BOARD_CFLAGS before this is included.
TRIPLE := aarch64-linux-gnu
QEMU := qemu-aarch64
include toolchain/sysroot.mk
