// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fmp4_pick - which of a camera's streams the segmenter records
 * (fmp4.h): H.264 or H.265 video, and audio the mp4 muxer can carry.
 */
#include "fmp4.h"

#include <errno.h>
#include <stdio.h>

#include <libavcodec/avcodec.h>

/* True if @par is audio that fMP4 can carry on this libavformat. */
static bool fmp4_audio_ok(const AVCodecParameters *par)
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
