// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit chain's key file, STATE_DIR/audit.key; its format is in
 * firmware/audit.h. Kept as firmware/secrets.c keeps device.key: 0600,
 * never replaced once made, created with link(2) from a finished temp
 * file so two processes starting together end up with one key.
 */
#include "firmware/audit_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "lib/fsutil.h"
#include "lib/log.h"

#define KEY_MAGIC    "CGA1"
#define KEY_FILE_LEN (8 + 8 + AUDIT_KEY_LEN)

static int key_decode(const uint8_t *buf, size_t n, uint8_t *key, int64_t *first_idp)
{
	static const uint8_t zero[3];
	uint64_t id = 0;

	if (n != KEY_FILE_LEN || memcmp(buf, KEY_MAGIC, 4) || buf[4] != 1 ||
	    memcmp(buf + 5, zero, 3))
		return -EBADMSG;
	for (int i = 7; i >= 0; i--)
		id = id << 8 | buf[8 + i];
	if (!id || id > INT64_MAX)
		return -EBADMSG;
	memcpy(key, buf + 16, AUDIT_KEY_LEN);
	*first_idp = (int64_t)id;
	return 0;
}

int audit__key_read(const char *path, uint8_t key[AUDIT_KEY_LEN], int64_t *first_idp)
{
	uint8_t buf[KEY_FILE_LEN + 1];
	struct fs_private fp;
	int ret = fs_read_private(path, buf, sizeof(buf), &fp);

	if (ret == -ENOENT)
		return ret;
	if (fp.mode & 077) {
		log_warn("audit: %s was readable by others (mode %03o): set to 0600", path,
			 (unsigned int)fp.mode);
		if (fp.chmod_err)
			log_warn("audit: %s: chmod: %s", path, strerror(fp.chmod_err));
	}
	if (!ret)
		ret = key_decode(buf, fp.len, key, first_idp);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	if (ret)
		log_err("audit: %s: %s", path,
			ret == -EBADMSG ? "not a camgate audit key" : strerror(-ret));
	return ret;
}

int audit__key_create(const char *dir, const char *path, const uint8_t key[AUDIT_KEY_LEN],
		      int64_t first_id)
{
	uint8_t buf[KEY_FILE_LEN] = KEY_MAGIC "\x01";
	int ret;

	(void)dir; /* the folder of @path, which fs_create() syncs */
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (uint8_t)((uint64_t)first_id >> (8 * i));
	memcpy(buf + 16, key, AUDIT_KEY_LEN);
	ret = fs_create(path, buf, sizeof(buf), 0600);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	if (ret && ret != -EEXIST)
		log_err("audit: cannot create %s: %s", path, strerror(-ret));
	return ret;
}
