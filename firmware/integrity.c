// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chain entries, gap entries and signed checkpoints as footage is
 * recorded (firmware/integrity.h, docs/integrity.md).
 */
#include "firmware/integrity.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "firmware/checkpoint.h"
#include "firmware/config.h"
#include "firmware/identity.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "storage/chain.h"
#include "storage/ring.h"

#define CAMS_MAX    64
#define CP_MAX	    1000 /* entries in one checkpoint */
#define QUEUE_BATCH 32

struct cam_cp {
	char name[CHAIN_CAMERA_MAX];
	int64_t last_cp_ms;
};

struct integrity {
	pthread_mutex_t lock; /* cams[], and one checkpoint made at a time */
	struct identity *id;
	struct chain *ch;
	uint32_t every;
	int64_t every_ms;
	char gateway[64];
	char cert_fp[IDENTITY_FP_LEN];
	struct cam_cp cams[CAMS_MAX];
	size_t ncams;
};

/* SHA-256 of the uplink client certificate's DER, the fingerprint
 * central's CA issued to this gateway; "" when none is configured. */
static void cert_fingerprint(const char *path, char fp[IDENTITY_FP_LEN])
{
	mbedtls_x509_crt crt;
	uint8_t md[SHA256_LEN];

	fp[0] = '\0';
	if (!path || !*path)
		return;
	mbedtls_x509_crt_init(&crt);
	if (!mbedtls_x509_crt_parse_file(&crt, path) && !sha256_oneshot(crt.raw.p, crt.raw.len, md))
		hex_encode(md, sizeof(md), fp);
	else
		log_warn("integrity: %s: cannot read the client certificate; checkpoints carry "
			 "the key fingerprint only",
			 path);
	mbedtls_x509_crt_free(&crt);
}

int integrity_open(const struct config *cfg, struct statedb *sdb, struct integrity **itp)
{
	struct integrity *it = calloc(1, sizeof(*it));
	int ret;

	if (!it)
		return -ENOMEM;
	pthread_mutex_init(&it->lock, NULL);
	it->every = cfg->checkpoint_segments ? cfg->checkpoint_segments : 15;
	it->every_ms = cfg->checkpoint_interval_ms ? cfg->checkpoint_interval_ms : 300000;
	snprintf(it->gateway, sizeof(it->gateway), "%s", cfg->gateway_id ? cfg->gateway_id : "");
	cert_fingerprint(cfg->uplink.client_cert, it->cert_fp);
	ret = identity_open(cfg->state_dir, &it->id);
	if (!ret)
		ret = chain_open(sdb, &it->ch);
	if (ret) {
		integrity_close(it);
		return ret;
	}
	*itp = it;
	return 0;
}

void integrity_close(struct integrity *it)
{
	if (!it)
		return;
	chain_close(it->ch);
	identity_close(it->id);
	pthread_mutex_destroy(&it->lock);
	free(it);
}

struct chain *integrity_chain(struct integrity *it)
{
	return it->ch;
}

struct identity *integrity_identity(struct integrity *it)
{
	return it->id;
}

/* Under it->lock. */
static struct cam_cp *cam_get(struct integrity *it, const char *name, int64_t now_ms)
{
	for (size_t i = 0; i < it->ncams; i++)
		if (!strcmp(it->cams[i].name, name))
			return &it->cams[i];
	if (it->ncams == CAMS_MAX)
		return NULL;
	snprintf(it->cams[it->ncams].name, CHAIN_CAMERA_MAX, "%s", name);
	it->cams[it->ncams].last_cp_ms = now_ms;
	return &it->cams[it->ncams++];
}

struct collect {
	struct chain_entry *e;
	size_t n, cap;
};

static int collect_entry(void *arg, const struct chain_entry *e)
{
	struct collect *c = arg;

	if (c->n == c->cap)
		return 1;
	c->e[c->n++] = *e;
	return 0;
}

/* Checkpoint @camera's entries after its last checkpoint, under it->lock. */
static int checkpoint_locked(struct integrity *it, const char *camera, int64_t now_ms)
{
	struct collect c = { .cap = CP_MAX };
	struct chain_entry prev = { 0 };
	struct cam_cp *cc;
	uint64_t done;
	char *json = NULL;
	int ret = chain_checkpointed(it->ch, camera, &done);

	if (ret)
		return ret;
	if (done)
		ret = chain_walk(it->ch, camera, done, done, collect_entry,
				 &(struct collect){ .e = &prev, .cap = 1 });
	if (ret < 0)
		return ret;
	c.e = calloc(CP_MAX, sizeof(*c.e));
	if (!c.e)
		return -ENOMEM;
	ret = chain_walk(it->ch, camera, done + 1, done + CP_MAX, collect_entry, &c);
	if (ret >= 0 && c.n) {
		ret = checkpoint_build(it->id, it->gateway, it->cert_fp, prev.value, c.e, c.n,
				       now_ms, &json);
		if (!ret)
			ret = chain_checkpoint_put(it->ch, camera, c.e[0].pos, c.e[c.n - 1].pos,
						   now_ms, json);
		if (!ret)
			log_info("integrity: %s: checkpoint of chain positions %" PRIu64
				 "-%" PRIu64,
				 camera, c.e[0].pos, c.e[c.n - 1].pos);
	}
	cc = cam_get(it, camera, now_ms);
	if (cc && ret >= 0)
		cc->last_cp_ms = now_ms;
	free(json);
	free(c.e);
	return ret < 0 ? ret : 0;
}

int integrity_checkpoint_now(struct integrity *it, const char *camera, int64_t now_ms)
{
	int ret;

	pthread_mutex_lock(&it->lock);
	ret = checkpoint_locked(it, camera, now_ms);
	pthread_mutex_unlock(&it->lock);
	return ret;
}

static int append_gap(struct integrity *it, const char *camera, const char *reason, uint64_t seq,
		      int64_t start_ms, int64_t dur_ms)
{
	struct chain_entry g = { .kind = CHAIN_GAP, .seq = seq, .start_utc_ms = start_ms };

	g.duration_ms = dur_ms < 0 ? 0 : dur_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)dur_ms;
	snprintf(g.camera, sizeof(g.camera), "%s", camera);
	snprintf(g.reason, sizeof(g.reason), "%s", reason);
	chain_gap_hash(reason, g.hash);
	return chain_append(it->ch, &g);
}

int integrity_segment(struct integrity *it, const struct ring_seg_info *info, int64_t now_ms)
{
	struct chain_entry last, e = { .kind = CHAIN_SEGMENT };
	uint64_t done;
	int ret = chain_last(it->ch, info->camera, &last);

	if (!ret && last.kind == CHAIN_SEGMENT) {
		int64_t end = last.start_utc_ms + last.duration_ms;
		int64_t slack = last.duration_ms > INTEGRITY_OUTAGE_MS ? last.duration_ms
								       : INTEGRITY_OUTAGE_MS;

		if (info->seq > last.seq + 1)
			ret = append_gap(it, info->camera, "missing", last.seq + 1, end,
					 info->start_utc_ms - end);
		else if (info->start_utc_ms > end + slack)
			ret = append_gap(it, info->camera, "outage", info->seq, end,
					 info->start_utc_ms - end);
	} else if (ret == -ENOENT) {
		ret = 0;
	}
	if (ret)
		return ret;
	snprintf(e.camera, sizeof(e.camera), "%s", info->camera);
	e.seq = info->seq;
	e.start_utc_ms = info->start_utc_ms;
	e.duration_ms = info->duration_ms;
	memcpy(e.hash, info->sha256, CHAIN_LEN);
	ret = chain_append(it->ch, &e);
	if (!ret)
		ret = chain_checkpointed(it->ch, info->camera, &done);
	if (!ret && e.pos - done >= it->every)
		ret = integrity_checkpoint_now(it, info->camera, now_ms);
	if (!ret) {
		pthread_mutex_lock(&it->lock);
		cam_get(it, info->camera, now_ms);
		pthread_mutex_unlock(&it->lock);
	}
	return ret;
}

int integrity_evicted(struct integrity *it, const struct ring_seg_info *info, int64_t now_ms)
{
	(void)now_ms;
	return append_gap(it, info->camera, "evicted-before-upload", info->seq, info->start_utc_ms,
			  info->duration_ms);
}

struct queued {
	char camera[CHAIN_CAMERA_MAX];
	uint64_t last_pos;
	char *body;
};

struct queue {
	struct queued q[QUEUE_BATCH];
	size_t n;
};

static int queue_row(void *arg, const char *camera, uint64_t last_pos, const char *body)
{
	struct queue *qu = arg;

	if (qu->n == QUEUE_BATCH)
		return 1;
	snprintf(qu->q[qu->n].camera, CHAIN_CAMERA_MAX, "%s", camera);
	qu->q[qu->n].last_pos = last_pos;
	qu->q[qu->n].body = strdup(body);
	if (!qu->q[qu->n].body)
		return -ENOMEM;
	qu->n++;
	return 0;
}

int integrity_tick(struct integrity *it, int64_t now_ms, bool flush, integrity_put_fn put,
		   void *arg)
{
	struct queue qu = { .n = 0 };
	char path[128];
	int ret = 0;

	pthread_mutex_lock(&it->lock);
	for (size_t i = 0; i < it->ncams && !ret; i++)
		if (flush || now_ms - it->cams[i].last_cp_ms >= it->every_ms)
			ret = checkpoint_locked(it, it->cams[i].name, now_ms);
	pthread_mutex_unlock(&it->lock);
	if (ret || !put)
		return ret;
	/* Bodies are copied out first: @put writes state.db, whose lock the
	 * walk holds. */
	ret = chain_checkpoint_walk(it->ch, NULL, 0, INT64_MAX, true, queue_row, &qu);
	ret = ret < 0 ? ret : 0;
	for (size_t i = 0; i < qu.n; i++) {
		snprintf(path, sizeof(path), "chain/%s/%010" PRIu64 ".json", qu.q[i].camera,
			 qu.q[i].last_pos);
		if (!ret && !put(arg, path, qu.q[i].body, now_ms))
			ret = chain_checkpoint_queued(it->ch, qu.q[i].camera, qu.q[i].last_pos);
		free(qu.q[i].body);
	}
	return ret;
}

int integrity_prune(struct integrity *it, int64_t before_ms)
{
	char names[CAMS_MAX][CHAIN_CAMERA_MAX];
	size_t n;
	int ret = 0;

	pthread_mutex_lock(&it->lock);
	n = it->ncams;
	for (size_t i = 0; i < n; i++)
		memcpy(names[i], it->cams[i].name, CHAIN_CAMERA_MAX);
	pthread_mutex_unlock(&it->lock);
	for (size_t i = 0; i < n && !ret; i++)
		ret = chain_prune(it->ch, names[i], before_ms);
	return ret;
}
