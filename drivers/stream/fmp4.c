// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fmp4 - the segmenter (see fmp4.h for the guarantees F1-F6).
 *
 * The mp4 muxer runs with
 *   frag_custom        a fragment is cut only when we flush it, at our
 *                      keyframe decision (av_write_frame(oc, NULL));
 *   empty_moov         the moov carries no samples, so it is an init
 *                      segment that any run of fragments can follow;
 *   delay_moov         the moov is written with the first fragment, so
 *                      parameter sets that only come in-band (cameras
 *                      whose SDP has no sprop) still reach avcC/hvcC; we
 *                      split the init off that first flush after "moov";
 *   default_base_moof  data offsets relative to each moof, so every
 *                      segment stands alone (CMAF);
 *   skip_trailer       no mfra index: else the muxer keeps an entry of
 *                      every fragment of the run for it (a list that grows
 *                      for as long as the camera records; we never write
 *                      the trailer anyway, fmp4_close()).
 * The muxer's fragment is flushed whenever it holds a chunk's worth of
 * samples and at every cut; libavformat writes nothing between flushes
 * (with empty_moov the samples wait in its per-track mdat buffers), so
 * every byte that reaches our AVIOContext belongs to the open segment and
 * goes straight to the sink. Only the init segment is collected first, to
 * split it off. One packet per track is held back until the next DTS of
 * that track is known, which gives every sample its exact duration (RTSP
 * packets usually carry none) and makes segments tile exactly.
 */
#include "fmp4.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>

#include "lib/log.h"

/* libavformat's write buffer. A fragment passes through it to the sink
 * in pieces of this size, and every camera keeps one: 64 KiB made 16
 * cameras' memory 1.5 MiB larger for no measurable CPU. */
#define FMP4_IO_BUF    (16 * 1024)
#define FMP4_SEG_SLACK (1u << 20) /* room for moof, trun tables, init */
#define FMP4_CHUNK_MIN 4096u	  /* fmp4_set_chunk_bytes() floor */
#define FMP4_MOVFLAGS  "frag_custom+empty_moov+delay_moov+default_base_moof+skip_trailer"

/* The write callback's buffer became const in libavformat 61. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define FMP4_WBUF const uint8_t
#else
#define FMP4_WBUF uint8_t
#endif

static const AVRational fmp4_us = { 1, 1000000 };

struct fmp4_trk {
	int out; /* muxer stream index, -1: track absent */
	AVRational in_tb;
	int64_t origin;	   /* run start, in in_tb */
	int64_t last_step; /* last DTS step, for a final packet */
	AVPacket *held;
	bool holding;
};

struct fmp4 {
	const char *name; /* borrowed, for logs */
	AVFormatContext *oc;
	struct fmp4_sink sink;
	uint8_t *init_buf; /* what the muxer wrote before the init was sent */
	size_t init_len;
	int io_err; /* first output failure, negative errno */
	uint32_t chunk_cap;
	uint64_t chunk_bytes; /* sample bytes written since the last flush */
	struct fmp4_trk trk[FMP4_TRACKS];
	AVBSFContext *adts;  /* ADTS AAC to raw, or NULL */
	int64_t seg_target;  /* in video in_tb */
	int64_t seg_start;   /* rebased video DTS of the open segment */
	uint64_t seg_bytes;  /* sample bytes in the open segment */
	struct fmp4_seg seg; /* the open segment */
	bool started;	     /* first keyframe seen, origins set */
	bool seg_open;
	bool seg_data; /* the sink has bytes of the open segment */
	bool init_sent;
	bool finished;
	bool audio_off;	 /* audio failed once: video goes on alone */
	bool audio_went; /* an audio sample reached the muxer */
};

static void fmp4_averr(const struct fmp4 *f, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(averr, msg, sizeof(msg));
	log_err("%s: fmp4 %s: %s", f->name, what, msg);
}

/* Until the init segment is sent, collect; afterwards every byte belongs
 * to the open segment and goes to the sink as it comes. */
static int fmp4_io_write(void *opaque, FMP4_WBUF *data, int size)
{
	struct fmp4 *f = opaque;
	uint8_t *p;

	if (size <= 0)
		return 0;
	if (f->init_sent) {
		f->sink.data(f->sink.arg, data, (size_t)size);
		f->seg_data = true;
		return size;
	}
	if ((size_t)size > FMP4_INIT_CAP - f->init_len) {
		f->io_err = -E2BIG;
		return AVERROR(E2BIG);
	}
	p = realloc(f->init_buf, f->init_len + (size_t)size);
	if (!p) {
		f->io_err = -ENOMEM;
		return AVERROR(ENOMEM);
	}
	memcpy(p + f->init_len, data, (size_t)size);
	f->init_buf = p;
	f->init_len += (size_t)size;
	return size;
}

/* Length of the init segment at the head of the first flush: every box up
 * to and including "moov". 0 if there is no moov. */
static size_t fmp4_init_len(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (len - off >= 8) {
		uint64_t sz = (uint64_t)p[off] << 24 | (uint64_t)p[off + 1] << 16 |
			      (uint64_t)p[off + 2] << 8 | p[off + 3];
		bool moov = !memcmp(p + off + 4, "moov", 4);

		if (sz == 1 && len - off >= 16) {
			sz = 0;
			for (int i = 8; i < 16; i++)
				sz = sz << 8 | p[off + i];
		}
		if (sz < 8 || sz > len - off)
			return 0;
		off += sz;
		if (moov)
			return off;
	}
	return 0;
}

/* Hand the collected ftyp+moov to the sink; anything after the moov
 * already belongs to the first segment. */
static int fmp4_send_init(struct fmp4 *f)
{
	size_t ilen = fmp4_init_len(f->init_buf, f->init_len);

	if (!ilen) {
		log_err("%s: fmp4: no moov in the first flush", f->name);
		return -EIO;
	}
	f->sink.init(f->sink.arg, f->init_buf, ilen);
	f->init_sent = true;
	if (f->init_len > ilen) {
		f->sink.data(f->sink.arg, f->init_buf + ilen, f->init_len - ilen);
		f->seg_data = true;
	}
	free(f->init_buf);
	f->init_buf = NULL;
	f->init_len = 0;
	return 0;
}

/* Write out the muxer's fragment (moof+mdat of what it holds). */
static int fmp4_flush(struct fmp4 *f)
{
	int ret = av_write_frame(f->oc, NULL);

	/* With delay_moov the first flush writes only ftyp+moov; the second
	 * writes the fragment (as the muxer's own auto flush does). */
	if (ret >= 0 && !f->init_sent) {
		avio_flush(f->oc->pb);
		if (!f->io_err) {
			ret = fmp4_send_init(f);
			if (ret < 0)
				return ret;
			ret = av_write_frame(f->oc, NULL);
		}
	}
	if (ret >= 0)
		avio_flush(f->oc->pb);
	f->chunk_bytes = 0;
	if (f->io_err) {
		log_err("%s: fmp4 output: %s", f->name, strerror(-f->io_err));
		return f->io_err;
	}
	if (ret < 0) {
		fmp4_averr(f, "flush", ret);
		return -EIO;
	}
	return 0;
}

/* The open segment is void: tell the sink if it has any of it. */
static void fmp4_abandon(struct fmp4 *f)
{
	if (f->seg_data)
		f->sink.end(f->sink.arg, NULL);
	f->seg_data = false;
	f->seg_open = false;
	f->seg_bytes = 0;
}

/* Flush the open fragment as the end of a segment that ends at @end
 * (video in_tb). */
static int fmp4_cut(struct fmp4 *f, int64_t end, bool partial)
{
	AVRational vtb = f->trk[FMP4_VIDEO].in_tb;
	int ret;

	f->seg.duration_us = av_rescale_q(end - f->seg_start, vtb, fmp4_us);
	f->seg.partial = partial;
	ret = fmp4_flush(f);
	if (ret < 0) {
		fmp4_abandon(f);
		return ret;
	}
	f->seg_open = false;
	f->seg_bytes = 0;
	f->seg_data = false;
	f->sink.end(f->sink.arg, &f->seg);
	return 0;
}

/* The first flush writes the moov, which must carry the audio config
 * that ADTS sources only give with their first packet: until the init is
 * out, a chunk waits for audio (the cut does not). */
static bool fmp4_chunk_due(const struct fmp4 *f, uint64_t next)
{
	if (!f->chunk_bytes || f->chunk_bytes + next <= f->chunk_cap)
		return false;
	return f->init_sent || f->trk[FMP4_AUDIO].out < 0 || f->audio_went || f->audio_off;
}

/* Write the held packet of @t; @next is the next DTS of that track, or
 * AV_NOPTS_VALUE at the end of the run. */
static int fmp4_emit(struct fmp4 *f, struct fmp4_trk *t, int64_t next)
{
	AVPacket *p = t->held;
	AVStream *st = f->oc->streams[t->out];
	int ret;

	if (next != AV_NOPTS_VALUE && next > p->dts) {
		p->duration = next - p->dts;
		t->last_step = p->duration;
	} else if (p->duration <= 0) {
		p->duration = t->last_step;
	}
	t->holding = false;
	if (f->seg_bytes + (uint64_t)p->size > FMP4_SEG_CAP - FMP4_SEG_SLACK) {
		log_err("%s: fmp4 segment over %u bytes (no keyframe?)", f->name, FMP4_SEG_CAP);
		av_packet_unref(p);
		return -E2BIG;
	}
	/* Flush before the chunk would pass its cap, so a cut right after
	 * this packet never meets an empty fragment. */
	if (fmp4_chunk_due(f, (uint64_t)p->size)) {
		ret = fmp4_flush(f);
		if (ret < 0) {
			av_packet_unref(p);
			return ret;
		}
	}
	f->seg_bytes += (uint64_t)p->size;
	f->chunk_bytes += (uint64_t)p->size;
	if (t == &f->trk[FMP4_VIDEO]) {
		f->seg.video_frames++;
		f->seg.video_bytes += (uint64_t)p->size;
	} else {
		f->seg.has_audio = true;
		f->audio_went = true;
	}
	av_packet_rescale_ts(p, t->in_tb, st->time_base);
	p->stream_index = t->out;
	ret = av_write_frame(f->oc, p);
	av_packet_unref(p);
	if (ret >= 0)
		return 0;
	if (f->io_err)
		return f->io_err;
	if (t != &f->trk[FMP4_VIDEO]) {
		/* The muxer refuses audio before touching its state. */
		fmp4_averr(f, "audio (recording video only)", ret);
		f->audio_off = true;
		return 0;
	}
	fmp4_averr(f, "write", ret);
	return -EIO;
}

static void fmp4_rebase(AVPacket *pkt, int64_t origin)
{
	pkt->dts -= origin;
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts -= origin;
	else
		pkt->pts = pkt->dts;
}

static int fmp4_take_video(struct fmp4 *f, AVPacket *pkt)
{
	struct fmp4_trk *t = &f->trk[FMP4_VIDEO];
	struct fmp4_trk *a = &f->trk[FMP4_AUDIO];
	bool key = pkt->flags & AV_PKT_FLAG_KEY;
	int ret = 0;

	if (!f->started) {
		if (!key)
			goto drop;
		f->started = true;
		t->origin = pkt->dts;
		if (a->out >= 0)
			a->origin = av_rescale_q(pkt->dts, t->in_tb, a->in_tb);
	}
	fmp4_rebase(pkt, t->origin);
	if (t->holding) {
		ret = fmp4_emit(f, t, pkt->dts);
		if (ret < 0)
			goto drop;
	}
	/* Half a frame of slack: keyframes of a camera whose timestamps
	 * jitter by a tick must not double the segment length. */
	if (key && f->seg_open && pkt->dts - f->seg_start + t->last_step / 2 >= f->seg_target) {
		ret = fmp4_cut(f, pkt->dts, false);
		if (ret < 0)
			goto drop;
	}
	if (!f->seg_open) {
		memset(&f->seg, 0, sizeof(f->seg));
		f->seg.start_us = av_rescale_q(pkt->dts, t->in_tb, fmp4_us);
		f->seg_start = pkt->dts;
		f->seg_open = true;
		ret = 1;
	}
	av_packet_move_ref(t->held, pkt);
	t->holding = true;
	return ret;
drop:
	av_packet_unref(pkt);
	return ret;
}

/* AAC in ADTS frames (MPEG-TS style sources) must lose its headers for
 * mp4; the filter also yields the AudioSpecificConfig the moov needs.
 * Returns 1 with the filtered packet in @pkt, 0 if audio is given up. */
static int fmp4_unadts(struct fmp4 *f, AVPacket *pkt)
{
	int ret = av_bsf_send_packet(f->adts, pkt);

	if (ret >= 0)
		ret = av_bsf_receive_packet(f->adts, pkt);
	if (ret >= 0)
		return 1;
	if (ret == AVERROR(EAGAIN))
		return 0;
	fmp4_averr(f, "audio (recording video only)", ret);
	f->audio_off = true;
	return 0;
}

static int fmp4_take_audio(struct fmp4 *f, AVPacket *pkt)
{
	struct fmp4_trk *t = &f->trk[FMP4_AUDIO];
	int ret = 0;

	/* Audio before the first keyframe has no segment to go into. */
	if (!f->started || f->audio_off)
		goto drop;
	fmp4_rebase(pkt, t->origin);
	if (pkt->dts < 0 || (t->holding && pkt->dts <= t->held->dts))
		goto drop;
	/* After the drops: the filter's first output carries the config. */
	if (f->adts && !fmp4_unadts(f, pkt))
		goto drop;
	if (t->holding) {
		ret = fmp4_emit(f, t, pkt->dts);
		if (ret < 0)
			goto drop;
	}
	av_packet_move_ref(t->held, pkt);
	t->holding = true;
	return 0;
drop:
	av_packet_unref(pkt);
	return ret;
}

int fmp4_write_take(struct fmp4 *f, enum fmp4_track track, AVPacket *pkt)
{
	if (f->finished || track >= FMP4_TRACKS || f->trk[track].out < 0 ||
	    pkt->dts == AV_NOPTS_VALUE) {
		av_packet_unref(pkt);
		return 0;
	}
	if (track == FMP4_VIDEO)
		return fmp4_take_video(f, pkt);
	return fmp4_take_audio(f, pkt);
}

static int fmp4_finish_run(struct fmp4 *f, bool drop_last)
{
	struct fmp4_trk *v = &f->trk[FMP4_VIDEO];
	struct fmp4_trk *a = &f->trk[FMP4_AUDIO];
	int64_t end;
	int ret;

	if (f->finished)
		return 0;
	f->finished = true;
	if (!f->seg_open || !v->holding)
		return 0;
	if (drop_last) {
		/* The segment ends where the dropped frame would have begun. */
		end = v->held->dts;
		av_packet_unref(v->held);
		v->holding = false;
		/* It was the keyframe that opened the segment: nothing of
		 * the segment is left to show; fmp4_close() abandons it. */
		if (!f->seg.video_frames)
			return 0;
		ret = 0;
	} else {
		end = v->held->dts + (v->held->duration > 0 ? v->held->duration : v->last_step);
		ret = fmp4_emit(f, v, AV_NOPTS_VALUE);
	}
	if (ret == 0 && a->holding)
		ret = fmp4_emit(f, a, AV_NOPTS_VALUE);
	if (ret < 0)
		return ret;
	return fmp4_cut(f, end, true);
}

int fmp4_finish(struct fmp4 *f)
{
	return fmp4_finish_run(f, false);
}

int fmp4_finish_eof(struct fmp4 *f)
{
	return fmp4_finish_run(f, true);
}

static int fmp4_open_adts(struct fmp4 *f, const AVStream *in)
{
	const AVBitStreamFilter *bsf = av_bsf_get_by_name("aac_adtstoasc");

	if (!bsf || av_bsf_alloc(bsf, &f->adts) < 0)
		return -ENOMEM;
	if (avcodec_parameters_copy(f->adts->par_in, in->codecpar) < 0)
		return -ENOMEM;
	f->adts->time_base_in = in->time_base;
	if (av_bsf_init(f->adts) < 0)
		return -EPROTO;
	return 0;
}

static int fmp4_add_stream(struct fmp4 *f, enum fmp4_track track, const AVStream *in)
{
	struct fmp4_trk *t = &f->trk[track];
	AVStream *st;

	st = avformat_new_stream(f->oc, NULL);
	if (!st)
		return -ENOMEM;
	if (avcodec_parameters_copy(st->codecpar, in->codecpar) < 0)
		return -ENOMEM;
	st->codecpar->codec_tag = 0;
	/* Players want hvc1 (parameter sets in hvcC), not the default hev1. */
	if (st->codecpar->codec_id == AV_CODEC_ID_HEVC)
		st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
	st->time_base = in->time_base;
	t->in_tb = in->time_base;
	t->out = st->index;
	if (in->codecpar->codec_id == AV_CODEC_ID_AAC && !in->codecpar->extradata_size)
		return fmp4_open_adts(f, in);
	return 0;
}

static int fmp4_open_io(struct fmp4 *f)
{
	uint8_t *iobuf = av_malloc(FMP4_IO_BUF);

	if (!iobuf)
		return -ENOMEM;
	f->oc->pb = avio_alloc_context(iobuf, FMP4_IO_BUF, 1, f, NULL, fmp4_io_write, NULL);
	if (!f->oc->pb) {
		av_free(iobuf);
		return -ENOMEM;
	}
	f->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
	return 0;
}

static int fmp4_start_muxer(struct fmp4 *f)
{
	AVDictionary *opts = NULL;
	int ret;

	ret = av_dict_set(&opts, "movflags", FMP4_MOVFLAGS, 0);
	if (ret < 0)
		return -ENOMEM;
	ret = avformat_write_header(f->oc, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		fmp4_averr(f, "header", ret);
		return -EPROTO;
	}
	return 0;
}

int fmp4_open(const AVStream *video, const AVStream *audio, uint32_t segment_ms,
	      const struct fmp4_sink *sink, const char *name, struct fmp4 **fp)
{
	struct fmp4 *f;
	int ret = -ENOMEM;

	if (!video || video->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
	    (audio && audio->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) ||
	    segment_ms < FMP4_SEG_MS_MIN || segment_ms > FMP4_SEG_MS_MAX || !sink || !sink->init ||
	    !sink->data || !sink->end)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->name = name ? name : "?";
	f->sink = *sink;
	f->chunk_cap = FMP4_CHUNK_BYTES;
	for (int i = 0; i < FMP4_TRACKS; i++) {
		f->trk[i].out = -1;
		f->trk[i].held = av_packet_alloc();
		if (!f->trk[i].held)
			goto fail;
	}
	if (avformat_alloc_output_context2(&f->oc, NULL, "mp4", NULL) < 0)
		goto fail;
	ret = fmp4_add_stream(f, FMP4_VIDEO, video);
	if (ret == 0 && audio)
		ret = fmp4_add_stream(f, FMP4_AUDIO, audio);
	if (ret == 0)
		ret = fmp4_open_io(f);
	if (ret == 0)
		ret = fmp4_start_muxer(f);
	if (ret < 0)
		goto fail;
	f->seg_target = av_rescale_q(segment_ms, (AVRational){ 1, 1000 }, f->trk[FMP4_VIDEO].in_tb);
	*fp = f;
	return 0;
fail:
	fmp4_close(f);
	return ret;
}

void fmp4_close(struct fmp4 *f)
{
	AVIOContext *pb;

	if (!f)
		return;
	fmp4_abandon(f);
	if (f->oc) {
		pb = f->oc->pb;
		/* Frees the muxer's state without a trailer (no mfra). */
		avformat_free_context(f->oc);
		if (pb) {
			av_freep(&pb->buffer);
			avio_context_free(&pb);
		}
	}
	for (int i = 0; i < FMP4_TRACKS; i++)
		av_packet_free(&f->trk[i].held);
	av_bsf_free(&f->adts);
	free(f->init_buf);
	free(f);
}

void fmp4_set_chunk_bytes(struct fmp4 *f, uint32_t bytes)
{
	f->chunk_cap = bytes < FMP4_CHUNK_MIN ? FMP4_CHUNK_MIN : bytes;
}
