/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compliance_health - R11: the health signals of a recording camera that
 * open its "fault" duty (firmware/compliance.h) besides a stream that is
 * down: frames per second under the camera's profile, bitrate under a
 * floor, breaks in the recording (gaps), the camera's clock off, ONVIF
 * credentials refused. Pure: the
 * daemon (firmware/daemon_compliance.c) gathers the measurements, keeps
 * how long a camera has been unhealthy and opens the duty after
 * [compliance] fault_after, as it does for a stream down.
 *
 * Threads: any (no state). Ownership: everything borrowed.
 */
#ifndef CAMGATE_FIRMWARE_COMPLIANCE_HEALTH_H
#define CAMGATE_FIRMWARE_COMPLIANCE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is measured of one camera; 0 where a signal is not known. */
struct compliance_health {
	double fps;		   /* drivers/stream, over the last segment */
	double profile_fps;	   /* the main profile's, from the registry */
	uint64_t bitrate_bps;	   /* drivers/stream, over the last segment */
	int64_t clock_offset_ms;   /* camera minus gateway, from discovery */
	unsigned int auth_refused; /* discovery rounds in a row refused */
	unsigned int gaps;	   /* breaks between stored segments, per hour */
};

/* The [compliance] thresholds; 0 turns a signal off. */
struct compliance_health_limits {
	unsigned int fps_min_pct;      /* fps under this % of the profile's */
	unsigned int bitrate_min_kbps; /* bitrate under this */
	int64_t clock_max_ms;	       /* |offset| over this */
	unsigned int auth_refused_max; /* refused this many rounds in a row */
	unsigned int gaps_max;	       /* this many gaps within an hour */
};

/* True when @h breaks a limit of @l; then @detail names every signal
 * broken, "; "-separated ("fps 4.8 against 25 in the profile; clock 312 s
 * off"). @detail is "" otherwise. */
bool compliance_health_check(const struct compliance_health *h,
			     const struct compliance_health_limits *l, char *detail, size_t cap);

/* An hourly window over a growing count of gaps; zeroed to start. */
struct compliance_gaps {
	int64_t mark_ms;	/* this hour's start; 0: not started */
	unsigned int mark;	/* the count then */
	unsigned int last_hour; /* gaps of the hour before */
};
/* Gaps within an hour, @count being the gaps counted so far at @now_ms:
 * the last full hour's or this hour's so far, whichever is more, so a
 * camera that broke often stays unhealthy until a full hour without. An
 * hour skipped (no call for two hours) counts as none. */
unsigned int compliance_gaps_hourly(struct compliance_gaps *w, unsigned int count, int64_t now_ms);

/* The frame rate of the first (main) profile of a registry profiles text
 * ("prof0 H264 1920x1080@25; prof1 ..."); 0 when there is none. */
double compliance_profile_fps(const char *profiles);

#endif /* CAMGATE_FIRMWARE_COMPLIANCE_HEALTH_H */
