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
	uint64_t segments;
	uint64_t bytes_in;
	uint64_t bytes_out;
	int64_t first_utc_ms;
	int64_t last_utc_ms;		/* end of the last segment */
	uint32_t runs;			/* init-segment runs (1 + gaps) */
	int64_t gap_ms;			/* total time missing inside the range */
};

/* Progress callback, may be NULL: @done of @total segments. */
typedef void (*export_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* @ring is borrowed. -ENOENT: no footage of @camera in the range.
 * -EIO: writing @out_path failed. -EBADMSG: a segment failed its check. */
int export_clip(struct ring *ring, const char *camera, int64_t from_ms,
		int64_t to_ms, const char *out_path,
		export_progress_fn progress, void *arg,
		struct export_report *rep);

#endif /* CAMGATE_STORAGE_EXPORT_H */
