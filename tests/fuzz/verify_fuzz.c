// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * verify_fuzz - `camgate verify DIR` over a folder built from the input
 * (libFuzzer): export packages (manifest.json, manifest.sig, footage,
 * segments, checkpoints) and central's gateway folders (media/, chain/,
 * exports/).
 *
 * The input is a list of files, each after a header line
 *   ==> NAME <==
 * (as `head` prints several files). NAME is a path below the folder
 * ([A-Za-z0-9._-] components, no "..", at most 4 deep). Two prefixes ask
 * the target to sign with its own key (the one verify is pinned to):
 *   +NAME        manifest.json: written as given, manifest.sig beside it
 *                made by the target; a checkpoint (chain/...json): its
 *                fields re-signed, so the fuzzer reaches past the
 *                signature into the entries and the chain.
 *   @verify      the folder to verify, relative (default: the top).
 * Anything else is written byte for byte: a forged signature stays forged.
 *
 * Properties (a broken one aborts):
 *  - verify_dir() answers 0, -ENOENT or -ENOMEM, and prints one FINDING
 *    line per finding it counts;
 *  - a package it accepts (no finding) has a manifest.sig that verifies
 *    with the target's key over manifest.json as it is on disk, and every
 *    file the manifest lists (footage, inits, segments) hashes to the
 *    SHA-256 the manifest gives (segments: at central, where they are
 *    read by that name); every media/CAMERA/ *.m4s of a package hashes
 *    to one of the manifest's segments.
 * VERIFY_FUZZ_SEED_DIR=DIR writes the seeds (packages and gateway
 * folders made with the target's key by checkpoint_build()) and exits.
 * See tests/fuzz/README.md.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <mbedtls/base64.h>

#include "firmware/checkpoint.h"
#include "firmware/identity.h"
#include "firmware/verify.h"
#include "lib/fsutil.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "storage/chain.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed test key, so that seeds signed by one build verify in the next. */
static const char fz_key[] = "-----BEGIN EC PRIVATE KEY-----\n"
			     "MHcCAQEEIFmP8wkr8zTG47Kqpic29SN9kuHGKJH6PeYw3RHjFBUToAoGCCqGSM49\n"
			     "AwEHoUQDQgAEh8CauqZ0yf8/FIGorRMWs7SpHO7SAke84VK2LHfvQFzV9hKfbmJC\n"
			     "CEuifbW6GQnZKrE1WDCcSXFaudLivVk8JA==\n"
			     "-----END EC PRIVATE KEY-----\n";

#define FZ_FILES_MAX 64
#define FZ_HDR	     "==> "
#define FZ_HDR_END   " <=="

static char fz_top[128], fz_root[192];
static struct identity *fz_id;

static void fz_fail(const char *what, long v)
{
	fprintf(stderr, "verify_fuzz: %s (%ld)\n", what, v);
	abort();
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_tree(const char *p)
{
	nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fz_cleanup(void)
{
	identity_close(fz_id);
	rm_tree(fz_top);
}

/* Components of [A-Za-z0-9._-], none "." or "..", at most 4. */
static bool name_ok(const char *s, size_t n)
{
	unsigned int depth = 1;
	size_t comp = 0;

	if (!n || n > 200 || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!comp || (comp == 1 && s[i - 1] == '.') ||
			    (comp == 2 && s[i - 1] == '.' && s[i - 2] == '.'))
				return false;
			comp = 0;
			if (i < n && ++depth > 4)
				return false;
			continue;
		}
		if (!(s[i] == '.' || s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
		comp++;
	}
	return true;
}

static int put(const char *rel, const void *data, size_t len)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", fz_root, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	if (fs_mkdir_p(path, 0700))
		return -EIO;
	*slash = '/';
	return fs_replace(path, data, len, 0600);
}

static int sign_b64(const void *msg, size_t len, char *out, size_t cap)
{
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t siglen = 0, blen = 0;

	if (identity_sign(fz_id, msg, len, sig, sizeof(sig), &siglen) ||
	    mbedtls_base64_encode((unsigned char *)out, cap, &blen, sig, siglen))
		fz_fail("sign", -1);
	return 0;
}

/* manifest.sig beside @rel, over @len bytes of @text. */
static void sign_manifest(const char *rel, const char *text, size_t len)
{
	char sig[256], sigrel[256];
	size_t n = strlen(rel);

	sign_b64(text, len, sig, sizeof(sig));
	snprintf(sigrel, sizeof(sigrel), "%.*ssig", (int)(n - 4), rel);
	if (n > 4 && !strcmp(rel + n - 4, "json"))
		put(sigrel, sig, strlen(sig));
}

/* A checkpoint's fields signed with our key; as given when they do not parse. */
static void put_resigned(const char *rel, const char *body, size_t len)
{
	struct checkpoint cp;
	char why[160], pre[512], sig[256], *text = strndup(body, len), *out = NULL;
	cJSON *o;
	int n;

	if (!text)
		return;
	if (checkpoint_parse(text, &cp, why, sizeof(why)) != -EBADMSG) {
		checkpoint_clear(&cp);
		put(rel, body, len);
		free(text);
		return;
	}
	snprintf(cp.key_fp, sizeof(cp.key_fp), "%s", identity_fingerprint(fz_id));
	n = checkpoint_preimage(&cp, pre, sizeof(pre));
	checkpoint_clear(&cp);
	o = cJSON_Parse(text);
	if (n > 0 && o) {
		sign_b64(pre, (size_t)n, sig, sizeof(sig));
		cJSON_DeleteItemFromObjectCaseSensitive(o, "signature");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "public_key");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "key_fingerprint");
		cJSON_AddStringToObject(o, "signature", sig);
		cJSON_AddStringToObject(o, "public_key", identity_public_pem(fz_id));
		cJSON_AddStringToObject(o, "key_fingerprint", identity_fingerprint(fz_id));
		out = cJSON_PrintUnformatted(o);
	}
	if (out)
		put(rel, out, strlen(out));
	else
		put(rel, body, len);
	cJSON_free(out);
	cJSON_Delete(o);
	free(text);
}

/* The input's files into fz_root; the folder to verify into @target. */
static void unpack(const char *d, size_t size, char *target, size_t cap)
{
	const char *p = d, *end = d + size;
	unsigned int files = 0;

	snprintf(target, cap, "%s", fz_root);
	while (p < end && files < FZ_FILES_MAX) {
		const char *hdr = memmem(p, (size_t)(end - p), FZ_HDR, 4), *nl, *next, *name;
		size_t nlen, blen;
		char rel[256];
		bool sign = false;

		if (!hdr)
			break;
		name = hdr + 4;
		nl = memchr(name, '\n', (size_t)(end - name));
		if (!nl)
			break;
		next = memmem(nl + 1, (size_t)(end - nl - 1), "\n" FZ_HDR, 5);
		blen = (size_t)((next ? next : end) - (nl + 1));
		if (!next && blen && nl[blen] == '\n')
			blen--; /* the input's last newline */
		p = next ? next + 1 : end;
		nlen = (size_t)(nl - name);
		if (nlen < 4 || memcmp(nl - 4, FZ_HDR_END, 4))
			continue;
		nlen -= 4;
		if (nlen && name[0] == '+') {
			sign = true;
			name++;
			nlen--;
		}
		if (nlen == 7 && !memcmp(name, "@verify", 7)) {
			size_t t = blen && nl[blen] == '\n' ? blen - 1 : blen;

			if (name_ok(nl + 1, t))
				snprintf(target, cap, "%s/%.*s", fz_root, (int)t, nl + 1);
			continue;
		}
		if (!name_ok(name, nlen))
			continue;
		snprintf(rel, sizeof(rel), "%.*s", (int)nlen, name);
		files++;
		if (sign && nlen >= 13 && !strcmp(rel + nlen - 13, "manifest.json")) {
			put(rel, nl + 1, blen);
			sign_manifest(rel, nl + 1, blen);
		} else if (sign && (!strncmp(rel, "chain/", 6) || strstr(rel, "/chain/"))) {
			put_resigned(rel, nl + 1, blen);
		} else {
			put(rel, nl + 1, blen);
		}
	}
}

static bool hash_is(const char *dir, const char *file, const char *want)
{
	char path[1024], hex[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return want && !sha256_file(path, md) && !strcasecmp(hex_encode(md, sizeof(md), hex), want);
}

static const char *str_of(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* An accepted package: signed by us, every listed file as listed. At
 * central (exports/ID/ without footage.mp4) the files are the gateway
 * folder's, two levels up, and only the listed ones count. */
static void check_accepted(const char *dir)
{
	char path[1024], files[1024], *text, *b64, *slash;
	struct stat st;
	bool central = false;
	const char *camera;
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t len = 0, siglen = 0;
	const cJSON *j;
	cJSON *m;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	text = fs_read_all(path, &len);
	if (!text)
		return; /* not a package */
	snprintf(path, sizeof(path), "%s/manifest.sig", dir);
	b64 = fs_read_all(path, NULL);
	if (!b64)
		fz_fail("accepted a package without manifest.sig", 0);
	b64[strcspn(b64, "\r\n")] = '\0';
	if (mbedtls_base64_decode(sig, sizeof(sig), &siglen, (unsigned char *)b64, strlen(b64)) ||
	    identity_verify(identity_public_pem(fz_id), text, len, sig, siglen, NULL))
		fz_fail("accepted a manifest our key did not sign", (long)len);
	free(b64);
	snprintf(files, sizeof(files), "%s", dir);
	snprintf(path, sizeof(path), "%s/footage.mp4", dir);
	slash = strrchr(files, '/');
	if (stat(path, &st) && slash && slash - files >= 8 && !strncmp(slash - 8, "/exports", 8)) {
		slash[-8] = '\0';
		central = true;
	}
	m = cJSON_Parse(text);
	camera = str_of(m, "camera");
	if (!m || !camera)
		fz_fail("accepted a manifest that is not one", 0);
	j = cJSON_GetObjectItemCaseSensitive(m, "footage");
	if (!central && str_of(j, "file") && !hash_is(dir, str_of(j, "file"), str_of(j, "sha256")))
		fz_fail("accepted footage that is not the manifest's", 0);
	/* In a package the segments are matched by the seq in their file
	 * names (below), not by the manifest's "file": only at central are
	 * they read by that name. */
	for (int k = 0; k < (central ? 2 : 1); k++)
		cJSON_ArrayForEach (j,
				    cJSON_GetObjectItemCaseSensitive(m, k ? "segments" : "inits"))
			if (!hash_is(files, str_of(j, "file"), str_of(j, "sha256")))
				fz_fail("accepted a listed file that does not match", k);
	snprintf(path, sizeof(path), "%s/media/%s", dir, camera);
	d = central || strstr(camera, "..") ? NULL : opendir(path);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		bool found = false;
		char rel[600];

		if (de->d_name[0] == '.' || n < 4 || strcmp(de->d_name + n - 4, ".m4s"))
			continue;
		snprintf(rel, sizeof(rel), "media/%s/%s", camera, de->d_name);
		cJSON_ArrayForEach (j, cJSON_GetObjectItemCaseSensitive(m, "segments"))
			found = found || hash_is(dir, rel, str_of(j, "sha256"));
		if (!found)
			fz_fail("accepted a segment file the manifest does not list", 0);
	}
	if (d)
		closedir(d);
	cJSON_Delete(m);
	free(text);
}

static void run_verify(const char *target, bool check)
{
	char *buf = NULL;
	size_t blen = 0, lines = 0;
	unsigned int findings = 0;
	FILE *out = open_memstream(&buf, &blen);
	int ret;

	if (!out)
		fz_fail("open_memstream", -errno);
	ret = verify_dir(target, identity_fingerprint(fz_id), out, &findings);
	fclose(out);
	if (ret && ret != -ENOENT && ret != -ENOMEM)
		fz_fail("verify_dir", ret);
	for (const char *p = buf; (p = strstr(p, "FINDING ")); p++)
		if (p == buf || p[-1] == '\n')
			lines++;
	if (getenv("VERIFY_FUZZ_SHOW"))
		fprintf(stderr, "verify %d, %u findings:\n%s", ret, findings, buf ? buf : "");
	if (!ret && lines != findings)
		fz_fail("FINDING lines differ from the count", (long)lines - (long)findings);
	if (check && !ret && !findings)
		check_accepted(target);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char target[512];

	rm_tree(fz_root);
	if (mkdir(fz_root, 0700))
		fz_fail("mkdir", -errno);
	unpack((const char *)data, size, target, sizeof(target));
	run_verify(target, true);
	return 0;
}

/* ---- seeds ---- */

static FILE *seed_f;

static void seed_file(const char *name, const void *data, size_t len)
{
	fprintf(seed_f, FZ_HDR "%s" FZ_HDR_END "\n", name);
	fwrite(data, 1, len, seed_f);
	fputc('\n', seed_f);
}

#define SEED_SEGS 4

struct seed_cam {
	struct chain_entry e[SEED_SEGS + 1];
	size_t n;
	char seg[SEED_SEGS][96];
	char name[SEED_SEGS][96];
};

/* Segments 1..4 of cam1 (seq 3 a declared gap when @gap), chained from zero. */
static void seed_chain(struct seed_cam *c, bool gap, const char *prefix)
{
	uint8_t prev[CHAIN_LEN] = { 0 };

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < SEED_SEGS; i++) {
		struct chain_entry *e = &c->e[c->n++];
		int64_t start = 1765065600000 + (int64_t)i * 4000;

		e->pos = c->n;
		snprintf(e->camera, sizeof(e->camera), "cam1");
		e->seq = i + 1;
		e->start_utc_ms = start;
		e->duration_ms = 4000;
		snprintf(c->seg[i], sizeof(c->seg[i]), "....moof segment %zu of cam1", i + 1);
		snprintf(c->name[i], sizeof(c->name[i]), "%smedia/cam1/20251207T%06dZ-%zu.m4s",
			 prefix, (int)(i * 4), i + 1);
		if (gap && i == 2) {
			e->kind = CHAIN_GAP;
			snprintf(e->reason, sizeof(e->reason), "outage");
			chain_gap_hash(e->reason, e->hash);
		} else {
			e->kind = CHAIN_SEGMENT;
			sha256_oneshot(c->seg[i], strlen(c->seg[i]), e->hash);
		}
		chain_step(prev, e, e->value);
		memcpy(prev, e->value, CHAIN_LEN);
	}
}

static void seed_segments(const struct seed_cam *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].kind == CHAIN_SEGMENT)
			seed_file(c->name[i], c->seg[i], strlen(c->seg[i]));
}

static void seed_checkpoints(const struct seed_cam *c, const char *prefix, bool plus)
{
	uint8_t zero[CHAIN_LEN] = { 0 };
	char *a = NULL, *b = NULL, name[128];

	if (checkpoint_build(fz_id, "gw-1", NULL, zero, c->e, 2, 1765065700000, &a) ||
	    checkpoint_build(fz_id, "gw-1", NULL, c->e[1].value, c->e + 2, c->n - 2, 1765065710000,
			     &b))
		fz_fail("checkpoint_build", 0);
	snprintf(name, sizeof(name), "%s%schain/cam1/0000000002.json", plus ? "+" : "", prefix);
	seed_file(name, a, strlen(a));
	snprintf(name, sizeof(name), "%s%schain/cam1/%010zu.json", plus ? "+" : "", prefix, c->n);
	seed_file(name, b, strlen(b));
	free(a);
	free(b);
}

/* The manifest of an export of @c (files named relative to @prefix). */
static char *seed_manifest(const struct seed_cam *c, const char *prefix, bool footage)
{
	static const char mp4[] = "....ftypisom footage of cam1";
	char hex[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN];
	cJSON *m = cJSON_CreateObject(), *o, *arr, *ch;
	size_t pl = strlen(prefix);
	char *text;

	cJSON_AddStringToObject(m, "type", "export");
	cJSON_AddNumberToObject(m, "version", 1);
	cJSON_AddStringToObject(m, "gateway", "gw-1");
	cJSON_AddStringToObject(m, "camera", "cam1");
	cJSON_AddStringToObject(m, "from", "2025-12-07T00:00:00.000Z");
	cJSON_AddStringToObject(m, "to", "2025-12-07T00:00:16.000Z");
	cJSON_AddStringToObject(m, "created", "2025-12-07T00:05:00.000Z");
	cJSON_AddStringToObject(m, "performer", "admin");
	cJSON_AddStringToObject(m, "requester", "Police district 3");
	cJSON_AddStringToObject(m, "purpose", "case 2025/117");
	cJSON_AddStringToObject(m, "key_fingerprint", identity_fingerprint(fz_id));
	cJSON_AddStringToObject(m, "public_key", identity_public_pem(fz_id));
	if (footage) {
		o = cJSON_AddObjectToObject(m, "footage");
		cJSON_AddStringToObject(o, "file", "footage.mp4");
		sha256_oneshot(mp4, sizeof(mp4) - 1, md);
		cJSON_AddStringToObject(o, "sha256", hex_encode(md, sizeof(md), hex));
		cJSON_AddNumberToObject(o, "bytes", sizeof(mp4) - 1);
		seed_file("footage.mp4", mp4, sizeof(mp4) - 1);
	}
	cJSON_AddArrayToObject(m, "inits");
	arr = cJSON_AddArrayToObject(m, "segments");
	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i].kind != CHAIN_SEGMENT)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "file", c->name[i] + pl);
		cJSON_AddNumberToObject(o, "seq", (double)c->e[i].seq);
		cJSON_AddNumberToObject(o, "start_ms", (double)c->e[i].start_utc_ms);
		cJSON_AddNumberToObject(o, "duration_ms", c->e[i].duration_ms);
		cJSON_AddNumberToObject(o, "bytes", (double)(strlen(c->seg[i])));
		cJSON_AddStringToObject(o, "sha256", hex_encode(c->e[i].hash, CHAIN_LEN, hex));
		cJSON_AddNumberToObject(o, "position", (double)c->e[i].pos);
	}
	ch = cJSON_AddObjectToObject(m, "chain");
	cJSON_AddStringToObject(ch, "anchor",
				hex_encode((uint8_t[CHAIN_LEN]){ 0 }, CHAIN_LEN, hex));
	cJSON_AddNumberToObject(ch, "anchor_position", 0);
	arr = cJSON_AddArrayToObject(ch, "entries");
	for (size_t i = 0; i < c->n; i++)
		cJSON_AddItemToArray(arr, checkpoint_entry_json(&c->e[i]));
	text = cJSON_Print(m);
	cJSON_Delete(m);
	return text;
}

static void seed_open(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	seed_f = fopen(path, "w");
	if (!seed_f)
		fz_fail("seed file", -errno);
}

/* Each seed is checked here: the good ones must verify clean. */
static void seed_close(const char *dir, const char *name, bool clean)
{
	char path[512], *buf;
	size_t len = 0;
	char target[512];
	unsigned int findings = 0;
	FILE *out;

	fclose(seed_f);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = fs_read_all(path, &len);
	rm_tree(fz_root);
	mkdir(fz_root, 0700);
	unpack(buf, len, target, sizeof(target));
	out = fopen("/dev/null", "w");
	if (verify_dir(target, identity_fingerprint(fz_id), out, &findings) || (clean != !findings))
		fz_fail(name, findings);
	fclose(out);
	free(buf);
	printf("seed %s: %u findings\n", name, findings);
}

static void seeds(const char *dir)
{
	struct seed_cam c;
	char *m, sig[256];

	/* An export package, signed by the target. */
	seed_open(dir, "package");
	seed_chain(&c, false, "");
	seed_segments(&c);
	seed_checkpoints(&c, "", false);
	m = seed_manifest(&c, "", true);
	seed_file("+manifest.json", m, strlen(m));
	seed_close(dir, "package", true);
	free(m);
	/* The same with manifest.sig as bytes of the input. */
	seed_open(dir, "package-sig");
	seed_segments(&c);
	seed_checkpoints(&c, "", false);
	m = seed_manifest(&c, "", true);
	seed_file("manifest.json", m, strlen(m));
	sign_b64(m, strlen(m), sig, sizeof(sig));
	seed_file("manifest.sig", sig, strlen(sig));
	seed_close(dir, "package-sig", true);
	free(m);
	/* A declared gap, checkpoints to be re-signed. */
	seed_open(dir, "package-gap");
	seed_chain(&c, true, "");
	seed_segments(&c);
	seed_checkpoints(&c, "", true);
	m = seed_manifest(&c, "", true);
	seed_file("+manifest.json", m, strlen(m));
	seed_close(dir, "package-gap", true);
	free(m);
	/* A tampered segment: one finding. */
	seed_open(dir, "package-altered");
	seed_chain(&c, false, "");
	seed_checkpoints(&c, "", false);
	m = seed_manifest(&c, "", true);
	seed_file("+manifest.json", m, strlen(m));
	snprintf(c.seg[1], sizeof(c.seg[1]), "....moof segment X of cam1");
	seed_segments(&c);
	seed_close(dir, "package-altered", false);
	free(m);
	/* A gateway folder as central stores it. */
	seed_open(dir, "gateway");
	seed_chain(&c, true, "");
	seed_segments(&c);
	seed_checkpoints(&c, "", false);
	seed_close(dir, "gateway", true);
	/* An export as central holds it: the manifest in exports/ID/. */
	seed_open(dir, "central-export");
	seed_chain(&c, false, "gw-1/");
	seed_segments(&c);
	seed_checkpoints(&c, "gw-1/", false);
	m = seed_manifest(&c, "gw-1/", false);
	seed_file("+gw-1/exports/e-1/manifest.json", m, strlen(m));
	seed_file("@verify", "gw-1/exports/e-1", 16);
	seed_close(dir, "central-export", true);
	free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *level = getenv("FUZZ_LOG_LEVEL");
	const char *seed_dir = getenv("VERIFY_FUZZ_SEED_DIR");
	char path[256];
	int lvl = LOG_ERR;
	struct stat st;

	(void)argc;
	(void)argv;
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("verify_fuzz", LOG_DEST_PLAIN, lvl);
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_top, sizeof(fz_top), "%s/verify_fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz_top))
		fz_fail("mkdtemp", -errno);
	snprintf(fz_root, sizeof(fz_root), "%s/d", fz_top);
	snprintf(path, sizeof(path), "%s/state", fz_top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/state/" IDENTITY_KEY_NAME, fz_top);
	if (fs_create(path, fz_key, sizeof(fz_key) - 1, 0600))
		fz_fail("identity.key", -EIO);
	snprintf(path, sizeof(path), "%s/state", fz_top);
	if (identity_open(path, &fz_id))
		fz_fail("identity_open", -EIO);
	atexit(fz_cleanup);
	if (seed_dir) {
		seeds(seed_dir);
		exit(0);
	}
	return 0;
}
