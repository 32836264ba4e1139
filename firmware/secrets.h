/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * secrets - camera credentials and other secrets at rest, sealed with
 * AES-256-GCM under a device key (mbedtls).
 *
 * The key is STATE_DIR/device.key, made on first use from getrandom(2),
 * written 0600 (temp file, fsync, rename, fsync dir) and never printed.
 * Key file format (NEVER REORDER): "CGK1" magic, u8 version (1), 3 bytes
 * zero, 32 key bytes; 40 bytes in all.
 *
 * A sealed value is text, so it can live in the INI config:
 *   "enc:v1:" base64( nonce[12] || ciphertext || tag[16] )
 * with a fresh random nonce per seal. The caller's @context (for example
 * "camera:lobby.password") is the GCM additional data: a value copied to
 * another field or another gateway does not open.
 *
 * Guarantees (tests/unit/secrets_test.c):
 *  S1  secrets_open() never replaces an existing key file; an unreadable
 *      or malformed one is an error (-EBADMSG), not a new key, because a
 *      new key would silently lose every sealed value.
 *  S2  secrets_unseal() returns 0 only for a value sealed by this key
 *      under the same context, unmodified.
 *  S3  The key is wiped from memory by secrets_close().
 * Threads: a struct secrets is read-only after open; any thread.
 * Errors: -EBADMSG (bad key file; a value that does not open), -EINVAL
 * (not a sealed value), -E2BIG (@cap too small), -EIO (logged), -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_SECRETS_H
#define CAMGATE_FIRMWARE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

struct secrets; /* opaque */
struct config;

#define SECRETS_KEY_NAME  "device.key"
#define SECRETS_PREFIX	  "enc:v1:"
#define SECRETS_PLAIN_MAX 1024 /* bytes of one secret */
/* Text length of a sealed value of @n plain bytes, NUL included. */
#define SECRETS_SEALED_LEN(n) (sizeof(SECRETS_PREFIX) + ((12 + (n) + 16 + 2) / 3) * 4)

/* Load STATE_DIR/device.key, creating it (and @state_dir) on first use.
 * *sp set only on success. */
int secrets_open(const char *state_dir, struct secrets **sp);
void secrets_close(struct secrets *s); /* NULL is a no-op; wipes the key */

bool secrets_is_sealed(const char *text);

/* Seal @plain (NUL-terminated) into @out, SECRETS_SEALED_LEN(strlen) bytes
 * at least. @context borrowed. */
int secrets_seal(const struct secrets *s, const char *context, const char *plain, char *out,
		 size_t cap);
/* Open a sealed @text into @out (NUL-terminated). */
int secrets_unseal(const struct secrets *s, const char *context, const char *text, char *out,
		   size_t cap);

/* For the daemon, right after config_load(): open every sealed value of
 * @cfg in place: each secret of the settings table, with the context
 * config_secrets_each() gives it (camera passwords
 * "camera:NAME.password", "onvif.password", "uplink.token",
 * "uplink.password").
 * Plain values are left as they are. -EBADMSG names the first value that
 * does not open (logged). */
int secrets_config_reveal(const struct secrets *s, struct config *cfg);

#endif /* CAMGATE_FIRMWARE_SECRETS_H */
