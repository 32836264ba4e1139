// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring - lifecycle (create, open, close, rebuild), policy and status.
 * Guarantees G1-G3 are in storage/ring.h, the on-disk format and the
 * invariants I1-I4 in storage/ring_int.h. The write and read paths are in
 * ring_append.c, record formats in ring_format.c, recovery and verify in
 * ring_scan.c, the SQLite index in ring_index.c.
 *
 * Locking: one mutex per ring around every public function (ring_read()
 * and ring_list() callbacks run without it, see ring_append.c).
 * Cross-process: a writer holds flock(DIR/ring.lock); ring_open_ro()
 * readers take no lock and never recover.
 */
#include "storage/ring_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"

#define RING_ZERO_CHUNK (1024u * 1024u) /* zero-fill when fallocate can't */
#define RING_EXT_NAME	"extent-%03u.dat"

static const char *const ring_index_files[] = {
	RING_INDEX_NAME,
	RING_INDEX_NAME "-wal",
	RING_INDEX_NAME "-shm",
};

bool ring__camera_valid(const char *camera)
{
	size_t n;

	if (!camera)
		return false;
	n = strnlen(camera, RING_CAMERA_MAX);
	if (!n || n >= RING_CAMERA_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = camera[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int path_in(const char *dir, const char *name, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int ring__path(const struct ring *ring, const char *name, char *buf, size_t cap)
{
	return path_in(ring->dir, name, buf, cap);
}

static int ext_path(const char *dir, uint32_t e, char *buf, size_t cap)
{
	char name[32];

	snprintf(name, sizeof(name), RING_EXT_NAME, e);
	return path_in(dir, name, buf, cap);
}

bool ring_exists(const char *dir)
{
	char path[RING_PATH_MAX];
	struct stat st;

	return dir && !path_in(dir, RING_META_NAME, path, sizeof(path)) && !stat(path, &st) &&
	       S_ISREG(st.st_mode);
}

static struct ring *ring_alloc(const char *dir, const struct ring_io *io, bool ro)
{
	struct ring *ring;

	if (strlen(dir) >= sizeof(ring->dir))
		return NULL;
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return NULL;
	ring->scratch = malloc(RING_HASH_CHUNK);
	if (!ring->scratch) {
		free(ring);
		return NULL;
	}
	snprintf(ring->dir, sizeof(ring->dir), "%s", dir);
	ring->io = io ? io : ring_io_posix();
	ring->ro = ro;
	ring->lock_fd = -1;
	ring->floor_ms = INT64_MAX;
	pthread_mutex_init(&ring->lock, NULL);
	return ring;
}

/* Zeroes [0, len) when the filesystem cannot preallocate. */
static int zero_fill(const struct ring_io *io, int fd, uint64_t len)
{
	uint8_t *zero = calloc(1, RING_ZERO_CHUNK);
	uint64_t off;
	size_t n;
	int ret = 0;

	if (!zero)
		return -ENOMEM;
	for (off = 0; off < len && !ret; off += n) {
		n = len - off < RING_ZERO_CHUNK ? (size_t)(len - off) : RING_ZERO_CHUNK;
		ret = ring_io_write_full(io, fd, zero, n, off);
	}
	free(zero);
	return ret;
}

static int create_extent(struct ring *ring, uint32_t e)
{
	const struct ring_io *io = ring->io;
	uint8_t hdr[RING_EXT_HDR_USED];
	char path[RING_PATH_MAX];
	int fd, ret;

	ret = ext_path(ring->dir, e, path, sizeof(path));
	if (ret)
		return ret;
	ret = io->open(io->ctx, path, O_RDWR | O_CREAT | O_EXCL, &fd);
	if (ret)
		goto out_log;
	ret = io->fallocate(io->ctx, fd, ring->meta.extent_bytes);
	if (ret == -EOPNOTSUPP) {
		/* Full size first, then real blocks: a sparse extent could
		 * still meet a full disk while recording. */
		ret = io->ftruncate(io->ctx, fd, ring->meta.extent_bytes);
		if (!ret)
			ret = zero_fill(io, fd, ring->meta.extent_bytes);
	}
	if (!ret) {
		ring__ext_encode(ring, e, 0, 0, hdr);
		ret = ring_io_write_full(io, fd, hdr, sizeof(hdr), 0);
	}
	if (!ret)
		ret = io->fdatasync(io->ctx, fd);
	io->close(io->ctx, fd);
	if (!ret)
		return 0;
	unlink(path); /* ours (O_EXCL), and it never got a synced header */
out_log:
	log_err("ring %s: create %s: %s", ring->dir, path, strerror(-ret));
	return ret;
}

static int write_meta(struct ring *ring)
{
	uint8_t buf[RING_META_SIZE];
	char path[RING_PATH_MAX];
	int ret;

	if (ring__path(ring, RING_META_NAME, path, sizeof(path)))
		return -ENAMETOOLONG;
	ring__meta_encode(&ring->meta, buf);
	ret = fs_replace(path, buf, sizeof(buf), 0640);
	if (!ret)
		return 0;
	log_err("ring %s: write %s: %s", ring->dir, path, strerror(-ret));
	return ret;
}

/* Extents in a folder without ring.meta: what a ring_create() that died
 * part-way (power cut, watchdog) left, or a ring that lost its meta. */
enum ext_found {
	EXT_ABSENT,
	EXT_BLANK, /* zeros where the header and first record go: holds nothing */
	EXT_KEPT,  /* full size, valid header: kept as it is, uuid adopted */
	EXT_MADE,  /* created by this call */
};

static void create_undo(struct ring *ring, const enum ext_found *found)
{
	char path[RING_PATH_MAX];

	for (uint32_t e = 0; e < ring->meta.extents; e++)
		if (found[e] == EXT_MADE && !ext_path(ring->dir, e, path, sizeof(path)))
			unlink(path);
	for (size_t i = 0; i < 3; i++)
		if (!ring__path(ring, ring_index_files[i], path, sizeof(path)))
			unlink(path);
}

/* Sorts out extent @e; anything neither blank nor a whole extent of the
 * same ring as the others kept may be footage: -EEXIST, left alone. */
static int find_extent(struct ring *ring, uint32_t e, bool *uuid_set, enum ext_found *found)
{
	const size_t want = RING_EXT_HDR_SIZE + RING_REC_HDR_SIZE;
	const struct ring_io *io = ring->io;
	uint8_t *buf = ring->scratch, uuid[RING_UUID_LEN];
	char path[RING_PATH_MAX];
	struct stat st;
	bool blank = true;
	int fd, ret;

	*found = EXT_ABSENT;
	ret = ext_path(ring->dir, e, path, sizeof(path));
	if (!ret)
		ret = io->open(io->ctx, path, O_RDONLY, &fd);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		goto out_log;
	memset(buf, 0, want);
	ret = fstat(fd, &st) ? -errno : ring_io_read_full(io, fd, buf, want, 0);
	io->close(io->ctx, fd);
	if (ret && ret != -ENODATA)
		goto out_log;
	for (size_t i = 0; i < want && blank; i++)
		blank = !buf[i];
	if (blank) {
		*found = EXT_BLANK;
		return 0;
	}
	if (!ring__ext_decode(buf, e, uuid) && (uint64_t)st.st_size == ring->meta.extent_bytes &&
	    (!*uuid_set || !memcmp(uuid, ring->meta.uuid, RING_UUID_LEN))) {
		memcpy(ring->meta.uuid, uuid, RING_UUID_LEN);
		*uuid_set = true;
		*found = EXT_KEPT;
		return 0;
	}
	log_err("ring %s: %s is neither blank nor a whole extent of this ring", ring->dir, path);
	return -EEXIST;
out_log:
	log_err("ring %s: %s: %s", ring->dir, path, strerror(-ret));
	return ret;
}

/*
 * No ring.meta (ring_create() writes it last): a create that died part-way
 * must not block every later one with -EEXIST. Blank extents are removed
 * and made again; whole ones are kept, never truncated or deleted, and
 * the ring takes their uuid, so what they hold stays readable.
 */
static int create_check(struct ring *ring, enum ext_found *found, bool *uuid_set)
{
	const char *dir = ring->dir;
	uint64_t need = 0, avail;
	char path[RING_PATH_MAX];
	struct statvfs vfs;
	uint32_t kept = 0;
	int ret;

	if (ring_exists(dir)) {
		log_err("ring %s: a ring is already there", dir);
		return -EEXIST;
	}
	for (uint32_t e = 0; e < ring->meta.extents; e++) {
		ret = find_extent(ring, e, uuid_set, &found[e]);
		if (ret)
			return ret;
	}
	for (uint32_t e = 0; e < ring->meta.extents; e++) {
		if (found[e] == EXT_KEPT) {
			kept++;
			continue;
		}
		need++;
		if (found[e] != EXT_BLANK || ext_path(dir, e, path, sizeof(path)))
			continue;
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			log_err("ring %s: unlink %s: %s", dir, path, strerror(errno));
			return ret;
		}
		found[e] = EXT_ABSENT;
	}
	if (kept)
		log_notice("ring %s: keeping %u extents of an unfinished ring", dir, kept);
	if (need && !statvfs(dir, &vfs)) {
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail / need < ring->meta.extent_bytes) {
			log_err("ring %s: %" PRIu64 " more extents of %" PRIu64 " bytes do not"
				" fit the %" PRIu64 " bytes free",
				dir, need, ring->meta.extent_bytes, avail);
			return -ENOSPC;
		}
	}
	return 0;
}

static int make_uuid(uint8_t uuid[RING_UUID_LEN])
{
	ssize_t n = getrandom(uuid, RING_UUID_LEN, 0);

	if (n == RING_UUID_LEN)
		return 0;
	log_err("ring: getrandom: %s", n < 0 ? strerror(errno) : "short");
	return n < 0 ? -errno : -EIO;
}

int ring_create(const char *dir, unsigned int extents, uint64_t extent_bytes)
{
	enum ext_found *found = NULL;
	struct ring *ring;
	bool uuid_set = false;
	int ret;

	if (!dir || extents < 2 || extents > RING_EXTENTS_MAX || extent_bytes < RING_EXTENT_MIN ||
	    extent_bytes % RING_ALIGN || (sizeof(off_t) < 8 && extent_bytes > INT32_MAX))
		return -EINVAL;
	ret = fs_mkdir_p(dir, 0750);
	if (ret) {
		log_err("ring %s: cannot create: %s", dir, strerror(-ret));
		return ret;
	}
	ring = ring_alloc(dir, NULL, false);
	if (!ring)
		return -ENOMEM;
	ring->meta.extents = extents;
	ring->meta.extent_bytes = extent_bytes;
	ring->meta.created_utc_ms = ring__now_ms();
	found = calloc(extents, sizeof(*found));
	ret = found ? create_check(ring, found, &uuid_set) : -ENOMEM;
	if (ret)
		goto out;
	if (!uuid_set)
		ret = make_uuid(ring->meta.uuid);
	for (uint32_t e = 0; e < extents && !ret; e++) {
		if (found[e] == EXT_KEPT)
			continue;
		ret = create_extent(ring, e);
		if (!ret)
			found[e] = EXT_MADE;
	}
	if (!ret)
		ret = ring__idx_open(ring, true);
	ring__idx_close(ring);
	/* ring.meta goes last: its presence marks a finished ring. */
	if (!ret)
		ret = write_meta(ring);
	if (ret)
		create_undo(ring, found);
	else
		log_notice("ring %s: created %u extents of %" PRIu64 " bytes", dir, extents,
			   extent_bytes);
out:
	free(found);
	pthread_mutex_destroy(&ring->lock);
	free(ring->scratch);
	free(ring);
	return ret;
}

static int read_meta(struct ring *ring)
{
	uint8_t buf[RING_META_SIZE];
	char path[RING_PATH_MAX];
	int fd, ret;

	ret = ring__path(ring, RING_META_NAME, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -ENOENT;
		ret = -errno;
		log_err("ring %s: open %s: %s", ring->dir, path, strerror(errno));
		return ret;
	}
	ret = ring_io_read_full(ring_io_posix(), fd, buf, sizeof(buf), 0);
	close(fd);
	if (!ret)
		ret = ring__meta_decode(buf, &ring->meta);
	if (ret) {
		log_err("ring %s: %s unreadable: %s", ring->dir, path, strerror(-ret));
		return -EBADMSG;
	}
	return 0;
}

static int take_lock(struct ring *ring)
{
	char path[RING_PATH_MAX];
	int ret;

	ret = ring__path(ring, RING_LOCK_NAME, path, sizeof(path));
	if (ret)
		return ret;
	ring->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (ring->lock_fd < 0) {
		ret = -errno;
		log_err("ring %s: open %s: %s", ring->dir, path, strerror(errno));
		return ret;
	}
	if (flock(ring->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
	log_err("ring %s: cannot lock: %s", ring->dir,
		ret == -EBUSY ? "in use by another writer" : strerror(-ret));
	return ret;
}

static int open_extents(struct ring *ring)
{
	const struct ring_io *io = ring->io;
	char path[RING_PATH_MAX];
	int ret;

	ring->ext = calloc(ring->meta.extents, sizeof(*ring->ext));
	if (!ring->ext)
		return -ENOMEM;
	for (uint32_t e = 0; e < ring->meta.extents; e++)
		ring->ext[e].fd = -1;
	for (uint32_t e = 0; e < ring->meta.extents; e++) {
		ret = ext_path(ring->dir, e, path, sizeof(path));
		if (!ret)
			ret = io->open(io->ctx, path, ring->ro ? O_RDONLY : O_RDWR,
				       &ring->ext[e].fd);
		if (ret) {
			log_err("ring %s: open %s: %s", ring->dir, path, strerror(-ret));
			return ret == -ENOENT ? -EBADMSG : ret;
		}
	}
	return 0;
}

/* Removes the index so recovery rebuilds it from the extents alone. */
static int drop_index(struct ring *ring)
{
	char path[RING_PATH_MAX];

	for (size_t i = 0; i < 3; i++) {
		if (ring__path(ring, ring_index_files[i], path, sizeof(path)))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT) {
			log_err("ring %s: unlink %s: %s", ring->dir, path, strerror(errno));
			return -EIO;
		}
	}
	log_notice("ring %s: index dropped, rebuilding from extents", ring->dir);
	return 0;
}

enum open_mode { OPEN_RW, OPEN_RO, OPEN_REBUILD };

static int open_mode(const char *dir, const struct ring_io *io, enum open_mode mode,
		     struct ring **ringp)
{
	struct ring *ring;
	int ret;

	if (!dir || !ringp)
		return -EINVAL;
	ring = ring_alloc(dir, io, mode == OPEN_RO);
	if (!ring)
		return -ENOMEM;
	ret = read_meta(ring);
	if (!ret && mode != OPEN_RO)
		ret = take_lock(ring);
	if (!ret && mode == OPEN_REBUILD)
		ret = drop_index(ring);
	if (!ret)
		ret = open_extents(ring);
	if (!ret)
		ret = ring__idx_open(ring, mode != OPEN_RO);
	if (!ret && mode != OPEN_RO)
		ret = ring__recover(ring);
	if (ret) {
		ring_close(ring);
		return ret;
	}
	*ringp = ring;
	return 0;
}

int ring_open(const char *dir, const struct ring_io *io, struct ring **ringp)
{
	return open_mode(dir, io, OPEN_RW, ringp);
}

int ring_open_ro(const char *dir, struct ring **ringp)
{
	return open_mode(dir, NULL, OPEN_RO, ringp);
}

int ring_rebuild(const char *dir, const struct ring_io *io)
{
	struct ring *ring;
	int ret;

	ret = open_mode(dir, io, OPEN_REBUILD, &ring);
	if (ret)
		return ret;
	ring_close(ring);
	return 0;
}

void ring_close(struct ring *ring)
{
	if (!ring)
		return;
	ring__idx_close(ring);
	for (uint32_t e = 0; ring->ext && e < ring->meta.extents; e++)
		if (ring->ext[e].fd >= 0)
			ring->io->close(ring->io->ctx, ring->ext[e].fd);
	free(ring->ext);
	if (ring->lock_fd >= 0)
		close(ring->lock_fd); /* releases the flock */
	pthread_mutex_destroy(&ring->lock);
	free(ring->scratch);
	free(ring);
}

/* ---- listing, policy, status ---- */

int ring_list(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
	      ring_list_fn fn, void *arg)
{
	struct ring_seg_info last = { 0 }, *batch;
	size_t n = RING_LIST_BATCH;
	int ret = 0;

	if (!ring || !fn)
		return -EINVAL;
	batch = malloc(RING_LIST_BATCH * sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	/* A batch per lock hold; @fn runs unlocked and may call ring_read(). */
	while (!ret && n == RING_LIST_BATCH) {
		ring__lock(ring);
		ret = ring__idx_list(ring, camera, from_ms, to_ms, &last, batch, &n);
		ring__unlock(ring);
		for (size_t i = 0; !ret && i < n; i++)
			ret = fn(arg, &batch[i]);
		if (n)
			last = batch[n - 1];
	}
	free(batch);
	return ret;
}

int ring_mark_uploaded(struct ring *ring, uint64_t seg_id)
{
	int ret;

	if (!ring)
		return -EINVAL;
	ring__lock(ring);
	ret = ring->ro ? -EROFS : ring__idx_mark_uploaded(ring, seg_id);
	ring__unlock(ring);
	return ret;
}

int ring_mark_uploaded_many(struct ring *ring, const uint64_t *seg_ids, size_t n)
{
	int ret;

	if (!ring || (!seg_ids && n))
		return -EINVAL;
	if (!n)
		return 0;
	ring__lock(ring);
	/* No sync of its own: the next append's commit syncs the WAL with
	 * these frames in it. Until then a power cut may undo the marks,
	 * which only sends those segments again; it can never make one
	 * look uploaded that was not (ring.h). */
	ret = ring->ro ? -EROFS : ring__exec(ring, "PRAGMA synchronous = NORMAL");
	if (!ret)
		ret = ring__txn_begin(ring);
	for (size_t i = 0; !ret && i < n; i++) {
		ret = ring__idx_mark_uploaded(ring, seg_ids[i]);
		if (ret == -ENOENT) /* evicted meanwhile: nothing to mark */
			ret = 0;
	}
	if (!ret)
		ret = ring__txn_commit(ring, false);
	else if (ret != -EROFS)
		ring__txn_rollback(ring);
	if (ret != -EROFS && ring__exec(ring, "PRAGMA synchronous = FULL"))
		ret = -EIO; /* G1 would not hold for the next append */
	ring__unlock(ring);
	return ret;
}

void ring_set_floor(struct ring *ring, int64_t keep_after_utc_ms)
{
	ring__lock(ring);
	ring->floor_ms = keep_after_utc_ms;
	ring__unlock(ring);
}

void ring_set_upload_required(struct ring *ring, bool required)
{
	ring__lock(ring);
	ring->upload_required = required;
	ring__unlock(ring);
}

void ring_set_upload_owner(struct ring *ring, const struct ring_upload_owner *owner)
{
	ring__lock(ring);
	ring->owner = owner ? *owner : (struct ring_upload_owner){ 0 };
	ring__unlock(ring);
}

bool ring_seg_uploaded(struct ring *ring, const struct ring_seg_info *info)
{
	bool up = info->uploaded;

	ring__lock(ring);
	if (!up && ring->owner.owed)
		up = ring->owner.owed(ring->owner.arg, info) == 0;
	ring__unlock(ring);
	return up;
}

void ring_set_held_fn(struct ring *ring, ring_held_fn fn, void *arg)
{
	pthread_mutex_lock(&ring->lock);
	ring->held_fn = fn;
	ring->held_arg = arg;
	pthread_mutex_unlock(&ring->lock);
}

void ring_set_evict_hook(struct ring *ring, ring_evict_fn fn, void *arg)
{
	ring__lock(ring);
	ring->evict_fn = fn;
	ring->evict_arg = arg;
	ring__unlock(ring);
}

int ring_stat(struct ring *ring, struct ring_stat *st)
{
	struct ring_stat s = { 0 };
	int ret;

	if (!ring || !st)
		return -EINVAL;
	ring__lock(ring);
	s.extents = ring->meta.extents;
	s.extent_bytes = ring->meta.extent_bytes;
	s.bytes_total = (uint64_t)ring->meta.extents * ring->meta.extent_bytes;
	s.recovered_orphans = ring->recovered_orphans;
	s.recovered_cut = ring->recovered_cut;
	s.upload_required = ring->upload_required;
	ret = ring__idx_stat(ring, &s);
	ring__unlock(ring);
	if (!ret)
		*st = s;
	return ret;
}
