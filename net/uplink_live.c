// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live HLS playlists, one per camera (U3): media/{camera}/live.m3u8,
 * fMP4 segments (EXT-X-MAP to the init segment), the newest live_window
 * segments central acknowledged.
 *
 * Only a segment sent as live (uplink_ack.c) and newer than the
 * playlist's newest enters it, so backlog sent after an outage never
 * reorders live view. Live goes newest first after an outage (U4), so
 * the playlist then jumps to the newest segment (a skipped sequence
 * number: EXT-X-DISCONTINUITY) and fills up as new ones come; putting the
 * older ones in before it would change published media sequence numbers
 * (RFC 8216 section 6.2.2). A skipped sequence
 * number, a new init segment or a segment the stream marked
 * discontinuous gets EXT-X-DISCONTINUITY. Media sequence numbers are
 * given once per entry (the first from the ring's seq, so they never go
 * back across restarts) and EXT-X-DISCONTINUITY-SEQUENCE counts the tags
 * that slid out, as RFC 8216 section 6.2.2 asks of a live playlist.
 *
 * Across restarts: the outbox keeps each camera's newest playlist in
 * state.db, committed with the acknowledgements that made it
 * (outbox_live_get()), and the window is read back from that text when
 * the camera's first live segment after the start is acknowledged. So
 * media sequence numbers go on from where they were (each keeps naming
 * the same segment), EXT-X-DISCONTINUITY-SEQUENCE never goes back, and
 * the first segment added after the restart gets EXT-X-DISCONTINUITY:
 * the stream was reopened, its timestamps start over.
 * Uplink thread only.
 */
#include "net/uplink_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"

#define PLAYLIST_MAX (UPLINK_LIVE_WINDOW_MAX * 256 + 512)

bool uplink__live_add(struct live_cam *lc, const struct live_entry *e, unsigned int window)
{
	struct live_entry ne = *e;
	const struct live_entry *last = lc->n ? &lc->win[lc->n - 1] : NULL;
	/* RFC 8216 4.3.3.1: each EXTINF rounded to the nearest integer is at
	 * most the target; rounding up instead would raise the target (which
	 * a live playlist must not change) for a segment a frame too long. */
	uint32_t secs = (e->duration_ms + 500) / 1000;

	if (window < 1 || window > UPLINK_LIVE_WINDOW_MAX)
		window = UPLINK_LIVE_WINDOW_MAX;
	/* Only newer segments enter. After a restart, one that starts after
	 * the newest listed but has a lower number comes from a ring made
	 * anew (numbers start over): it is newer, behind a discontinuity. */
	if (last && e->seq <= last->seq &&
	    !(lc->resumed && e->start_ms >= last->start_ms + (int64_t)last->duration_ms))
		return false;
	ne.msn = last ? last->msn + 1 : e->seq;
	ne.disc = last && (e->init_id != last->init_id || e->seq != last->seq + 1 ||
			   (e->flags & RING_F_DISCONT) || lc->resumed);
	lc->resumed = false;
	while (lc->n >= window) {
		if (lc->win[0].disc)
			lc->disc_seq++;
		memmove(&lc->win[0], &lc->win[1], (lc->n - 1) * sizeof(lc->win[0]));
		lc->n--;
	}
	lc->win[lc->n++] = ne;
	if (secs > lc->target_s)
		lc->target_s = secs;
	return true;
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

int uplink__playlist(const struct live_cam *lc, char *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap };
	char t[32];

	if (!lc->n || !cap)
		return -ENOENT;
	put(&o, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%" PRIu32 "\n",
	    lc->target_s ? lc->target_s : 1);
	put(&o, "#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n", lc->win[0].msn);
	if (lc->disc_seq)
		put(&o, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRIu64 "\n", lc->disc_seq);
	put(&o, "#EXT-X-INDEPENDENT-SEGMENTS\n");
	for (unsigned int i = 0; i < lc->n; i++) {
		const struct live_entry *e = &lc->win[i];

		if (e->disc)
			put(&o, "#EXT-X-DISCONTINUITY\n");
		if (!i || e->init_id != lc->win[i - 1].init_id)
			put(&o, "#EXT-X-MAP:URI=\"init-%" PRIu64 ".mp4\"\n", e->init_id);
		format_time_ms(e->start_ms, t, sizeof(t));
		put(&o, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%" PRIu32 ".%03" PRIu32 ",\n%s\n", t,
		    e->duration_ms / 1000, e->duration_ms % 1000, e->name);
	}
	return o.full ? -E2BIG : (int)o.len;
}

/* The value after "@tag:" on line @line, or NULL. */
static const char *tag_val(const char *line, const char *tag)
{
	size_t n = strlen(tag);

	return !strncmp(line, tag, n) && line[n] == ':' ? line + n + 1 : NULL;
}

static int u64_of(const char *s, uint64_t *vp)
{
	int64_t v;
	int ret = parse_i64(s, 0, INT64_MAX, &v);

	if (!ret)
		*vp = (uint64_t)v;
	return ret;
}

/* One line of a playlist into @lc; @e is the entry being read. */
static int parse_line(struct live_cam *lc, struct live_entry *e, bool *have_inf, char *line)
{
	const char *v;
	uint64_t u;
	int64_t t;
	char *p;

	if ((v = tag_val(line, "#EXT-X-TARGETDURATION"))) {
		if (u64_of(v, &u) || u > UINT32_MAX)
			return -EPROTO;
		lc->target_s = (uint32_t)u;
	} else if ((v = tag_val(line, "#EXT-X-MEDIA-SEQUENCE"))) {
		if (u64_of(v, &e->msn))
			return -EPROTO;
	} else if ((v = tag_val(line, "#EXT-X-DISCONTINUITY-SEQUENCE"))) {
		if (u64_of(v, &lc->disc_seq))
			return -EPROTO;
	} else if (!strcmp(line, "#EXT-X-DISCONTINUITY")) {
		e->disc = true;
	} else if ((v = tag_val(line, "#EXT-X-MAP"))) {
		if (strncmp(v, "URI=\"init-", 10) || !(p = strstr(v, ".mp4\"")))
			return -EPROTO;
		*p = '\0';
		if (u64_of(v + 10, &e->init_id))
			return -EPROTO;
	} else if ((v = tag_val(line, "#EXT-X-PROGRAM-DATE-TIME"))) {
		if (parse_time_ms(v, 0, &t))
			return -EPROTO;
		e->start_ms = t;
	} else if ((v = tag_val(line, "#EXTINF"))) {
		double d = strtod(v, &p);

		if (p == v || *p != ',' || d < 0 || d > UINT32_MAX / 1000)
			return -EPROTO;
		e->duration_ms = (uint32_t)(d * 1000 + 0.5);
		*have_inf = true;
	} else if (line[0] && line[0] != '#') {
		/* A segment's URI: {time}-{seq}.m4s */
		const char *dash = strrchr(line, '-');

		if (!*have_inf || lc->n >= UPLINK_LIVE_WINDOW_MAX || !dash ||
		    !(p = strstr(dash, ".m4s")) || p[4])
			return -EPROTO;
		if (snprintf(e->name, sizeof(e->name), "%s", line) >= (int)sizeof(e->name))
			return -EPROTO;
		*p = '\0';
		if (u64_of(dash + 1, &e->seq))
			return -EPROTO;
		lc->win[lc->n++] = *e;
		/* The next entry: the same init, the next number. */
		e->msn++;
		e->disc = false;
		e->name[0] = '\0';
		*have_inf = false;
	}
	return 0;
}

int uplink__playlist_parse(struct live_cam *lc, const char *text)
{
	struct live_entry e = { .msn = 0 };
	bool have_inf = false;
	char *copy = strdup(text), *line, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	lc->n = 0;
	lc->disc_seq = 0;
	lc->target_s = 0;
	if (strncmp(copy, "#EXTM3U\n", 8))
		ret = -EPROTO;
	for (line = strtok_r(copy, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save))
		ret = parse_line(lc, &e, &have_inf, line);
	free(copy);
	if (!ret && !lc->n)
		ret = -EPROTO;
	if (ret) {
		lc->n = 0;
		lc->disc_seq = 0;
		lc->target_s = 0;
		return ret;
	}
	lc->resumed = true;
	return 0;
}

/* @lc's window as the playlist committed before the restart left it. */
static void live_load(struct uplink *up, struct live_cam *lc)
{
	char *text = NULL;
	int ret = outbox_live_get(up->ob, lc->camera, &text);

	if (ret == -ENOENT)
		return;
	if (!ret)
		ret = uplink__playlist_parse(lc, text);
	free(text);
	if (ret)
		log_warn(
			"uplink: %s: live playlist of the last run unreadable (%s); it starts over",
			lc->camera, strerror(-ret));
}

static struct live_cam *live_find(struct uplink *up, const char *camera, bool create)
{
	struct live_cam *lc;

	for (unsigned int i = 0; i < up->nlive; i++)
		if (!strcmp(up->live[i]->camera, camera))
			return up->live[i];
	if (!create || up->nlive >= UPLINK_CAMERAS_MAX)
		return NULL;
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return NULL;
	snprintf(lc->camera, sizeof(lc->camera), "%s", camera);
	if (up->ob)
		live_load(up, lc);
	up->live[up->nlive++] = lc;
	return lc;
}

void uplink__live_free(struct uplink *up)
{
	for (unsigned int i = 0; i < up->nlive; i++)
		free(up->live[i]);
	up->nlive = 0;
}

/* Is init segment @init_id at central: acknowledged in @job or before? */
static int init_acked(struct uplink *up, const struct uplink_ack_job *job, uint64_t init_id,
		      bool *ackedp)
{
	for (unsigned int i = 0; i < job->n; i++)
		if (job->rows[i].kind == OUTBOX_INIT && job->rows[i].ref == init_id) {
			*ackedp = true;
			return 0;
		}
	return outbox_init_acked(up->ob, init_id, ackedp);
}

/* Render @lc's playlist into @job unless an init segment it names is not
 * yet at central: then the init's acknowledgement writes it (U3). A
 * playlist already in @job for the camera is replaced. */
static int live_write(struct uplink *up, const struct live_cam *lc, struct uplink_ack_job *job)
{
	struct outbox_item *it = NULL;
	char *buf;
	int ret;

	for (unsigned int i = 0; i < lc->n; i++) {
		bool acked = false;

		if (i && lc->win[i].init_id == lc->win[i - 1].init_id)
			continue;
		ret = init_acked(up, job, lc->win[i].init_id, &acked);
		if (ret || !acked)
			return ret;
	}
	buf = malloc(PLAYLIST_MAX);
	if (!buf)
		return -ENOMEM;
	ret = uplink__playlist(lc, buf, PLAYLIST_MAX);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	for (unsigned int i = 0; i < job->nputs && !it; i++)
		if (!strcmp(job->puts[i].camera, lc->camera))
			it = &job->puts[i];
	if (it)
		outbox_item_clear(it);
	else if (job->nputs < UPLINK_ACK_BATCH)
		it = &job->puts[job->nputs++];
	if (!it) { /* one playlist per row at most: cannot happen */
		free(buf);
		return -ENOBUFS;
	}
	*it = (struct outbox_item){ .prio = OUTBOX_URGENT, .kind = OUTBOX_PLAYLIST, .body = buf };
	snprintf(it->camera, sizeof(it->camera), "%s", lc->camera);
	snprintf(it->path, sizeof(it->path), "media/%s/live.m3u8", lc->camera);
	it->start_ms = it->created_ms = uplink__now(up);
	return 0;
}

bool uplink__live_moves(struct uplink *up, const struct outbox_item *it)
{
	struct live_cam *lc = live_find(up, it->camera, false);

	return !lc || !lc->n || it->seq > lc->win[lc->n - 1].seq;
}

int uplink__live_ack(struct uplink *up, const struct outbox_item *it, struct uplink_ack_job *job)
{
	struct live_cam *lc = live_find(up, it->camera, true);
	struct live_entry e = { .seq = it->seq,
				.init_id = it->init_id,
				.start_ms = it->start_ms,
				.duration_ms = it->duration_ms,
				.flags = it->flags };
	const char *base = strrchr(it->path, '/');

	if (!lc)
		return -ENOMEM;
	if (snprintf(e.name, sizeof(e.name), "%s", base ? base + 1 : it->path) >=
	    (int)sizeof(e.name))
		return -E2BIG;
	if (!uplink__live_add(lc, &e, up->cfg.live_window))
		return 0;
	return live_write(up, lc, job);
}

int uplink__live_init_acked(struct uplink *up, const char *camera, struct uplink_ack_job *job)
{
	struct live_cam *lc = live_find(up, camera, false);

	return lc && lc->n ? live_write(up, lc, job) : 0;
}
