// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chain checkpoints as JSON: built and signed here, parsed and checked
 * here; the signed text in firmware/checkpoint.h.
 */
#include "firmware/checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "lib/hex.h"
#include "lib/parse.h"

#define SIG_B64_MAX 128

int checkpoint_preimage(const struct checkpoint *cp, char *buf, size_t cap)
{
	char prev[2 * CHAIN_LEN + 1], value[2 * CHAIN_LEN + 1];
	int n = snprintf(
		buf, cap, "camgate-checkpoint-v1\n%s\n%" PRIu64 "\n%" PRIu64 "\n%s\n%s\n%s\n%s\n",
		cp->camera, cp->first_pos, cp->last_pos, hex_encode(cp->prev, CHAIN_LEN, prev),
		hex_encode(cp->value, CHAIN_LEN, value), cp->time, cp->key_fp);

	return n < 0 || (size_t)n >= cap ? -E2BIG : n;
}

cJSON *checkpoint_entry_json(const struct chain_entry *e)
{
	char hex[2 * CHAIN_LEN + 1];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "position", (double)e->pos);
	cJSON_AddStringToObject(o, "type", e->kind == CHAIN_GAP ? "gap" : "segment");
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddNumberToObject(o, "start_ms", (double)e->start_utc_ms);
	cJSON_AddNumberToObject(o, "duration_ms", e->duration_ms);
	if (e->kind == CHAIN_GAP)
		cJSON_AddStringToObject(o, "reason", e->reason);
	else
		cJSON_AddStringToObject(o, "sha256", hex_encode(e->hash, CHAIN_LEN, hex));
	cJSON_AddStringToObject(o, "chain", hex_encode(e->value, CHAIN_LEN, hex));
	return o;
}

int checkpoint_build(struct identity *id, const char *gateway, const char *cert_fp,
		     const uint8_t prev[CHAIN_LEN], const struct chain_entry *e, size_t n,
		     int64_t now_ms, char **jsonp)
{
	struct checkpoint cp = { .first_pos = e[0].pos, .last_pos = e[n - 1].pos };
	char pre[512], hex[2 * CHAIN_LEN + 1];
	unsigned char b64[SIG_B64_MAX];
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t siglen = 0, blen = 0;
	uint64_t first_seq = 0, last_seq = 0;
	cJSON *o, *arr;
	int ret;

	snprintf(cp.camera, sizeof(cp.camera), "%s", e[0].camera);
	memcpy(cp.prev, prev, CHAIN_LEN);
	memcpy(cp.value, e[n - 1].value, CHAIN_LEN);
	format_time_ms(now_ms, cp.time, sizeof(cp.time));
	snprintf(cp.key_fp, sizeof(cp.key_fp), "%s", identity_fingerprint(id));
	ret = checkpoint_preimage(&cp, pre, sizeof(pre));
	if (ret < 0)
		return ret;
	ret = identity_sign(id, pre, (size_t)ret, sig, sizeof(sig), &siglen);
	if (ret)
		return ret;
	if (mbedtls_base64_encode(b64, sizeof(b64), &blen, sig, siglen))
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind != CHAIN_SEGMENT)
			continue;
		if (!first_seq)
			first_seq = e[i].seq;
		last_seq = e[i].seq;
	}
	o = cJSON_CreateObject();
	if (!o)
		return -ENOMEM;
	cJSON_AddStringToObject(o, "type", "checkpoint");
	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "gateway", gateway ? gateway : "");
	cJSON_AddStringToObject(o, "camera", cp.camera);
	cJSON_AddNumberToObject(o, "first_seq", (double)first_seq);
	cJSON_AddNumberToObject(o, "last_seq", (double)last_seq);
	cJSON_AddNumberToObject(o, "first_position", (double)cp.first_pos);
	cJSON_AddNumberToObject(o, "last_position", (double)cp.last_pos);
	cJSON_AddStringToObject(o, "prev_chain", hex_encode(prev, CHAIN_LEN, hex));
	cJSON_AddStringToObject(o, "chain", hex_encode(cp.value, CHAIN_LEN, hex));
	cJSON_AddStringToObject(o, "time", cp.time);
	cJSON_AddStringToObject(o, "key_fingerprint", cp.key_fp);
	if (cert_fp && *cert_fp)
		cJSON_AddStringToObject(o, "certificate_fingerprint", cert_fp);
	else
		cJSON_AddNullToObject(o, "certificate_fingerprint");
	cJSON_AddStringToObject(o, "public_key", identity_public_pem(id));
	arr = cJSON_AddArrayToObject(o, "entries");
	for (size_t i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, checkpoint_entry_json(&e[i]));
	cJSON_AddStringToObject(o, "signature", (char *)b64);
	*jsonp = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return *jsonp ? 0 : -ENOMEM;
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int checkpoint_num(const cJSON *o, const char *k, int64_t *vp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
		return -EINVAL;
	*vp = (int64_t)v->valuedouble;
	return 0;
}

int checkpoint_entry_parse(const cJSON *j, const char *camera, struct chain_entry *e)
{
	int64_t pos, seq, start, dur;
	const char *type = str_of(j, "type"), *reason = str_of(j, "reason");

	memset(e, 0, sizeof(*e));
	if (checkpoint_num(j, "position", &pos) || checkpoint_num(j, "seq", &seq) ||
	    checkpoint_num(j, "start_ms", &start) || checkpoint_num(j, "duration_ms", &dur) ||
	    !type || dur > UINT32_MAX || hex_decode(str_of(j, "chain"), e->value, CHAIN_LEN))
		return -EINVAL;
	snprintf(e->camera, sizeof(e->camera), "%s", camera);
	e->pos = (uint64_t)pos;
	e->seq = (uint64_t)seq;
	e->start_utc_ms = start;
	e->duration_ms = (uint32_t)dur;
	if (!strcmp(type, "gap")) {
		e->kind = CHAIN_GAP;
		if (!reason || strlen(reason) >= sizeof(e->reason))
			return -EINVAL;
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
		return chain_gap_hash(reason, e->hash);
	}
	if (strcmp(type, "segment"))
		return -EINVAL;
	return hex_decode(str_of(j, "sha256"), e->hash, CHAIN_LEN);
}

static int fields_parse(const cJSON *o, struct checkpoint *cp, char *why, size_t cap)
{
	const char *cam = str_of(o, "camera"), *t = str_of(o, "time"),
		   *fp = str_of(o, "key_fingerprint");
	const char *pub = str_of(o, "public_key");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "entries"), *j;
	int64_t first, last;
	size_t i = 0;

	if (!cam || !t || !fp || !pub || strlen(cam) >= sizeof(cp->camera) ||
	    strlen(t) >= sizeof(cp->time) || strlen(fp) >= sizeof(cp->key_fp) ||
	    checkpoint_num(o, "first_position", &first) ||
	    checkpoint_num(o, "last_position", &last) ||
	    hex_decode(str_of(o, "prev_chain"), cp->prev, CHAIN_LEN) ||
	    hex_decode(str_of(o, "chain"), cp->value, CHAIN_LEN) || !cJSON_IsArray(arr) ||
	    last < first || (int64_t)cJSON_GetArraySize(arr) != last - first + 1) {
		snprintf(why, cap, "not a checkpoint (fields missing or malformed)");
		return -EINVAL;
	}
	snprintf(cp->camera, sizeof(cp->camera), "%s", cam);
	snprintf(cp->time, sizeof(cp->time), "%s", t);
	snprintf(cp->key_fp, sizeof(cp->key_fp), "%s", fp);
	cp->first_pos = (uint64_t)first;
	cp->last_pos = (uint64_t)last;
	cp->public_key = strdup(pub);
	cp->entries = calloc((size_t)(last - first + 1), sizeof(*cp->entries));
	if (!cp->public_key || !cp->entries)
		return -ENOMEM;
	cJSON_ArrayForEach (j, arr) {
		if (checkpoint_entry_parse(j, cam, &cp->entries[i]) ||
		    cp->entries[i].pos != (uint64_t)first + i) {
			snprintf(why, cap, "entry %zu malformed or out of order", i);
			return -EINVAL;
		}
		i++;
	}
	cp->n = i;
	return 0;
}

int checkpoint_parse(const char *body, struct checkpoint *cp, char *why, size_t cap)
{
	char pre[512], fp[IDENTITY_FP_LEN];
	uint8_t sig[IDENTITY_SIG_MAX], v[CHAIN_LEN];
	const char *sig64;
	size_t siglen = 0;
	cJSON *o = cJSON_Parse(body);
	int ret;

	memset(cp, 0, sizeof(*cp));
	if (!o) {
		snprintf(why, cap, "not JSON");
		return -EINVAL;
	}
	ret = fields_parse(o, cp, why, cap);
	sig64 = str_of(o, "signature");
	if (!ret &&
	    (!sig64 || mbedtls_base64_decode(sig, sizeof(sig), &siglen,
					     (const unsigned char *)sig64, strlen(sig64)))) {
		snprintf(why, cap, "signature missing or not base64");
		ret = -EINVAL;
	}
	cJSON_Delete(o);
	if (ret)
		return ret;
	ret = checkpoint_preimage(cp, pre, sizeof(pre));
	if (ret < 0)
		return ret;
	ret = identity_verify(cp->public_key, pre, (size_t)ret, sig, siglen, fp);
	if (ret == -EINVAL) {
		snprintf(why, cap, "public key is not an EC P-256 key");
		return ret;
	}
	if (ret || strcmp(fp, cp->key_fp)) {
		snprintf(why, cap, "signature does not verify with the key it names");
		return -EBADMSG;
	}
	memcpy(v, cp->prev, CHAIN_LEN);
	for (size_t i = 0; i < cp->n; i++) {
		uint8_t next[CHAIN_LEN];

		chain_step(v, &cp->entries[i], next);
		if (memcmp(next, cp->entries[i].value, CHAIN_LEN)) {
			snprintf(why, cap, "entry at position %" PRIu64 " does not chain",
				 cp->entries[i].pos);
			return -EPROTO;
		}
		memcpy(v, next, CHAIN_LEN);
	}
	if (memcmp(v, cp->value, CHAIN_LEN)) {
		snprintf(why, cap, "entries do not recompute to the signed chain value");
		return -EPROTO;
	}
	return 0;
}

void checkpoint_clear(struct checkpoint *cp)
{
	free(cp->public_key);
	free(cp->entries);
	memset(cp, 0, sizeof(*cp));
}
