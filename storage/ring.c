// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring - footage store of preallocated extents, indexed in SQLite.
 * Guarantees G1-G3 are in storage/ring.h, the on-disk format and the
 * invariants I1-I4 in storage/ring_int.h.
 *
 * Append, in this order (G1):
 *   1. if the head extent is full: ask about pinned rows of the next
 *      (oldest) extent (G2), write and sync its new header (min_id), and
 *      commit the deletion of its rows (I2);
 *   2. write the init record if this extent lacks it (I3), then the media
 *      record; fdatasync;
 *   3. one transaction: the rows, the camera's seq; COMMIT.
 * A failure at any step returns -EIO with nothing acknowledged. The write
 * position does not move, so the next append overwrites the torn bytes;
 * ids and the failed seq are spent, so if those bytes did reach the disk
 * they never collide with later records.
 *
 * Locking: one mutex per ring around every public function. ring_read()
 * copies the payload without the mutex, which is safe because of I2: an
 * indexed record is never overwritten, and a reader that sees its row
 * vanish after a failed check reports -ENOENT (evicted) instead.
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

#include <sqlite3.h>

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

static int fsync_dir(const char *dir)
{
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
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
out_log:
	log_err("ring %s: create %s: %s", ring->dir, path, strerror(-ret));
	return ret;
}

static int write_meta(struct ring *ring)
{
	uint8_t buf[RING_META_SIZE];
	char path[RING_PATH_MAX], tmp[RING_PATH_MAX];
	int fd, ret;

	if (ring__path(ring, RING_META_NAME, path, sizeof(path)) ||
	    ring__path(ring, RING_META_NAME ".tmp", tmp, sizeof(tmp)))
		return -ENAMETOOLONG;
	ring__meta_encode(&ring->meta, buf);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		ret = -errno;
		goto out_log;
	}
	ret = ring_io_write_full(ring_io_posix(), fd, buf, sizeof(buf), 0);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (!ret)
		ret = fsync_dir(ring->dir);
	if (!ret)
		return 0;
	unlink(tmp);
out_log:
	log_err("ring %s: write %s: %s", ring->dir, path, strerror(-ret));
	return ret;
}

static void create_undo(struct ring *ring, uint32_t extents)
{
	char path[RING_PATH_MAX];

	for (uint32_t e = 0; e < extents; e++)
		if (!ext_path(ring->dir, e, path, sizeof(path)))
			unlink(path);
	for (size_t i = 0; i < 3; i++)
		if (!ring__path(ring, ring_index_files[i], path, sizeof(path)))
			unlink(path);
}

static int create_check(const char *dir, unsigned int extents, uint64_t extent_bytes)
{
	char path[RING_PATH_MAX];
	struct statvfs vfs;

	if (ext_path(dir, 0, path, sizeof(path)))
		return -ENAMETOOLONG;
	if (ring_exists(dir) || !access(path, F_OK)) {
		log_err("ring %s: a ring is already there", dir);
		return -EEXIST;
	}
	if (!statvfs(dir, &vfs) && (uint64_t)vfs.f_bavail * vfs.f_frsize / extents < extent_bytes) {
		log_err("ring %s: %u extents of %" PRIu64 " bytes do not fit"
			" the %" PRIu64 " bytes free",
			dir, extents, extent_bytes, (uint64_t)vfs.f_bavail * vfs.f_frsize);
		return -ENOSPC;
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
	struct ring *ring;
	uint32_t e = 0;
	int ret;

	if (!dir || extents < 2 || extents > RING_EXTENTS_MAX || extent_bytes < RING_EXTENT_MIN ||
	    extent_bytes % RING_ALIGN || (sizeof(off_t) < 8 && extent_bytes > INT32_MAX))
		return -EINVAL;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		ret = -errno;
		log_err("ring %s: mkdir: %s", dir, strerror(errno));
		return ret;
	}
	ret = create_check(dir, extents, extent_bytes);
	if (ret)
		return ret;
	ring = ring_alloc(dir, NULL, false);
	if (!ring)
		return -ENOMEM;
	ring->meta.extents = extents;
	ring->meta.extent_bytes = extent_bytes;
	ring->meta.created_utc_ms = ring__now_ms();
	ret = make_uuid(ring->meta.uuid);
	if (ret)
		goto out;
	for (e = 0; e < extents && !ret; e++)
		ret = create_extent(ring, e);
	if (!ret)
		ret = ring__idx_open(ring, true);
	ring__idx_close(ring);
	/* ring.meta goes last: its presence marks a finished ring. */
	if (!ret)
		ret = write_meta(ring);
	if (ret)
		create_undo(ring, e);
	else
		log_notice("ring %s: created %u extents of %" PRIu64 " bytes", dir, extents,
			   extent_bytes);
out:
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

/* ---- append (G1, G2) ---- */

/* Why @in is pinned, or NULL when it may go silently. */
static const char *pin_reason(const struct ring *ring, const struct ring_seg_info *in)
{
	if (in->start_utc_ms >= ring->floor_ms)
		return "retention-floor";
	if (ring->upload_required && !in->uploaded)
		return "not-uploaded";
	return NULL;
}

/* Asks the hook about every pinned row of extent @e; -ENOSPC on a veto. */
static int evict_ask(struct ring *ring, uint32_t e, uint64_t *segsp, uint64_t *pinnedp)
{
	struct sqlite3_stmt *st = ring__stmt(ring, RS_SEG_BY_EXTENT);
	struct ring_seg_info in;
	const char *why;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, e);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ring__row_info(st, 0, &in);
		(*segsp)++;
		why = pin_reason(ring, &in);
		if (!why)
			continue;
		(*pinnedp)++;
		if (!ring->evict_fn || ring->evict_fn(ring->evict_arg, &in, why)) {
			if (!ring->evict_blocked)
				log_warn("ring %s: extent %u not reused: segment"
					 " %" PRIu64 " of %s is pinned (%s)",
					 ring->dir, e, in.id, in.camera, why);
			ring->evict_blocked = true;
			ret = -ENOSPC;
		}
	}
	if (!ret && rc != SQLITE_DONE)
		ret = -EIO;
	sqlite3_reset(st);
	return ret;
}

static int evict_next(struct ring *ring)
{
	uint32_t e = (ring->cur_ext + 1) % ring->meta.extents;
	struct ring__ext *x = &ring->ext[e];
	uint8_t hdr[RING_EXT_HDR_USED];
	uint64_t segs = 0, pinned = 0;
	int ret;

	ret = evict_ask(ring, e, &segs, &pinned);
	if (ret)
		return ret;
	/* I2: the new min_id is on disk before the rows go, and the rows
	 * are gone before a byte of the extent is overwritten. */
	ring__ext_encode(ring, e, x->generation + 1, ring->next_id, hdr);
	ret = ring_io_write_full(ring->io, x->fd, hdr, sizeof(hdr), 0);
	if (ret) {
		log_err("ring %s: extent %u: write header: %s", ring->dir, e, strerror(-ret));
		return -EIO;
	}
	ret = ring__sync_extent(ring, e);
	if (!ret)
		ret = ring__txn_begin(ring);
	if (ret)
		return -EIO;
	ret = ring__idx_del_extent(ring, e);
	if (ret)
		ring__txn_rollback(ring);
	else
		ret = ring__txn_commit(ring, true);
	if (ret)
		return -EIO;
	x->generation++;
	x->min_id = ring->next_id;
	ring->cur_ext = e;
	ring->cur_off = RING_EXT_HDR_SIZE;
	ring->evicted_segs += segs;
	ring->evicted_pinned += pinned;
	ring->evict_blocked = false;
	log_msg(segs ? LOG_INFO : LOG_DEBUG,
		"ring %s: extent %u generation %" PRIu64 ": %" PRIu64 " segments evicted, %" PRIu64
		" of them"
		" pinned",
		ring->dir, e, x->generation, segs, pinned);
	return 0;
}

/* Step 2 and 3 of an append: records, sync, one index transaction. */
static int append_commit(struct ring *ring, const struct ring__rec *init, const void *init_data,
			 const struct ring__rec *media, const void *data)
{
	int ret = 0;

	if (init)
		ret = ring__rec_write(ring, init, init_data);
	if (!ret)
		ret = ring__rec_write(ring, media, data);
	if (!ret)
		ret = ring__sync_extent(ring, media->info.extent);
	if (!ret)
		ret = ring__txn_begin(ring);
	if (ret)
		return -EIO;
	if (init)
		ret = ring__idx_initrec_put(ring, init);
	if (!ret)
		ret = ring__idx_seg_put(ring, &media->info);
	if (!ret)
		ret = ring__idx_cam_bump(ring, media->info.camera, media->info.seq);
	if (ret) {
		ring__txn_rollback(ring);
		return -EIO;
	}
	return ring__txn_commit(ring, true) ? -EIO : 0;
}

/* Room for the media record, and for its init record unless the head
 * extent has it already; moves to the next extent when needed. */
static int append_place(struct ring *ring, uint64_t init_id, uint64_t need_media,
			uint64_t need_init, bool *has_initp)
{
	uint64_t room = ring->meta.extent_bytes - RING_EXT_HDR_SIZE;
	bool has;
	int ret;

	if (need_media + need_init > room) {
		log_err("ring %s: segment of %" PRIu64 " bytes with its init"
			" does not fit an extent",
			ring->dir, need_media);
		return -ENOSPC;
	}
	ret = ring__idx_initrec_has(ring, init_id, ring->cur_ext, INT64_MAX, &has);
	if (ret)
		return ret;
	if (ring->cur_off + need_media + (has ? 0 : need_init) > ring->meta.extent_bytes) {
		ret = evict_next(ring);
		if (ret)
			return ret;
		has = false;
	}
	*has_initp = has;
	return 0;
}

static int append_locked(struct ring *ring, const struct ring_seg *seg, const void *data,
			 struct ring__rec *media)
{
	struct ring__rec init = { .kind = RING_REC_INIT };
	struct ring_seg_info *in = &media->info;
	char cam[RING_CAMERA_MAX];
	uint8_t sha[RING_SHA_LEN];
	void *init_data = NULL;
	size_t init_len = 0;
	uint64_t seq = 0;
	bool has_init;
	int ret;

	ret = ring__idx_init_get(ring, seg->init_id, cam, sha, &init_data, &init_len);
	if (!ret && strcmp(cam, seg->camera))
		ret = -EINVAL;
	if (ret == -ENOENT || ret == -EINVAL)
		log_err("ring %s: %s: init %" PRIu64 " %s", ring->dir, seg->camera, seg->init_id,
			ret == -ENOENT ? "unknown" : "belongs to another camera");
	if (ret)
		goto out;
	ret = append_place(ring, seg->init_id, ring__rec_size(in->len), ring__rec_size(init_len),
			   &has_init);
	if (!ret)
		ret = ring__idx_cam_seq(ring, seg->camera, &seq);
	if (ret)
		goto out;
	in->seq = seq + 1;
	in->extent = ring->cur_ext;
	in->offset = ring->cur_off;
	if (!has_init) {
		init.info = (struct ring_seg_info){
			.id = ring->next_id++,
			.init_id = seg->init_id,
			.len = init_len,
			.extent = ring->cur_ext,
			.offset = ring->cur_off,
		};
		memcpy(init.info.camera, cam, sizeof(cam));
		memcpy(init.info.sha256, sha, sizeof(sha));
		in->offset += ring__rec_size(init_len);
	}
	in->id = ring->next_id++;
	ret = append_commit(ring, has_init ? NULL : &init, init_data, media, data);
	if (ret) {
		/* Spend the seq: the torn record may have reached the disk. */
		ring__idx_cam_bump(ring, seg->camera, in->seq);
		goto out;
	}
	ring->cur_off = in->offset + ring__rec_size(in->len);
out:
	free(init_data);
	return ret;
}

int ring_append(struct ring *ring, const struct ring_seg *seg, const void *data, size_t len,
		struct ring_seg_info *info)
{
	struct ring__rec media = { .kind = RING_REC_MEDIA };
	struct ring_seg_info *in = &media.info;
	int ret;

	if (!ring || !seg || !data || !len || !ring__camera_valid(seg->camera))
		return -EINVAL;
	snprintf(in->camera, sizeof(in->camera), "%s", seg->camera);
	in->init_id = seg->init_id;
	in->start_utc_ms = seg->start_utc_ms;
	in->duration_ms = seg->duration_ms;
	in->media_start_us = seg->media_start_us;
	in->flags = seg->flags;
	in->utc_src = seg->utc_src;
	in->len = len;
	if (len > ring->meta.extent_bytes) { /* before any size arithmetic */
		log_err("ring %s: segment of %zu bytes is larger than an extent", ring->dir, len);
		return -ENOSPC;
	}
	/* Hash outside the lock: other cameras need not wait for it. */
	if (ring__sha256(data, len, in->sha256))
		return -EIO;
	pthread_mutex_lock(&ring->lock);
	ret = ring->ro ? -EROFS : append_locked(ring, seg, data, &media);
	pthread_mutex_unlock(&ring->lock);
	if (!ret && info)
		*info = *in;
	return ret;
}

/* ---- reads ---- */

static int read_record(struct ring *ring, const struct ring_seg_info *in, void *buf)
{
	struct ring__rec row = { .kind = RING_REC_MEDIA, .info = *in };
	struct ring__rec rec;
	int ret;

	if (in->extent >= ring->meta.extents)
		return -EBADMSG;
	ret = ring__rec_read_hdr(ring, in->extent, in->offset, &rec);
	if (!ret && !ring__rec_matches(&rec, &row))
		ret = -EBADMSG;
	if (!ret)
		ret = ring__rec_payload(ring, &rec, buf);
	return ret;
}

int ring_read(struct ring *ring, uint64_t seg_id, void *buf, size_t cap, size_t *lenp)
{
	struct ring_seg_info in;
	int ret;

	if (!ring || !lenp || (!buf && cap))
		return -EINVAL;
	pthread_mutex_lock(&ring->lock);
	ret = ring__idx_seg_get(ring, seg_id, &in);
	pthread_mutex_unlock(&ring->lock);
	if (ret)
		return ret;
	if (in.len > cap) {
		*lenp = in.len;
		return -E2BIG;
	}
	ret = read_record(ring, &in, buf);
	if (ret == -EBADMSG) {
		/* Evicted while we read it? Then it is gone, not corrupt. */
		pthread_mutex_lock(&ring->lock);
		if (ring__idx_seg_get(ring, seg_id, &in) == -ENOENT)
			ret = -ENOENT;
		pthread_mutex_unlock(&ring->lock);
	}
	if (ret == -EBADMSG)
		log_err("ring %s: segment %" PRIu64 " (extent %u offset %" PRIu64
			"): header or SHA-256 mismatch",
			ring->dir, seg_id, in.extent, in.offset);
	if (!ret)
		*lenp = in.len;
	return ret;
}

int ring_put_init(struct ring *ring, const char *camera, const void *data, size_t len,
		  uint64_t *init_idp)
{
	uint8_t sha[RING_SHA_LEN];
	uint64_t id = 0;
	int ret;

	if (!ring || !data || !len || !init_idp || !ring__camera_valid(camera))
		return -EINVAL;
	if (len > RING_INIT_MAX)
		return -E2BIG;
	if (ring__sha256(data, len, sha))
		return -EIO;
	pthread_mutex_lock(&ring->lock);
	ret = ring->ro ? -EROFS : ring__idx_init_find(ring, camera, sha, &id);
	if (ret == -ENOENT)
		ret = ring__idx_init_put(ring, 0, camera, sha, data, len, &id);
	pthread_mutex_unlock(&ring->lock);
	if (!ret)
		*init_idp = id;
	return ret;
}

int ring_read_init(struct ring *ring, uint64_t init_id, void *buf, size_t cap, size_t *lenp)
{
	uint8_t sha[RING_SHA_LEN], got[RING_SHA_LEN];
	char cam[RING_CAMERA_MAX];
	void *data = NULL;
	size_t len = 0;
	int ret;

	if (!ring || !lenp || (!buf && cap))
		return -EINVAL;
	pthread_mutex_lock(&ring->lock);
	ret = ring__idx_init_get(ring, init_id, cam, sha, &data, &len);
	pthread_mutex_unlock(&ring->lock);
	if (!ret && (ring__sha256(data, len, got) || memcmp(got, sha, 32))) {
		log_err("ring %s: init %" PRIu64 ": SHA-256 mismatch", ring->dir, init_id);
		ret = -EBADMSG;
	}
	if (!ret && len > cap)
		ret = -E2BIG;
	if (!ret)
		memcpy(buf, data, len);
	if (!ret || ret == -E2BIG)
		*lenp = len;
	free(data);
	return ret;
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
		pthread_mutex_lock(&ring->lock);
		ret = ring__idx_list(ring, camera, from_ms, to_ms, &last, batch, &n);
		pthread_mutex_unlock(&ring->lock);
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
	pthread_mutex_lock(&ring->lock);
	ret = ring->ro ? -EROFS : ring__idx_mark_uploaded(ring, seg_id);
	pthread_mutex_unlock(&ring->lock);
	return ret;
}

void ring_set_floor(struct ring *ring, int64_t keep_after_utc_ms)
{
	pthread_mutex_lock(&ring->lock);
	ring->floor_ms = keep_after_utc_ms;
	pthread_mutex_unlock(&ring->lock);
}

void ring_set_upload_required(struct ring *ring, bool required)
{
	pthread_mutex_lock(&ring->lock);
	ring->upload_required = required;
	pthread_mutex_unlock(&ring->lock);
}

void ring_set_evict_hook(struct ring *ring, ring_evict_fn fn, void *arg)
{
	pthread_mutex_lock(&ring->lock);
	ring->evict_fn = fn;
	ring->evict_arg = arg;
	pthread_mutex_unlock(&ring->lock);
}

int ring_stat(struct ring *ring, struct ring_stat *st)
{
	struct ring_stat s = { 0 };
	int ret;

	if (!ring || !st)
		return -EINVAL;
	pthread_mutex_lock(&ring->lock);
	s.extents = ring->meta.extents;
	s.extent_bytes = ring->meta.extent_bytes;
	s.bytes_total = (uint64_t)ring->meta.extents * ring->meta.extent_bytes;
	s.evicted_segs = ring->evicted_segs;
	s.evicted_pinned = ring->evicted_pinned;
	s.recovered_orphans = ring->recovered_orphans;
	s.recovered_cut = ring->recovered_cut;
	s.upload_required = ring->upload_required;
	ret = ring__idx_stat(ring, &s);
	pthread_mutex_unlock(&ring->lock);
	if (!ret)
		*st = s;
	return ret;
}
