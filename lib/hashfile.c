// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sha256_file() of lib/sha256.h: the one file hasher, whatever the back
 * end (its own file: lib/module.mk builds one sha256_BACKEND.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/sha256.h"

#define CHUNK (256 * 1024)

int sha256_file(const char *path, uint8_t out[SHA256_LEN])
{
	struct sha256 *s = NULL;
	uint8_t *buf = malloc(CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = fd < 0 ? -errno : buf ? sha256_new(&s) : -ENOMEM;

	while (!ret) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = -errno;
		else if (!n)
			break;
		else
			ret = sha256_update(s, buf, (size_t)n);
	}
	if (!ret)
		ret = sha256_final(s, out);
	sha256_free(s);
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}
