// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The gateway's ECDSA P-256 identity; formats in firmware/identity.h.
 */
#include "firmware/identity.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_csr.h>

#include "lib/fsutil.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/mbedtls_compat.h"
#include "lib/sha256.h"

#define KEY_PEM_MAX 512 /* a SEC1 P-256 PEM is ~230 bytes */
#define PATH_CAP    4096
#define DER_MAX	    160

struct identity {
	pthread_mutex_t lock; /* the DRBG and the pk context */
	mbedtls_pk_context pk;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	char fp[IDENTITY_FP_LEN];
	char pub[IDENTITY_PUB_MAX];
};

/* Fingerprint of @pk's SubjectPublicKeyInfo. */
static int pk_fingerprint(mbedtls_pk_context *pk, char fp[IDENTITY_FP_LEN])
{
	uint8_t der[DER_MAX], md[SHA256_LEN];
	int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));

	if (n <= 0)
		return -EIO;
	/* mbedtls writes DER at the end of the buffer. */
	if (sha256_oneshot(der + sizeof(der) - n, (size_t)n, md))
		return -EIO;
	hex_encode(md, sizeof(md), fp);
	return 0;
}

static bool pk_is_p256(mbedtls_pk_context *pk)
{
	return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
	       mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

/* Writes a new key to @path, never over one (-EEXIST: lost a race). */
static int key_create(struct identity *id, const char *path)
{
	unsigned char pem[KEY_PEM_MAX];
	mbedtls_pk_context pk;
	int ret = -EIO;

	mbedtls_pk_init(&pk);
	if (!mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) &&
	    !mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
				 mbedtls_ctr_drbg_random, &id->drbg) &&
	    !mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)))
		ret = fs_create(path, pem, strlen((char *)pem), 0600);
	mbedtls_platform_zeroize(pem, sizeof(pem));
	mbedtls_pk_free(&pk);
	return ret;
}

static int key_read(struct identity *id, const char *path)
{
	unsigned char pem[KEY_PEM_MAX + 1];
	struct fs_private fp;
	int ret = fs_read_private(path, pem, sizeof(pem) - 1, &fp);

	if (ret == -ENOENT)
		return ret;
	if (!ret && (fp.mode & 077))
		log_warn("identity: %s was readable by others (mode %03o): set to 0600", path,
			 (unsigned int)fp.mode);
	if (!ret) {
		pem[fp.len] = '\0';
		if (fp.len >= KEY_PEM_MAX ||
		    mbedtls_compat_pk_parse_key(&id->pk, pem, fp.len + 1, mbedtls_ctr_drbg_random,
						&id->drbg) ||
		    !pk_is_p256(&id->pk))
			ret = -EBADMSG;
	}
	mbedtls_platform_zeroize(pem, sizeof(pem));
	if (ret)
		log_err("identity: %s: %s", path,
			ret == -EBADMSG ? "not an EC P-256 private key" : strerror(-ret));
	return ret;
}

int identity_open(const char *state_dir, struct identity **idp)
{
	static const char pers[] = "camgate-identity";
	char path[PATH_CAP];
	struct identity *id;
	int ret;

	if (snprintf(path, sizeof(path), "%s/" IDENTITY_KEY_NAME, state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = fs_mkdir_p(state_dir, 0750);
	if (ret) {
		log_err("identity: cannot create %s: %s", state_dir, strerror(-ret));
		return ret;
	}
	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	pthread_mutex_init(&id->lock, NULL);
	mbedtls_pk_init(&id->pk);
	mbedtls_entropy_init(&id->entropy);
	mbedtls_ctr_drbg_init(&id->drbg);
	if (mbedtls_ctr_drbg_seed(&id->drbg, mbedtls_entropy_func, &id->entropy,
				  (const unsigned char *)pers, sizeof(pers) - 1)) {
		log_err("identity: cannot seed the random generator");
		identity_close(id);
		return -EIO;
	}
	ret = key_read(id, path);
	if (ret == -ENOENT) {
		ret = key_create(id, path);
		if (ret == -EEXIST || !ret)
			ret = key_read(id, path);
		else
			log_err("identity: cannot create %s: %s", path, strerror(-ret));
		if (!ret)
			log_notice("identity: new device key pair in %s", path);
	}
	if (!ret &&
	    (pk_fingerprint(&id->pk, id->fp) ||
	     mbedtls_pk_write_pubkey_pem(&id->pk, (unsigned char *)id->pub, sizeof(id->pub))))
		ret = -EIO;
	if (ret) {
		identity_close(id);
		return ret;
	}
	*idp = id;
	return 0;
}

void identity_close(struct identity *id)
{
	if (!id)
		return;
	mbedtls_pk_free(&id->pk);
	mbedtls_ctr_drbg_free(&id->drbg);
	mbedtls_entropy_free(&id->entropy);
	pthread_mutex_destroy(&id->lock);
	mbedtls_platform_zeroize(id, sizeof(*id));
	free(id);
}

const char *identity_fingerprint(const struct identity *id)
{
	return id->fp;
}

const char *identity_public_pem(const struct identity *id)
{
	return id->pub;
}

int identity_sign(struct identity *id, const void *msg, size_t len, uint8_t *sig, size_t cap,
		  size_t *siglen)
{
	uint8_t md[SHA256_LEN];
	int rc;

	if (cap < MBEDTLS_ECDSA_MAX_LEN)
		return -E2BIG;
	if (sha256_oneshot(msg, len, md))
		return -EIO;
	pthread_mutex_lock(&id->lock);
	rc = mbedtls_compat_pk_sign(&id->pk, md, sig, cap, siglen, mbedtls_ctr_drbg_random,
				    &id->drbg);
	pthread_mutex_unlock(&id->lock);
	if (rc) {
		log_err("identity: signing failed (mbedtls -0x%04x)", (unsigned int)-rc);
		return -EIO;
	}
	return 0;
}

int identity_csr(struct identity *id, const char *subject, char *out, size_t cap)
{
	mbedtls_x509write_csr req;
	int rc;

	mbedtls_x509write_csr_init(&req);
	mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&req, &id->pk);
	rc = mbedtls_x509write_csr_set_subject_name(&req, subject);
	if (rc) {
		mbedtls_x509write_csr_free(&req);
		log_err("identity: bad subject '%s' (expected CN=...,O=...)", subject);
		return -EINVAL;
	}
	pthread_mutex_lock(&id->lock);
	rc = mbedtls_x509write_csr_pem(&req, (unsigned char *)out, cap, mbedtls_ctr_drbg_random,
				       &id->drbg);
	pthread_mutex_unlock(&id->lock);
	mbedtls_x509write_csr_free(&req);
	if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || rc == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL)
		return -E2BIG;
	if (rc) {
		log_err("identity: cannot write the CSR (mbedtls -0x%04x)", (unsigned int)-rc);
		return -EIO;
	}
	return 0;
}

int identity_verify(const char *pub_pem, const void *msg, size_t len, const uint8_t *sig,
		    size_t siglen, char fp[IDENTITY_FP_LEN])
{
	uint8_t md[SHA256_LEN];
	mbedtls_pk_context pk;
	int ret = 0;

	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_public_key(&pk, (const unsigned char *)pub_pem, strlen(pub_pem) + 1) ||
	    !pk_is_p256(&pk))
		ret = -EINVAL;
	if (!ret && fp && pk_fingerprint(&pk, fp))
		ret = -EIO;
	if (!ret && sha256_oneshot(msg, len, md))
		ret = -EIO;
	if (!ret && mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, md, sizeof(md), sig, siglen))
		ret = -EBADMSG;
	mbedtls_pk_free(&pk);
	return ret;
}
