// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_io_seam_test - the CAMGATE_TEST_RING_EIO test seam
 * (storage/ring_io.h): off unless set, refuses a malformed value, and
 * fails exactly the writes and syncs it names with EIO, reads never.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "storage/ring_io.h"

static void test_off_and_malformed(void **state)
{
	static const char *const bad[] = { "x", "-1", "5,", "5,0", "5,x", "5;2", " 5", "5 " };
	const struct ring_io *io = ring_io_posix();

	(void)state;
	unsetenv("CAMGATE_TEST_RING_EIO");
	assert_int_equal(ring_io_test_seam(&io), 0);
	assert_null(io);
	setenv("CAMGATE_TEST_RING_EIO", "", 1);
	assert_int_equal(ring_io_test_seam(&io), 0);
	assert_null(io);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		io = ring_io_posix();
		setenv("CAMGATE_TEST_RING_EIO", bad[i], 1);
		assert_int_equal(ring_io_test_seam(&io), -EINVAL);
		assert_null(io);
	}
	unsetenv("CAMGATE_TEST_RING_EIO");
}

/* Write and sync @n times; a bit per operation that failed with EIO. */
static unsigned run_ops(const struct ring_io *io, int fd, int n)
{
	unsigned failed = 0;
	char b = 'x';

	for (int i = 0; i < n; i++) {
		int ret = i % 2 ? io->fdatasync(io->ctx, fd)
				: (int)io->pwrite(io->ctx, fd, &b, 1, (uint64_t)i);

		assert_true(ret == (i % 2 ? 0 : 1) || ret == -EIO);
		if (ret == -EIO)
			failed |= 1u << i;
		/* Reads are never failed. */
		assert_int_equal(io->pread(io->ctx, fd, &b, 1, 0), 1);
	}
	return failed;
}

static void test_fails_what_it_names(void **state)
{
	char path[] = "/tmp/ring-io-seam-XXXXXX";
	int fd = mkstemp(path);
	const struct ring_io *io;

	(void)state;
	assert_true(fd >= 0);
	/* Operations 4 and 5 (1-based, writes and syncs counted together). */
	setenv("CAMGATE_TEST_RING_EIO", "3,2", 1);
	assert_int_equal(ring_io_test_seam(&io), 0);
	assert_non_null(io);
	assert_int_equal(run_ops(io, fd, 8), 0x18u);
	/* For good from operation 6 on; each call starts the count again. */
	setenv("CAMGATE_TEST_RING_EIO", "5", 1);
	assert_int_equal(ring_io_test_seam(&io), 0);
	assert_int_equal(run_ops(io, fd, 9), 0x1e0u);
	unsetenv("CAMGATE_TEST_RING_EIO");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_and_malformed),
		cmocka_unit_test(test_fails_what_it_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
