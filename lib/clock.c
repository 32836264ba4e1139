// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/clock.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the test seam (clock.h) ---- */

static const char *seam_path;
static _Atomic int64_t seam_offset, seam_read_at = -1000000;

static int64_t seam_wall(void *arg)
{
	int64_t mono = clock_read(CLOCK_MONOTONIC);

	(void)arg;
	if (mono - atomic_load(&seam_read_at) >= 200) {
		FILE *f = fopen(seam_path, "re");
		long long off = 0;

		if (f) {
			if (fscanf(f, "%lld", &off) != 1)
				off = 0;
			fclose(f);
		}
		atomic_store(&seam_offset, (int64_t)off);
		atomic_store(&seam_read_at, mono);
	}
	return clock_read(CLOCK_REALTIME) + atomic_load(&seam_offset);
}

static int64_t seam_mono(void *arg)
{
	(void)arg;
	return clock_read(CLOCK_MONOTONIC);
}

bool clock_test_seam(void)
{
	static const struct clock_source src = { seam_wall, seam_mono, NULL };

	seam_path = getenv("CAMGATE_TEST_CLOCK_FILE");
	if (!seam_path || !*seam_path)
		return false;
	clock_set_source(&src);
	return true;
}
