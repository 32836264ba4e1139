// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The export package (firmware/export_pkg.h); its layout and manifest
 * are specified in docs/integrity.md, which README.txt points to.
 */
#include "firmware/export_pkg.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "firmware/checkpoint.h"
#include "firmware/identity.h"
#include "lib/fsutil.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sha256.h"
#include "net/uplink.h"
#include "storage/chain.h"
#include "storage/export.h"
#include "storage/ring.h"

#define PATH_CAP 4096
#define INIT_MAX (4u << 20)
#define SEGS_MAX 262144
#define REL_MAX	 256 /* a media object name (net/uplink.h) */

static const char readme[] =
	"camgate export package\n"
	"=======================\n\n"
	"Footage of one camera over a time range, exported from a camgate gateway,\n"
	"with what is needed to check that it is what the camera recorded.\n\n"
	"  footage.mp4       the range as one playable MP4 (remuxed, not re-encoded)\n"
	"  media/CAMERA/     the original segments (*.m4s) and init segments, byte for byte\n"
	"  chain/CAMERA/     the gateway's signed chain checkpoints that cover them\n"
	"  manifest.json     what was exported, by whom, for whom and why; every file's\n"
	"                    SHA-256 and each segment's place in the hash chain\n"
	"  manifest.sig      ECDSA P-256 / SHA-256 signature of manifest.json (DER, base64)\n"
	"  public_key.pem    the gateway's public key\n\n"
	"To verify, on any machine with camgate:\n\n"
	"    camgate verify THIS_FOLDER --fingerprint FINGERPRINT\n\n"
	"where FINGERPRINT is the gateway's key fingerprint as registered by central\n"
	"(`camgate identity show` on the gateway). It checks the signature of the\n"
	"manifest and of every checkpoint, recomputes the hash chain, and hashes every\n"
	"file; it prints one FINDING line per altered, missing, reordered or inserted\n"
	"segment and exits 0 only when there is none.\n\n"
	"Without camgate: the signature checks with OpenSSL,\n\n"
	"    base64 -d manifest.sig > manifest.der\n"
	"    openssl dgst -sha256 -verify public_key.pem -signature manifest.der manifest.json\n"
	"    openssl pkey -pubin -in public_key.pem -outform DER | sha256sum   # the "
	"fingerprint\n\n"
	"and each file's SHA-256 (sha256sum) must equal the one in manifest.json.\n"
	"The chain formula and file formats: docs/integrity.md of camgate.\n";

struct segs {
	struct ring_seg_info *v;
	size_t n, cap;
};

static int seg_collect(void *arg, const struct ring_seg_info *info)
{
	struct segs *s = arg;

	if (s->n == SEGS_MAX)
		return -E2BIG;
	if (s->n == s->cap) {
		struct ring_seg_info *nv =
			realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 64) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
	}
	s->v[s->n++] = *info;
	return 0;
}

static int dir_prepare(const char *dir, const char *camera)
{
	char p[PATH_CAP];
	struct dirent *de;
	DIR *d;
	int ret = fs_mkdir_p(dir, 0750);

	if (ret)
		return ret;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = -EEXIST;
	closedir(d);
	if (ret)
		return ret;
	snprintf(p, sizeof(p), "%s/media/%s", dir, camera);
	ret = fs_mkdir_p(p, 0750);
	snprintf(p, sizeof(p), "%s/chain/%s", dir, camera);
	return ret ? ret : fs_mkdir_p(p, 0750);
}

static int put_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char p[PATH_CAP];

	if (snprintf(p, sizeof(p), "%s/%s", dir, rel) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	return fs_replace(p, data, len, 0640);
}

static void add_hex(cJSON *o, const char *k, const uint8_t *b)
{
	char hex[2 * SHA256_LEN + 1];

	cJSON_AddStringToObject(o, k, hex_encode(b, SHA256_LEN, hex));
}

/* Each segment's bytes, checked against the SHA-256 the ring recorded. */
static int write_segments(struct ring *ring, struct chain *ch, const struct export_pkg_req *rq,
			  const struct segs *s, cJSON *arr, uint64_t *minp, uint64_t *maxp,
			  uint64_t *chained)
{
	uint8_t md[SHA256_LEN];
	char rel[REL_MAX];
	int ret = 0;

	for (size_t i = 0; i < s->n && !ret; i++) {
		const struct ring_seg_info *in = &s->v[i];
		struct chain_entry e;
		uint8_t *buf = malloc(in->len ? in->len : 1);
		size_t len = 0;
		cJSON *o;

		if (!buf)
			return -ENOMEM;
		ret = ring_read(ring, in->id, buf, in->len, &len);
		if (!ret && (sha256_oneshot(buf, len, md) || memcmp(md, in->sha256, SHA256_LEN)))
			ret = -EBADMSG;
		if (!ret)
			ret = uplink_segment_path(rq->camera, in->seq, in->start_utc_ms, rel,
						  sizeof(rel));
		if (!ret)
			ret = put_file(rq->dir, rel, buf, len);
		free(buf);
		if (ret) {
			log_err("export: %s seq %" PRIu64 ": %s", rq->camera, in->seq,
				strerror(-ret));
			return ret;
		}
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "file", rel);
		cJSON_AddNumberToObject(o, "seq", (double)in->seq);
		cJSON_AddNumberToObject(o, "start_ms", (double)in->start_utc_ms);
		cJSON_AddNumberToObject(o, "duration_ms", in->duration_ms);
		cJSON_AddNumberToObject(o, "bytes", (double)len);
		add_hex(o, "sha256", md);
		if (!chain_find_seq(ch, rq->camera, in->seq, &e) &&
		    !memcmp(e.hash, md, SHA256_LEN)) {
			cJSON_AddNumberToObject(o, "position", (double)e.pos);
			*minp = *minp && *minp < e.pos ? *minp : e.pos;
			*maxp = *maxp > e.pos ? *maxp : e.pos;
			(*chained)++;
		} else {
			cJSON_AddNullToObject(o, "position");
		}
	}
	return 0;
}

static int write_inits(struct ring *ring, const struct export_pkg_req *rq, const struct segs *s,
		       cJSON *arr)
{
	uint8_t *buf = malloc(INIT_MAX), md[SHA256_LEN];
	char rel[REL_MAX];
	int ret = buf ? 0 : -ENOMEM;

	for (size_t i = 0; i < s->n && !ret; i++) {
		bool seen = false;
		size_t len = 0;
		cJSON *o;

		for (size_t k = 0; k < i; k++)
			seen |= s->v[k].init_id == s->v[i].init_id;
		if (seen)
			continue;
		ret = ring_read_init(ring, s->v[i].init_id, buf, INIT_MAX, &len);
		if (!ret)
			ret = uplink_init_path(rq->camera, s->v[i].init_id, rel, sizeof(rel));
		if (!ret)
			ret = put_file(rq->dir, rel, buf, len);
		if (!ret)
			ret = sha256_oneshot(buf, len, md);
		if (ret)
			break;
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "file", rel);
		add_hex(o, "sha256", md);
	}
	free(buf);
	return ret;
}

struct chain_out {
	cJSON *arr;
	uint64_t gaps;
	uint8_t anchor[CHAIN_LEN];
};

static int chain_entry_out(void *arg, const struct chain_entry *e)
{
	struct chain_out *co = arg;

	if (e->kind == CHAIN_GAP)
		co->gaps++;
	cJSON_AddItemToArray(co->arr, checkpoint_entry_json(e));
	return 0;
}

static int anchor_out(void *arg, const struct chain_entry *e)
{
	memcpy(((struct chain_out *)arg)->anchor, e->value, CHAIN_LEN);
	return 0;
}

struct cp_out {
	const char *dir;
	int ret;
};

static int checkpoint_out(void *arg, const char *camera, uint64_t last_pos, const char *body)
{
	struct cp_out *c = arg;
	char rel[128];

	snprintf(rel, sizeof(rel), "chain/%s/%010" PRIu64 ".json", camera, last_pos);
	c->ret = put_file(c->dir, rel, body, strlen(body));
	return c->ret;
}

/* The chain entries between the first and last exported segment (gaps
 * included), the value before them, and the checkpoints covering them. */
static int write_chain(struct chain *ch, const struct export_pkg_req *rq, uint64_t min,
		       uint64_t max, cJSON *m, uint64_t *gaps)
{
	struct chain_out co = { .gaps = 0 };
	struct cp_out cpo = { .dir = rq->dir };
	cJSON *c = cJSON_AddObjectToObject(m, "chain");
	int ret;

	co.arr = cJSON_AddArrayToObject(c, "entries");
	if (!min)
		return 0;
	ret = min > 1 ? chain_walk(ch, rq->camera, min - 1, min - 1, anchor_out, &co) : 0;
	if (!ret)
		ret = chain_walk(ch, rq->camera, min, max, chain_entry_out, &co);
	if (!ret)
		ret = chain_checkpoint_walk(ch, rq->camera, min > 1 ? min - 1 : 1, max, false,
					    checkpoint_out, &cpo);
	if (ret)
		return ret < 0 ? ret : cpo.ret;
	cJSON_AddNumberToObject(c, "anchor_position", (double)(min - 1));
	add_hex(c, "anchor", co.anchor);
	*gaps = co.gaps;
	return 0;
}

static int sign_manifest(struct identity *id, const struct export_pkg_req *rq, const char *text,
			 char hexout[65])
{
	uint8_t sig[IDENTITY_SIG_MAX], md[SHA256_LEN];
	unsigned char b64[256];
	size_t siglen = 0, blen = 0;
	int ret = put_file(rq->dir, "manifest.json", text, strlen(text));

	if (!ret)
		ret = identity_sign(id, text, strlen(text), sig, sizeof(sig), &siglen);
	if (!ret && mbedtls_base64_encode(b64, sizeof(b64) - 1, &blen, sig, siglen))
		ret = -E2BIG;
	if (ret)
		return ret;
	b64[blen++] = '\n';
	ret = put_file(rq->dir, "manifest.sig", b64, blen);
	if (!ret)
		ret = put_file(rq->dir, "public_key.pem", identity_public_pem(id),
			       strlen(identity_public_pem(id)));
	if (!ret)
		ret = put_file(rq->dir, "README.txt", readme, sizeof(readme) - 1);
	sha256_oneshot(text, strlen(text), md);
	hex_encode(md, sizeof(md), hexout);
	return ret;
}

static bool blank(const char *s)
{
	return !s || !s[strspn(s, " \t")];
}

int export_pkg_write(struct ring *ring, struct chain *ch, struct identity *id,
		     const struct export_pkg_req *rq, int64_t now_ms, struct export_pkg_report *rep,
		     char *why, size_t cap)
{
	struct export_report er = { 0 };
	struct segs s = { 0 };
	uint64_t min = 0, max = 0, chained = 0, gaps = 0;
	char t[32], path[PATH_CAP], *text = NULL;
	uint8_t md[SHA256_LEN];
	cJSON *m = NULL, *f;
	int ret;

	if (blank(rq->purpose) || blank(rq->requester) || blank(rq->performer)) {
		snprintf(why, cap, "an export needs its %s (R12)",
			 blank(rq->purpose)	? "purpose"
			 : blank(rq->requester) ? "requester"
						: "performer (the logged-in user)");
		return -EINVAL;
	}
	ret = ring_list(ring, rq->camera, rq->from_ms, rq->to_ms, seg_collect, &s);
	if (!ret && !s.n)
		ret = -ENOENT;
	if (!ret)
		ret = dir_prepare(rq->dir, rq->camera);
	if (ret == -EEXIST)
		snprintf(why, cap, "%s exists and is not empty", rq->dir);
	if (ret == -ENOENT)
		snprintf(why, cap, "no footage of %s in that range", rq->camera);
	if (ret)
		goto out;
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "type", "export");
	cJSON_AddNumberToObject(m, "version", 1);
	cJSON_AddStringToObject(m, "gateway", rq->gateway ? rq->gateway : "");
	cJSON_AddStringToObject(m, "camera", rq->camera);
	format_time_ms(rq->from_ms, t, sizeof(t));
	cJSON_AddStringToObject(m, "from", t);
	format_time_ms(rq->to_ms, t, sizeof(t));
	cJSON_AddStringToObject(m, "to", t);
	format_time_ms(now_ms, t, sizeof(t));
	cJSON_AddStringToObject(m, "created", t);
	cJSON_AddStringToObject(m, "performer", rq->performer);
	cJSON_AddStringToObject(m, "requester", rq->requester);
	cJSON_AddStringToObject(m, "purpose", rq->purpose);
	cJSON_AddStringToObject(m, "key_fingerprint", identity_fingerprint(id));
	cJSON_AddStringToObject(m, "public_key", identity_public_pem(id));
	snprintf(path, sizeof(path), "%s/footage.mp4", rq->dir);
	ret = export_clip(ring, rq->camera, rq->from_ms, rq->to_ms, path, NULL, NULL, &er);
	if (!ret)
		ret = sha256_file(path, md);
	if (ret) {
		snprintf(why, cap, "footage.mp4: %s", strerror(-ret));
		goto out;
	}
	f = cJSON_AddObjectToObject(m, "footage");
	cJSON_AddStringToObject(f, "file", "footage.mp4");
	add_hex(f, "sha256", md);
	cJSON_AddNumberToObject(f, "bytes", (double)er.bytes_out);
	cJSON_AddNumberToObject(f, "duration_ms",
				(double)(er.last_utc_ms - er.first_utc_ms - er.gap_ms));
	cJSON_AddNumberToObject(f, "gap_ms", (double)er.gap_ms);
	ret = write_inits(ring, rq, &s, cJSON_AddArrayToObject(m, "inits"));
	if (!ret)
		ret = write_segments(ring, ch, rq, &s, cJSON_AddArrayToObject(m, "segments"), &min,
				     &max, &chained);
	if (!ret)
		ret = write_chain(ch, rq, min, max, m, &gaps);
	if (!ret && !(text = cJSON_Print(m)))
		ret = -ENOMEM;
	if (!ret)
		ret = sign_manifest(id, rq, text, rep->manifest_sha256);
	if (ret) {
		snprintf(why, cap, "writing the package: %s", strerror(-ret));
		goto out;
	}
	rep->segments = s.n;
	rep->chained = chained;
	rep->gaps = gaps;
	rep->duration_ms = er.last_utc_ms - er.first_utc_ms - er.gap_ms;
out:
	free(text);
	cJSON_Delete(m);
	free(s.v);
	return ret;
}
