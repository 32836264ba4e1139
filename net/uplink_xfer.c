// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink transfers: one libcurl easy handle per slot, reused.
 *
 * curl reads a row's body through CURLOPT_READFUNCTION: a media segment
 * straight from the ring into curl's buffer (ring_reader: no copy of the
 * whole segment, disk reads between network writes), anything else from
 * the slot's buffer (inline rows: the outbox copy; init segments:
 * ring_read_init). CURLOPT_SEEKFUNCTION lets curl rewind for a redirect
 * or an HTTP/2 retry. The SHA-256 goes in the Content-Digest header (and
 * x-amz-content-sha256 when signing): for a media segment the one the
 * ring recorded when it was written, which the reader checks the bytes
 * against as they go; a mismatch aborts the request before its last
 * bytes, so central never acknowledges a body that is not the footage.
 *
 * What a result means (docs/uplink.md, "Status codes"):
 *   2xx                    acknowledged: row deleted with its batch (U1,
 *                          uplink_ack.c)
 *   no answer (DNS,
 *   connection refused)    the link: hold every request for the short
 *                          probe backoff, then probe with one (U5)
 *   other transport error,
 *   408, 5xx, 429          the link: hold every request for the link
 *                          backoff or Retry-After, then probe with one (U5)
 *   other 3xx/4xx          this object: it waits (own backoff), others go;
 *                          UPLINK_REFUSED_HOLD in a row hold the link too
 */
#include "net/uplink_int.h"

#include <errno.h>
#include <inttypes.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/sha256.h"

#define RETRY_AFTER_MAX_S 3600 /* trust central's Retry-After up to an hour */

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct uplink_slot *s = arg;
	size_t n = size * nmemb;

	if (s->rd) {
		int ret = ring_reader_read(s->rd, dst, n, &n);

		if (ret) {
			s->read_err = ret;
			return CURL_READFUNC_ABORT;
		}
		return n;
	}
	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(dst, s->buf + s->off, n);
	s->off += n;
	return n;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct uplink_slot *s = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > s->len)
		return CURL_SEEKFUNC_CANTSEEK;
	/* The reader hashes from the first byte, so it can only start over. */
	if (s->rd)
		return offset == 0 && !ring_reader_rewind(s->rd) ? CURL_SEEKFUNC_OK
								 : CURL_SEEKFUNC_CANTSEEK;
	s->off = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct uplink_slot *s = arg;
	size_t n = size * nmemb, take = n;

	/* A command object is read whole or not at all: past the cap the
	 * transfer stops (the command is then refused, uplink_cmd.c). */
	if (s->kind == XF_CMD_GET && n > UPLINK_CMD_MAX - s->resp_len) {
		s->too_big = true;
		return 0;
	}
	/* Keep the first UPLINK_RESP_MAX bytes; the rest is dropped, not
	 * failed, so a chatty error page cannot break the request. */
	if (take > UPLINK_RESP_MAX - s->resp_len)
		take = UPLINK_RESP_MAX - s->resp_len;
	if (take) {
		if (!s->resp)
			s->resp = malloc(UPLINK_RESP_MAX + 1);
		if (!s->resp)
			return 0;
		memcpy(s->resp + s->resp_len, data, take);
		s->resp_len += take;
		s->resp[s->resp_len] = '\0';
	}
	return n;
}

void uplink__slot_free(struct uplink_slot *s)
{
	if (s->h) {
		curl_easy_cleanup(s->h);
		s->h = NULL;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	outbox_item_clear(&s->it);
	ring_reader_close(s->rd);
	s->rd = NULL;
	free(s->buf);
	s->buf = NULL;
	s->buf_cap = 0;
	free(s->resp);
	s->resp = NULL;
	s->kind = XF_NONE;
}

static bool add_hdr(struct uplink_slot *s, const char *fmt, const char *val)
{
	char line[256];
	struct curl_slist *n;

	snprintf(line, sizeof(line), fmt, val);
	n = curl_slist_append(s->hdrs, line);
	if (!n)
		return false;
	s->hdrs = n;
	return true;
}

int uplink__auth_apply(const struct uplink_cfg *c, CURL *h)
{
	bool ok = true;

	switch (c->auth) {
	case UPLINK_AUTH_BEARER:
		ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->token) == CURLE_OK;
		break;
	case UPLINK_AUTH_BASIC:
		ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_USERNAME, c->username) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_PASSWORD, c->password) == CURLE_OK;
		break;
	case UPLINK_AUTH_SIGV4:
		ok = curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_USERNAME, c->username) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_PASSWORD, c->password) == CURLE_OK;
		break;
	default:
		break;
	}
	/* Credentials never follow a redirect to another host. */
	return ok ? 0 : -EINVAL;
}

/* The options every request shares. */
static int easy_setup(struct uplink *up, struct uplink_slot *s)
{
	const struct uplink_cfg *c = &up->cfg;
	CURL *h = s->h;
	long stall_s = (long)((c->stall_timeout_ms + 999) / 1000);
	bool ok;

	curl_easy_reset(h);
	ok = curl_easy_setopt(h, CURLOPT_URL, s->url) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->err) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms) ==
		     CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->transfer_timeout_ms) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_WRITEDATA, s) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_PRIVATE, s) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_USERAGENT, "camgate/uplink") == CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075000
	/* 1 s: the connection a probe opens serves it, no older one. */
	if (ok && up->renew_conn)
		ok = curl_easy_setopt(h, CURLOPT_MAXLIFETIME_CONN, 1L) == CURLE_OK;
#else
	if (ok && up->renew_conn)
		ok = curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK;
#endif
	if (ok && c->rate_bps)
		ok = curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
				      (curl_off_t)(c->rate_bps / c->parallel
							   ? c->rate_bps / c->parallel
							   : 1)) == CURLE_OK;
	if (!ok || tls_apply(h, &c->tls) || uplink__auth_apply(c, h)) {
		log_err("uplink: libcurl refused an option");
		return -EINVAL;
	}
	return 0;
}

static int buf_reserve(struct uplink_slot *s, size_t need)
{
	unsigned char *nb;

	if (need <= s->buf_cap)
		return 0;
	nb = realloc(s->buf, need);
	if (!nb)
		return -ENOMEM;
	s->buf = nb;
	s->buf_cap = need;
	return 0;
}

/* The row's body: a reader on the ring for a media segment, else the
 * bytes in s->buf. -ENOENT: evicted. -EBADMSG: corrupt. */
static int load_body(struct uplink *up, struct uplink_slot *s)
{
	struct outbox_item *it = &s->it;
	size_t need = 64 * 1024;
	int ret;

	if (it->body) {
		s->len = strlen(it->body);
		ret = buf_reserve(s, s->len + 1);
		if (!ret)
			memcpy(s->buf, it->body, s->len);
		return ret;
	}
	if (it->kind != OUTBOX_INIT) {
		ret = ring_reader_open(up->ring, it->ref, &s->rd);
		if (ret)
			return ret;
		s->len = ring_reader_info(s->rd)->len;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		ret = buf_reserve(s, need);
		if (ret)
			return ret;
		ret = ring_read_init(up->ring, it->ref, s->buf, s->buf_cap, &need);
		if (ret != -E2BIG)
			break;
	}
	if (!ret)
		s->len = need;
	return ret;
}

static const char *content_type(int kind)
{
	switch (kind) {
	case OUTBOX_INIT:
		return "video/mp4";
	case OUTBOX_SEGMENT:
		return "video/iso.segment";
	case OUTBOX_PLAYLIST:
		return "application/vnd.apple.mpegurl";
	default:
		return "application/json";
	}
}

static int digest_headers(struct uplink *up, struct uplink_slot *s)
{
	unsigned char sum[SHA256_LEN], b64[48];
	char hex[2 * SHA256_LEN + 1];
	size_t olen = 0;

	/* A segment's digest is the one the ring stored, which its reader
	 * checks the bytes against as curl takes them. Inline bodies and
	 * init segments are small. */
	if (s->rd)
		memcpy(sum, ring_reader_info(s->rd)->sha256, sizeof(sum));
	else if (sha256_oneshot(s->buf, s->len, sum))
		return -EIO;
	mbedtls_base64_encode(b64, sizeof(b64), &olen, sum, sizeof(sum));
	b64[olen] = '\0';
	hex_encode(sum, sizeof(sum), hex);
	/* No "Expect: 100-continue" round trip, except when signing:
	 * libcurl's SigV4 would sign the removed header it never sends. */
	if (!add_hdr(s, "Content-Digest: sha-256=:%s:", (const char *)b64) ||
	    !add_hdr(s, "Content-Type: %s", content_type(s->it.kind)) ||
	    (up->cfg.auth != UPLINK_AUTH_SIGV4 && !add_hdr(s, "Expect:%s", "")) ||
	    (up->cfg.auth == UPLINK_AUTH_SIGV4 && !add_hdr(s, "x-amz-content-sha256: %s", hex)))
		return -ENOMEM;
	return 0;
}

static void slot_release(struct uplink *up, struct uplink_slot *s)
{
	if (s->h)
		curl_multi_remove_handle(up->multi, s->h);
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	outbox_item_clear(&s->it);
	ring_reader_close(s->rd);
	s->rd = NULL;
	s->read_err = 0;
	s->resp_len = 0;
	s->too_big = false;
	s->len = s->off = 0;
	s->err[0] = '\0';
	s->kind = XF_NONE;
}

/* A row that can never be sent: its segment left the ring (evicted: the
 * ring's hook already raised the alarm and audited) or is corrupt. */
static void row_lost(struct uplink *up, struct outbox_item *it, int err)
{
	if (err == -EBADMSG) {
		struct uplink_outcome o = { .kind = UPLINK_OUT_CORRUPT_SEGMENT,
					    .camera = it->camera,
					    .path = it->path };

		uplink__report(up, &o);
	}
	/* Still due when the write failed: picked again after the hold
	 * (U7), not at once. An evicted segment's row goes; a corrupt one's
	 * stays out of the send order (OUTBOX_DEAD) as the record that
	 * central never got it (net/outbox.h S1), until the ring evicts it. */
	if (err == -EBADMSG ? outbox_seg_dead(up->ob, it->id)
			    : outbox_done(up->ob, it->id, it->version)) {
		uplink__store_hold(up);
		return;
	}
	log_err("uplink: %s: cannot be sent, %s; dropped from the outbox", it->path,
		err == -ENOENT ? "evicted from the ring" : strerror(-err));
	uplink__lock(&up->lock);
	up->st.lost_segments++;
	uplink__unlock(&up->lock);
}

static int slot_handle(struct uplink_slot *s)
{
	if (!s->h)
		s->h = curl_easy_init();
	return s->h ? 0 : -ENOMEM;
}

int uplink__start_row(struct uplink *up, struct uplink_slot *s, struct outbox_item *it)
{
	int ret;

	s->it = *it;
	s->kind = XF_ROW;
	s->off = 0;
	s->resp_len = 0;
	ret = snprintf(s->url, sizeof(s->url), "%s%s", up->root, it->path) >= (int)sizeof(s->url)
		      ? -E2BIG
		      : load_body(up, s);
	if (ret == -ENOENT || ret == -EBADMSG) {
		row_lost(up, &s->it, ret);
		slot_release(up, s);
		return ret;
	}
	if (!ret)
		ret = slot_handle(s);
	if (!ret)
		ret = easy_setup(up, s);
	if (!ret)
		ret = digest_headers(up, s);
	if (!ret &&
	    (curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_READDATA, s) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_SEEKFUNCTION, seek_cb) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_SEEKDATA, s) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len) != CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLINK_UPLOAD_BUF) !=
		     CURLE_OK ||
	     curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs) != CURLE_OK))
		ret = -EINVAL;
	if (!ret && curl_multi_add_handle(up->multi, s->h) != CURLM_OK)
		ret = -ENOMEM;
	if (ret) {
		log_err_limited("uplink: %s: cannot start: %s", it->path, strerror(-ret));
		if (outbox_retry(up->ob, it->id, time_mono_ms() + up->cfg.backoff_max_ms))
			uplink__store_hold(up);
		slot_release(up, s);
		return ret;
	}
	log_debug("uplink: PUT %s (%zu bytes, prio %d)", it->path, s->len, it->prio);
	return 0;
}

int uplink__start_get(struct uplink *up, struct uplink_slot *s, int kind, const char *name)
{
	int ret;

	s->kind = kind;
	s->resp_len = 0;
	s->too_big = false;
	snprintf(s->cmd_name, sizeof(s->cmd_name), "%s", name ? name : "");
	if (kind == XF_CMD_LIST)
		ret = uplink__cmd_list_url(up, s->url, sizeof(s->url));
	else
		ret = snprintf(s->url, sizeof(s->url), "%scommands/%s", up->root, s->cmd_name) >=
				      (int)sizeof(s->url)
			      ? -E2BIG
			      : 0;
	if (!ret)
		ret = slot_handle(s);
	if (!ret)
		ret = easy_setup(up, s);
	if (!ret && !add_hdr(s, "Accept: %s",
			     kind == XF_CMD_LIST && up->cfg.auth == UPLINK_AUTH_SIGV4
				     ? "application/xml" /* S3 ListObjectsV2 */
				     : "application/json"))
		ret = -ENOMEM;
	/* libcurl signs the empty body's hash without sending it; an S3 server
	 * then assumes UNSIGNED-PAYLOAD and the signatures differ (radosgw:
	 * 403). Sending it makes both sides hash the same. */
	if (!ret && up->cfg.auth == UPLINK_AUTH_SIGV4 &&
	    !add_hdr(s, "x-amz-content-sha256: %s",
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
		ret = -ENOMEM;
	if (!ret && curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs) != CURLE_OK)
		ret = -EINVAL;
	if (!ret && curl_multi_add_handle(up->multi, s->h) != CURLM_OK)
		ret = -ENOMEM;
	if (ret)
		slot_release(up, s);
	return ret;
}

static void success(struct uplink *up, struct uplink_slot *s, int64_t mono)
{
	if (s->kind == XF_ROW)
		uplink__ack_add(up, &s->it); /* committed in a batch (uplink_ack.c) */
	backoff_reset(&up->link_backoff);
	backoff_reset(&up->probe_backoff);
	up->down_quiet = 0;
	up->hold_until = 0;
	up->renew_conn = false;
	up->refused_run = 0;
	up->tput_bytes += s->len;
	if (up->trust != UPLINK_OUT_TRUST_OK) {
		struct uplink_outcome o = { .kind = UPLINK_OUT_TRUST_OK, .detail = up->root };

		uplink__report(up, &o);
	}
	up->trust = UPLINK_OUT_TRUST_OK;
	uplink__lock(&up->lock);
	if (!up->st.link_up)
		log_notice("uplink: central reachable (%s)", up->root);
	up->st.link_up = true;
	up->st.last_success_ms = uplink__now(up);
	if (s->kind == XF_ROW) {
		up->st.sent_objects++;
		up->st.sent_bytes += s->len;
	}
	uplink__unlock(&up->lock);
	(void)mono;
}

/* Nothing answered: the name did not resolve or nothing accepted the
 * connection. Central is not there, so a probe costs it nothing. */
static bool no_answer(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT;
}

/* The request got somewhere and then the connection stopped carrying
 * it: a stall, a reset, a broken HTTP/2 session. */
static bool broken_conn(CURLcode rc)
{
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM || rc == CURLE_PARTIAL_FILE ||
	       rc == CURLE_GOT_NOTHING;
}

/* One line when the link goes down, then at most one per
 * UPLINK_DOWN_LOG_MS while it stays down (probes may come several times
 * a second); the others go to debug. */
static void link_failed_log(struct uplink *up, struct uplink_slot *s, int64_t mono, const char *why,
			    int64_t delay, bool was_up)
{
	char more[64] = "";

	if (!was_up && mono - up->down_logged < UPLINK_DOWN_LOG_MS) {
		up->down_quiet++;
		log_debug("uplink: %s: %s; next try in %" PRId64 " ms", s->url, why, delay);
		return;
	}
	if (up->down_quiet)
		snprintf(more, sizeof(more), " (%u more failures since the last report)",
			 up->down_quiet);
	log_limited_at(was_up ? LOG_WARNING : LOG_INFO,
		       "uplink: %s: %s; next try in %" PRId64 " ms%s", s->url, why, delay, more);
	up->down_logged = mono;
	up->down_quiet = 0;
}

/* The link failed (U5): hold every request, then probe with one. While
 * central does not answer at all (@absent) the probe comes after the
 * probe backoff (backoff_min/2 .. 2 x backoff_min), so live view is back
 * at most 2 x backoff_min after central however long the outage was; once central answers with trouble (408, 429, 5xx, TLS, a stall, a
 * reset) the link backoff grows up to backoff_max, or Retry-After rules.
 * The row keeps its place and its count of tries: the failure was the
 * link's, and the hold already keeps every request back (no commit per
 * probe, which would wear flash through a long outage). */
static void link_failed(struct uplink *up, struct uplink_slot *s, int64_t mono, const char *why,
			curl_off_t retry_after, bool absent)
{
	int64_t delay = backoff_next(absent ? &up->probe_backoff : &up->link_backoff);
	bool was_up;

	if (retry_after > 0)
		delay = (retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : retry_after) * 1000;
	if (mono + delay > up->hold_until)
		up->hold_until = mono + delay;
	uplink__lock(&up->lock);
	was_up = up->st.link_up;
	up->st.link_up = false;
	up->st.failures++;
	snprintf(up->st.last_error, sizeof(up->st.last_error), "%s", why);
	uplink__unlock(&up->lock);
	link_failed_log(up, s, mono, why, delay, was_up);
}

/* Central refused this object (3xx/4xx): it waits, the others go on. */
static void row_refused(struct uplink *up, struct uplink_slot *s, int64_t mono, const char *why)
{
	struct outbox_item *it = &s->it;
	struct backoff b;
	int64_t delay;

	/* The row's own backoff: its tries are the failure count. */
	backoff_init(&b, (uint32_t)up->cfg.backoff_min_ms, (uint32_t)up->cfg.backoff_max_ms,
		     (uint64_t)mono ^ ((uint64_t)it->id << 32));
	b.failures = it->tries < 31 ? it->tries : 31;
	delay = backoff_next(&b);
	outbox_retry(up->ob, it->id, mono + delay);
	/* Several objects refused in a row is central refusing us (bad
	 * credentials, no client certificate): hold everything, as for a
	 * dead link, so a large backlog is not walked through request by
	 * request (U5). */
	if (++up->refused_run >= UPLINK_REFUSED_HOLD) {
		int64_t hold = mono + backoff_next(&up->link_backoff);

		if (hold > up->hold_until)
			up->hold_until = hold;
	}
	uplink__lock(&up->lock);
	up->st.failures++;
	if (snprintf(up->st.last_error, sizeof(up->st.last_error), "%s: %s", it->path, why) < 0)
		up->st.last_error[0] = '\0';
	uplink__unlock(&up->lock);
	log_limited_at(it->tries ? LOG_INFO : LOG_ERR, "uplink: %s: refused by central: %s", s->url,
		       why);
	{
		struct uplink_outcome o = { .kind = UPLINK_OUT_REFUSED,
					    .camera = it->camera,
					    .path = it->path,
					    .detail = why,
					    .tries = it->tries };

		uplink__report(up, &o);
	}
}

/* An error page becomes one log line: controls to spaces, runs squeezed. */
static void one_line(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		char c = (unsigned char)*r < 0x20 || *r == 0x7f ? ' ' : *r;

		if (c != ' ' || (w > s && w[-1] != ' '))
			*w++ = c;
	}
	*w = '\0';
}

static bool link_status(long code)
{
	return code == 0 || code == 408 || code == 429 || code >= 500;
}

void uplink__done(struct uplink *up, struct uplink_slot *s, CURLcode rc)
{
	int64_t mono = time_mono_ms();
	curl_off_t retry_after = 0;
	long code = 0;
	char why[CURL_ERROR_SIZE + 128];

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(s->h, CURLINFO_RETRY_AFTER, &retry_after);
	if (s->read_err == -ENOENT || s->read_err == -EBADMSG) {
		row_lost(up, &s->it, s->read_err); /* the ring logged it */
	} else if (s->read_err) {
		/* The disk, not the link: this row waits, the others go. */
		outbox_retry(up->ob, s->it.id, mono + up->cfg.backoff_max_ms);
	} else if (rc == CURLE_OK && code >= 200 && code < 300) {
		success(up, s, mono);
		if (s->kind == XF_CMD_LIST)
			uplink__cmd_list_done(up, s->resp ? s->resp : "", s->resp_len);
		else if (s->kind == XF_CMD_GET)
			uplink__cmd_get_done(up, s->cmd_name, s->resp ? s->resp : "", s->resp_len);
	} else if (s->too_big && code >= 200 && code < 300) {
		success(up, s, mono); /* central answered; the object is the problem */
		uplink__cmd_too_big(up, s->cmd_name);
	} else if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s (%s)", tls_explain(rc), s->err[0] ? s->err : "-");
		if (tls_is_trust_error(rc) && up->trust != UPLINK_OUT_TRUST_FAILED) {
			struct uplink_outcome o = { .kind = UPLINK_OUT_TRUST_FAILED,
						    .detail = why };

			up->trust = UPLINK_OUT_TRUST_FAILED;
			uplink__report(up, &o);
		}
		if (broken_conn(rc))
			up->renew_conn = true;
		link_failed(up, s, mono, why, 0, no_answer(rc));
	} else if (s->kind != XF_ROW && code == 404) {
		success(up, s, mono); /* no command directory: nothing asked */
	} else if (link_status(code)) {
		snprintf(why, sizeof(why), "HTTP %ld", code);
		link_failed(up, s, mono, why, retry_after, false);
	} else if (s->kind == XF_ROW) {
		snprintf(why, sizeof(why), "HTTP %ld%s%.160s", code, s->resp_len ? ": " : "",
			 s->resp ? s->resp : "");
		one_line(why);
		row_refused(up, s, mono, why);
	} else {
		log_warn_limited("uplink: %s: HTTP %ld", s->url, code);
	}
	slot_release(up, s);
}
