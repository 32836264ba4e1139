// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/termsafe.h"

static const char *log_ident = "camgate";
static enum log_dest log_dest = LOG_DEST_PLAIN;
static volatile int log_level = LOG_INFO;

static const char *const log_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",	  [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_init(const char *ident, enum log_dest dest, int level)
{
	log_ident = ident;
	log_dest = dest;
	log_level = level;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	log_level = level;
}

bool log_enabled(int prio)
{
	return prio <= log_level;
}

int log_level_parse(const char *name, int *levelp)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (!strcmp(name, log_names[i])) {
			*levelp = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * One line from @fmt/@ap, with @suffix (may be "") after the message.
 * Log arguments carry text from cameras and from central (names, errors,
 * URLs): the message is escaped (lib/termsafe.h) so it can neither drive
 * the terminal nor forge a second log line.
 */
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap)
{
	char msg[1024], line[1536];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (*suffix && n >= 0 && n < (int)sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, "%s", suffix);
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", termsafe(msg, line, sizeof(line), NULL));
		return;
	}
	if (log_dest == LOG_DEST_PLAIN) {
		n = snprintf(line, sizeof(line), "%s: %s", log_ident,
			     prio <= LOG_ERR	   ? "error: "
			     : prio == LOG_WARNING ? "warning: "
						   : "");
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, log_ident, (int)getpid(), log_names[prio & 7]);
	}
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	termsafe(msg, line + n, sizeof(line) - (size_t)n - 1, NULL);
	n += (int)strlen(line + n);
	line[n++] = '\n';
	/* One write per line keeps lines from threads whole. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(prio))
		return;
	va_start(ap, fmt);
	log_vmsg(prio, "", fmt, ap);
	va_end(ap);
}

bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint32_t *droppedp)
{
	int64_t next = atomic_load(&l->next_ms);

	/* Of threads racing for one slot, the compare-exchange lets one
	 * through; the others count as held back. */
	if (now_ms < next ||
	    !atomic_compare_exchange_strong(&l->next_ms, &next, now_ms + LOG_LIMIT_MS)) {
		atomic_fetch_add(&l->dropped, 1);
		return false;
	}
	*droppedp = (uint32_t)atomic_exchange(&l->dropped, 0);
	return true;
}

void log_limited(struct log_limit *l, int prio, const char *fmt, ...)
{
	struct timespec ts;
	char suffix[48] = "";
	uint32_t dropped;
	va_list ap;

	if (!log_enabled(prio))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* +1: a limiter's zero next_ms must let the first line pass even at
	 * monotonic time 0. */
	if (!log_limit_pass(l, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1, &dropped))
		return;
	if (dropped)
		snprintf(suffix, sizeof(suffix), " (repeated %u times)", dropped);
	va_start(ap, fmt);
	log_vmsg(prio, suffix, fmt, ap);
	va_end(ap);
}
