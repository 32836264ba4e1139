/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mbedtls_compat - the one place that knows which mbedtls this is.
 *
 * mbedtls 2.28 (Debian 12) names its hash calls with a _ret suffix that
 * 3.x dropped, and gained a one-call PBKDF2 only in 3.3. Code that calls
 * these uses the names below and carries no version test of its own.
 */
#ifndef CAMGATE_LIB_MBEDTLS_COMPAT_H
#define CAMGATE_LIB_MBEDTLS_COMPAT_H

#include <stdint.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define mbedtls_compat_sha256_starts mbedtls_sha256_starts
#define mbedtls_compat_sha256_update mbedtls_sha256_update
#define mbedtls_compat_sha256_finish mbedtls_sha256_finish
#define mbedtls_compat_sha256	     mbedtls_sha256
#else
#define mbedtls_compat_sha256_starts mbedtls_sha256_starts_ret
#define mbedtls_compat_sha256_update mbedtls_sha256_update_ret
#define mbedtls_compat_sha256_finish mbedtls_sha256_finish_ret
#define mbedtls_compat_sha256	     mbedtls_sha256_ret
#endif

/* PBKDF2-HMAC-SHA256 of @pw into @out_len bytes; 0 or an mbedtls error. */
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
static inline int mbedtls_compat_pbkdf2_sha256(const char *pw, const unsigned char *salt,
					       size_t salt_len, unsigned int iter,
					       unsigned char *out, size_t out_len)
{
	return mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)pw,
					     strlen(pw), salt, salt_len, iter, (uint32_t)out_len,
					     out);
}
#else
static inline int mbedtls_compat_pbkdf2_sha256(const char *pw, const unsigned char *salt,
					       size_t salt_len, unsigned int iter,
					       unsigned char *out, size_t out_len)
{
	mbedtls_md_context_t md;
	int ret;

	mbedtls_md_init(&md);
	ret = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
	if (!ret)
		ret = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pw, strlen(pw), salt,
						salt_len, iter, (uint32_t)out_len, out);
	mbedtls_md_free(&md);
	return ret;
}
#endif

/* 3.0 gave key parsing an RNG (blinding) and signing the buffer size. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define mbedtls_compat_pk_parse_key(pk, key, len, rng, prng)                                       \
	mbedtls_pk_parse_key(pk, key, len, NULL, 0, rng, prng)
#define mbedtls_compat_pk_sign(pk, hash, sig, cap, lenp, rng, prng)                                \
	mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, 32, sig, cap, lenp, rng, prng)
#else
#define mbedtls_compat_pk_parse_key(pk, key, len, rng, prng)                                       \
	((void)(rng), (void)(prng), mbedtls_pk_parse_key(pk, key, len, NULL, 0))
#define mbedtls_compat_pk_sign(pk, hash, sig, cap, lenp, rng, prng)                                \
	((void)(cap), mbedtls_pk_sign(pk, MBEDTLS_MD_SHA256, hash, 32, sig, lenp, rng, prng))
#endif

#endif /* CAMGATE_LIB_MBEDTLS_COMPAT_H */
