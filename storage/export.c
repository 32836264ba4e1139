// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * export - one camera's footage over a time range as one progressive MP4
 * (see export.h).
 *
 * The ring's segments of the range are listed first (ids and metadata
 * only), then cut into runs: consecutive segments with the same init
 * segment, no discont flag and a media timeline that carries on. Each run
 * is demuxed by libavformat's mov demuxer from a custom read AVIOContext
 * that pulls the init segment and then one segment at a time from the ring
 * (memory: one segment, whatever the range), and its packets are remuxed
 * without transcoding into the output. Each run's timestamps are offset so
 * its first video sample follows the previous run's last one: the output
 * has no holes; the wall-clock time between runs is reported as gap_ms.
 *
 * Guarantees:
 *  E1  @out_path is either absent/untouched or the complete file: we write
 *      OUT.tmp, fsync it, rename it over OUT and fsync the directory.
 *  E2  Inside a run, output timestamps are the camera's own, moved by
 *      one constant; a run's video starts where the previous run's video
 *      ended (audio that would overlap there is dropped). H.265 runs end
 *      with an end-of-sequence NAL unit so the next may start on a CRA.
 *  E3  A segment evicted while we read (ring_read() -ENOENT) ends its run
 *      early; the export goes on with a new run after it and reports it
 *      in segments_lost.
 *
 * Threads: export_clip() runs on the caller's thread; the ring is shared
 * under its own lock.
 */
#include "storage/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "storage/ring.h"

#define EXPORT_SEGS_MAX (1u << 18)  /* segments in one export */
#define EXPORT_SEG_CAP	(64u << 20) /* bytes of one segment */
#define EXPORT_BUF_MIN	(256u * 1024)
#define EXPORT_IO_BUF	(64 * 1024)	   /* demuxer read buffer */
#define EXPORT_JOIN_US	100000		   /* media time that still joins */
#define EXPORT_TS_MAX	(INT64_C(1) << 60) /* past any recording, far from overflow */

static const AVRational export_us = { 1, 1000000 };

struct exp_seg { /* what the list keeps of a ring_seg_info */
	uint64_t id;
	uint64_t init_id;
	int64_t start_utc_ms;
	int64_t media_start_us;
	uint32_t duration_ms;
	uint32_t flags;
	uint64_t len;
};

struct exp_out {	  /* one output track */
	int index;	  /* output stream, -1: none */
	AVRational tb;	  /* output time base after the header */
	int64_t off;	  /* this run's offset, output tb */
	int64_t last_dts; /* AV_NOPTS_VALUE: nothing written yet */
	int64_t end;	  /* last dts + duration, output tb */
};

struct exporter {
	struct ring *ring;
	const char *camera;
	struct exp_seg *segs;
	size_t nsegs, cap_segs;
	uint8_t *buf; /* one init or media segment */
	size_t buf_cap;
	AVFormatContext *oc;
	AVPacket *pkt;
	AVPacket *last;	       /* the run's last video packet so far */
	bool holding;	       /* ... is in @last */
	struct exp_out out[2]; /* [0] video, [1] audio */
	int64_t end_us;	       /* output video timeline end so far */
	bool run_synced;       /* this run's offsets are set */
	export_progress_fn progress;
	void *arg;
	uint64_t done;
	struct export_report rep;
};

/* Reads one run [next, end) as a byte stream: init, then the segments. */
struct exp_reader {
	struct exporter *x;
	size_t next;
	size_t end;
	const uint8_t *cur;
	size_t left;
	bool init_done;
	int err;       /* first ring error, negative errno */
	bool err_init; /* ... and it was the init segment's */
};

static int export_collect(void *arg, const struct ring_seg_info *info)
{
	struct exporter *x = arg;
	struct exp_seg *e;

	if (x->nsegs == x->cap_segs) {
		size_t ncap = x->cap_segs ? x->cap_segs * 2 : 256;

		if (ncap > EXPORT_SEGS_MAX) {
			log_err("export %s: more than %u segments in the range", x->camera,
				EXPORT_SEGS_MAX);
			return -E2BIG;
		}
		e = realloc(x->segs, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		x->segs = e;
		x->cap_segs = ncap;
	}
	x->segs[x->nsegs++] = (struct exp_seg){
		.id = info->id,
		.init_id = info->init_id,
		.start_utc_ms = info->start_utc_ms,
		.media_start_us = info->media_start_us,
		.duration_ms = info->duration_ms,
		.flags = info->flags,
		.len = info->len,
	};
	return 0;
}

static int export_grow(struct exporter *x, size_t need)
{
	size_t ncap = x->buf_cap ? x->buf_cap : EXPORT_BUF_MIN;
	uint8_t *p;

	if (need <= x->buf_cap)
		return 0;
	if (need > EXPORT_SEG_CAP) {
		log_err("export %s: segment of %zu bytes over %u", x->camera, need, EXPORT_SEG_CAP);
		return -E2BIG;
	}
	while (ncap < need)
		ncap *= 2;
	/* The old bytes are not needed: free first, keep the peak low. */
	free(x->buf);
	x->buf_cap = 0;
	p = malloc(ncap);
	if (!p)
		return -ENOMEM;
	x->buf = p;
	x->buf_cap = ncap;
	return 0;
}

/* Load the run's init segment, or its next media segment, into x->buf.
 * Returns 1 at the end of the run. */
static int export_load(struct exp_reader *r)
{
	struct exporter *x = r->x;
	const struct exp_seg *e;
	size_t len = 0;
	int ret;

	if (!r->init_done) {
		e = &x->segs[r->next];
		ret = ring_read_init(x->ring, e->init_id, x->buf, x->buf_cap, &len);
		if (ret == -E2BIG) {
			ret = export_grow(x, len);
			if (ret == 0)
				ret = ring_read_init(x->ring, e->init_id, x->buf, x->buf_cap, &len);
		}
		r->init_done = true;
		r->err_init = ret < 0;
	} else {
		if (r->next >= r->end)
			return 1;
		e = &x->segs[r->next];
		ret = export_grow(x, e->len);
		if (ret == 0)
			ret = ring_read(x->ring, e->id, x->buf, x->buf_cap, &len);
		if (ret == 0) {
			r->next++;
			x->rep.segments++;
			if (x->progress && x->done < r->next) {
				x->done = r->next;
				x->progress(x->arg, x->done, x->nsegs);
			}
		}
	}
	if (ret < 0)
		return ret;
	x->rep.bytes_in += len;
	r->cur = x->buf;
	r->left = len;
	return 0;
}

static int export_read(void *opaque, uint8_t *buf, int size)
{
	struct exp_reader *r = opaque;
	size_t n;
	int ret;

	while (!r->left) {
		if (r->err)
			return AVERROR_EOF;
		ret = export_load(r);
		if (ret == 1)
			return AVERROR_EOF;
		if (ret < 0) {
			/* The demuxer sees the end of the run; the caller
			 * sees why (E3). */
			r->err = ret;
			return AVERROR_EOF;
		}
	}
	n = r->left < (size_t)size ? r->left : (size_t)size;
	memcpy(buf, r->cur, n);
	r->cur += n;
	r->left -= n;
	return (int)n;
}

static void export_averr(const struct exporter *x, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(averr, msg, sizeof(msg));
	log_err("export %s: %s: %s", x->camera, what, msg);
}

/* Output track of a stream: 0 video, 1 audio, -1 none. */
static int export_track(const AVCodecParameters *par)
{
	if (par->codec_type == AVMEDIA_TYPE_VIDEO)
		return 0;
	if (par->codec_type == AVMEDIA_TYPE_AUDIO)
		return 1;
	return -1;
}

/* Output streams are copied from the first run that has video. */
static int export_open_output(struct exporter *x, AVFormatContext *ic, const char *tmp)
{
	int ret;

	ret = avformat_alloc_output_context2(&x->oc, NULL, "mp4", tmp);
	if (ret < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < ic->nb_streams; i++) {
		const AVCodecParameters *par = ic->streams[i]->codecpar;
		int k = export_track(par);
		AVStream *st;

		if (k < 0 || x->out[k].index >= 0)
			continue;
		st = avformat_new_stream(x->oc, NULL);
		if (!st || avcodec_parameters_copy(st->codecpar, par) < 0)
			return -ENOMEM;
		st->codecpar->codec_tag =
			par->codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
		st->time_base = ic->streams[i]->time_base;
		x->out[k].index = st->index;
	}
	ret = avio_open(&x->oc->pb, tmp, AVIO_FLAG_WRITE);
	if (ret < 0) {
		export_averr(x, tmp, ret);
		return -EIO;
	}
	ret = avformat_write_header(x->oc, NULL);
	if (ret < 0) {
		export_averr(x, "mp4 header", ret);
		return ret == AVERROR(EIO) ? -EIO : -EBADMSG;
	}
	for (int k = 0; k < 2; k++)
		if (x->out[k].index >= 0)
			x->out[k].tb = x->oc->streams[x->out[k].index]->time_base;
	return 0;
}

/* Which output track an input stream of a later run feeds, or -1. A run
 * whose video differs in codec or size from the output's cannot join it. */
static int export_map(const struct exporter *x, const AVStream *in)
{
	const AVCodecParameters *par = in->codecpar, *o;
	int k = export_track(par);

	if (k < 0 || x->out[k].index < 0)
		return -1;
	o = x->oc->streams[x->out[k].index]->codecpar;
	if (par->codec_id != o->codec_id)
		return -1;
	if (k == 0 && (par->width != o->width || par->height != o->height))
		return -1;
	if (k == 1 && (par->sample_rate != o->sample_rate ||
		       par->ch_layout.nb_channels != o->ch_layout.nb_channels))
		return -1;
	return k;
}

/* The first video packet of a run fixes the run's offsets (E2). */
static void export_sync_run(struct exporter *x, const AVPacket *pkt, AVRational in_tb)
{
	struct exp_out *v = &x->out[0];
	int64_t first = av_rescale_q(pkt->dts, in_tb, v->tb);
	int64_t start = av_rescale_q(x->end_us, export_us, v->tb);

	v->off = start - first;
	if (x->out[1].index >= 0)
		x->out[1].off = av_rescale_q(v->off, v->tb, x->out[1].tb);
	x->run_synced = true;
}

static int export_mux(struct exporter *x, AVPacket *pkt)
{
	int ret = av_interleaved_write_frame(x->oc, pkt);

	if (ret < 0) {
		export_averr(x, "write", ret);
		return -EIO;
	}
	return 0;
}

/* Video is written one packet late, so the run's last one is known. */
static int export_hold_video(struct exporter *x, AVPacket *pkt)
{
	int ret = 0;

	if (x->holding)
		ret = export_mux(x, x->last);
	av_packet_move_ref(x->last, pkt);
	x->holding = true;
	return ret;
}

/* Write the run's last video packet. H.265 gets an end-of-sequence NAL
 * unit appended: the next run may begin on a CRA picture, whose picture
 * order count a decoder would otherwise derive from this run's pictures
 * (and then miss references). H.264 runs begin on IDR pictures, which
 * reset the decoder by themselves. */
static int export_end_video(struct exporter *x)
{
	static const uint8_t eos[6] = { 0, 0, 0, 2, 36 << 1, 1 };
	const AVCodecParameters *par;
	size_t n;

	if (!x->holding)
		return 0;
	x->holding = false;
	par = x->oc->streams[x->out[0].index]->codecpar;
	/* hvcC with 4-byte NAL lengths, as our segments carry */
	if (par->codec_id == AV_CODEC_ID_HEVC && par->extradata_size > 22 &&
	    (par->extradata[21] & 3) == 3) {
		n = (size_t)x->last->size;
		if (av_grow_packet(x->last, sizeof(eos)) < 0) {
			av_packet_unref(x->last);
			return -ENOMEM;
		}
		memcpy(x->last->data + n, eos, sizeof(eos));
	}
	return export_mux(x, x->last);
}

/* A time stamp a recording can have: set, and so far from the limits of
 * int64_t that the run's offset cannot overflow it. */
static bool export_ts_sane(int64_t ts)
{
	return ts != AV_NOPTS_VALUE && ts > -EXPORT_TS_MAX && ts < EXPORT_TS_MAX;
}

static bool export_pkt_sane(const AVPacket *pkt)
{
	return export_ts_sane(pkt->dts) && (pkt->pts == AV_NOPTS_VALUE || export_ts_sane(pkt->pts));
}

static int export_write(struct exporter *x, AVPacket *pkt, int k, AVRational in_tb)
{
	struct exp_out *o = &x->out[k];
	int64_t end_us;

	/* Damaged media (found by export_fuzz: a packet without a DTS made
	 * the offset arithmetic overflow): such a packet is not exported. */
	if (!export_pkt_sane(pkt))
		goto skip;
	if (!x->run_synced) {
		if (k != 0)
			goto skip; /* audio before the run's first video */
		export_sync_run(x, pkt, in_tb);
	}
	av_packet_rescale_ts(pkt, in_tb, o->tb);
	if (!export_pkt_sane(pkt))
		goto skip;
	pkt->dts += o->off;
	pkt->pts = (pkt->pts == AV_NOPTS_VALUE ? pkt->dts : pkt->pts + o->off);
	/* A few ms of audio can overlap where two runs join. */
	if (pkt->dts < 0 || (o->last_dts != AV_NOPTS_VALUE && pkt->dts <= o->last_dts))
		goto skip;
	o->last_dts = pkt->dts;
	o->end =
		pkt->dts + (pkt->duration > 0 && pkt->duration < EXPORT_TS_MAX ? pkt->duration : 0);
	/* Video sets the pace: the next run's video starts where this
	 * one's ends; audio that would overlap is dropped above. */
	end_us = av_rescale_q(o->end, o->tb, export_us);
	if (k == 0 && end_us > x->end_us)
		x->end_us = end_us;
	pkt->stream_index = o->index;
	pkt->pos = -1;
	if (k == 0)
		return export_hold_video(x, pkt);
	return export_mux(x, pkt);
skip:
	av_packet_unref(pkt);
	return 0;
}

#define EXPORT_STREAMS_MAX 16

/* Remux one opened run into the output. */
static int export_demux_run(struct exporter *x, AVFormatContext *ic, const struct exp_reader *r)
{
	int map[EXPORT_STREAMS_MAX];
	bool used[2] = { false, false };
	unsigned int n = ic->nb_streams < EXPORT_STREAMS_MAX ? ic->nb_streams : EXPORT_STREAMS_MAX;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		map[i] = export_map(x, ic->streams[i]);
		if (map[i] >= 0 && used[map[i]])
			map[i] = -1;
		else if (map[i] >= 0)
			used[map[i]] = true;
	}
	if (!used[0]) {
		log_warn("export %s: a run differs in codec or size from the first: left out",
			 x->camera);
		x->rep.runs_skipped++;
		return 0;
	}
	x->run_synced = false;
	while ((ret = av_read_frame(ic, x->pkt)) >= 0) {
		unsigned int si = (unsigned int)x->pkt->stream_index;
		int k = si < n ? map[si] : -1;

		if (k < 0) {
			av_packet_unref(x->pkt);
			continue;
		}
		ret = export_write(x, x->pkt, k, ic->streams[si]->time_base);
		if (ret < 0)
			return ret;
	}
	if (ret != AVERROR_EOF && !r->err) {
		export_averr(x, "demux", ret);
		return -EBADMSG;
	}
	ret = export_end_video(x);
	if (ret < 0)
		return ret;
	if (x->run_synced)
		x->rep.runs++;
	return 0;
}

/* Open the mov demuxer over the reader's run and remux it. */
static int export_run(struct exporter *x, struct exp_reader *r, const char *tmp)
{
	const AVInputFormat *mov = av_find_input_format("mp4");
	AVFormatContext *ic = avformat_alloc_context();
	uint8_t *iobuf = av_malloc(EXPORT_IO_BUF);
	AVIOContext *pb = NULL;
	int ret = -ENOMEM;

	if (!ic || !iobuf || !mov)
		goto out;
	pb = avio_alloc_context(iobuf, EXPORT_IO_BUF, 0, r, export_read, NULL, NULL);
	if (!pb)
		goto out;
	iobuf = NULL;
	ic->pb = pb;
	ic->flags |= AVFMT_FLAG_CUSTOM_IO;
	ret = avformat_open_input(&ic, NULL, mov, NULL);
	if (ret < 0) {
		if (!r->err)
			export_averr(x, "init segment", ret);
		ret = r->err ? r->err : -EBADMSG;
		goto out; /* avformat_open_input freed ic */
	}
	ret = x->oc ? 0 : export_open_output(x, ic, tmp);
	if (ret == 0)
		ret = export_demux_run(x, ic, r);
	if (ret == 0 && r->err)
		ret = r->err;
out:
	avformat_close_input(&ic);
	if (pb) {
		av_freep(&pb->buffer);
		avio_context_free(&pb);
	}
	av_free(iobuf);
	return ret;
}

/* End (exclusive) of the run that starts at @i. */
static size_t export_run_end(const struct exporter *x, size_t i)
{
	size_t j = i + 1;

	for (; j < x->nsegs; j++) {
		const struct exp_seg *a = &x->segs[j - 1], *b = &x->segs[j];
		int64_t want = a->media_start_us + (int64_t)a->duration_ms * 1000;

		if (b->init_id != a->init_id || (b->flags & RING_F_DISCONT) ||
		    llabs(b->media_start_us - want) > EXPORT_JOIN_US)
			break;
	}
	return j;
}

/* Account segments [first, end) as exported; @prev is the last exported
 * before them (SIZE_MAX: none), whose end to their start is a gap. */
static void export_account(struct exporter *x, size_t prev, size_t first, size_t end)
{
	const struct exp_seg *a = &x->segs[first], *z = &x->segs[end - 1];

	if (prev == SIZE_MAX) {
		x->rep.first_utc_ms = a->start_utc_ms;
	} else {
		const struct exp_seg *p = &x->segs[prev];
		int64_t gap = a->start_utc_ms - (p->start_utc_ms + p->duration_ms);

		if (gap > 0)
			x->rep.gap_ms += gap;
	}
	x->rep.last_utc_ms = z->start_utc_ms + z->duration_ms;
}

static int export_runs(struct exporter *x, const char *tmp)
{
	size_t i = 0, prev = SIZE_MAX;

	while (i < x->nsegs) {
		size_t end = export_run_end(x, i);
		struct exp_reader r = { .x = x, .next = i, .end = end };
		int ret = export_run(x, &r, tmp);

		if (ret < 0 && ret != -ENOENT)
			return ret;
		if (r.next > i) {
			export_account(x, prev, i, r.next);
			prev = r.next - 1;
		}
		/* Evicted while we read (E3): drop it, resume after it. */
		if (ret == -ENOENT && r.err_init) {
			x->rep.segments_lost += end - i;
			i = end;
		} else if (ret == -ENOENT) {
			x->rep.segments_lost++;
			i = r.next + 1;
		} else {
			i = end; /* done, or a run left out */
		}
		if (x->progress && x->done < i) {
			x->done = i;
			x->progress(x->arg, x->done, x->nsegs);
		}
	}
	return 0;
}

/* E1: the file's data, then its name, reach the disk. */
static int export_commit(struct exporter *x, const char *tmp, const char *out)
{
	struct stat st;
	int ret;

	if (stat(tmp, &st) < 0) {
		log_err("export %s: %s: %s", x->camera, tmp, strerror(errno));
		return -EIO;
	}
	x->rep.bytes_out = (uint64_t)st.st_size;
	ret = fs_commit(tmp, out);
	if (ret) {
		log_err("export %s: cannot replace %s: %s", x->camera, out, strerror(-ret));
		return -EIO;
	}
	return 0;
}

static int export_finish(struct exporter *x, const char *tmp)
{
	int ret;

	ret = av_write_trailer(x->oc);
	if (ret < 0) {
		export_averr(x, "mp4 trailer", ret);
		return -EIO;
	}
	ret = avio_closep(&x->oc->pb);
	if (ret < 0) {
		export_averr(x, tmp, ret);
		return -EIO;
	}
	return 0;
}

static void export_free(struct exporter *x)
{
	if (x->oc) {
		avio_closep(&x->oc->pb);
		avformat_free_context(x->oc);
	}
	av_packet_free(&x->pkt);
	av_packet_free(&x->last);
	free(x->segs);
	free(x->buf);
}

int export_clip(struct ring *ring, const char *camera, int64_t from_ms, int64_t to_ms,
		const char *out_path, export_progress_fn progress, void *arg,
		struct export_report *rep)
{
	struct exporter x = {
		.ring = ring,
		.camera = camera,
		.progress = progress,
		.arg = arg,
		.out = { { .index = -1, .last_dts = AV_NOPTS_VALUE },
			 { .index = -1, .last_dts = AV_NOPTS_VALUE } },
	};
	char tmp[PATH_MAX];
	int ret;

	if (!ring || !camera || !out_path || from_ms >= to_ms)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	x.pkt = av_packet_alloc();
	x.last = av_packet_alloc();
	if (!x.pkt || !x.last) {
		export_free(&x);
		return -ENOMEM;
	}
	ret = ring_list(ring, camera, from_ms, to_ms, export_collect, &x);
	if (ret == 0 && !x.nsegs)
		ret = -ENOENT;
	if (ret == 0)
		ret = export_runs(&x, tmp);
	if (ret == 0 && !x.oc)
		ret = -ENOENT; /* every segment vanished or was left out */
	if (ret == 0)
		ret = export_finish(&x, tmp);
	if (ret == 0)
		ret = export_commit(&x, tmp, out_path);
	if (x.oc && ret < 0)
		unlink(tmp);
	export_free(&x);
	if (ret == 0 && rep)
		*rep = x.rep;
	return ret;
}
