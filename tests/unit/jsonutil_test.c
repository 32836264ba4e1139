// SPDX-License-Identifier: GPL-2.0-or-later
/* jsonutil: the time fields of the objects sent to central. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "lib/jsonutil.h"

static void test_add_time(void **state)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *v;

	(void)state;
	assert_non_null(o);
	json_add_time(o, "at", 1764406800123LL); /* 2025-11-29T09:00:00.123Z */
	json_add_time(o, "never", 0);
	v = cJSON_GetObjectItem(o, "at");
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, "2025-11-29T09:00:00.123Z");
	v = cJSON_GetObjectItem(o, "never");
	assert_non_null(v);
	assert_true(cJSON_IsNull(v));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
