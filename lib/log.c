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
 * Log arguments carry text from cameras and from central (names, errors,
 * URLs): the message is escaped (lib/termsafe.h) so it can neither drive
 * the terminal nor forge a second log line.
 */
void log_msg(int prio, const char *fmt, ...)
{
	char msg[1024], line[1536];
	va_list ap;
	int n;

	if (!log_enabled(prio))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
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
