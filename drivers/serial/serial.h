/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * serial - the board's console tty for the installer console.
 *
 * serial_open() puts the line in raw input mode at the board's speed
 * (BOARD_CONSOLE_BAUD, default 115200) 8N1 without flow control, and keeps
 * output processing (newline -> CR LF), so the console's text shows right
 * on any terminal emulator. The tty is not made the process's controlling
 * terminal (O_NOCTTY): no byte typed on it can signal the daemon.
 *
 * Hang-up: the console ends its session on POLLHUP, on read() returning 0
 * or EIO (a USB adapter unplugged, a pty master closed), or, with
 * SERIAL_MODEM, when the carrier (DCD) drops (HUPCL and no CLOCAL). A
 * plain 3-wire console cannot see its cable pulled; the idle timeout
 * ends such a session.
 *
 * Errors: -ENOENT, -ENODEV, -ENXIO (no such device: not logged, the
 * caller says it once), -ENOTTY (not a tty), -EINVAL (speed not
 * supported), other -errno from open/termios (logged here once).
 */
#ifndef CAMGATE_DRIVERS_SERIAL_SERIAL_H
#define CAMGATE_DRIVERS_SERIAL_SERIAL_H

#include <stdbool.h>

#define SERIAL_MODEM 0x1 /* honour DCD: a carrier drop hangs up */

/* The board's console device and speed (BOARD_CONSOLE_TTY/_BAUD). */
const char *serial_board_tty(void);
unsigned int serial_board_baud(void);

/* "115200" into a supported speed; -EINVAL otherwise. */
int serial_baud_parse(const char *text, unsigned int *baudp);

/* Open @dev raw at @baud; *fdp set on success, the caller closes it. */
int serial_open(const char *dev, unsigned int baud, unsigned int flags, int *fdp);

#endif /* CAMGATE_DRIVERS_SERIAL_SERIAL_H */
