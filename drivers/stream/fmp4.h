/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fmp4 - in-memory fragmented MP4 (CMAF-style) segmenter over
 * libavformat's mp4 muxer. Internal to drivers/stream.
 *
 * One struct fmp4 is one muxer run: one init segment (ftyp+moov) and the
 * media segments (moof+mdat) that follow it. A discontinuity is handled
 * by the caller with fmp4_finish(), fmp4_close() and a new fmp4_open(),
 * the end of the input with fmp4_finish_eof() and fmp4_close().
 *
 * Guarantees (tests/unit/fmp4_mux_test.c):
 *  F1  Every media segment starts with a video keyframe. Packets before
 *      the run's first keyframe are dropped, audio included.
 *  F2  A segment is cut at the first video keyframe whose DTS is at least
 *      segment_ms past the segment's first DTS (less half a frame, so a
 *      tick of timestamp jitter does not skip a keyframe).
 *  F3  The init segment followed by the media segments of the run, in
 *      order, is a valid fragmented MP4.
 *  F4  Sample bytes are not altered: NAL units are copied; the muxer only
 *      turns Annex B start codes into length prefixes.
 *  F5  The run's timeline starts at 0 at its first keyframe's DTS. Each
 *      sample lasts until the next DTS of its track (one packet per track
 *      is held back for that), so consecutive segments tile without gaps.
 *  F6  Memory is bounded by the chunk size, not the segment size: the
 *      muxer's fragment is flushed to the sink whenever it holds
 *      FMP4_CHUNK_BYTES of samples (and at every cut), so a segment is
 *      one or more moof+mdat fragments, the first one keyframe-led (a
 *      chunked CMAF segment). The bytes go from libavformat's I/O buffer
 *      straight to the sink; fmp4 keeps no copy but the init segment.
 *      A segment of over FMP4_SEG_CAP sample bytes fails with -E2BIG.
 *
 * Threads: a struct fmp4 belongs to the thread that opened it; the sink
 * runs on that thread, inside fmp4_write_take() and fmp4_finish().
 * Errors: 0 or a negative errno; libavformat's text is logged once here.
 */
#ifndef CAMGATE_DRIVERS_STREAM_FMP4_H
#define CAMGATE_DRIVERS_STREAM_FMP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

#define FMP4_SEG_CAP	 (64u << 20) /* bytes of one media segment */
#define FMP4_CHUNK_BYTES (32u << 10) /* sample bytes per fragment flush */
#define FMP4_INIT_CAP	 (1u << 20)  /* ftyp+moov bytes */
#define FMP4_NOTE_MAX	 96
#define FMP4_SEG_MS_MIN	 100u
#define FMP4_SEG_MS_MAX	 600000u

enum fmp4_track {
	FMP4_VIDEO = 0,
	FMP4_AUDIO = 1,
	FMP4_TRACKS,
};

/* Which demuxer streams to record. */
struct fmp4_pick {
	int video;		  /* stream index */
	int audio;		  /* stream index, -1: none */
	char note[FMP4_NOTE_MAX]; /* why something was left out, or "" */
};

/* Pick the best H.264/H.265 video stream and, if the mp4 muxer can carry
 * it, the best audio stream of a probed demuxer; streams not picked are
 * set to AVDISCARD_ALL. Audio that cannot be carried is dropped and
 * @pick->note says so; that is not an error.
 * -ENOTSUP: no video, or video in another codec (note says which). */
int fmp4_pick_streams(AVFormatContext *ic, struct fmp4_pick *pick);

/* What a media segment is, beside its bytes. */
struct fmp4_seg {
	int64_t start_us;    /* first video DTS on the run's timeline */
	int64_t duration_us; /* video DTS span, up to the next keyframe */
	uint32_t video_frames;
	uint64_t video_bytes; /* sum of video packet sizes */
	bool has_audio;
	bool partial; /* ended by fmp4_finish(), not at a keyframe */
};

/* Called on the owning thread; @data is borrowed for the call only. The
 * sink keeps its own errors: fmp4 goes on whatever it does with them.
 * Each media segment is one or more data() calls, in order, then one
 * end(). end() with @seg NULL abandons the segment (a failure, or
 * fmp4_close() without fmp4_finish()): the bytes given so far are void.
 * Before the run's first data() comes its init(). */
struct fmp4_sink {
	void (*init)(void *arg, const void *data, size_t len);
	void (*data)(void *arg, const void *data, size_t len);
	void (*end)(void *arg, const struct fmp4_seg *seg);
	void *arg;
};

struct fmp4; /* opaque */

/* Open a muxer run. @video and @audio (NULL: video only) are demuxer
 * streams; their codecpar and time_base are copied. @sink is copied, its
 * arg borrowed. @name (for logs) is borrowed and must outlive the run.
 * *fp is set only on success.
 * -EINVAL: bad segment_ms or stream. -ENOMEM. -EPROTO: the muxer refused
 * the streams (retrying without audio may work). */
int fmp4_open(const AVStream *video, const AVStream *audio, uint32_t segment_ms,
	      const struct fmp4_sink *sink, const char *name, struct fmp4 **fp);

/* Hand one packet to the run. Timestamps are in the time base of the
 * stream given to fmp4_open() for @track, DTS strictly increasing per
 * track (the caller sanitises). The packet's reference is taken: @pkt is
 * left blank. May call the sink (a finished segment, and before the first
 * one the init segment).
 * Returns 1 if @pkt starts a new segment, 0 if it was queued or dropped,
 * -E2BIG: the open segment outgrew FMP4_SEG_CAP (the run is unusable),
 * -EIO: the muxer failed (logged). */
int fmp4_write_take(struct fmp4 *f, enum fmp4_track track, AVPacket *pkt);

/* Write what is held and hand the open segment, if any, to the sink as a
 * partial segment. The run cannot take packets afterwards. */
int fmp4_finish(struct fmp4 *f);

/* fmp4_finish() for a run whose input ended (end of stream, read error,
 * stop): the last video packet taken is dropped, not written. When a
 * read fails, libavformat flushes its parsers and hands out the access
 * unit they were assembling as a packet, complete or not (the rest of
 * its NAL units never came); a parser returns an access unit only once
 * the next one begins, so every earlier packet is whole. If the dropped
 * packet was the keyframe that opened the segment, the segment is left
 * for fmp4_close() to abandon. */
int fmp4_finish_eof(struct fmp4 *f);

/* Free the run; an open segment is abandoned (the sink's end() gets NULL
 * if it had data of it; call fmp4_finish() first to keep it). NULL is a
 * no-op. */
void fmp4_close(struct fmp4 *f);

/* Sample bytes per fragment flush (default FMP4_CHUNK_BYTES; tests use
 * small values). Takes effect at the next packet. */
void fmp4_set_chunk_bytes(struct fmp4 *f, uint32_t bytes);

#endif /* CAMGATE_DRIVERS_STREAM_FMP4_H */
