/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ring_int - internals shared by ring.c, ring_append.c, ring_format.c,
 * ring_index.c, ring_index_query.c and ring_scan.c.
 * Nothing here is for other modules; use storage/ring.h.
 *
 * On-disk layout of DIR/ (all integers little-endian, explicit widths;
 * NEVER REORDER OR RESIZE A FIELD: add new ones in reserved space and
 * bump the version, old rings must stay readable):
 *
 *   ring.meta        128 bytes, written once by ring_create() (tmp, fsync,
 *                    rename, fsync dir); its presence marks a ring.
 *     0   u32  magic 'CGM1' (RING_META_MAGIC)
 *     4   u16  version (1)
 *     6   u16  reserved, 0
 *     8   u32  extents
 *     12  u32  alignment of records (4096)
 *     16  u64  extent_bytes
 *     24  i64  created, UTC ms
 *     32  u8[16] ring uuid (random; every extent header repeats it)
 *     48  u8[16] reserved, 0
 *     64  u8[32] SHA-256 of bytes 0..63
 *     96  u8[32] reserved, 0
 *
 *   extent-NNN.dat   extent_bytes each, preallocated. The first
 *                    RING_EXT_HDR_SIZE bytes hold the extent header; records
 *                    follow from that offset, each starting on a
 *                    RING_ALIGN boundary.
 *     extent header (rewritten and synced each time the extent is reused,
 *     before its index rows are deleted and before any new record):
 *     0   u32  magic 'CGE1' (RING_EXT_MAGIC)
 *     4   u16  version (1)
 *     6   u16  reserved, 0
 *     8   u32  extent number
 *     12  u32  reserved, 0
 *     16  u64  generation (times reused)
 *     24  u64  min_id: every live record here has id >= min_id; anything
 *              lower is data of the previous generation
 *     32  i64  reused at, UTC ms
 *     40  u8[16] ring uuid
 *     56  u8[8] reserved, 0
 *     64  u8[32] SHA-256 of bytes 0..63
 *
 *     record header (RING_REC_HDR_SIZE bytes), then the payload, then
 *     padding up to the next RING_ALIGN boundary (not written):
 *     0   u32  magic 'CGR1' (RING_REC_MAGIC)
 *     4   u16  version (1)
 *     6   u8   kind: 1 init segment, 2 media segment
 *     7   u8   utc_src (enum ring_utc_src)
 *     8   u32  flags (RING_F_*)
 *     12  u32  header size (256); a later version may grow it
 *     16  u64  id: ring-wide, strictly increasing over the ring's life,
 *              so within an extent ids rise and a drop marks stale data
 *     24  u64  seq: per camera (0 for an init record)
 *     32  u64  init_id: the init segment media needs; an init record's own
 *     40  i64  start, UTC ms
 *     48  i64  media start, us (decode time of the first sample)
 *     56  u32  duration, ms
 *     60  u32  checks: bit 0 (RING_CHECK_XXH3) says bytes 72..79 hold
 *              the XXH3-64 of the payload; 0 in records written before
 *     64  u64  payload length
 *     72  u64  XXH3-64 of the payload (seed 0) if checks says so, else 0
 *     80  char[32] camera, NUL padded
 *     112 u8[32] SHA-256 of the payload
 *     144 u8[80] reserved, 0
 *     224 u8[32] SHA-256 of bytes 0..223
 *
 *   Two checksums of the payload, for two jobs: the SHA-256 is the
 *   segment's identity (the uplink sends it as Content-Digest, exports
 *   and `ring verify` check it); the XXH3-64 catches what the medium did
 *   to the bytes when they are read back for sending, at a small part of
 *   the SHA-256's cost. Neither resists someone who can write the disk:
 *   they could rewrite both, and the index.
 *
 * Invariants the code keeps (the numbered guarantees are in ring.h):
 *  I1  Appends only ever go at the write position of the head extent;
 *      bytes past it are torn or stale and never indexed. Recovery sets
 *      the next id above every valid header past it, so the walk's
 *      "ids rise" rule always stops at such leftovers.
 *  I2  An extent is reused only after its new header is synced and its
 *      index rows are deleted (committed), so an indexed row always
 *      points at bytes nobody is overwriting; readers rely on it.
 *  I3  Every media record has its init record earlier in the same extent.
 *  I4  Recovery writes only the index, never the extents.
 */
#ifndef CAMGATE_STORAGE_RING_INT_H
#define CAMGATE_STORAGE_RING_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lockorder.h"
#include "lib/sha256.h"
#include "storage/ring.h"
#include "storage/ring_io.h"

#define RING_META_MAGIC	    0x314d4743u /* "CGM1" */
#define RING_EXT_MAGIC	    0x31454743u /* "CGE1" */
#define RING_REC_MAGIC	    0x31524743u /* "CGR1" */
#define RING_FORMAT_VERSION 1

#define RING_META_SIZE	  128
#define RING_EXT_HDR_SIZE 4096 /* reserved at each extent's start */
#define RING_EXT_HDR_USED 96
#define RING_REC_HDR_SIZE 256
#define RING_ALIGN	  4096
#define RING_UUID_LEN	  16
#define RING_SHA_LEN	  32 /* on disk; SHA256_LEN, checked in ring_format.c */

#define RING_REC_INIT  1
#define RING_REC_MEDIA 2

#define RING_EXTENTS_MAX 4096
#define RING_EXTENT_MIN	 (1024u * 1024u)
#define RING_INIT_MAX	 (1024u * 1024u) /* init segment bytes */
#define RING_HASH_CHUNK	 (64u * 1024u)	 /* read buffer for hashing */
#define RING_LIST_BATCH	 256		 /* rows fetched per lock hold */
#define RING_PATH_MAX	 4096

#define RING_META_NAME	"ring.meta"
#define RING_INDEX_NAME "index.db"
#define RING_LOCK_NAME	"ring.lock"

struct sqlite3;
struct sqlite3_stmt;

/* Cached prepared statements (ring_index.c owns the SQL). */
enum ring__stmt_id {
	RS_SEG_GET,
	RS_SEG_PUT,
	RS_SEG_BY_EXTENT,
	RS_SEG_DEL_EXTENT,
	RS_SEG_UPLOADED,
	RS_SEG_LIST,
	RS_INITREC_GET,
	RS_INITREC_PUT,
	RS_INITREC_HAS,
	RS_INITREC_DEL_EXTENT,
	RS_INIT_FIND,
	RS_INIT_GET,
	RS_INIT_PUT,
	RS_CAM_SEQ,
	RS_CAM_LAST_LEN,
	RS_CAM_BUMP,
	RS_OFFSETS,
	RS_STAT_SEGS,
	RS_STAT_INITS,
	RS__COUNT
};

struct ring__meta {
	uint32_t extents;
	uint64_t extent_bytes;
	int64_t created_utc_ms;
	uint8_t uuid[RING_UUID_LEN];
};

struct ring__ext {
	int fd;
	uint64_t generation;
	uint64_t min_id;
	uint32_t writers; /* open ring_writers with room here: not reused */
};

/* A record header as decoded; info.extent/offset say where it lies,
 * info.uploaded is index state only. */
#define RING_CHECK_XXH3 0x1u

struct ring__rec {
	uint8_t kind;
	struct ring_seg_info info;
	uint32_t checks; /* RING_CHECK_* */
	uint64_t xxh3;	 /* of the payload, if checks & RING_CHECK_XXH3 */
};

struct ring {
	pthread_mutex_t lock;
	char dir[RING_PATH_MAX];
	const struct ring_io *io;
	bool ro;
	int lock_fd;
	struct ring__meta meta;
	struct ring__ext *ext;
	struct sqlite3 *db;
	bool idx_new; /* the index was created at this open: recovery rebuilds */
	struct sqlite3_stmt *stmt[RS__COUNT];
	uint8_t *scratch; /* RING_HASH_CHUNK bytes, used under lock */

	/* Write position (I1); valid only when !ro. */
	uint32_t cur_ext;
	uint64_t cur_off;
	uint64_t next_id;

	int64_t floor_ms;
	bool upload_required;
	struct ring_upload_owner owner; /* .owed NULL: none */
	ring_evict_fn evict_fn;
	void *evict_arg;
	ring_held_fn held_fn; /* legal holds (firmware/holds.h) */
	void *held_arg;
	bool evict_blocked; /* a veto was logged; quiet until it lifts */

	uint64_t recovered_orphans;
	uint64_t recovered_cut;
};

/* Little-endian field access for the formats above. */
static inline void ring__put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ring__put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ring__put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t ring__get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ring__get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ring__get_le64(const uint8_t *p)
{
	return (uint64_t)ring__get_le32(p) | (uint64_t)ring__get_le32(p + 4) << 32;
}

/* ---- ring_format.c: formats, hashing, record I/O ---- */
/* SHA-256 of one buffer (lib/sha256.h); -EIO, logged there. */
int ring__sha256(const void *data, size_t len, uint8_t out[RING_SHA_LEN]);
int64_t ring__now_ms(void);

void ring__meta_encode(const struct ring__meta *m, uint8_t buf[RING_META_SIZE]);
int ring__meta_decode(const uint8_t buf[RING_META_SIZE], struct ring__meta *m);
void ring__ext_encode(const struct ring *ring, uint32_t e, uint64_t gen, uint64_t min_id,
		      uint8_t buf[RING_EXT_HDR_USED]);
/* 0 when @buf is a valid header of extent @e; its ring's uuid in @uuid. */
int ring__ext_decode(const uint8_t buf[RING_EXT_HDR_USED], uint32_t e, uint8_t uuid[RING_UUID_LEN]);
/* Reads extent @e's header into ring->ext[e]; -EBADMSG if invalid. */
int ring__ext_load(struct ring *ring, uint32_t e);

uint64_t ring__rec_size(uint64_t len);
/* Writes header and payload of @rec at its info.extent/offset (no sync);
 * @payload NULL writes the header only (ring_writer wrote the payload). */
int ring__rec_write(struct ring *ring, const struct ring__rec *rec, const void *payload);
/* Reads and validates the header at (@e, @off): -EBADMSG when invalid. */
int ring__rec_read_hdr(struct ring *ring, uint32_t e, uint64_t off, struct ring__rec *rec);
/* The check of ring__rec_read_hdr() on bytes @hdr already read from
 * (@e, @off), for walks that read many headers at once. */
int ring__rec_decode_hdr(const struct ring *ring, uint32_t e, uint64_t off,
			 const uint8_t hdr[RING_REC_HDR_SIZE], struct ring__rec *rec);
/* Reads (into @buf when not NULL) and hashes the payload of @rec:
 * 0 when it matches the header's SHA-256, -EBADMSG when not or short. */
int ring__rec_payload(struct ring *ring, const struct ring__rec *rec, void *buf);
/* Do the two describe the same record (all but `uploaded`)? */
bool ring__rec_matches(const struct ring__rec *a, const struct ring__rec *b);
/* The index row with @rec's id and kind, as a record; -ENOENT if none. */
int ring__idx_rec_get(struct ring *ring, const struct ring__rec *rec, struct ring__rec *row);
int ring__sync_extent(struct ring *ring, uint32_t e);

/* Reuse the next extent as the head (ring_append.c); -ENOSPC when it is
 * pinned and vetoed, or when a ring_writer still writes there. */
int ring__evict_next(struct ring *ring);

/* ---- ring_writer.c ---- */
/* ring_writer_open() with room for exactly @len payload bytes; -ENOSPC
 * (logged) when they do not fit an extent with the init record. */
int ring__writer_open_len(struct ring *ring, const char *camera, uint64_t init_id, uint64_t len,
			  struct ring_writer **wp);

/* ---- ring_scan.c: recovery and verify ---- */
/* Reconciles index and extents, sets the write position (G3). */
int ring__recover(struct ring *ring);

/* ---- ring_index.c: the SQLite index ---- */
/* Opens DIR/index.db (read-only when ring->ro), creating the schema when
 * @create allows it. */
int ring__idx_open(struct ring *ring, bool create);
void ring__idx_close(struct ring *ring);
/* A reset statement, prepared on first use; NULL (logged) on failure. */
struct sqlite3_stmt *ring__stmt(struct ring *ring, enum ring__stmt_id id);
int ring__exec(struct ring *ring, const char *sql);
int ring__txn_begin(struct ring *ring);
/* Calls the io commit hook first when @hook; rolls back on any failure. */
int ring__txn_commit(struct ring *ring, bool hook);
void ring__txn_rollback(struct ring *ring);
/* Logs sqlite's message for the failed @what (borrowed); returns -EIO. */
int ring__db_fail(struct ring *ring, const char *what);
/* Steps @st, which returns no rows, and resets it; -EIO (logged) when the
 * step did not finish. */
int ring__step_done(struct ring *ring, struct sqlite3_stmt *st, const char *what);

/* ---- ring_index_query.c: queries on the index ---- */
/* Reads the row columns starting at @col in RING_SEG_COLS order. */
void ring__row_info(struct sqlite3_stmt *st, int col, struct ring_seg_info *info);
int ring__idx_seg_get(struct ring *ring, uint64_t id, struct ring_seg_info *info);
int ring__idx_seg_put(struct ring *ring, const struct ring_seg_info *info);
int ring__idx_initrec_get(struct ring *ring, uint64_t rec_id, struct ring__rec *rec);
int ring__idx_initrec_put(struct ring *ring, const struct ring__rec *rec);
/* Does extent @e hold a record of init @init_id before @before_off? */
int ring__idx_initrec_has(struct ring *ring, uint64_t init_id, uint32_t e, uint64_t before_off,
			  bool *hasp);
/* Init bytes: *datap is malloc'ed, the caller frees it. */
int ring__idx_init_get(struct ring *ring, uint64_t init_id, char camera[RING_CAMERA_MAX],
		       uint8_t sha[RING_SHA_LEN], void **datap, size_t *lenp);
int ring__idx_init_find(struct ring *ring, const char *camera, const uint8_t sha[RING_SHA_LEN],
			uint64_t *idp);
/* @id 0 lets SQLite pick the next id; recovery passes the record's. */
int ring__idx_init_put(struct ring *ring, uint64_t id, const char *camera,
		       const uint8_t sha[RING_SHA_LEN], const void *data, size_t len,
		       uint64_t *idp);
int ring__idx_cam_seq(struct ring *ring, const char *camera, uint64_t *last_seqp);
/* The larger payload of @camera's last two indexed segments; 0: none. */
int ring__idx_cam_last_len(struct ring *ring, const char *camera, uint64_t *lenp);
int ring__idx_cam_bump(struct ring *ring, const char *camera, uint64_t seq);
/* Deletes extent @e's rows, media and init (inside a transaction). */
int ring__idx_del_extent(struct ring *ring, uint32_t e);
/* Add to the lifetime eviction counters, inside the caller's transaction. */
int ring__idx_count_evicted(struct ring *ring, uint64_t segs, uint64_t pinned);
int ring__idx_mark_uploaded(struct ring *ring, uint64_t seg_id);
/* Up to RING_LIST_BATCH rows ordered after @last's (camera, seq, id). */
int ring__idx_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
		   const struct ring_seg_info *last, struct ring_seg_info *batch, size_t *np);
/* Sorted offsets of indexed records (media and init) in extent @e. */
int ring__idx_offsets(struct ring *ring, uint32_t e, uint64_t **offp, size_t *np);
int ring__idx_stat(struct ring *ring, struct ring_stat *st);

/* ---- ring.c ---- */
bool ring__camera_valid(const char *camera);
int ring__path(const struct ring *ring, const char *name, char *buf, size_t cap);

/* The ring's mutex, at its place in the lock order (lib/lockorder.h:
 * after the daemon's, before state.db's, which the evict hook and the
 * upload owner take inside it). Every ring function locks through these. */
static inline void ring__lock(struct ring *ring)
{
	lockorder_lock(&ring->lock, LOCK_RING);
}

static inline void ring__unlock(struct ring *ring)
{
	lockorder_unlock(&ring->lock, LOCK_RING);
}

#endif /* CAMGATE_STORAGE_RING_INT_H */
