// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_util - the camera URL with its credentials, and libavformat's
 * own messages routed into lib/log.
 */
#include "stream.h"
#include "stream_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "lib/log.h"
#include "lib/url.h"

struct strbuf {
	char *p;
	size_t cap;
	size_t len;
	bool over;
};

static void sb_putn(struct strbuf *b, const char *s, size_t n)
{
	if (b->over || n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* RFC 3986 userinfo: all but the unreserved characters percent-encoded
 * (libavformat decodes them before it authenticates). */
static void sb_put_pct(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			sb_putn(b, s, 1);
		else
			sb_putn(b, enc, 3);
	}
}

int stream__build_url(const char *url, const char *user, const char *pass, char *out, size_t cap,
		      char *log_out, size_t log_cap)
{
	struct strbuf b = { out, cap, 0, false };
	struct strbuf l = { log_out, log_cap, 0, false };
	const char *auth = strstr(url, "://");
	const char *host;
	size_t start, len;
	bool at;

	/* userinfo is user ":" password: a colon cannot be in the name */
	if (!auth || auth == url || !cap || !log_cap || (user && strchr(user, ':')))
		return -EINVAL;
	auth += 3;
	at = url_userinfo(url, &start, &len);
	host = at ? url + start + len + 1 : auth;
	out[0] = log_out[0] = '\0';
	sb_putn(&l, url, (size_t)(auth - url));
	sb_putn(&l, host, strlen(host));
	if (at || !user || !user[0]) {
		sb_putn(&b, url, strlen(url));
	} else {
		sb_putn(&b, url, (size_t)(auth - url));
		sb_put_pct(&b, user);
		if (pass && pass[0]) {
			sb_putn(&b, ":", 1);
			sb_put_pct(&b, pass);
		}
		sb_putn(&b, "@", 1);
		sb_putn(&b, auth, strlen(auth));
	}
	return b.over || l.over ? -E2BIG : 0;
}

/* libavformat's errors and warnings go to debug level: the stream logs
 * what matters once, with the camera's name, and a camera that is down
 * must not repeat libavformat's lines on every retry. */
static void stream_avlog(void *avcl, int level, const char *fmt, va_list vl)
{
	static __thread int print_prefix = 1;
	const int prio = LOG_DEBUG;
	char line[512];
	size_t n;

	if (level > AV_LOG_WARNING || !log_enabled(prio))
		return;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n)
		log_msg(prio, "libav: %s", line);
}

static void stream_avlog_install(void)
{
	av_log_set_callback(stream_avlog);
}

void stream_log_libav(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, stream_avlog_install);
}
