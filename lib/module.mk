# SPDX-License-Identifier: GPL-2.0-or-later
# lib/: pieces every layer shares (log, parse, fsutil, hex, backoff,
# termsafe, SHA-256 on mbedtls, xxHash). Depends on nothing
# of the project.
LIB_SRCS += $(wildcard lib/*.c)
PKGS += libxxhash
