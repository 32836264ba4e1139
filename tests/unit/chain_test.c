// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * chain_test - storage/chain.h and firmware/checkpoint.h: the chain
 * formula against a value computed independently (Python hashlib),
 * entries and gaps appended and read back across a reopen, and a
 * checkpoint that verifies only as signed: an altered entry, an altered
 * chain value, another key's signature are each refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "firmware/checkpoint.h"
#include "firmware/identity.h"
#include "firmware/verify.h"
#include "lib/fsutil.h"
#include "lib/hex.h"
#include "lib/sha256.h"
#include "storage/chain.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

static struct chain_entry seg(const char *cam, uint64_t seq, int64_t start, uint32_t dur)
{
	struct chain_entry e = {
		.kind = CHAIN_SEGMENT, .seq = seq, .start_utc_ms = start, .duration_ms = dur
	};
	char body[32];

	snprintf(e.camera, sizeof(e.camera), "%s", cam);
	snprintf(body, sizeof(body), "seg%llu", (unsigned long long)seq);
	sha256_oneshot(body, strlen(body), e.hash);
	return e;
}

static void test_formula(void **state)
{
	static const uint8_t zero[CHAIN_LEN];
	struct chain_entry e = seg("cam1", 1, 1700000000123, 2000);
	uint8_t v[CHAIN_LEN];
	char hex[2 * CHAIN_LEN + 1];

	(void)state;
	e.seq = 7;
	assert_int_equal(chain_step(zero, &e, v), 0);
	/* python3: sha256(bytes(32) + sha256(b"seg1") + b"\x04cam1" +
	 * (7).to_bytes(8) + (1700000000123).to_bytes(8) + (2000).to_bytes(4)) */
	assert_string_equal(hex_encode(v, CHAIN_LEN, hex),
			    "95eb9b6dcd225e2e88941af3507626a4b357187b93632f8d2e04d3010da74254");
	/* every field counts */
	e.duration_ms++;
	assert_int_equal(chain_step(zero, &e, v), 0);
	assert_string_not_equal(hex_encode(v, CHAIN_LEN, hex),
				"95eb9b6dcd225e2e88941af3507626a4b357187b93632f8d2e04d3010da74254");
}

struct fx {
	char dir[64];
	struct statedb *db;
	struct chain *ch;
	struct identity *id;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "chain_test");
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(chain_open(fx->db, &fx->ch), 0);
	assert_int_equal(identity_open(fx->dir, &fx->id), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	identity_close(fx->id);
	chain_close(fx->ch);
	statedb_close(fx->db);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

static int collect(void *arg, const struct chain_entry *e)
{
	struct chain_entry *out = arg;

	out[e->pos - 1] = *e;
	return 0;
}

static void test_append_and_reopen(void **state)
{
	struct fx *fx = *state;
	struct chain_entry a = seg("cam1", 1, 1000, 2000), b = seg("cam1", 2, 3000, 2000);
	struct chain_entry g = {
		.kind = CHAIN_GAP, .seq = 3, .start_utc_ms = 5000, .duration_ms = 9000
	};
	struct chain_entry other = seg("cam2", 1, 1000, 2000), got[3], last;
	uint8_t v[CHAIN_LEN];

	snprintf(g.camera, sizeof(g.camera), "cam1");
	snprintf(g.reason, sizeof(g.reason), "outage");
	assert_int_equal(chain_gap_hash("outage", g.hash), 0);
	assert_int_equal(chain_last(fx->ch, "cam1", &last), -ENOENT);
	assert_int_equal(chain_append(fx->ch, &a), 0);
	assert_int_equal(chain_append(fx->ch, &other), 0);
	assert_int_equal(chain_append(fx->ch, &b), 0);
	assert_int_equal(chain_append(fx->ch, &g), 0);
	assert_int_equal(a.pos, 1);
	assert_int_equal(other.pos, 1); /* a chain per camera */
	assert_int_equal(b.pos, 2);
	assert_int_equal(g.pos, 3);
	assert_int_equal(chain_step(b.value, &g, v), 0);
	assert_memory_equal(v, g.value, CHAIN_LEN);
	/* survives a reopen */
	chain_close(fx->ch);
	statedb_close(fx->db);
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(chain_open(fx->db, &fx->ch), 0);
	assert_int_equal(chain_last(fx->ch, "cam1", &last), 0);
	assert_int_equal(last.pos, 3);
	assert_int_equal(last.kind, CHAIN_GAP);
	assert_string_equal(last.reason, "outage");
	assert_memory_equal(last.value, g.value, CHAIN_LEN);
	assert_int_equal(chain_walk(fx->ch, "cam1", 1, 3, collect, got), 0);
	assert_memory_equal(got[1].value, b.value, CHAIN_LEN);
	assert_memory_equal(got[0].hash, a.hash, CHAIN_LEN);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 2, &last), 0);
	assert_int_equal(last.pos, 2);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 3, &last), -ENOENT); /* a gap's seq */
}

static int count(void *arg, const struct chain_entry *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int count_cp(void *arg, const char *camera, uint64_t last_pos, const char *body)
{
	(void)camera;
	(void)last_pos;
	(void)body;
	(*(int *)arg)++;
	return 0;
}

/* Pruning keeps the anchor, what is not yet sent, and the newest. */
static void test_prune(void **state)
{
	struct fx *fx = *state;
	struct chain_entry e, last;
	int n = 0, ncp = 0;

	for (uint64_t i = 1; i <= 10; i++) {
		e = seg("cam1", i, (int64_t)i * 2000, 2000);
		assert_int_equal(chain_append(fx->ch, &e), 0);
	}
	assert_int_equal(chain_checkpoint_put(fx->ch, "cam1", 1, 4, 1, "{}"), 0);
	assert_int_equal(chain_checkpoint_put(fx->ch, "cam1", 5, 8, 2, "{}"), 0);
	/* nothing queued yet: nothing goes */
	assert_int_equal(chain_prune(fx->ch, "cam1", 15000), 0);
	assert_int_equal(chain_walk(fx->ch, "cam1", 1, 100, count, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(chain_checkpoint_queued(fx->ch, "cam1", 4), 0);
	assert_int_equal(chain_checkpoint_queued(fx->ch, "cam1", 8), 0);
	/* the ring's oldest starts at 15 s (seq 8 and later): 1-6 go, 7 is
	 * the anchor; the checkpoint of 1-4 goes, the one of 5-8 stays */
	assert_int_equal(chain_prune(fx->ch, "cam1", 15000), 0);
	n = 0;
	assert_int_equal(chain_walk(fx->ch, "cam1", 1, 100, count, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 6, &last), -ENOENT);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 7, &last), 0);
	assert_int_equal(chain_checkpoint_walk(fx->ch, "cam1", 0, 100, false, count_cp, &ncp), 0);
	assert_int_equal(ncp, 1);
	/* everything old, but only up to the last queued checkpoint (8) */
	assert_int_equal(chain_prune(fx->ch, "cam1", 1000000), 0);
	assert_int_equal(chain_last(fx->ch, "cam1", &last), 0);
	assert_int_equal(last.pos, 10);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 8, &last), 0);
	assert_int_equal(chain_find_seq(fx->ch, "cam1", 7, &last), -ENOENT);
	/* and the chain goes on from where it was */
	e = seg("cam1", 11, 22000, 2000);
	assert_int_equal(chain_append(fx->ch, &e), 0);
	assert_int_equal(e.pos, 11);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t n = strlen(s) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(p);
	snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static void test_checkpoint_signed(void **state)
{
	static const uint8_t zero[CHAIN_LEN];
	struct fx *fx = *state;
	struct chain_entry e[3] = { seg("cam1", 1, 1000, 2000), seg("cam1", 2, 3000, 2000),
				    seg("cam1", 3, 5000, 2000) };
	struct identity *other;
	struct checkpoint cp;
	char *json, *bad, *forged, why[160], hex[2 * CHAIN_LEN + 1], odir[96];

	for (int i = 0; i < 3; i++)
		assert_int_equal(chain_append(fx->ch, &e[i]), 0);
	assert_int_equal(checkpoint_build(fx->id, "gw-1", NULL, zero, e, 3, 1700000000000, &json),
			 0);
	assert_int_equal(checkpoint_parse(json, &cp, why, sizeof(why)), 0);
	assert_int_equal(cp.n, 3);
	assert_int_equal(cp.last_pos, 3);
	assert_string_equal(cp.key_fp, identity_fingerprint(fx->id));
	assert_memory_equal(cp.value, e[2].value, CHAIN_LEN);
	checkpoint_clear(&cp);

	/* an entry altered: does not chain */
	bad = replace(json, "\"duration_ms\":2000", "\"duration_ms\":2001");
	assert_int_equal(checkpoint_parse(bad, &cp, why, sizeof(why)), -EPROTO);
	checkpoint_clear(&cp);
	free(bad);
	/* the chain value altered: the signature fails */
	hex_encode(e[2].value, CHAIN_LEN, hex);
	bad = replace(json, hex,
		      "00000000000000000000000000000000"
		      "00000000000000000000000000000000");
	assert_int_equal(checkpoint_parse(bad, &cp, why, sizeof(why)), -EBADMSG);
	checkpoint_clear(&cp);
	free(bad);
	/* another key's signature under this key's name: refused */
	snprintf(odir, sizeof(odir), "%s/other", fx->dir);
	assert_int_equal(identity_open(odir, &other), 0);
	assert_int_equal(checkpoint_build(other, "gw-1", NULL, zero, e, 3, 1700000000000, &forged),
			 0);
	bad = replace(forged, identity_fingerprint(other), identity_fingerprint(fx->id));
	assert_int_equal(checkpoint_parse(bad, &cp, why, sizeof(why)), -EBADMSG);
	checkpoint_clear(&cp);
	/* ... and under its own name it verifies, as another key */
	assert_int_equal(checkpoint_parse(forged, &cp, why, sizeof(why)), 0);
	assert_string_equal(cp.key_fp, identity_fingerprint(other));
	checkpoint_clear(&cp);
	free(bad);
	free(forged);
	identity_close(other);
	free(json);
}

/* Numbers of a checkpoint or manifest: whole, 0..2^53, else -EINVAL
 * (a cast of -1 or 1e300 to an integer is undefined: verify_fuzz). */
static void test_checkpoint_num(void **state)
{
	static const char *const bad[] = { "-1",    "1e300", "-1e300", "9007199254740994",
					   "\"3\"", "null",  "[1]" };
	char text[64];
	int64_t v = 7;
	cJSON *o;

	(void)state;
	o = cJSON_Parse("{\"a\": 12, \"b\": 0, \"c\": 9007199254740992}");
	assert_int_equal(checkpoint_num(o, "a", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(checkpoint_num(o, "b", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(checkpoint_num(o, "c", &v), 0);
	assert_int_equal(v, 9007199254740992LL);
	assert_int_equal(checkpoint_num(o, "missing", &v), -EINVAL);
	cJSON_Delete(o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"a\": %s}", bad[i]);
		o = cJSON_Parse(text);
		assert_non_null(o);
		v = 7;
		assert_int_equal(checkpoint_num(o, "a", &v), -EINVAL);
		assert_int_equal(v, 7);
		cJSON_Delete(o);
	}
}

/* A signed manifest whose segment numbers are out of range: a finding
 * ("segment entry malformed"), not a cast (verify_fuzz found it). */
static void test_manifest_hostile_numbers(void **state)
{
	struct fx *fx = *state;
	char dir[96], path[160], *m, *out = NULL;
	unsigned char b64[256];
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t siglen = 0, blen = 0, olen = 0;
	unsigned int findings = 0;
	cJSON *o = cJSON_CreateObject(), *segs = cJSON_AddArrayToObject(o, "segments"), *s;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/pkg", fx->dir);
	assert_int_equal(fs_mkdir_p(dir, 0700), 0);
	cJSON_AddStringToObject(o, "camera", "cam1");
	cJSON_AddStringToObject(o, "public_key", identity_public_pem(fx->id));
	s = cJSON_CreateObject();
	cJSON_AddItemToArray(segs, s);
	cJSON_AddStringToObject(s, "file", "media/cam1/x-1.m4s");
	cJSON_AddNumberToObject(s, "seq", -1e300);
	cJSON_AddNumberToObject(s, "start_ms", 1e300);
	cJSON_AddNumberToObject(s, "duration_ms", -4000);
	cJSON_AddNumberToObject(s, "position", 1e300);
	cJSON_AddStringToObject(s, "sha256",
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	m = cJSON_Print(o);
	cJSON_Delete(o);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	assert_int_equal(fs_replace(path, m, strlen(m), 0600), 0);
	assert_int_equal(identity_sign(fx->id, m, strlen(m), sig, sizeof(sig), &siglen), 0);
	assert_int_equal(mbedtls_base64_encode(b64, sizeof(b64), &blen, sig, siglen), 0);
	snprintf(path, sizeof(path), "%s/manifest.sig", dir);
	assert_int_equal(fs_replace(path, b64, blen, 0600), 0);
	f = open_memstream(&out, &olen);
	assert_int_equal(verify_dir(dir, NULL, f, &findings), 0);
	fclose(f);
	assert_true(findings >= 1);
	assert_non_null(strstr(out, "manifest.json: segment entry malformed"));
	assert_non_null(strstr(out, "FAILED"));
	free(out);
	free(m);
}

static void test_identity_kept(void **state)
{
	struct fx *fx = *state;
	struct identity *again;
	char fp[IDENTITY_FP_LEN], path[128], csr[2048];
	uint8_t sig[IDENTITY_SIG_MAX];
	size_t siglen;
	FILE *f;

	snprintf(fp, sizeof(fp), "%s", identity_fingerprint(fx->id));
	assert_int_equal(identity_open(fx->dir, &again), 0);
	assert_string_equal(identity_fingerprint(again), fp);
	assert_int_equal(identity_sign(again, "abc", 3, sig, sizeof(sig), &siglen), 0);
	assert_int_equal(identity_verify(identity_public_pem(fx->id), "abc", 3, sig, siglen, NULL),
			 0);
	assert_int_equal(identity_verify(identity_public_pem(fx->id), "abd", 3, sig, siglen, NULL),
			 -EBADMSG);
	assert_int_equal(identity_csr(again, "CN=gw-1,O=Test", csr, sizeof(csr)), 0);
	assert_non_null(strstr(csr, "BEGIN CERTIFICATE REQUEST"));
	assert_int_equal(identity_csr(again, "BOGUS=x", csr, sizeof(csr)), -EINVAL);
	identity_close(again);
	/* a damaged key file is an error, never silently replaced */
	snprintf(path, sizeof(path), "%s/%s", fx->dir, IDENTITY_KEY_NAME);
	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(identity_open(fx->dir, &again), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formula),
		cmocka_unit_test_setup_teardown(test_append_and_reopen, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_signed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_identity_kept, fx_setup, fx_teardown),
		cmocka_unit_test(test_checkpoint_num),
		cmocka_unit_test_setup_teardown(test_manifest_hostile_numbers, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_prune, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
