// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device key and sealed values; formats and S1-S3 in firmware/secrets.h.
 *
 * The key file is created with link(2) from a finished temp file, not
 * rename(2): when the daemon and `camgate console` start together on a
 * first boot, the second one's link fails with EEXIST and it reads the
 * first one's key instead of replacing it (S1).
 */
#include "firmware/secrets.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/base64.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "firmware/config.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#define KEY_LEN	     32
#define KEY_FILE_LEN 40
#define KEY_MAGIC    "CGK1"
#define NONCE_LEN    12
#define TAG_LEN	     16
#define PATH_CAP     4096
#define PREFIX_LEN   (sizeof(SECRETS_PREFIX) - 1)
#define RAW_MAX	     (NONCE_LEN + SECRETS_PLAIN_MAX + TAG_LEN)

struct secrets {
	uint8_t key[KEY_LEN];
};

static int key_decode(const uint8_t *buf, size_t n, struct secrets *s)
{
	static const uint8_t zero[3];

	if (n != KEY_FILE_LEN || memcmp(buf, KEY_MAGIC, 4) || buf[4] != 1 ||
	    memcmp(buf + 5, zero, 3))
		return -EBADMSG;
	memcpy(s->key, buf + 8, KEY_LEN);
	return 0;
}

static int key_read(const char *path, struct secrets *s)
{
	uint8_t buf[KEY_FILE_LEN + 1];
	struct fs_private fp;
	int ret = fs_read_private(path, buf, sizeof(buf), &fp);

	if (ret == -ENOENT)
		return ret;
	if (fp.mode & 077) {
		/* Someone widened it: it was narrowed again; say so. */
		log_warn("secrets: %s was readable by others (mode %03o): set to 0600", path,
			 (unsigned int)fp.mode);
		if (fp.chmod_err)
			log_warn("secrets: %s: chmod: %s", path, strerror(fp.chmod_err));
	}
	if (!ret)
		ret = key_decode(buf, fp.len, s);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	if (ret)
		log_err("secrets: %s: %s", path,
			ret == -EBADMSG ? "not a camgate device key" : strerror(-ret));
	return ret;
}

/* Writes a new key to @path, never over one (-EEXIST: lost a race). */
static int key_create(const char *path)
{
	uint8_t buf[KEY_FILE_LEN] = KEY_MAGIC "\x01";
	int ret;

	if (getrandom(buf + 8, KEY_LEN, 0) != KEY_LEN)
		return -errno ? -errno : -EIO;
	ret = fs_create(path, buf, sizeof(buf), 0600);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	return ret;
}

int secrets_open(const char *state_dir, struct secrets **sp)
{
	char path[PATH_CAP];
	struct secrets *s;
	int ret;

	if (snprintf(path, sizeof(path), "%s/" SECRETS_KEY_NAME, state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = fs_mkdir_p(state_dir, 0750);
	if (ret) {
		log_err("secrets: cannot create %s: %s", state_dir, strerror(-ret));
		return ret;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = key_read(path, s);
	if (ret == -ENOENT) {
		ret = key_create(path);
		if (ret == -EEXIST || !ret)
			ret = key_read(path, s);
		else
			log_err("secrets: cannot create %s: %s", path, strerror(-ret));
		if (!ret)
			log_notice("secrets: device key in %s", path);
	}
	if (ret) {
		secrets_close(s);
		return ret;
	}
	*sp = s;
	return 0;
}

void secrets_close(struct secrets *s)
{
	if (!s)
		return;
	mbedtls_platform_zeroize(s, sizeof(*s));
	free(s);
}

bool secrets_is_sealed(const char *text)
{
	return text && !strncmp(text, SECRETS_PREFIX, PREFIX_LEN);
}

static int gcm_run(const struct secrets *s, int mode, const char *context, uint8_t *nonce,
		   const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	size_t alen = context ? strlen(context) : 0;
	mbedtls_gcm_context gcm;
	int rc;

	mbedtls_gcm_init(&gcm);
	rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, s->key, KEY_LEN * 8);
	if (!rc && mode == MBEDTLS_GCM_ENCRYPT)
		rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, NONCE_LEN,
					       (const uint8_t *)context, alen, in, out, TAG_LEN,
					       tag);
	else if (!rc)
		rc = mbedtls_gcm_auth_decrypt(&gcm, len, nonce, NONCE_LEN, (const uint8_t *)context,
					      alen, tag, TAG_LEN, in, out);
	mbedtls_gcm_free(&gcm);
	return rc;
}

int secrets_seal(const struct secrets *s, const char *context, const char *plain, char *out,
		 size_t cap)
{
	size_t len = strlen(plain), olen = 0;
	uint8_t *raw;
	int ret = 0;

	if (len > SECRETS_PLAIN_MAX)
		return -E2BIG;
	if (cap < SECRETS_SEALED_LEN(len))
		return -E2BIG;
	raw = malloc(NONCE_LEN + len + TAG_LEN);
	if (!raw)
		return -ENOMEM;
	if (getrandom(raw, NONCE_LEN, 0) != NONCE_LEN ||
	    gcm_run(s, MBEDTLS_GCM_ENCRYPT, context, raw, (const uint8_t *)plain, len,
		    raw + NONCE_LEN, raw + NONCE_LEN + len)) {
		log_err("secrets: cannot seal a value");
		ret = -EIO;
		goto out;
	}
	memcpy(out, SECRETS_PREFIX, PREFIX_LEN);
	if (mbedtls_base64_encode((unsigned char *)out + PREFIX_LEN, cap - PREFIX_LEN, &olen, raw,
				  NONCE_LEN + len + TAG_LEN))
		ret = -E2BIG;
out:
	mbedtls_platform_zeroize(raw, NONCE_LEN + len + TAG_LEN);
	free(raw);
	return ret;
}

int secrets_unseal(const struct secrets *s, const char *context, const char *text, char *out,
		   size_t cap)
{
	uint8_t *raw = NULL, *plain = NULL;
	size_t n = 0, len;
	int ret = 0;

	if (!secrets_is_sealed(text))
		return -EINVAL;
	raw = malloc(RAW_MAX);
	plain = malloc(RAW_MAX);
	if (!raw || !plain) {
		ret = -ENOMEM;
		goto out;
	}
	if (mbedtls_base64_decode(raw, RAW_MAX, &n, (const unsigned char *)text + PREFIX_LEN,
				  strlen(text + PREFIX_LEN)) ||
	    n < NONCE_LEN + TAG_LEN) {
		ret = -EBADMSG;
		goto out;
	}
	len = n - NONCE_LEN - TAG_LEN;
	if (gcm_run(s, MBEDTLS_GCM_DECRYPT, context, raw, raw + NONCE_LEN, len, plain,
		    raw + NONCE_LEN + len) ||
	    memchr(plain, 0, len)) {
		ret = -EBADMSG;
		goto out;
	}
	if (len + 1 > cap) {
		ret = -E2BIG;
		goto out;
	}
	memcpy(out, plain, len);
	out[len] = '\0';
out:
	if (plain)
		mbedtls_platform_zeroize(plain, RAW_MAX);
	free(plain);
	free(raw);
	return ret;
}

/* Opens *@valp in place when sealed. */
static int reveal_one(const struct secrets *s, const char *context, char **valp)
{
	char *plain;
	int ret;

	if (!*valp || !secrets_is_sealed(*valp))
		return 0;
	plain = malloc(SECRETS_PLAIN_MAX + 1);
	if (!plain)
		return -ENOMEM;
	ret = secrets_unseal(s, context, *valp, plain, SECRETS_PLAIN_MAX + 1);
	if (ret) {
		log_err("secrets: %s: sealed value does not open with this device's key", context);
		free(plain);
		return ret == -ENOMEM ? ret : -EBADMSG;
	}
	free(*valp);
	*valp = plain;
	return 0;
}

static int reveal_each(void *arg, const char *context, char **valp)
{
	return reveal_one(arg, context, valp);
}

int secrets_config_reveal(const struct secrets *s, struct config *cfg)
{
	return config_secrets_each(cfg, reveal_each, (void *)s);
}
