/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint - a signed statement of a camera's hash chain up to a
 * position (docs/integrity.md, docs/schema/checkpoint.schema.json):
 * written by the gateway, read back by `camgate verify`.
 *
 * The signature (ECDSA P-256, SHA-256, DER, base64) covers the text
 *   "camgate-checkpoint-v1\n" camera "\n" first_position "\n"
 *   last_position "\n" prev_chain "\n" chain "\n" time "\n"
 *   key_fingerprint "\n"
 * (decimal positions, lowercase hex); the entries are bound to it
 * through the chain value they recompute to, so the JSON needs no
 * canonical form.
 *
 * Ownership: checkpoint_build() mallocs *jsonp (free()); a parsed
 * checkpoint owns its entries and key, freed by checkpoint_clear().
 */
#ifndef CAMGATE_FIRMWARE_CHECKPOINT_H
#define CAMGATE_FIRMWARE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/identity.h"
#include "storage/chain.h"

struct checkpoint {
	char camera[CHAIN_CAMERA_MAX];
	uint64_t first_pos, last_pos;
	uint8_t prev[CHAIN_LEN], value[CHAIN_LEN];
	char time[40];
	char key_fp[IDENTITY_FP_LEN];
	char *public_key; /* PEM */
	struct chain_entry *entries;
	size_t n;
};

/* The checkpoint of @n consecutive entries @e (borrowed), @prev the
 * chain value before the first, signed with @id. @cert_fp: the uplink
 * client certificate's fingerprint, or NULL. */
int checkpoint_build(struct identity *id, const char *gateway, const char *cert_fp,
		     const uint8_t prev[CHAIN_LEN], const struct chain_entry *e, size_t n,
		     int64_t now_ms, char **jsonp);

/* Parse @body, check its signature with the key it carries and that its
 * entries recompute to its chain value. On -EBADMSG (signature),
 * -EPROTO (chain) or -EINVAL (malformed) @why says what; @cp is filled
 * as far as it could be and must be cleared either way. */
int checkpoint_parse(const char *body, struct checkpoint *cp, char *why, size_t cap);
void checkpoint_clear(struct checkpoint *cp);

/* One chain entry as JSON (the "entries" items), and back; the manifest
 * of an export package lists entries the same way. */
struct cJSON;
struct cJSON *checkpoint_entry_json(const struct chain_entry *e);
int checkpoint_entry_parse(const struct cJSON *j, const char *camera, struct chain_entry *e);
/* Member @k of @o as a whole number in 0..2^53 (what a JSON double holds
 * exactly; a cast of anything else to an integer is undefined): -EINVAL
 * when it is missing, not a number or out of that range. */
int checkpoint_num(const struct cJSON *o, const char *k, int64_t *vp);

/* The signed text for the fields of @cp into @buf. */
int checkpoint_preimage(const struct checkpoint *cp, char *buf, size_t cap);

#endif /* CAMGATE_FIRMWARE_CHECKPOINT_H */
