// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate verify`: segments against the signed hash chain, offline
 * (firmware/verify.h, docs/integrity.md).
 *
 * The trusted list of what should be there comes first: every segment
 * entry of the checkpoints (central's layout) or of the signed manifest
 * (an export package), each checked for its signature and for chaining.
 * Then every segment file is hashed and matched against that list by the
 * sequence number in its name.
 */
#include "firmware/verify.h"
#include "firmware/verify_int.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/base64.h>

#include "firmware/checkpoint.h"
#include "firmware/identity.h"
#include "lib/hex.h"
#include "lib/parse.h"
#include "lib/sha256.h"
#include "storage/chain.h"

#define PATH_CAP  4096
#define NAMES_MAX 1000000

void verify__finding(struct vctx *v, const char *camera, int64_t ms, uint64_t seq, const char *fmt,
		     ...)
{
	char when[32] = "-";
	va_list ap;

	if (ms)
		format_time_ms(ms, when, sizeof(when));
	fprintf(v->out, "FINDING %s %s seq %" PRIu64 ": ", camera, when, seq);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
	v->findings++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in @dir ending in @suffix; malloc'ed, free with names_free. */
static char **names_list(const char *dir, const char *suffix, size_t *np)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0, sl = strlen(suffix);

	*np = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d)) && n < NAMES_MAX) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < sl || strcmp(de->d_name + l - sl, suffix))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (v[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*np = n;
	return v;
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int verify__expect_add(struct expect *x, const struct chain_entry *e)
{
	if (x->n == x->cap) {
		struct chain_entry *ne =
			realloc(x->e, (x->cap = x->cap ? 2 * x->cap : 256) * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		x->e = ne;
	}
	x->e[x->n++] = *e;
	if (e->kind == CHAIN_SEGMENT && e->seq > x->max_seq)
		x->max_seq = e->seq;
	return 0;
}

/* The key of a good signature: pinned, or the first one seen. */
bool verify__key_ok(struct vctx *v, const char *fp)
{
	if (!v->fp[0])
		snprintf(v->fp, sizeof(v->fp), "%s", fp);
	return !strcmp(v->fp, fp);
}

/* Checkpoints of chain/@camera into @x; consecutive ones must link. */
int verify__load_checkpoints(struct vctx *v, const char *root, const char *camera, struct expect *x)
{
	char dir[PATH_CAP], path[PATH_CAP + 256], why[160];
	uint64_t last_pos = 0;
	uint8_t last_val[CHAIN_LEN] = { 0 };
	size_t n;
	char **names;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/chain/%s", root, camera);
	names = names_list(dir, ".json", &n);
	for (size_t i = 0; i < n && !ret; i++) {
		struct checkpoint cp;
		char *body;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		body = fs_read_all(path, NULL);
		r = body ? checkpoint_parse(body, &cp, why, sizeof(why)) : -EIO;
		free(body);
		if (r == -ENOMEM) {
			ret = r;
		} else if (r) {
			verify__finding(v, camera, 0, 0,
					"checkpoint chain/%s/%s does not verify: %s", camera,
					names[i], r == -EIO ? "unreadable" : why);
		} else if (strcmp(cp.camera, camera)) {
			verify__finding(v, camera, 0, 0, "checkpoint chain/%s/%s is camera %s's",
					camera, names[i], cp.camera);
		} else if (!verify__key_ok(v, cp.key_fp)) {
			verify__finding(v, camera, 0, 0,
					"checkpoint chain/%s/%s is signed by another key "
					"(%.16s..., expected "
					"%.16s...)",
					camera, names[i], cp.key_fp, v->fp);
		} else {
			bool first = !last_pos && v->package;

			if (!first &&
			    (cp.first_pos != last_pos + 1 || memcmp(cp.prev, last_val, CHAIN_LEN)))
				verify__finding(
					v, camera, 0, 0,
					"checkpoint chain/%s/%s does not follow on from position "
					"%" PRIu64 ": checkpoints missing or replaced",
					camera, names[i], last_pos);
			for (size_t k = 0; k < cp.n && !ret; k++)
				ret = verify__expect_add(x, &cp.entries[k]);
			last_pos = cp.last_pos;
			memcpy(last_val, cp.value, CHAIN_LEN);
		}
		checkpoint_clear(&cp);
	}
	names_free(names, n);
	return ret;
}

static const struct expect *sort_x; /* qsort has no argument */

static int cmp_seq(const void *a, const void *b)
{
	const struct chain_entry *x = &sort_x->e[*(const size_t *)a];
	const struct chain_entry *y = &sort_x->e[*(const size_t *)b];

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* A day of a camera is ~43000 segments: matched by binary search. */
static int index_seq(struct expect *x)
{
	x->byseq = calloc(x->n ? x->n : 1, sizeof(*x->byseq));
	if (!x->byseq)
		return -ENOMEM;
	x->nseq = 0;
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].kind == CHAIN_SEGMENT)
			x->byseq[x->nseq++] = i;
	sort_x = x;
	qsort(x->byseq, x->nseq, sizeof(*x->byseq), cmp_seq);
	return 0;
}

/* The first segment entry with @seq (by position). */
static const struct chain_entry *by_seq(const struct expect *x, uint64_t seq, size_t *idx)
{
	size_t lo = 0, hi = x->nseq;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[x->byseq[mid]].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == x->nseq || x->e[x->byseq[lo]].seq != seq)
		return NULL;
	*idx = x->byseq[lo];
	return &x->e[*idx];
}

static const struct chain_entry *by_hash(const struct expect *x, const uint8_t *md)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].kind == CHAIN_SEGMENT && !memcmp(x->e[i].hash, md, CHAIN_LEN))
			return &x->e[i];
	return NULL;
}

static bool declared_gap(const struct expect *x, uint64_t seq)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].kind == CHAIN_GAP && x->e[i].seq == seq)
			return true;
	return false;
}

/* "...-SEQ.m4s" */
static bool name_seq(const char *name, uint64_t *seqp)
{
	const char *dash = strrchr(name, '-');
	char *end;

	if (!dash)
		return false;
	errno = 0;
	*seqp = strtoull(dash + 1, &end, 10);
	return !errno && end != dash + 1 && !strcmp(end, ".m4s");
}

/* Every segment file of media/@camera against @x; then what @x has and no file. */
int verify__match_files(struct vctx *v, const char *root, const char *camera, struct expect *x,
			unsigned int *notes)
{
	char dir[PATH_CAP], path[PATH_CAP + 256];
	size_t n, ok = 0, late = 0;
	struct file {
		uint64_t seq;
		uint8_t md[SHA256_LEN];
		bool done;
	} * files;
	char **names;

	x->seen = calloc(x->n ? x->n : 1, sizeof(*x->seen));
	if (!x->seen || index_seq(x))
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s/media/%s", root, camera);
	names = names_list(dir, ".m4s", &n);
	files = calloc(n ? n : 1, sizeof(*files));
	if (!files) {
		names_free(names, n);
		return -ENOMEM;
	}
	/* First the files that are what the chain says, so that a second
	 * file under the same seq is the intruder, whatever its name sorts. */
	for (size_t i = 0; i < n; i++) {
		const struct chain_entry *e;
		size_t idx;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!name_seq(names[i], &files[i].seq)) {
			verify__finding(v, camera, 0, 0, "media/%s/%s: not a segment name", camera,
					names[i]);
			files[i].done = true;
		} else if (sha256_file(path, files[i].md)) {
			verify__finding(v, camera, 0, files[i].seq, "media/%s/%s unreadable",
					camera, names[i]);
			files[i].done = true;
		} else if ((e = by_seq(x, files[i].seq, &idx)) && !x->seen[idx] &&
			   !memcmp(e->hash, files[i].md, CHAIN_LEN)) {
			x->seen[idx] = true;
			files[i].done = true;
			ok++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct chain_entry *e, *other;
		uint64_t seq = files[i].seq;
		const uint8_t *md = files[i].md;
		size_t idx = 0;

		if (files[i].done)
			continue;
		e = by_seq(x, seq, &idx);
		if (!e && seq > x->max_seq && !x->strict) {
			late++; /* newer than the last checkpoint */
			continue;
		}
		if (!e || x->seen[idx]) {
			other = by_hash(x, md);
			if (other)
				verify__finding(v, camera, other->start_utc_ms, seq,
						"inserted: media/%s/%s is a copy of seq %" PRIu64,
						camera, names[i], other->seq);
			else
				verify__finding(v, camera, 0, seq,
						"inserted: media/%s/%s is not in the signed chain",
						camera, names[i]);
			continue;
		}
		x->seen[idx] = true;
		other = by_hash(x, md);
		if (other)
			verify__finding(v, camera, e->start_utc_ms, seq,
					"reordered: media/%s/%s holds the segment of seq %" PRIu64
					" (moved or swapped)",
					camera, names[i], other->seq);
		else
			verify__finding(
				v, camera, e->start_utc_ms, seq,
				"altered: media/%s/%s does not match its SHA-256 in the chain",
				camera, names[i]);
	}
	for (size_t i = 0; i < x->n; i++) {
		const struct chain_entry *e = &x->e[i];

		if (e->kind == CHAIN_GAP) {
			char when[32];

			format_time_ms(e->start_utc_ms, when, sizeof(when));
			fprintf(v->out, "note %s %s seq %" PRIu64 ": declared gap (%s), %u ms\n",
				camera, when, e->seq, e->reason, e->duration_ms);
			(*notes)++;
		} else if (!x->seen[i] && !declared_gap(x, e->seq)) {
			verify__finding(v, camera, e->start_utc_ms, e->seq,
					"missing: no segment file");
		}
	}
	if (late) {
		fprintf(v->out,
			"note %s: %zu segments newer than the last checkpoint (not checked)\n",
			camera, late);
		(*notes)++;
	}
	fprintf(v->out, "%s: %zu segments match the signed chain\n", camera, ok);
	names_free(names, n);
	free(files);
	return 0;
}

void verify__expect_free(struct expect *x)
{
	free(x->e);
	free(x->seen);
	free(x->byseq);
	memset(x, 0, sizeof(*x));
}

/* A gateway folder: media/ and chain/. */
/* The exports central received from this gateway (exports/{id}/). */
static int verify_exports(struct vctx *v, const char *root, unsigned int *notes)
{
	char dir[PATH_CAP];
	bool package = v->package;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/exports", root);
	d = opendir(dir);
	while (!ret && d && (de = readdir(d))) {
		char sub[PATH_CAP + 300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		ret = verify__package(v, sub, root, notes);
	}
	if (d)
		closedir(d);
	v->package = package;
	return ret;
}

static int verify_gateway(struct vctx *v, const char *root, unsigned int *notes)
{
	char dir[PATH_CAP];
	DIR *d;
	struct dirent *de;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/chain", root);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while (!ret && (de = readdir(d))) {
		struct expect x = { 0 };

		if (de->d_name[0] == '.')
			continue;
		ret = verify__load_checkpoints(v, root, de->d_name, &x);
		if (!ret)
			ret = verify__match_files(v, root, de->d_name, &x, notes);
		verify__expect_free(&x);
	}
	closedir(d);
	/* A camera with footage and no checkpoint at all is unverifiable. */
	snprintf(dir, sizeof(dir), "%s/media", root);
	d = opendir(dir);
	while (!ret && d && (de = readdir(d))) {
		char cp[PATH_CAP + 300];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cp, sizeof(cp), "%s/chain/%s", root, de->d_name);
		if (stat(cp, &st))
			verify__finding(v, de->d_name, 0, 0,
					"no checkpoints at all for this camera");
	}
	if (d)
		closedir(d);
	if (!ret)
		ret = verify_exports(v, root, notes);
	return ret;
}

/* @dir itself for a package; for exports/{id}/ as central holds it (no
 * footage.mp4), the gateway folder two levels up, written to @buf. */
static const char *central_export(const char *dir, char *buf, size_t cap)
{
	char mp4[PATH_CAP + 16], *slash;
	struct stat st;
	size_t n;

	snprintf(buf, cap, "%s", dir);
	for (n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	snprintf(mp4, sizeof(mp4), "%s/footage.mp4", buf);
	slash = strrchr(buf, '/');
	if (!stat(mp4, &st) || !slash)
		return dir;
	if (slash - buf == 7 && !strncmp(buf, "exports", 7))
		return "."; /* exports/{id} from inside the gateway's folder */
	if (slash - buf < 8 || strncmp(slash - 8, "/exports", 8))
		return dir;
	slash[-8] = '\0';
	return buf;
}

int verify_dir(const char *dir, const char *fingerprint, FILE *out, unsigned int *findingsp)
{
	struct vctx v = { .out = out };
	char path[PATH_CAP];
	unsigned int notes = 0, done = 0;
	struct stat st;
	int ret;

	if (fingerprint) {
		snprintf(v.fp, sizeof(v.fp), "%s", fingerprint);
		v.pinned = true;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (!stat(path, &st)) {
		ret = verify__package(&v, dir, central_export(dir, path, sizeof(path)), &notes);
		done = 1;
	} else {
		ret = verify_gateway(&v, dir, &notes);
		if (!ret)
			done = 1;
		if (ret == -ENOENT) {
			/* central's root: gateways/{id}/, or a folder of gateways */
			char gw[PATH_CAP];
			DIR *d;
			struct dirent *de;

			snprintf(gw, sizeof(gw), "%s/gateways", dir);
			d = opendir(gw);
			if (!d) {
				snprintf(gw, sizeof(gw), "%s", dir);
				d = opendir(gw);
			}
			ret = 0;
			while (d && !ret && (de = readdir(d))) {
				char sub[PATH_CAP + 256];
				int r;

				if (de->d_name[0] == '.')
					continue;
				snprintf(sub, sizeof(sub), "%s/%s", gw, de->d_name);
				r = verify_gateway(&v, sub, &notes);
				if (!r)
					done++;
				else if (r != -ENOENT)
					ret = r;
			}
			if (d)
				closedir(d);
		}
	}
	if (ret)
		return ret;
	if (!done)
		return -ENOENT;
	fprintf(out, "%s: %u findings, %u notes; key %s\n", v.findings ? "FAILED" : "OK",
		v.findings, notes, v.fp[0] ? v.fp : "(none)");
	*findingsp = v.findings;
	return 0;
}
