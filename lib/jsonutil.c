// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/jsonutil.h"

#include <cjson/cJSON.h>

#include "lib/parse.h"

void json_add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[32];

	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	format_time_ms(ms, t, sizeof(t));
	cJSON_AddStringToObject(o, key, t);
}
