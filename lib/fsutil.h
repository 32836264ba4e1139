/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsutil - file system steps every module needs the same way.
 *
 * Errors: 0 or a negative errno; nothing is logged here, the caller knows
 * what the path is for and logs it once.
 */
#ifndef CAMGATE_LIB_FSUTIL_H
#define CAMGATE_LIB_FSUTIL_H

#include <sys/types.h>

/* Create @path and any missing parents with @mode (as mkdir -p). An
 * existing directory is success; an existing non-directory -ENOTDIR.
 * -ENAMETOOLONG, or mkdir's error (-EACCES, -EROFS, -ENOSPC ...). */
int fs_mkdir_p(const char *path, mode_t mode);

#endif /* CAMGATE_LIB_FSUTIL_H */
