// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/sha256.h on mbedtls: the gateway boards' back end (no OpenSSL in the
 * image); see docs/architecture.md, "Crypto libraries".
 */
#include "lib/sha256.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/mbedtls_compat.h"

struct sha256 {
	mbedtls_sha256_context ctx;
};

/* mbedtls fails only on bad parameters (or a hardware back end's fault):
 * worth one line, since nothing hashed after it can be trusted. */
static int sha256_fail(const char *what)
{
	log_err("sha256: %s failed in mbedtls", what);
	return -EIO;
}

int sha256_new(struct sha256 **out)
{
	struct sha256 *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	mbedtls_sha256_init(&s->ctx);
	if (sha256_reset(s) < 0) {
		sha256_free(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

void sha256_free(struct sha256 *s)
{
	if (!s)
		return;
	mbedtls_sha256_free(&s->ctx);
	free(s);
}

int sha256_reset(struct sha256 *s)
{
	if (mbedtls_compat_sha256_starts(&s->ctx, 0))
		return sha256_fail("init");
	return 0;
}

int sha256_update(struct sha256 *s, const void *p, size_t n)
{
	if (n && mbedtls_compat_sha256_update(&s->ctx, p, n))
		return sha256_fail("update");
	return 0;
}

int sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN])
{
	if (mbedtls_compat_sha256_finish(&s->ctx, out))
		return sha256_fail("final");
	return sha256_reset(s);
}

int sha256_oneshot(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	if (mbedtls_compat_sha256(p, n, out, 0))
		return sha256_fail("digest");
	return 0;
}
