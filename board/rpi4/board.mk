# SPDX-License-Identifier: GPL-2.0-or-later
# rpi4: Raspberry Pi 4 Model B (BCM2711, 4x Cortex-A72, 64-bit Debian 12 or
# Raspberry Pi OS). Cross-built with the aarch64 Debian toolchain and sysroot.
# -mcpu=cortex-a72 and no +crypto: the BCM2711 lacks the ARMv8 crypto
# extensions, so SHA-256 and AES stay in plain C (mbedtls picks that itself).
ARCH := arm64
TOOLCHAIN := aarch64-linux-gnu
BOARD_CFLAGS := -mcpu=cortex-a72
BOARD_LDFLAGS :=
