/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sha256 - SHA-256 for the hot paths: every recorded byte is hashed once
 * when it is written to the ring and once more before it is uploaded.
 *
 * One interface, one back end per build, a board fact (SHA256_BACKEND in
 * board/BOARD/board.mk): lib/sha256_mbedtls.c on the gateway boards (the
 * image ships no OpenSSL), lib/sha256_openssl.c on the host board, where
 * libcurl loads libcrypto anyway and its SHA-NI code is 8-10x faster than
 * mbedtls' portable C (bench/record: docs/performance.md).
 *
 * Ownership: sha256_new() allocates, sha256_free() frees. A context is
 * used by one thread at a time; after sha256_final() it is ready for the
 * next message (no sha256_reset() needed).
 * Errors: 0 or -ENOMEM / -EIO (mbedtls failed: logged once here).
 */
#ifndef CAMGATE_LIB_SHA256_H
#define CAMGATE_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256; /* opaque */

int sha256_new(struct sha256 **out);
void sha256_free(struct sha256 *s); /* NULL is a no-op */

/* Starts a new message, dropping whatever was hashed so far. */
int sha256_reset(struct sha256 *s);
int sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes the digest of the message and starts a new one. */
int sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);

/* One message in one call, without a context to keep. */
int sha256_oneshot(const void *p, size_t n, uint8_t out[SHA256_LEN]);

/* The digest of the whole file @path, read in pieces (lib/hashfile.c).
 * -errno of open or read. */
int sha256_file(const char *path, uint8_t out[SHA256_LEN]);

#endif /* CAMGATE_LIB_SHA256_H */
