/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsutil - file system steps every module needs the same way.
 *
 * Durable replace, written once: the new content goes to a temp file in
 * the same folder, which is fsync'ed, renamed over the target, and then
 * the folder is fsync'ed, so after a power cut the path holds either the
 * whole old file or the whole new one, and a 0 return means the new one
 * survives. On failure the temp file is removed and the target is left
 * as it was.
 *
 * Errors: 0 or a negative errno; nothing is logged here, the caller knows
 * what the path is for and logs it once.
 */
#ifndef CAMGATE_LIB_FSUTIL_H
#define CAMGATE_LIB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Create @path and any missing parents with @mode (as mkdir -p). An
 * existing directory is success; an existing non-directory -ENOTDIR.
 * -ENAMETOOLONG, or mkdir's error (-EACCES, -EROFS, -ENOSPC ...). */
int fs_mkdir_p(const char *path, mode_t mode);

/* Replace @path whole with @len bytes of @data, file mode @mode exactly
 * (not masked by the umask). The temp file is "@path.tmp.TID".
 * -ENAMETOOLONG, or the error of open, write, fsync or rename (-ENOENT:
 * the folder is missing, -ENOSPC, -EIO ...). */
int fs_replace(const char *path, const void *data, size_t len, mode_t mode);

/* As fs_replace(), but never replaces: the finished temp file is linked
 * to @path, so of two processes creating the same file at once exactly
 * one wins and the other gets -EEXIST (and should read the winner's). */
int fs_create(const char *path, const void *data, size_t len, mode_t mode);

/* The second half of a replace whose content someone else wrote to @tmp
 * (a muxer, a config writer, a validation step between the two): fsync
 * @tmp, rename it over @path, fsync the folder. @tmp must be in the
 * folder of @path. On failure @tmp is removed. */
int fs_commit(const char *tmp, const char *path);

/* What fs_read_private() found besides the bytes. */
struct fs_private {
	size_t len;    /* bytes read */
	mode_t mode;   /* permission bits the file had */
	int chmod_err; /* mode was wider than 0600 and narrowing it failed (errno) */
};

/* Read a private file (a key) into @buf, at most @cap bytes: a regular
 * file, never through a symlink. A mode wider than 0600 is narrowed back
 * to 0600; *infop says what it was, for the caller to report. Size @cap
 * one past the longest content accepted to detect a longer file.
 * -ENOENT, -EBADMSG (not a regular file), or open's or read's error. */
int fs_read_private(const char *path, void *buf, size_t cap, struct fs_private *infop);

/* A whole (small) file, NUL-terminated, malloc'ed (the caller frees);
 * its length into *lenp when not NULL. NULL when it cannot be read. */
char *fs_read_all(const char *path, size_t *lenp);

/* Remove @path and everything below it (symlinks not followed). 0 when
 * it is gone, also when it was not there; else the first error. */
int fs_remove_tree(const char *path);

/* fsync the folder holding @path: makes a rename, link or unlink of
 * @path durable. */
int fs_fsync_parent(const char *path);

#endif /* CAMGATE_LIB_FSUTIL_H */
