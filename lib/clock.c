// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/clock.h"

#include <stddef.h>
#include <time.h>

static const struct clock_source *clock_src;

static int64_t clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
	const struct clock_source *src = __atomic_load_n(&clock_src, __ATOMIC_ACQUIRE);

	return src ? src->wall_ms(src->arg) : clock_read(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
	const struct clock_source *src = __atomic_load_n(&clock_src, __ATOMIC_ACQUIRE);

	return src ? src->mono_ms(src->arg) : clock_read(CLOCK_MONOTONIC);
}

void clock_set_source(const struct clock_source *src)
{
	__atomic_store_n(&clock_src, src, __ATOMIC_RELEASE);
}
