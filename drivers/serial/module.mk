# SPDX-License-Identifier: GPL-2.0-or-later
# drivers/serial: the console tty. libedit is the line editor of
# firmware/console_io.c (Debian libedit-dev), linked here because the
# firmware folder has no fragment of its own.
LIB_SRCS += drivers/serial/serial.c
PKGS += libedit
