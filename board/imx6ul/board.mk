# SPDX-License-Identifier: GPL-2.0-or-later
# imx6ul: a Cortex-A7 class industrial gateway (NXP i.MX6UL/ULL, one
# Cortex-A7 at 528-900 MHz, 256-512 MiB DDR3, eMMC), 32-bit Debian 12 armhf.
# Cross-built with Debian's armhf toolchain and sysroot. The A7 has
# VFPv4 with 32 double registers and NEON, no ARMv8 crypto: SHA-256 stays
# in plain C (mbedtls).
ARCH := armhf
TOOLCHAIN := arm-linux-gnueabihf
BOARD_CFLAGS := -mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard -mthumb
BOARD_LDFLAGS :=
