/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ring - footage store of preallocated extents, indexed in SQLite.
 *
 * Segments are appended to a fixed set of equal-sized extent files in
 * order; when the newest is full the oldest is reused. ring_create()
 * reserves all space up front, so recording never meets a full disk.
 * Every record carries a self-describing header (magic, version, kind,
 * camera name, per-camera seq, ring-wide seq, UTC start, length, SHA-256),
 * so the index (DIR/index.db, SQLite in WAL mode) can always be rebuilt
 * from the extents alone. Init segments (fMP4 "ftyp+moov") are records of
 * their own; every extent that holds media of a camera also holds the init
 * segment that media needs, so an extent never depends on an evicted one.
 *
 * Guarantees (each one has a test in tests/unit or tests/fault):
 *  G1  ring_append() returns 0 only after the segment and its header
 *      are fdatasync'ed and its index row is committed.
 *  G2  A pinned segment (start inside the retention floor, or not yet
 *      acknowledged by central while uploads are required) is overwritten
 *      only if the evict hook accepts it; the hook writes the audit entry
 *      and raises the alarm. Unpinned segments go silently, oldest first.
 *  G3  After a power cut at any instant, ring_open() yields an index
 *      that matches the extents: torn tails cut, orphans re-indexed,
 *      every segment acknowledged under G1 still readable. What recovery
 *      did is logged at LOG_NOTICE and returned in ring_stat().
 *
 * Threads: every function takes the ring's internal mutex, so stream
 * threads may append concurrently (they are serialised; one SQLite writer).
 * Errors: 0 or a negative errno as listed below. The ring logs the detail
 * (path, extent, errno) once; callers do not log it again.
 */
#ifndef CAMGATE_STORAGE_RING_H
#define CAMGATE_STORAGE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;	/* opaque */
struct ring_io; /* I/O seam: storage/ring_io.h */

#define RING_CAMERA_MAX 32 /* camera name bytes, NUL included */

/* How a segment's UTC start was obtained (stored, reported). */
enum ring_utc_src {
	RING_UTC_ARRIVAL = 0, /* gateway clock at packet arrival */
	RING_UTC_RTCP = 1,    /* camera's RTCP sender report NTP mapping */
};

#define RING_F_DISCONT 0x1u /* first segment after a gap or a jump */
#define RING_F_AUDIO   0x2u /* carries an audio track */

struct ring_seg {	    /* copied by ring_append(), never kept */
	const char *camera; /* < RING_CAMERA_MAX bytes, [A-Za-z0-9._-] */
	uint64_t init_id;   /* from ring_put_init() for this camera */
	int64_t start_utc_ms;
	uint32_t duration_ms;
	int64_t media_start_us; /* decode time of the first sample */
	uint32_t flags;		/* RING_F_* */
	uint8_t utc_src;	/* enum ring_utc_src */
};

struct ring_seg_info { /* filled by the ring; strings point into it */
	uint64_t id;   /* ring-wide sequence, strictly increasing */
	char camera[RING_CAMERA_MAX];
	uint64_t seq; /* per camera, strictly increasing */
	uint64_t init_id;
	int64_t start_utc_ms;
	uint32_t duration_ms;
	int64_t media_start_us;
	uint32_t flags;
	uint8_t utc_src;
	uint64_t len; /* payload bytes */
	uint32_t extent;
	uint64_t offset; /* of the record header in the extent */
	/* The index's own flag, set only by ring_mark_uploaded*(): true
	 * means central acknowledged it. Rings written before the outbox
	 * became the one record of uploads carry it; with an upload owner
	 * (ring_set_upload_owner()) false means nothing: ask
	 * ring_seg_uploaded(). */
	bool uploaded;
	uint8_t sha256[32];
};

/* Preallocate @extents files of @extent_bytes in @dir (created if
 * missing), once at install; fallocate where the filesystem can.
 * A create cut short (power, kill) can be run again: without ring.meta,
 * which is written last, blank extent files are made again and whole
 * ones of the same ring are kept with what they hold.
 * -EEXIST: a ring is already there, or a file that is neither blank nor
 * a whole extent is in the way (left untouched). -ENOSPC: the disk is
 * too small. -EINVAL: fewer than 2 extents or an extent under 1 MiB. */
int ring_create(const char *dir, unsigned int extents, uint64_t extent_bytes);
bool ring_exists(const char *dir);

/* Open and recover (G3). @dir is copied; @io NULL means plain POSIX and
 * is borrowed otherwise. *ringp is set only on success. One writer per
 * ring: the open holds flock(DIR/ring.lock) until ring_close().
 * -ENOENT: no ring in @dir. -EBADMSG: ring metadata unreadable.
 * -EBUSY: another ring_open() (any process) holds the ring. */
int ring_open(const char *dir, const struct ring_io *io, struct ring **ringp);
void ring_close(struct ring *ring); /* NULL is a no-op */

/* Open for reading while another process (the daemon) may be writing:
 * no lock, no recovery. ring_append(), ring_put_init() and
 * ring_mark_uploaded() fail with -EROFS. A segment the writer evicts
 * meanwhile reads as -ENOENT; ring_verify() may report the writer's
 * in-flight record. -ENOENT: no ring in @dir. */
int ring_open_ro(const char *dir, struct ring **ringp);

/* Register an init segment; the same bytes give the same id (SHA-256
 * keyed), so calling it on every reconnect is cheap. The bytes are kept
 * in the index and written into an extent before the first media segment
 * that needs them there. -E2BIG: over 1 MiB. */
int ring_put_init(struct ring *ring, const char *camera, const void *data, size_t len,
		  uint64_t *init_idp);

/* Store one media segment (G1, G2); @info, if not NULL, is filled on
 * success (id, seq, extent ...). The same as a ring_writer (below) given
 * the whole segment at once, with room for exactly @len bytes.
 * -ENOSPC: the oldest extent is pinned and the hook vetoed (or a writer
 *          still writes there), or the segment is larger than an extent.
 * -ENOENT: unknown init_id. -EINVAL: bad arguments, or the init is
 * another camera's. -EROFS, -ENOMEM. -EIO: a write or sync failed;
 * nothing stored. */
int ring_append(struct ring *ring, const struct ring_seg *seg, const void *data, size_t len,
		struct ring_seg_info *info);

/* A media segment stored as it is produced, so the caller never holds
 * it whole. ring_writer_open() reserves room for @hint payload bytes at
 * the head (0: for the larger of the camera's last two segments and 1/16
 * more; for its first, 1/16 of an extent or 1 MiB, whichever is less);
 * ring_writer_add() writes payload through to the extent (page cache)
 * and hashes it, finding more room on demand (in place when nothing was
 * placed after it, else by moving what was written);
 * ring_writer_commit() writes the header, fdatasyncs and commits the
 * index row (G1 as ring_append()). Room a record did not use
 * stays empty until its extent is reused, unless nothing was placed
 * after it. An extent with an open writer is not reused: an append or
 * writer that needs it gets -ENOSPC. Commit and abort free @w whatever
 * happens. Every writer must be finished before ring_close(). A writer
 * is used by one thread at a time; writers of different cameras may
 * run at once.
 * open: -ENOENT (unknown init_id), -EINVAL (bad camera, or the init is
 * another camera's), -ENOSPC, -ENOMEM, -EIO, -EROFS.
 * add: -ENOSPC (over an extent, or the next extent cannot be reused),
 * -EIO; after a failure only abort or commit (which then fails) remain.
 * commit: -EINVAL (nothing written, or camera/init_id not the open's),
 * -EIO. */
struct ring_writer;
int ring_writer_open(struct ring *ring, const char *camera, uint64_t init_id, uint64_t hint,
		     struct ring_writer **wp);
int ring_writer_add(struct ring_writer *w, const void *data, size_t len);
int ring_writer_commit(struct ring_writer *w, const struct ring_seg *seg,
		       struct ring_seg_info *info);
void ring_writer_abort(struct ring_writer *w);

/* Copy a segment's payload into the caller's @buf of @cap bytes, checked
 * as ring_reader_read() checks it. -ENOENT: evicted or unknown. -E2BIG:
 * too small, *lenp gives the size needed. -EBADMSG: header or checksum
 * mismatch. */
int ring_read(struct ring *ring, uint64_t seg_id, void *buf, size_t cap, size_t *lenp);
/* Same for an init segment. */
int ring_read_init(struct ring *ring, uint64_t init_id, void *buf, size_t cap, size_t *lenp);

/* A segment's payload in pieces, without a copy of the whole (the
 * uplink's request bodies). ring_reader_open() checks the record header
 * against the index; each ring_reader_read() copies up to @cap next bytes
 * into @buf (*got 0: the end) and checksums them, and the read that
 * reaches the end compares the checksum the record was written with
 * before it gives those last bytes: a caller that forwards what it reads
 * never forwards a whole corrupt segment. ring_reader_info()->sha256 is
 * the SHA-256 recorded at write time (the segment's Content-Digest).
 * Errors as ring_read(); after one, every read fails the same way.
 * ring_reader_rewind() starts again from the first byte.
 * Ownership: ring_reader_open() allocates, ring_reader_close() frees (NULL
 * is a no-op); a reader must not outlive its ring and is used by one
 * thread at a time. ring_reader_info() points into the reader. */
struct ring_reader;
int ring_reader_open(struct ring *ring, uint64_t seg_id, struct ring_reader **rp);
const struct ring_seg_info *ring_reader_info(const struct ring_reader *r);
int ring_reader_read(struct ring_reader *r, void *buf, size_t cap, size_t *got);
int ring_reader_rewind(struct ring_reader *r);
void ring_reader_close(struct ring_reader *r);

/* Calls @fn for each indexed media segment of @camera (NULL: all) whose
 * span meets [from_ms, to_ms), in (camera, seq) order; @fn returning non-0
 * stops the walk and that value is returned. Rows are fetched in batches
 * and @fn runs without the ring's lock, so it may call ring_read(); a
 * segment evicted meanwhile then reads as -ENOENT. */
typedef int (*ring_list_fn)(void *arg, const struct ring_seg_info *info);
int ring_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
	      ring_list_fn fn, void *arg);

/* Central acknowledged @seg_id: the index's own flag (ring_seg_info.
 * uploaded), for a ring used without an upload owner (below). The uplink
 * no longer calls these: the outbox is the record of uploads and the
 * ring asks it (ring_set_upload_owner()); the column stays, so rings
 * written before read the same. -ENOENT: unknown. */
int ring_mark_uploaded(struct ring *ring, uint64_t seg_id);
/* The same for @n segments in one transaction; ids the ring no longer
 * holds are skipped. 0 or -EIO (nothing marked). The marks are not synced
 * on their own but with the next append: a power cut before it may undo
 * them, which means those segments are sent again, never that one looks
 * uploaded when it was not. */
int ring_mark_uploaded_many(struct ring *ring, const uint64_t *seg_ids, size_t n);
/* Segments starting at or after @keep_after_utc_ms are pinned (G2). */
void ring_set_floor(struct ring *ring, int64_t keep_after_utc_ms);
/* With @required false (no central configured) the ring is a plain local
 * recorder: un-uploaded segments are not pinned. Default: false. */
void ring_set_upload_required(struct ring *ring, bool required);

/* Who records what central holds (net/outbox: outbox_ring_owner(),
 * registered by the daemon for the ring's life). With an owner, a segment
 * whose flag is not set is pinned as "not-uploaded" (G2) while the owner
 * says it is owed, and ring_stat()'s pending figures are the owner's;
 * without one, the index's flag decides (every unflagged segment is
 * owed). Both callbacks run with the ring locked (lock order: ring, then
 * what the owner takes) and must not call back into the ring. */
struct ring_upload_owner {
	/* 1: central does not hold @info yet; 0: it does; < 0: cannot
	 * tell (treated as owed: kept). */
	int (*owed)(void *arg, const struct ring_seg_info *info);
	/* Segments owed, and the payload bytes of those starting before
	 * @before_ms (owed footage outside the retention floor). */
	int (*pending)(void *arg, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp);
	void *arg;
};
/* @owner copied; NULL removes it (before what it points to goes). */
void ring_set_upload_owner(struct ring *ring, const struct ring_upload_owner *owner);
/* Does central hold @info: its flag, else the owner's answer (false
 * without an owner, or when it cannot tell). Takes the ring's lock. */
bool ring_seg_uploaded(struct ring *ring, const struct ring_seg_info *info);

/* Asked before a pinned segment is overwritten; @why says which pin
 * ("retention-floor", "not-uploaded" or "hold"). Return 0 to allow, anything else
 * to veto (ring_append() then fails with -ENOSPC). Without a hook, pinned
 * segments are never overwritten. Called with the ring locked: the hook
 * must not call back into the ring. The pinned segments of the extent to
 * reuse are asked about oldest first; the first veto ends it and nothing
 * is evicted, so the next append asks again about the same segments. */
typedef int (*ring_evict_fn)(void *arg, const struct ring_seg_info *info, const char *why);
void ring_set_evict_hook(struct ring *ring, ring_evict_fn fn, void *arg);

/* Is @info under a legal hold? A held segment is pinned like the others
 * (why "hold"), so it reaches the evict hook, which vetoes it until the
 * hold is released. Called with the ring locked, like the evict hook. */
typedef bool (*ring_held_fn)(void *arg, const struct ring_seg_info *info);
void ring_set_held_fn(struct ring *ring, ring_held_fn fn, void *arg);

struct ring_stat {
	uint32_t extents;
	uint64_t extent_bytes;
	uint64_t bytes_total;
	/* Indexed records, media and init: header + payload, 4 KiB aligned. */
	uint64_t bytes_used;
	/* Floor or not yet uploaded. With an upload owner: the records in
	 * the floor plus the owner's payload bytes of owed segments before
	 * it (a segment not yet queued counts from its row on). */
	uint64_t bytes_pinned;
	uint64_t segs;
	/* With an upload owner and uploads required: its count. */
	uint64_t segs_pending_upload;
	int64_t oldest_utc_ms; /* 0 when empty */
	int64_t newest_utc_ms;
	uint64_t evicted_segs;	    /* over the index's life (a rebuild resets) */
	uint64_t evicted_pinned;    /* likewise; each one went through the hook */
	uint64_t recovered_orphans; /* by the last ring_open() */
	uint64_t recovered_cut;	    /* torn or stale records dropped */
	bool upload_required;
};
int ring_stat(struct ring *ring, struct ring_stat *st);

struct ring_verify_report {
	uint64_t checked;
	uint64_t bad_header;   /* indexed record whose header differs */
	uint64_t bad_hash;     /* payload SHA-256 mismatch */
	uint64_t missing_init; /* media whose init is not in its extent */
	uint64_t unindexed;    /* valid records the index lacks */
};
/* Check every indexed record's header and hash against the index, and
 * scan extents for records the index lacks. Logs each problem once.
 * Returns 0 when all is clean, -EBADMSG when problems were found (the
 * report says which), other negative errno on I/O failure. */
int ring_verify(struct ring *ring, struct ring_verify_report *rep);

/* Drop the index and recreate it from the extents alone. The ring must
 * not be open elsewhere (-EBUSY). Per-camera seq, flags and init segments
 * come back from the records; `uploaded` restarts as false. */
int ring_rebuild(const char *dir, const struct ring_io *io);

#endif /* CAMGATE_STORAGE_RING_H */
