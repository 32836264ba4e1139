/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * export - a playable MP4 of one camera's footage over a time range.
 *
 * Reads the ring's segments of [from_ms, to_ms), demuxes each run of
 * segments that share an init segment with libavformat, and remuxes
 * them (no transcoding) into one progressive MP4 with continuous
 * timestamps; a gap between runs is closed up and reported, not padded.
 * The output is written to a temporary name, fsync'ed and renamed, so a
 * crash never leaves a half file at @out_path.
 */
#ifndef CAMGATE_STORAGE_EXPORT_H
#define CAMGATE_STORAGE_EXPORT_H

#include <stdint.h>

struct ring;

struct export_report {
	uint64_t segments;  /* exported */
	uint64_t bytes_in;  /* read from the ring, inits included */
	uint64_t bytes_out; /* size of the MP4 */
	int64_t first_utc_ms;
	int64_t last_utc_ms;	/* end of the last segment */
	uint32_t runs;		/* init-segment runs (1 + gaps) */
	int64_t gap_ms;		/* total time missing inside the range */
	uint64_t segments_lost; /* listed, then evicted before read */
	uint32_t runs_skipped;	/* video unlike the first run's: left out */
};

/* Progress callback, may be NULL: @done of @total segments. */
typedef void (*export_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* @ring is borrowed; @rep, if not NULL, is filled on success. Segments
 * that meet [from_ms, to_ms) are exported whole. Runs of segments (same
 * init, no discont, media time carrying on) are joined end to end.
 * @out_path is replaced atomically: OUT.tmp is written, fsync'ed and
 * renamed, and the directory fsync'ed; on failure OUT is untouched.
 * -EINVAL: bad arguments or from_ms >= to_ms. -ENOENT: no footage of
 * @camera in the range. -EIO: writing @out_path failed. -EBADMSG: a
 * segment failed its check or would not demux. -E2BIG: over 262144
 * segments, or one over 64 MiB. -ENOMEM. */
int export_clip(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
		const char *out_path, export_progress_fn progress, void *arg,
		struct export_report *rep);

#endif /* CAMGATE_STORAGE_EXPORT_H */
