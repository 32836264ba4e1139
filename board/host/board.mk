# SPDX-License-Identifier: GPL-2.0-or-later
# host: the build machine itself, a sandbox board for development and CI.
ARCH := native
TOOLCHAIN :=
BOARD_CFLAGS :=
BOARD_LDFLAGS :=
