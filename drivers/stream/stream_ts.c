// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_ts - DTS sanitation before the segmenter (stream.c S4).
 *
 * Cameras send missing, repeated and reordered timestamps, and reset
 * them on encoder restarts. The mp4 muxer wants strictly increasing DTS
 * per track and PTS >= DTS. Small faults are repaired in place (and
 * counted); a jump is reported so the caller can start a new run instead
 * of squeezing or stretching the timeline.
 */
#include "stream_int.h"

#include <libavutil/mathematics.h>

void stream__ts_reset(struct stream_ts *t, AVRational tb)
{
	t->tb = tb;
	t->last_dts = AV_NOPTS_VALUE;
	t->last_step = 0;
	t->last_mono_us = 0;
}

/* Fill in a missing DTS; false if there is nothing to derive it from. */
static bool stream_ts_derive(const struct stream_ts *t, AVPacket *pkt)
{
	if (pkt->dts != AV_NOPTS_VALUE)
		return true;
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->dts = pkt->pts;
	else if (t->last_dts != AV_NOPTS_VALUE)
		pkt->dts = t->last_dts + (t->last_step > 0 ? t->last_step : 1);
	else
		return false;
	return true;
}

int stream__ts_fix(struct stream_ts *t, AVPacket *pkt, int64_t now_us)
{
	int verdict = STREAM_TS_OK;

	if (!stream_ts_derive(t, pkt))
		return STREAM_TS_DROP;
	if (pkt->pts == AV_NOPTS_VALUE)
		pkt->pts = pkt->dts;
	if (t->last_dts != AV_NOPTS_VALUE) {
		int64_t step_us =
			av_rescale_q(pkt->dts - t->last_dts, t->tb, (AVRational){ 1, 1000000 });
		int64_t wall_us = now_us - t->last_mono_us;

		if (step_us < -STREAM_TS_BACK_US || step_us - wall_us > STREAM_TS_JUMP_US)
			return STREAM_TS_JUMP;
		if (pkt->dts <= t->last_dts) {
			pkt->dts = t->last_dts + 1;
			verdict = STREAM_TS_FIXED;
		} else {
			t->last_step = pkt->dts - t->last_dts;
		}
	}
	if (pkt->pts < pkt->dts) {
		pkt->pts = pkt->dts;
		verdict = STREAM_TS_FIXED;
	}
	t->last_dts = pkt->dts;
	t->last_mono_us = now_us;
	return verdict;
}
