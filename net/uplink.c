// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink - lifecycle, the cross-thread queue and the uplink thread's loop
 * (guarantees U1-U6 in net/uplink.h).
 *
 * Loop, one turn:
 *   1. turn queued segment notes into outbox rows (live), demote what
 *      fell out of each camera's live window to backlog (uplink_seg.c);
 *   2. scan the ring for segments not uploaded when asked (U6, ditto);
 *   3. timers: status.json, the command poll;
 *   4. fill free slots from outbox_next() unless the link is held: one
 *      slot while the link is down (a probe), cfg.parallel when up (U5);
 *   5. curl_multi_perform, reap finished transfers, hand the batch of
 *      acknowledged rows to the ack thread when due (uplink_ack.c), fill
 *      slots again, curl_multi_poll until a socket is ready, a timer is
 *      due (<= 1 s) or another thread (the ack thread too) woke us.
 */
#include "net/uplink_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/parse.h"

#define UPLINK_POLL_MS 1000

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void uplink_cfg_defaults(struct uplink_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->parallel = 4;
	c->connect_timeout_ms = 10000;
	c->stall_timeout_ms = 20000;
	c->transfer_timeout_ms = 300000;
	c->backoff_min_ms = 1000;
	c->backoff_max_ms = 300000;
	c->status_interval_ms = 30000;
	c->commands_interval_ms = 30000;
	c->live_window = 6;
}

int64_t uplink__now(const struct uplink *up)
{
	return up->cfg.clock_ms ? up->cfg.clock_ms(up->cfg.clock_arg) : time_now_ms();
}

void uplink__wake(struct uplink *up)
{
	curl_multi_wakeup(up->multi);
}

void uplink__report(struct uplink *up, struct uplink_outcome *o)
{
	if (!up->hooks.outcome)
		return;
	if (!o->time_ms)
		o->time_ms = uplink__now(up);
	o->camera = o->camera ? o->camera : "";
	o->path = o->path ? o->path : "";
	o->detail = o->detail ? o->detail : "";
	o->id = o->id ? o->id : "";
	o->command = o->command ? o->command : "";
	o->status = o->status ? o->status : "";
	up->hooks.outcome(up->hooks.arg, o);
}

/* ---- configuration ---- */

/* The string settings, copied by uplink_start() and freed by cfg_free(). */
static const size_t cfg_str_offs[] = {
	offsetof(struct uplink_cfg, base_url),
	offsetof(struct uplink_cfg, gateway_id),
	offsetof(struct uplink_cfg, tls.ca_file),
	offsetof(struct uplink_cfg, tls.pin),
	offsetof(struct uplink_cfg, tls.cert_file),
	offsetof(struct uplink_cfg, tls.key_file),
	offsetof(struct uplink_cfg, token),
	offsetof(struct uplink_cfg, username),
	offsetof(struct uplink_cfg, password),
	offsetof(struct uplink_cfg, sigv4),
	offsetof(struct uplink_cfg, firmware_version),
};
#define CFG_NSTR (sizeof(cfg_str_offs) / sizeof(cfg_str_offs[0]))

static const char **cfg_str(struct uplink_cfg *c, size_t i)
{
	return (const char **)((char *)c + cfg_str_offs[i]);
}

static void cfg_free(struct uplink_cfg *c)
{
	for (size_t i = 0; i < CFG_NSTR; i++) {
		free((char *)*cfg_str(c, i));
		*cfg_str(c, i) = NULL;
	}
}

static int cfg_copy(struct uplink_cfg *dst, const struct uplink_cfg *src)
{
	*dst = *src;
	for (size_t i = 0; i < CFG_NSTR; i++) {
		const char **p = cfg_str(dst, i);

		if (*p && !(*p = strdup(*p))) {
			for (size_t j = i + 1; j < CFG_NSTR; j++)
				*cfg_str(dst, j) = NULL;
			cfg_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

static int cfg_check(const struct uplink_cfg *c)
{
	const char *why = NULL;

	if (!tls_url_ok(c->base_url))
		why = "base_url must be an https:// URL (plaintext is refused)";
	else if (strlen(c->base_url) > UPLINK_URL_MAX / 2)
		why = "base_url is too long";
	else if (!uplink_id_ok(c->gateway_id))
		why = "gateway id must be 1-63 of [A-Za-z0-9._-]";
	else if (c->parallel < 1 || c->parallel > UPLINK_PARALLEL_MAX)
		why = "parallel must be 1..16";
	else if (c->live_window < 1 || c->live_window > UPLINK_LIVE_WINDOW_MAX)
		why = "live_window must be 1..32";
	else if (c->auth == UPLINK_AUTH_BEARER && empty(c->token))
		why = "auth bearer needs a token";
	else if ((c->auth == UPLINK_AUTH_BASIC || c->auth == UPLINK_AUTH_SIGV4) &&
		 (empty(c->username) || empty(c->password)))
		why = "auth basic/sigv4 needs a username and a password";
	else if (c->auth == UPLINK_AUTH_SIGV4 && (empty(c->sigv4) || strncmp(c->sigv4, "aws:", 4)))
		why = "auth sigv4 needs sigv4 = aws:amz:REGION:SERVICE";
	else if (c->auth < UPLINK_AUTH_NONE || c->auth > UPLINK_AUTH_SIGV4)
		why = "unknown auth kind";
	else if (c->status_interval_ms < 1000 || c->connect_timeout_ms < 100 ||
		 c->stall_timeout_ms < 1000 || c->transfer_timeout_ms < 1000 ||
		 c->backoff_min_ms < 10 || c->backoff_max_ms < c->backoff_min_ms)
		why = "a timeout or interval is out of range";
	if (why) {
		log_err("uplink: %s", why);
		return -EINVAL;
	}
	return tls_cfg_check(&c->tls);
}

/* ---- other threads ---- */

int uplink_segment_added(struct uplink *up, const struct ring_seg_info *info)
{
	int ret = 0;

	uplink__lock(&up->lock);
	if (up->q_len >= UPLINK_QUEUE_MAX) {
		up->st.queue_overflows++;
		up->rescan = true;
		ret = -ENOBUFS;
		goto out;
	}
	up->queue[(up->q_head + up->q_len) % UPLINK_QUEUE_MAX] = *info;
	up->q_len++;
out:
	uplink__unlock(&up->lock);
	uplink__wake(up);
	return ret;
}

void uplink_status_now(struct uplink *up)
{
	uplink__lock(&up->lock);
	up->status_now = true;
	uplink__unlock(&up->lock);
	uplink__wake(up);
}

int uplink_stat(struct uplink *up, struct uplink_stat *st)
{
	struct outbox_stat os;
	int ret = outbox_stat(up->ob, &os);

	uplink__lock(&up->lock);
	*st = up->st;
	st->pending_notes = up->q_len + (up->rescan || up->scanning);
	uplink__unlock(&up->lock);
	if (!ret)
		st->pending_rows = os.rows[0] + os.rows[1] + os.rows[2];
	return ret;
}

/* ---- the loop ---- */

/* The first free slot; *busy_rowsp counts the rows in flight and
 * busy[0..*nbusyp) (UPLINK_BUSY_MAX) lists them with the acknowledged
 * rows still waiting for their commit: none of them is to be sent. */
static struct uplink_slot *free_slot(struct uplink *up, unsigned int *busy_rowsp, int64_t *busy,
				     size_t *nbusyp)
{
	struct uplink_slot *fs = NULL;

	*busy_rowsp = 0;
	*nbusyp = 0;
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++) {
		struct uplink_slot *s = &up->slots[i];

		if (s->kind == XF_NONE && !fs)
			fs = s;
		if (s->kind == XF_ROW) {
			busy[(*nbusyp)++] = s->it.id;
			(*busy_rowsp)++;
		}
	}
	*nbusyp += uplink__ack_busy(up, busy + *nbusyp);
	return fs;
}

static bool idle(const struct uplink *up)
{
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		if (up->slots[i].kind != XF_NONE)
			return false;
	return true;
}

static bool link_up(struct uplink *up)
{
	bool v;

	uplink__lock(&up->lock);
	v = up->st.link_up;
	uplink__unlock(&up->lock);
	return v;
}

static void fill_slots(struct uplink *up, int64_t mono)
{
	unsigned int limit = link_up(up) ? up->cfg.parallel : 1;
	int64_t busy[UPLINK_BUSY_MAX];

	if (mono < up->hold_until || mono < up->store_hold_until)
		return;
	for (;;) {
		struct outbox_item it;
		unsigned int rows;
		size_t nbusy;
		struct uplink_slot *s = free_slot(up, &rows, busy, &nbusy);

		if (!s || rows >= limit)
			return;
		if (outbox_next(up->ob, mono, busy, nbusy, &it))
			return;
		/* On failure the row was rescheduled or dropped there, or
		 * the link held when state.db took neither (U7). */
		uplink__start_row(up, s, &it);
		if (mono < up->hold_until || mono < up->store_hold_until)
			return;
	}
}

static void poll_commands(struct uplink *up, int64_t mono)
{
	unsigned int rows = 0;
	int64_t busy[UPLINK_BUSY_MAX];
	size_t nbusy;
	struct uplink_slot *s;

	if (!up->cfg.commands_interval_ms || mono < up->next_cmds || mono < up->hold_until ||
	    mono < up->store_hold_until)
		return;
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		if (up->slots[i].kind == XF_CMD_LIST || up->slots[i].kind == XF_CMD_GET)
			return; /* the previous poll is still running */
	s = free_slot(up, &rows, busy, &nbusy);
	if (!s)
		return;
	up->next_cmds = mono + up->cfg.commands_interval_ms;
	uplink__start_get(up, s, XF_CMD_LIST, NULL);
}

static void timers(struct uplink *up, int64_t mono)
{
	bool now;

	uplink__lock(&up->lock);
	now = up->status_now;
	up->status_now = false;
	uplink__unlock(&up->lock);
	if (now || mono >= up->next_status) {
		up->next_status = mono + up->cfg.status_interval_ms;
		uplink__status(up);
	}
	poll_commands(up, mono);
}

static void reap(struct uplink *up)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(up->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (unsigned int i = 0; i < UPLINK_SLOTS; i++) {
			struct uplink_slot *s = &up->slots[i];

			if (s->kind != XF_NONE && s->h == m->easy_handle) {
				uplink__done(up, s, m->data.result);
				break;
			}
		}
	}
}

static bool stopping(struct uplink *up)
{
	bool v;

	uplink__lock(&up->lock);
	v = up->stop;
	uplink__unlock(&up->lock);
	return v;
}

/* How long curl_multi_poll() may sleep: until the next timer, the end of
 * a link hold (the probe, U5) or the ack commit (@ack_ms, -1: none), at
 * most UPLINK_POLL_MS. Sockets and wakeups end it sooner. */
static int poll_ms(const struct uplink *up, int64_t mono, int64_t ack_ms)
{
	int64_t t = UPLINK_POLL_MS;
	const int64_t due[] = { up->hold_until - mono, up->store_hold_until - mono,
				up->next_status - mono, ack_ms,
				up->store_failing ? up->scan_at - mono : -1 };

	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++)
		if (due[i] >= 0 && due[i] < t)
			t = due[i];
	return (int)t;
}

/* At stop: transfers already in flight may finish, for a bounded time,
 * so that what central stored is also acknowledged here (and not sent
 * again after the restart). Nothing new starts. It also spares libcurl
 * 7.88 a leak: the response-header buffer of an HTTP/2 stream removed
 * mid-flight while other streams share the connection (LeakSanitizer:
 * 256 bytes from its nghttp2 header callback, after a reload that rebuilt
 * the uplink during uploads). */
static void drain_in_flight(struct uplink *up)
{
	int64_t end = time_mono_ms() + UPLINK_STOP_DRAIN_MS;
	int running = 0;

	while (!idle(up) && time_mono_ms() < end) {
		curl_multi_perform(up->multi, &running);
		reap(up);
		if (!idle(up))
			curl_multi_poll(up->multi, NULL, 0, 50, NULL);
	}
}

static void *uplink_main(void *arg)
{
	struct uplink *up = arg;
	int running = 0;

	up->started_mono = up->tput_since = time_mono_ms();
	up->next_status = up->started_mono;
	up->next_cmds = up->started_mono;
	while (!stopping(up)) {
		int64_t mono, ack_ms;

		uplink__drain_notes(up);
		uplink__scan(up);
		mono = time_mono_ms();
		timers(up, mono);
		fill_slots(up, mono);
		curl_multi_perform(up->multi, &running);
		reap(up);
		mono = time_mono_ms();
		ack_ms = uplink__ack_flush(up, mono, idle(up), false);
		fill_slots(up, mono);
		curl_multi_poll(up->multi, NULL, 0, poll_ms(up, mono, ack_ms), NULL);
	}
	/* Transfers still in flight after the drain are abandoned (their
	 * rows stay); what central acknowledged is committed. */
	drain_in_flight(up);
	uplink__ack_flush(up, time_mono_ms(), true, true);
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		uplink__slot_free(&up->slots[i]);
	return NULL;
}

static void uplink_free(struct uplink *up)
{
	uplink__ack_stop(up);
	for (unsigned int i = 0; i < UPLINK_SLOTS; i++)
		uplink__slot_free(&up->slots[i]);
	uplink__live_free(up);
	if (up->multi)
		curl_multi_cleanup(up->multi);
	outbox_close(up->ob);
	cfg_free(&up->cfg);
	pthread_mutex_destroy(&up->lock);
	free(up);
}

static int uplink_init(struct uplink *up, const struct uplink_cfg *cfg)
{
	int64_t probe_max;
	uint64_t seed = 0;
	size_t blen;
	int ret;

	ret = cfg_copy(&up->cfg, cfg);
	if (ret)
		return ret;
	blen = strlen(cfg->base_url);
	while (blen && cfg->base_url[blen - 1] == '/')
		blen--;
	snprintf(up->root, sizeof(up->root), "%.*s/gateways/%s/", (int)blen, cfg->base_url,
		 cfg->gateway_id);
	seed = backoff_seed(up);
	backoff_init(&up->link_backoff, (uint32_t)cfg->backoff_min_ms,
		     (uint32_t)cfg->backoff_max_ms, seed);
	/* U5: while nothing answers, probe every backoff_min/2..2 x backoff_min. */
	probe_max = cfg->backoff_max_ms < 2 * cfg->backoff_min_ms ? cfg->backoff_max_ms
								  : 2 * cfg->backoff_min_ms;
	backoff_init(&up->probe_backoff, (uint32_t)cfg->backoff_min_ms, (uint32_t)probe_max,
		     seed ^ 0x5bd1e995u);
	up->trust = -1; /* the first 2xx tells TRUST_OK: an alarm of a run before clears */
	/* U7: recording may wait for state.db to take rows again, so the
	 * retries stay short whatever backoff_max says. */
	probe_max = cfg->backoff_max_ms < UPLINK_STORE_RETRY_MAX_MS ? cfg->backoff_max_ms
								    : UPLINK_STORE_RETRY_MAX_MS;
	backoff_init(&up->store_backoff, (uint32_t)cfg->backoff_min_ms, (uint32_t)probe_max,
		     seed ^ 0x27d4eb2fu);
	backoff_init(&up->ack_backoff, (uint32_t)cfg->backoff_min_ms, (uint32_t)probe_max,
		     seed ^ 0x165667b1u);
	up->multi = curl_multi_init();
	if (!up->multi)
		return -ENOMEM;
	curl_multi_setopt(up->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(up->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->parallel);
	curl_multi_setopt(up->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg->parallel + 1);
	return 0;
}

int uplink_start(const struct uplink_cfg *cfg, const struct uplink_hooks *hooks, struct ring *ring,
		 struct statedb *sdb, struct uplink **upp)
{
	struct uplink *up;
	int ret;

	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK) {
		log_err("uplink: libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -ENOMEM;
	}
	ret = cfg_check(cfg);
	if (ret)
		return ret;
	up = calloc(1, sizeof(*up));
	if (!up)
		return -ENOMEM;
	pthread_mutex_init(&up->lock, NULL);
	up->rescan = true; /* U6: the first turn scans the ring */
	if (hooks)
		up->hooks = *hooks;
	up->ring = ring;
	up->sdb = sdb;
	ret = uplink_init(up, cfg);
	if (!ret)
		ret = outbox_open(sdb, &up->ob);
	if (!ret)
		ret = uplink__ack_start(up);
	if (ret)
		goto fail;
	ret = -pthread_create(&up->thread, NULL, uplink_main, up);
	if (ret) {
		log_err("uplink: cannot start thread: %s", strerror(-ret));
		goto fail;
	}
	pthread_setname_np(up->thread, "uplink"); /* top -H, gdb */
	log_notice("uplink: sending to %s (%u parallel, live window %u)", up->root, cfg->parallel,
		   cfg->live_window);
	*upp = up;
	return 0;
fail:
	uplink_free(up);
	return ret;
}

void uplink_stop(struct uplink *up)
{
	if (!up)
		return;
	uplink__lock(&up->lock);
	up->stop = true;
	uplink__unlock(&up->lock);
	uplink__wake(up);
	pthread_join(up->thread, NULL);
	uplink_free(up);
}
