/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsonutil - small cJSON helpers the objects sent to central share, so a
 * field is written the same way in every object (docs/objects.md).
 */
#ifndef CAMGATE_LIB_JSONUTIL_H
#define CAMGATE_LIB_JSONUTIL_H

#include <stdint.h>

struct cJSON;

/* @key = @ms as "2026-11-29T09:00:00.123Z" (format_time_ms(), UTC), or
 * null when @ms is 0 ("never", "none"). @o borrowed; a failed allocation
 * leaves the key out, as cJSON_Add*ToObject() do. */
void json_add_time(struct cJSON *o, const char *key, int64_t ms);

#endif /* CAMGATE_LIB_JSONUTIL_H */
