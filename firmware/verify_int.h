/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify internals shared by verify.c (central's layout) and
 * verify_pkg.c (export packages). Not for other modules.
 */
#ifndef CAMGATE_FIRMWARE_VERIFY_INT_H
#define CAMGATE_FIRMWARE_VERIFY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "firmware/identity.h"
#include "lib/fsutil.h"
#include "lib/sha256.h"
#include "storage/chain.h"

struct vctx {
	FILE *out;
	unsigned int findings;
	char fp[IDENTITY_FP_LEN]; /* the key every signature must have; "" until known */
	bool pinned;
	bool package; /* its checkpoints start anywhere: only those covering the export */
};

/* What should be there for one camera. */
struct expect {
	struct chain_entry *e; /* entries, in position order */
	size_t n, cap;
	bool *seen;
	size_t *byseq; /* segment entries' indexes sorted by seq (match_files) */
	size_t nseq;
	uint64_t max_seq; /* highest segment seq covered */
	bool strict;	  /* a file newer than max_seq is inserted, not late */
};

void verify__finding(struct vctx *v, const char *camera, int64_t ms, uint64_t seq, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
int verify__expect_add(struct expect *x, const struct chain_entry *e);
void verify__expect_free(struct expect *x);
bool verify__key_ok(struct vctx *v, const char *fp);
/* The checkpoints in @root/chain/@camera/ into @x. */
int verify__load_checkpoints(struct vctx *v, const char *root, const char *camera,
			     struct expect *x);
/* The files in @root/media/@camera/ against @x. */
int verify__match_files(struct vctx *v, const char *root, const char *camera, struct expect *x,
			unsigned int *notes);
/* An export package (verify_pkg.c): manifest.json in @root, the files it
 * names below @files (@root itself for a package; the gateway's folder
 * for exports/{id}/ at central, where only the listed files count). */
int verify__package(struct vctx *v, const char *root, const char *files, unsigned int *notes);

#endif /* CAMGATE_FIRMWARE_VERIFY_INT_H */
