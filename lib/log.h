/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log - one line per event, to stderr or syslog.
 *
 * Priorities are syslog's (LOG_ERR ... LOG_DEBUG). The level is tested
 * before anything is formatted, so debug lines cost a compare when off.
 * Thread-safe: each line is written with a single write(2)/syslog(3).
 */
#ifndef CAMGATE_LIB_LOG_H
#define CAMGATE_LIB_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_dest {
	LOG_DEST_STDERR, /* daemon in the foreground: UTC time, pid, level */
	LOG_DEST_PLAIN,	 /* command-line tools: "camgate: error: ..." */
	LOG_DEST_SYSLOG,
};

/* @ident is borrowed and must outlive logging (a string literal). */
void log_init(const char *ident, enum log_dest dest, int level);
void log_set_level(int level);
bool log_enabled(int prio);
/* Parse "err", "warning", "notice", "info", "debug"; -EINVAL otherwise. */
int log_level_parse(const char *name, int *levelp);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A repeating error (a full disk, an unreachable central) must not flood
 * the log: each call site of log_limited() has its own limiter, which
 * lets one line through per LOG_LIMIT_MS and counts the others; the next
 * line that passes ends with " (repeated N times)", N being the lines
 * held back since the last one shown. The limiter is the call site's, not
 * the message's: the text may differ between the lines it holds back.
 */
#define LOG_LIMIT_MS 10000

struct log_limit {
	_Atomic int64_t next_ms;      /* monotonic: the next line may pass */
	atomic_uint_fast32_t dropped; /* held back since the last one shown */
};

/* The decision alone, at monotonic time @now_ms: true when a line may
 * pass, with *droppedp the lines held back before it (then reset). */
bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint32_t *droppedp);
void log_limited(struct log_limit *l, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One limiter per expansion (per call site). */
#define log_limited_at(prio, ...)                                                                  \
	do {                                                                                       \
		static struct log_limit log_limit_site_;                                           \
		log_limited(&log_limit_site_, prio, __VA_ARGS__);                                  \
	} while (0)
#define log_err_limited(...)  log_limited_at(LOG_ERR, __VA_ARGS__)
#define log_warn_limited(...) log_limited_at(LOG_WARNING, __VA_ARGS__)

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* CAMGATE_LIB_LOG_H */
