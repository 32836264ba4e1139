// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * serial_test - drivers/serial on a pseudo-terminal (the CI machine has
 * no UART; a pty takes the same termios calls): raw input, output
 * processing kept, 8N1, the speed, CLOCAL unless SERIAL_MODEM, and the
 * errors for a missing device, a non-tty and an unknown speed. The
 * console's sessions on such a line, with a hang-up, are in console_test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "drivers/serial/serial.h"
#include "lib/log.h"

static void test_raw_mode(void **state)
{
	struct termios t;
	int master, slave, fd;
	char name[64], buf[8];

	(void)state;
	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	assert_int_equal(serial_open(name, 115200, 0, &fd), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	assert_true((t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR));
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_false(t.c_cflag & (PARENB | CSTOPB | CRTSCTS));
	assert_true(t.c_cflag & CLOCAL);
	assert_false(t.c_iflag & (IXON | IXOFF));
	assert_int_equal(cfgetospeed(&t), B115200);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	/* Bytes pass as they are; "\n" goes out as CR LF. */
	assert_int_equal(write(master, "a\x03\r", 3), 3);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "a\x03\r", 3);
	assert_int_equal(write(fd, "ok\n", 3), 3);
	assert_int_equal(read(master, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ok\r\n", 4);
	close(fd);
	assert_int_equal(serial_open(name, 9600, SERIAL_MODEM, &fd), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_false(t.c_cflag & CLOCAL);
	assert_true(t.c_cflag & HUPCL);
	assert_int_equal(cfgetispeed(&t), B9600);
	close(fd);
	close(slave);
	close(master);
}

static void test_errors(void **state)
{
	unsigned int baud = 0;
	int fd = -1;

	(void)state;
	assert_int_equal(serial_open("/dev/does-not-exist", 115200, 0, &fd), -ENOENT);
	assert_int_equal(serial_open("/dev/null", 115200, 0, &fd), -ENOTTY);
	assert_int_equal(fd, -1);
	assert_int_equal(serial_baud_parse("115200", &baud), 0);
	assert_int_equal(baud, 115200);
	assert_int_equal(serial_baud_parse("115201", &baud), -EINVAL);
	assert_int_equal(serial_baud_parse("fast", &baud), -EINVAL);
	assert_int_equal(serial_baud_parse("", &baud), -EINVAL);
	assert_non_null(serial_board_tty());
	assert_true(serial_board_baud() >= 9600);
}

static void test_bad_speed(void **state)
{
	int master, slave, fd = -1;
	char name[64];

	(void)state;
	assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
	assert_int_equal(serial_open(name, 12345, 0, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	close(slave);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_mode),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_speed),
	};

	log_init("serial_test", LOG_DEST_PLAIN, getenv("SERIAL_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
