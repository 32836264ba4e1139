// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/fsutil: mkdir -p semantics, durable replace and create. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

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

/* Entries of @dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void assert_file(const char *path, const char *text, mode_t mode)
{
	char buf[256];
	struct stat st;
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_replace(void **state)
{
	char top[] = "/tmp/camgate-fsutil-XXXXXX", path[256], missing[256];
	const char *longer = "a longer first version\n";

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/f.conf", top);
	/* New file; the mode is exact (umask 022 would not clear 0660's bits,
	 * so test one it would: 0666 stays 0666). */
	assert_int_equal(fs_replace(path, longer, strlen(longer), 0666), 0);
	assert_file(path, longer, 0666);
	/* Replaced whole: a shorter content leaves no tail of the old one. */
	assert_int_equal(fs_replace(path, "short\n", 6, 0600), 0);
	assert_file(path, "short\n", 0600);
	assert_int_equal(fs_replace(path, "", 0, 0640), 0);
	assert_file(path, "", 0640);
	assert_int_equal(count_entries(top), 1);
	/* A missing folder: the error, and nothing left behind anywhere. */
	snprintf(missing, sizeof(missing), "%s/nope/f.conf", top);
	assert_int_equal(fs_replace(missing, "x", 1, 0600), -ENOENT);
	/* The target is a directory: rename fails, the temp is removed and
	 * the directory kept. */
	snprintf(missing, sizeof(missing), "%s/d", top);
	assert_int_equal(mkdir(missing, 0700), 0);
	assert_int_equal(fs_replace(missing, "x", 1, 0600), -EISDIR);
	assert_int_equal(count_entries(top), 2);
	assert_int_equal(rmdir(missing), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(top), 0);
}

static void test_create(void **state)
{
	char top[] = "/tmp/camgate-fsutil-XXXXXX", path[256];

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/key", top);
	assert_int_equal(fs_create(path, "first", 5, 0600), 0);
	assert_file(path, "first", 0600);
	/* Never replaces: the first one stays. */
	assert_int_equal(fs_create(path, "second", 6, 0644), -EEXIST);
	assert_file(path, "first", 0600);
	assert_int_equal(count_entries(top), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(top), 0);
}

static void test_commit(void **state)
{
	char top[] = "/tmp/camgate-fsutil-XXXXXX", path[256], tmp[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/out.mp4", top);
	snprintf(tmp, sizeof(tmp), "%s/out.mp4.tmp", top);
	assert_int_equal(fs_replace(path, "old content", 11, 0640), 0);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("new", f);
	fclose(f);
	assert_int_equal(fs_commit(tmp, path), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_file(path, "new", 0644);
	/* No temp: the error, the target untouched. */
	assert_int_equal(fs_commit(tmp, path), -ENOENT);
	assert_file(path, "new", 0644);
	/* Rename fails (onto a non-empty folder): the temp is removed. */
	f = fopen(tmp, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_not_equal(fs_commit(tmp, top), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(count_entries(top), 1);
	assert_int_equal(fs_fsync_parent(path), 0);
	assert_int_equal(fs_fsync_parent("relative-name"), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(top), 0);
}

/* A key file: read whole, a widened mode narrowed and reported, never
 * through a symlink, a folder refused. */
static void test_read_private(void **state)
{
	char dir[] = "/tmp/camgate-fsutil-priv-XXXXXX", path[128], link[128], buf[16];
	struct fs_private fp;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(fs_read_private(path, buf, sizeof(buf), &fp), -ENOENT);
	assert_int_equal(fs_replace(path, "0123456789", 10, 0644), 0);
	assert_int_equal(fs_read_private(path, buf, sizeof(buf), &fp), 0);
	assert_int_equal(fp.len, 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(fp.mode, 0644);
	assert_int_equal(fp.chmod_err, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fs_read_private(path, buf, 4, &fp), 0);
	assert_int_equal(fp.len, 4);
	assert_int_equal(fp.mode, 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(fs_read_private(link, buf, sizeof(buf), &fp), -ELOOP);
	assert_int_equal(fs_read_private(dir, buf, sizeof(buf), &fp), -EBADMSG);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* fs_read_all: whole file, NUL-terminated; fs_remove_tree: a tree gone,
 * a symlink in it removed without following it, a missing path is 0. */
static void test_read_all_remove_tree(void **state)
{
	char top[] = "/tmp/camgate-fsutil-XXXXXX", keep[] = "/tmp/camgate-fsutil-XXXXXX";
	char path[256], link[256];
	size_t len = 0;
	char *text;

	(void)state;
	assert_non_null(mkdtemp(top));
	assert_non_null(mkdtemp(keep));
	snprintf(path, sizeof(path), "%s/a/b", top);
	assert_int_equal(fs_mkdir_p(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/a/b/f.json", top);
	assert_int_equal(fs_replace(path, "{\"x\": 1}", 8, 0640), 0);
	text = fs_read_all(path, &len);
	assert_non_null(text);
	assert_int_equal(len, 8);
	assert_string_equal(text, "{\"x\": 1}");
	free(text);
	snprintf(link, sizeof(link), "%s/a/out", top);
	assert_int_equal(symlink(keep, link), 0);
	snprintf(path, sizeof(path), "%s/k", keep);
	assert_int_equal(fs_replace(path, "k", 1, 0640), 0);
	assert_int_equal(fs_remove_tree(top), 0);
	assert_int_equal(access(top, F_OK), -1);
	assert_null(fs_read_all(link, NULL));
	assert_int_equal(access(path, F_OK), 0); /* the link's target stays */
	assert_int_equal(fs_remove_tree(top), 0);
	assert_int_equal(fs_remove_tree(keep), 0);
	assert_int_equal(access(keep, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_p),	     cmocka_unit_test(test_replace),
		cmocka_unit_test(test_create),	     cmocka_unit_test(test_commit),
		cmocka_unit_test(test_read_private), cmocka_unit_test(test_read_all_remove_tree),
	};

	umask(0022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
