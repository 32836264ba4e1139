// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate verify` of an export package (docs/integrity.md, "Export
 * package"): the signed manifest, the chain it lists, the checkpoints it
 * ties to, and every file it names. An export central received
 * (exports/{id}/ of a gateway's folder) has the manifest only; its files
 * are central's media/ and chain/ objects beside it.
 */
#include "firmware/verify_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "firmware/checkpoint.h"
#include "lib/hex.h"

#define PATH_CAP 4096

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* manifest.json against manifest.sig; the key's fingerprint into @fp. */
static int manifest_signed(struct vctx *v, const char *root, const char *text, size_t len,
			   const char *pub, const char *camera, char fp[IDENTITY_FP_LEN])
{
	char path[PATH_CAP];
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t siglen = 0;
	char *b64;
	int ret;

	snprintf(path, sizeof(path), "%s/manifest.sig", root);
	b64 = fs_read_all(path, NULL);
	if (b64)
		b64[strcspn(b64, "\r\n")] = '\0';
	ret = !b64 || !pub ||
	      mbedtls_base64_decode(sig, sizeof(sig), &siglen, (unsigned char *)b64, strlen(b64));
	free(b64);
	if (!ret)
		ret = identity_verify(pub, text, len, sig, siglen, fp);
	if (ret) {
		verify__finding(v, camera, 0, 0,
				"manifest.json: its signature (manifest.sig) does not verify");
		return -EBADMSG;
	}
	if (!verify__key_ok(v, fp)) {
		verify__finding(
			v, camera, 0, 0,
			"manifest.json is signed by another key (%.16s..., expected %.16s...)", fp,
			v->fp);
		return -EBADMSG;
	}
	return 0;
}

static void file_hash(struct vctx *v, const char *root, const char *camera, const cJSON *o)
{
	const char *file = str_of(o, "file"), *want = str_of(o, "sha256");
	char path[PATH_CAP], hex[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN];

	if (!file || !want || strstr(file, "..")) {
		verify__finding(v, camera, 0, 0, "manifest.json: a file entry is malformed");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", root, file);
	if (sha256_file(path, md))
		verify__finding(v, camera, 0, 0, "missing: %s", file);
	else if (strcmp(hex_encode(md, sizeof(md), hex), want))
		verify__finding(v, camera, 0, 0, "altered: %s does not match its SHA-256", file);
}

/* The chain of the manifest, recomputed from its anchor. */
static int manifest_chain(struct vctx *v, const cJSON *m, const char *camera, struct expect *chain)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "chain"), *j;
	const cJSON *ents = cJSON_GetObjectItemCaseSensitive(c, "entries");
	uint8_t val[CHAIN_LEN] = { 0 };
	int ret = 0;

	if (cJSON_GetArraySize(ents) && hex_decode(str_of(c, "anchor"), val, CHAIN_LEN)) {
		verify__finding(v, camera, 0, 0, "manifest.json: chain anchor malformed");
		return 0;
	}
	cJSON_ArrayForEach (j, ents) {
		struct chain_entry e;
		uint8_t next[CHAIN_LEN];

		if (checkpoint_entry_parse(j, camera, &e)) {
			verify__finding(v, camera, 0, 0, "manifest.json: chain entry malformed");
			return 0;
		}
		chain_step(val, &e, next);
		if (memcmp(next, e.value, CHAIN_LEN))
			verify__finding(v, camera, e.start_utc_ms, e.seq,
					"manifest chain does not recompute at position %" PRIu64,
					e.pos);
		memcpy(val, e.value, CHAIN_LEN);
		ret = verify__expect_add(chain, &e);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct chain_entry *at_pos(const struct expect *x, uint64_t pos)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].pos == pos)
			return &x->e[i];
	return NULL;
}

/* Segments of the manifest, each tied to its chain entry. */
static int manifest_segments(struct vctx *v, const cJSON *m, const char *camera,
			     const struct expect *chain, struct expect *x)
{
	const cJSON *j;
	int ret = 0;

	cJSON_ArrayForEach (j, cJSON_GetObjectItemCaseSensitive(m, "segments")) {
		const cJSON *pos = cJSON_GetObjectItemCaseSensitive(j, "position");
		struct chain_entry e = { .kind = CHAIN_SEGMENT };
		const struct chain_entry *c;
		int64_t seq, st, du, p = 0;

		/* Hostile numbers (-1, 1e300) are malformed, not cast. */
		if (checkpoint_num(j, "seq", &seq) || checkpoint_num(j, "start_ms", &st) ||
		    checkpoint_num(j, "duration_ms", &du) || du > UINT32_MAX ||
		    (cJSON_IsNumber(pos) && checkpoint_num(j, "position", &p)) ||
		    hex_decode(str_of(j, "sha256"), e.hash, CHAIN_LEN)) {
			verify__finding(v, camera, 0, 0, "manifest.json: segment entry malformed");
			continue;
		}
		snprintf(e.camera, sizeof(e.camera), "%s", camera);
		e.seq = (uint64_t)seq;
		e.start_utc_ms = st;
		e.duration_ms = (uint32_t)du;
		if (cJSON_IsNumber(pos)) {
			e.pos = (uint64_t)p;
			c = at_pos(chain, e.pos);
			if (!c || c->kind != CHAIN_SEGMENT || c->seq != e.seq ||
			    c->start_utc_ms != e.start_utc_ms || c->duration_ms != e.duration_ms ||
			    memcmp(c->hash, e.hash, CHAIN_LEN))
				verify__finding(v, camera, e.start_utc_ms, e.seq,
						"manifest segment disagrees with the chain at "
						"position %" PRIu64,
						e.pos);
		}
		ret = verify__expect_add(x, &e);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < chain->n; i++)
		if (chain->e[i].kind == CHAIN_GAP && !ret)
			ret = verify__expect_add(x, &chain->e[i]);
	return ret;
}

/* The signed checkpoints agree with the manifest where they overlap. */
static void checkpoints_agree(struct vctx *v, const char *camera, const struct expect *cps,
			      const struct expect *chain, unsigned int *notes)
{
	unsigned int overlap = 0;

	for (size_t i = 0; i < cps->n; i++) {
		const struct chain_entry *c = at_pos(chain, cps->e[i].pos);

		if (!c)
			continue;
		overlap++;
		if (memcmp(c->value, cps->e[i].value, CHAIN_LEN))
			verify__finding(v, camera, c->start_utc_ms, c->seq,
					"the checkpoint and the manifest disagree at chain "
					"position %" PRIu64,
					c->pos);
	}
	fprintf(v->out, "%s: %u chain entries of the manifest confirmed by checkpoints\n", camera,
		overlap);
	if (!overlap) {
		fprintf(v->out,
			"note %s: no checkpoint covers the export yet (newer than the "
			"last one): the manifest signature alone vouches for it\n",
			camera);
		(*notes)++;
	}
}

/* At central: each segment the manifest lists, hashed where central
 * keeps it; the rest of central's media is not the export's. */
static void listed_segments(struct vctx *v, const char *files, const char *camera, const cJSON *m)
{
	const cJSON *j;

	cJSON_ArrayForEach (j, cJSON_GetObjectItemCaseSensitive(m, "segments"))
		file_hash(v, files, camera, j);
}

int verify__package(struct vctx *v, const char *root, const char *files, unsigned int *notes)
{
	bool central = strcmp(root, files) != 0;
	struct expect chain = { 0 }, cps = { 0 }, x = { .strict = true };
	char path[PATH_CAP], fp[IDENTITY_FP_LEN], camera[CHAIN_CAMERA_MAX] = "-";
	size_t len = 0;
	const cJSON *j;
	cJSON *m = NULL;
	char *text;
	int ret = 0;

	v->package = true;
	snprintf(path, sizeof(path), "%s/manifest.json", root);
	text = fs_read_all(path, &len);
	m = text ? cJSON_Parse(text) : NULL;
	if (!m || !str_of(m, "camera") || strlen(str_of(m, "camera")) >= sizeof(camera)) {
		verify__finding(v, camera, 0, 0, "manifest.json unreadable or not a manifest");
		goto out;
	}
	snprintf(camera, sizeof(camera), "%s", str_of(m, "camera"));
	if (manifest_signed(v, root, text, len, str_of(m, "public_key"), camera, fp))
		goto out;
	fprintf(v->out, "%s: export %s .. %s for %s by %s, purpose: %s\n", camera,
		str_of(m, "from") ? str_of(m, "from") : "?",
		str_of(m, "to") ? str_of(m, "to") : "?",
		str_of(m, "requester") ? str_of(m, "requester") : "?",
		str_of(m, "performer") ? str_of(m, "performer") : "?",
		str_of(m, "purpose") ? str_of(m, "purpose") : "?");
	if (central) {
		fprintf(v->out,
			"note %s: footage.mp4 stays on the gateway; the manifest's "
			"segments are checked at central\n",
			camera);
		(*notes)++;
	} else {
		file_hash(v, root, camera, cJSON_GetObjectItemCaseSensitive(m, "footage"));
	}
	cJSON_ArrayForEach (j, cJSON_GetObjectItemCaseSensitive(m, "inits"))
		file_hash(v, files, camera, j);
	ret = manifest_chain(v, m, camera, &chain);
	if (!ret)
		ret = manifest_segments(v, m, camera, &chain, &x);
	if (!ret)
		ret = verify__load_checkpoints(v, files, camera, &cps);
	if (!ret)
		checkpoints_agree(v, camera, &cps, &chain, notes);
	if (!ret && central)
		listed_segments(v, files, camera, m);
	else if (!ret)
		ret = verify__match_files(v, root, camera, &x, notes);
out:
	verify__expect_free(&x);
	verify__expect_free(&cps);
	verify__expect_free(&chain);
	cJSON_Delete(m);
	free(text);
	return ret;
}
