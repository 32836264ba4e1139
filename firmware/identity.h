/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * identity - the gateway's signing identity: an ECDSA P-256 key pair
 * (mbedtls), made on first use from the mbedtls CSPRNG (CTR-DRBG seeded
 * by the kernel's getrandom(2)).
 *
 * The private key is STATE_DIR/identity.key, PEM (SEC1 "EC PRIVATE KEY"),
 * mode 0600, created with fs_create() (never over an existing file: the
 * daemon and a command starting together both end up with the winner's
 * key) and read with fs_read_private(). It is not device.key: that one is
 * the symmetric sealing key of firmware/secrets.h and stays as it is.
 *
 * The fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo, as
 * `openssl pkey -pubout -outform DER | sha256sum` prints it (64 hex).
 * Signatures are ECDSA over SHA-256 of the message, DER encoded
 * (what `openssl dgst -sha256 -verify` takes).
 *
 * Ownership: identity_open() allocates, identity_close() frees and wipes.
 * Threads: signing takes the identity's mutex; any thread.
 * Errors: -EBADMSG (identity.key is not an EC P-256 key: never replaced),
 * -E2BIG (@cap too small), -EIO (mbedtls failed; logged), -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_IDENTITY_H
#define CAMGATE_FIRMWARE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

struct identity; /* opaque */

#define IDENTITY_KEY_NAME "identity.key"
#define IDENTITY_FP_LEN	  65  /* 64 hex and NUL */
#define IDENTITY_SIG_MAX  160 /* room mbedtls asks for (its largest curve); P-256 uses 72 */
#define IDENTITY_PUB_MAX  256 /* PEM public key */

/* Load STATE_DIR/identity.key, creating it (and @state_dir) on first use. */
int identity_open(const char *state_dir, struct identity **idp);
void identity_close(struct identity *id); /* NULL is a no-op */

/* The public key fingerprint (64 lowercase hex). */
const char *identity_fingerprint(const struct identity *id);
/* The public key as PEM ("-----BEGIN PUBLIC KEY-----"), NUL-terminated. */
const char *identity_public_pem(const struct identity *id);

/* Sign @len bytes of @msg: DER signature into @sig, *siglen bytes. */
int identity_sign(struct identity *id, const void *msg, size_t len, uint8_t *sig, size_t cap,
		  size_t *siglen);

/* A PKCS#10 CSR in PEM for @subject ("CN=gw-01,O=..."), signed with the
 * key, into @out (NUL-terminated). */
int identity_csr(struct identity *id, const char *subject, char *out, size_t cap);

/* Check @sig over @msg with the PEM public key @pub_pem; the key's
 * fingerprint into @fp when not NULL. 0: good. -EBADMSG: the signature
 * does not match. -EINVAL: @pub_pem is not an EC P-256 public key. */
int identity_verify(const char *pub_pem, const void *msg, size_t len, const uint8_t *sig,
		    size_t siglen, char fp[IDENTITY_FP_LEN]);

#endif /* CAMGATE_FIRMWARE_IDENTITY_H */
