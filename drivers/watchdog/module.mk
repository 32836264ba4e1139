# SPDX-License-Identifier: GPL-2.0-or-later
# drivers/watchdog: /dev/watchdog and the host board's sandbox driver.
LIB_SRCS += drivers/watchdog/watchdog.c
