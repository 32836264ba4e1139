/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parse - strict parsers for the values people type: integers, sizes,
 * durations, booleans and points in time. Every one rejects trailing junk,
 * overflow and empty input with -EINVAL or -ERANGE; none logs, the caller
 * knows the file, line and key to name.
 */
#ifndef CAMGATE_LIB_PARSE_H
#define CAMGATE_LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal integer in [min, max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *vp);
/* "yes/no", "true/false", "on/off", "1/0". */
int parse_bool(const char *s, bool *vp);
/* Bytes with an optional binary suffix: K, M, G, T (KiB...). "64M". */
int parse_size(const char *s, uint64_t *vp);
/* Milliseconds from "250ms", "4s", "10m", "2h", "30d"; a bare number is
 * seconds. */
int parse_duration_ms(const char *s, int64_t *vp);

/* Points in time for the CLI, as UTC milliseconds since the epoch:
 * "2026-11-29T09:00:00Z" (fraction and "Z" optional, always UTC),
 * "@1700000000" (epoch seconds), "now", "-30s" / "-5m" (relative to
 * @now_ms), "begin" (INT64_MIN) and "end" (INT64_MAX). */
int parse_time_ms(const char *s, int64_t now_ms, int64_t *vp);

/* "2026-11-29T09:00:00.123Z" into @buf (at least 25 bytes). */
void format_time_ms(int64_t utc_ms, char *buf, size_t cap);

/* Wall clock, UTC milliseconds: clock_wall_ms() (lib/clock.h), under the
 * name its many callers know; new code includes lib/clock.h. */
int64_t time_now_ms(void);
/* Monotonic clock, milliseconds: clock_mono_ms(). */
int64_t time_mono_ms(void);

#endif /* CAMGATE_LIB_PARSE_H */
