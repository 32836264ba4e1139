# SPDX-License-Identifier: GPL-2.0-or-later
#
# arm-linux-gnueabihf: 32-bit ARM Linux, hard-float EABI (ARMv7 and up),
# Debian's cross gcc (gcc-arm-linux-gnueabihf) and armhf sysroot,
# qemu-arm (qemu-user) to run tests. Boards add -mcpu/-mfpu in BOARD_CFLAGS.
TRIPLE := arm-linux-gnueabihf
QEMU := qemu-arm
include toolchain/sysroot.mk
