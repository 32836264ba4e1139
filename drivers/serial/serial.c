// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * serial - termios set-up of the console tty; see serial.h. Opening with
 * O_NONBLOCK first keeps open(2) from waiting for a carrier that a 3-wire
 * cable never raises; the descriptor is made blocking again afterwards
 * (the console polls before every read).
 */
#include "drivers/serial/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "board_defaults.h"
#include "lib/log.h"
#include "lib/parse.h"

static const struct {
	unsigned int baud;
	speed_t speed;
} speeds[] = {
	{ 9600, B9600 },     { 19200, B19200 },	  { 38400, B38400 },   { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
};

const char *serial_board_tty(void)
{
	return BOARD_CONSOLE_TTY;
}

unsigned int serial_board_baud(void)
{
	unsigned int baud = 115200;

	if (serial_baud_parse(BOARD_CONSOLE_BAUD, &baud))
		return 115200;
	return baud;
}

int serial_baud_parse(const char *text, unsigned int *baudp)
{
	int64_t v;

	if (parse_i64(text, 1, 4000000, &v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		if (speeds[i].baud == (unsigned int)v) {
			*baudp = speeds[i].baud;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_raw(int fd, unsigned int baud, unsigned int flags)
{
	struct termios t;
	speed_t speed = 0;

	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		if (speeds[i].baud == baud)
			speed = speeds[i].speed;
	if (!speed)
		return -EINVAL;
	if (tcgetattr(fd, &t))
		return -errno;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* "\n" shows as a new line */
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	t.c_cflag |= CS8 | CREAD | HUPCL;
	if (flags & SERIAL_MODEM)
		t.c_cflag &= ~(tcflag_t)CLOCAL;
	else
		t.c_cflag |= CLOCAL;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, speed) || cfsetospeed(&t, speed) || tcsetattr(fd, TCSANOW, &t))
		return -errno;
	tcflush(fd, TCIFLUSH); /* line noise from before we listened */
	return 0;
}

int serial_open(const char *dev, unsigned int baud, unsigned int flags, int *fdp)
{
	int fd, ret;

	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_log;
	}
	if (!isatty(fd)) {
		ret = -ENOTTY;
		goto out_close;
	}
	ret = set_raw(fd, baud, flags);
	if (!ret && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		ret = -errno;
	if (ret)
		goto out_close;
	*fdp = fd;
	return 0;
out_close:
	close(fd);
out_log:
	/* An absent device is a state the caller reports (once), not news. */
	if (ret != -ENOENT && ret != -ENODEV && ret != -ENXIO)
		log_err("serial %s: %s", dev,
			ret == -EINVAL ? "speed not supported" : strerror(-ret));
	return ret;
}
