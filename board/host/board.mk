# SPDX-License-Identifier: GPL-2.0-or-later
# host: the build machine itself, a sandbox board for development and CI.
ARCH := native
TOOLCHAIN :=
BOARD_CFLAGS :=
BOARD_LDFLAGS :=
# Debian's libcurl loads OpenSSL's libcrypto anyway, and its SHA-256 uses
# the CPU's SHA instructions: lib/sha256.h.
SHA256_BACKEND := openssl
