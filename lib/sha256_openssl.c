// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/sha256.h on OpenSSL's libcrypto: the host board's back end
 * (board/host/board.mk), where Debian's libcurl loads libcrypto anyway and
 * its SHA-NI code hashes 8-10x faster than mbedtls' portable C; see
 * docs/architecture.md, "Crypto libraries".
 */
#include "lib/sha256.h"

#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "lib/log.h"

struct sha256 {
	EVP_MD_CTX *md;
};

static int sha256_fail(const char *what)
{
	log_err("sha256: %s failed in libcrypto", what);
	return -EIO;
}

int sha256_new(struct sha256 **out)
{
	struct sha256 *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->md = EVP_MD_CTX_new();
	if (!s->md) {
		free(s);
		return -ENOMEM;
	}
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
	EVP_MD_CTX_free(s->md);
	free(s);
}

int sha256_reset(struct sha256 *s)
{
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		return sha256_fail("init");
	return 0;
}

int sha256_update(struct sha256 *s, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(s->md, p, n) != 1)
		return sha256_fail("update");
	return 0;
}

int sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(s->md, out, &len) != 1 || len != SHA256_LEN)
		return sha256_fail("final");
	return sha256_reset(s);
}

int sha256_oneshot(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != SHA256_LEN)
		return sha256_fail("digest");
	return 0;
}
