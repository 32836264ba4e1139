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

#include <stdbool.h>
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

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* CAMGATE_LIB_LOG_H */
