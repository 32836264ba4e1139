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
 *                      segment stands alone (CMAF).
 * The muxer writes into one growable buffer through a custom AVIOContext;
 * each flush is one segment, handed to the sink, then the buffer is
 * reused. One packet per track is held back until the next DTS of that
 * track is known, which gives every sample its exact duration (RTSP
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

#define FMP4_IO_BUF    (64 * 1024)   /* libavformat's write buffer */
#define FMP4_BUF_MIN   (256u * 1024) /* first size of the segment buffer */
#define FMP4_BUF_KEEP  (8u << 20)    /* above this, shrink after a small segment */
#define FMP4_SEG_SLACK (1u << 20)    /* room for moof, trun tables, init */
#define FMP4_MOVFLAGS  "frag_custom+empty_moov+delay_moov+default_base_moof"

/* The write callback's buffer became const in libavformat 61. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define FMP4_WBUF const uint8_t
#else
#define FMP4_WBUF uint8_t
#endif

static const AVRational fmp4_us = { 1, 1000000 };

struct fmp4_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* first failure, negative errno */
};

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
	struct fmp4_buf buf;
	struct fmp4_trk trk[FMP4_TRACKS];
	AVBSFContext *adts;  /* ADTS AAC to raw, or NULL */
	int64_t seg_target;  /* in video in_tb */
	int64_t seg_start;   /* rebased video DTS of the open segment */
	uint64_t seg_bytes;  /* sample bytes in the open segment */
	struct fmp4_seg seg; /* the open segment */
	bool started;	     /* first keyframe seen, origins set */
	bool seg_open;
	bool init_sent;
	bool finished;
	bool audio_off; /* audio failed once: video goes on alone */
};

static void fmp4_averr(const struct fmp4 *f, const char *what, int averr)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(averr, msg, sizeof(msg));
	log_err("%s: fmp4 %s: %s", f->name, what, msg);
}

bool fmp4_audio_ok(const AVCodecParameters *par)
{
	const AVOutputFormat *mp4 = av_guess_format("mp4", NULL, NULL);

	if (!mp4 || par->codec_type != AVMEDIA_TYPE_AUDIO)
		return false;
	if (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0)
		return false;
	if (par->codec_id == AV_CODEC_ID_AAC)
		return true;
	return avformat_query_codec(mp4, par->codec_id, FF_COMPLIANCE_NORMAL) == 1;
}

int fmp4_pick_streams(AVFormatContext *ic, struct fmp4_pick *pick)
{
	const AVCodecParameters *par;
	int v, a;

	pick->video = -1;
	pick->audio = -1;
	pick->note[0] = '\0';
	v = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (v < 0) {
		snprintf(pick->note, sizeof(pick->note), "no video stream");
		return -ENOTSUP;
	}
	par = ic->streams[v]->codecpar;
	if (par->codec_id != AV_CODEC_ID_H264 && par->codec_id != AV_CODEC_ID_HEVC) {
		snprintf(pick->note, sizeof(pick->note),
			 "video %s refused: only H.264 and H.265 are recorded",
			 avcodec_get_name(par->codec_id));
		return -ENOTSUP;
	}
	a = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, v, NULL, 0);
	if (a >= 0 && !fmp4_audio_ok(ic->streams[a]->codecpar)) {
		snprintf(pick->note, sizeof(pick->note), "audio %s dropped: not supported in fMP4",
			 avcodec_get_name(ic->streams[a]->codecpar->codec_id));
		a = -1;
	}
	for (unsigned int i = 0; i < ic->nb_streams; i++)
		if ((int)i != v && (int)i != a)
			ic->streams[i]->discard = AVDISCARD_ALL;
	pick->video = v;
	pick->audio = a < 0 ? -1 : a;
	return 0;
}

/* Append what the muxer writes; the buffer grows up to its cap and is
 * reused for every segment. */
static int fmp4_io_write(void *opaque, FMP4_WBUF *data, int size)
{
	struct fmp4_buf *b = opaque;
	size_t need, ncap;
	uint8_t *p;

	if (size <= 0)
		return 0;
	need = b->len + (size_t)size;
	if (need > b->cap) {
		if (need > FMP4_SEG_CAP) {
			b->err = -E2BIG;
			return AVERROR(E2BIG);
		}
		ncap = b->cap ? b->cap : FMP4_BUF_MIN;
		while (ncap < need)
			ncap *= 2;
		if (ncap > FMP4_SEG_CAP)
			ncap = FMP4_SEG_CAP;
		p = realloc(b->data, ncap);
		if (!p) {
			b->err = -ENOMEM;
			return AVERROR(ENOMEM);
		}
		b->data = p;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, data, (size_t)size);
	b->len = need;
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

static int fmp4_deliver(struct fmp4 *f)
{
	const uint8_t *data = f->buf.data;
	size_t len = f->buf.len;

	if (!f->init_sent) {
		size_t ilen = fmp4_init_len(data, len);

		if (!ilen) {
			log_err("%s: fmp4: no moov in the first fragment", f->name);
			return -EIO;
		}
		f->sink.init(f->sink.arg, data, ilen);
		f->init_sent = true;
		data += ilen;
		len -= ilen;
	}
	f->sink.segment(f->sink.arg, &f->seg, data, len);
	f->buf.len = 0;
	/* One oversized segment must not pin its buffer for the whole run. */
	if (f->buf.cap > FMP4_BUF_KEEP && len < f->buf.cap / 4) {
		free(f->buf.data);
		f->buf.data = NULL;
		f->buf.cap = 0;
	}
	return 0;
}

/* Flush the open fragment as one segment that ends at @end (video in_tb). */
static int fmp4_cut(struct fmp4 *f, int64_t end, bool partial)
{
	AVRational vtb = f->trk[FMP4_VIDEO].in_tb;
	int ret;

	f->seg.duration_us = av_rescale_q(end - f->seg_start, vtb, fmp4_us);
	f->seg.partial = partial;
	f->seg_open = false;
	f->seg_bytes = 0;
	ret = av_write_frame(f->oc, NULL);
	/* With delay_moov the first flush writes only ftyp+moov; the second
	 * writes the fragment (as the muxer's own auto flush does). */
	if (ret >= 0 && !f->init_sent)
		ret = av_write_frame(f->oc, NULL);
	if (ret >= 0)
		avio_flush(f->oc->pb);
	if (f->buf.err) {
		log_err("%s: fmp4 segment buffer: %s", f->name, strerror(-f->buf.err));
		return f->buf.err;
	}
	if (ret < 0) {
		fmp4_averr(f, "flush", ret);
		return -EIO;
	}
	return fmp4_deliver(f);
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
	f->seg_bytes += (uint64_t)p->size;
	if (t == &f->trk[FMP4_VIDEO]) {
		f->seg.video_frames++;
		f->seg.video_bytes += (uint64_t)p->size;
	} else {
		f->seg.has_audio = true;
	}
	av_packet_rescale_ts(p, t->in_tb, st->time_base);
	p->stream_index = t->out;
	ret = av_write_frame(f->oc, p);
	av_packet_unref(p);
	if (ret >= 0)
		return 0;
	if (f->buf.err)
		return f->buf.err;
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

int fmp4_finish(struct fmp4 *f)
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
	end = v->held->dts + (v->held->duration > 0 ? v->held->duration : v->last_step);
	ret = fmp4_emit(f, v, AV_NOPTS_VALUE);
	if (ret == 0 && a->holding)
		ret = fmp4_emit(f, a, AV_NOPTS_VALUE);
	if (ret < 0)
		return ret;
	return fmp4_cut(f, end, true);
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
	f->oc->pb = avio_alloc_context(iobuf, FMP4_IO_BUF, 1, &f->buf, NULL, fmp4_io_write, NULL);
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
	    !sink->segment)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->name = name ? name : "?";
	f->sink = *sink;
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
	free(f->buf.data);
	free(f);
}
