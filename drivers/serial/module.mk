# SPDX-License-Identifier: GPL-2.0-or-later
# drivers/serial: the console tty (termios only; the line editor,
# libedit, is firmware/console_io.c's: firmware/module.mk).
LIB_SRCS += drivers/serial/serial.c
