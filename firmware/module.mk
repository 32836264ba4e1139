# SPDX-License-Identifier: GPL-2.0-or-later
# firmware/: the daemon, the console, settings, accounts, audit, registry
# and the commands. main.c is the program (MAIN_OBJ in the Makefile), not
# part of the library the unit tests link. libedit: the console's line
# editor (console_io.c). mbedtls (-lmbedcrypto, the Makefile's LIBS: Debian
# ships no pkg-config file for it) for secrets, accounts and audit.
LIB_SRCS += $(filter-out firmware/main.c,$(wildcard firmware/*.c))
PKGS += sqlite3 inih libcjson pwquality libedit
# identity.c writes certificate requests: mbedtls' X.509 library.
LIBS_EXTRA += -lmbedx509
