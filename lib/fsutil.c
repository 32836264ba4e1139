// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fs_mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (!mkdir(path, mode))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fs_read_private(const char *path, void *buf, size_t cap, struct fs_private *infop)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	*infop = (struct fs_private){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EBADMSG;
		goto out;
	}
	infop->mode = st.st_mode & 0777;
	if ((st.st_mode & 077) && fchmod(fd, 0600))
		infop->chmod_err = errno;
	n = read(fd, buf, cap);
	if (n < 0)
		ret = -errno;
	else
		infop->len = (size_t)n;
out:
	close(fd);
	return ret;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	int ret;

	if (!n)
		return -ENOENT;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	/* Each parent in turn: "a", "a/b", ... then the whole path. */
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		ret = fs_mkdir_one(buf, mode);
		*p = '/';
		if (ret)
			return ret;
	}
	return fs_mkdir_one(buf, mode);
}

int fs_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, ret = 0;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes @data to a fresh, synced temp file next to @path (name in @tmp). */
static int fs_write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
			size_t cap)
{
	int fd, ret;

	if (snprintf(tmp, cap, "%s.tmp.%d", path, (int)gettid()) >= (int)cap)
		return -ENAMETOOLONG;
	unlink(tmp); /* a leftover of a thread of a process that died */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, mode & 07777) ? -errno : 0;
	if (!ret)
		ret = fs_write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int fs_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int ret = fs_write_tmp(path, data, len, mode, tmp, sizeof(tmp));

	if (ret)
		return ret;
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return fs_fsync_parent(path);
}

int fs_create(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int ret = fs_write_tmp(path, data, len, mode, tmp, sizeof(tmp));

	if (ret)
		return ret;
	if (link(tmp, path))
		ret = -errno;
	unlink(tmp);
	return ret ? ret : fs_fsync_parent(path);
}

int fs_commit(const char *tmp, const char *path)
{
	int fd, ret = 0;

	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	return fs_fsync_parent(path);
}

char *fs_read_all(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		if (lenp)
			*lenp = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

int fs_remove_tree(const char *path)
{
	if (nftw(path, remove_one, 8, FTW_DEPTH | FTW_PHYS))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}
