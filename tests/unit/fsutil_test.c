// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/fsutil: mkdir -p semantics. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fsutil.h"

static void test_mkdir_p(void **state)
{
	char top[] = "/tmp/camgate-fsutil-XXXXXX", path[256], file[256];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/a/b//c/", top);
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", top);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750 & ~0022 & 0777);
	/* Again: nothing to do is success. */
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	/* A file in the way. */
	snprintf(file, sizeof(file), "%s/a/file", top);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/a/file/d", top);
	assert_int_equal(fs_mkdir_p(path, 0750), -ENOTDIR);
	assert_int_equal(fs_mkdir_p(file, 0750), -ENOTDIR);
	assert_int_equal(fs_mkdir_p("", 0750), -ENOENT);
	unlink(file);
	for (const char *sub = "/a/b/c";;) {
		snprintf(path, sizeof(path), "%s%s", top, sub);
		assert_int_equal(rmdir(path), 0);
		if (!strcmp(sub, "/a"))
			break;
		sub = !strcmp(sub, "/a/b/c") ? "/a/b" : "/a";
	}
	assert_int_equal(rmdir(top), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_p),
	};

	umask(0022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
