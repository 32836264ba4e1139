// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testutil - see testutil.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tests/unit/testutil.h"

extern char **environ;

/* Open descriptors nftw() may hold: one a level, the trees are shallow. */
#define RMTREE_FDS 16

void testutil_mkdtemp(char *dir, size_t cap, const char *name)
{
	int n = snprintf(dir, cap, "/tmp/%s-XXXXXX", name);

	assert_true(n > 0 && (size_t)n < cap);
	assert_non_null(mkdtemp(dir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void testutil_rmtree(const char *dir)
{
	nftw(dir, rm_one, RMTREE_FDS, FTW_DEPTH | FTW_PHYS);
}

int testutil_run(const char *const argv[])
{
	pid_t pid;
	int err, st;

	/* posix_spawn's argv is char *const[] for historical reasons only. */
	err = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (err)
		return -err;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

int testutil_make_clip(const char *path)
{
	const char *const argv[] = {
		"ffmpeg",
		"-nostdin",
		"-hide_banner",
		"-loglevel",
		"error",
		"-y",
		"-f",
		"lavfi",
		"-i",
		"testsrc=size=320x240:rate=24",
		"-f",
		"lavfi",
		"-i",
		"sine=frequency=440:sample_rate=48000",
		"-t",
		"6",
		"-pix_fmt",
		"yuv420p",
		"-c:v",
		"libx264",
		"-preset",
		"ultrafast",
		"-g",
		"12",
		"-keyint_min",
		"12",
		"-sc_threshold",
		"0",
		"-bf",
		"2",
		"-c:a",
		"aac",
		"-f",
		"mpegts",
		path,
		NULL,
	};

	return testutil_run(argv);
}

void testutil_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}
