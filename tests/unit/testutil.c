// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testutil - see testutil.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/testutil.h"

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
