// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/lockorder.h"

#if LOCKORDER_ON
#include <stdio.h>
#include <stdlib.h>

static const char *const level_names[LOCK_LEVEL_MAX] = {
	[LOCK_GW_UP] = "gw up_lock", [LOCK_GW_CAMS] = "gw cams_lock", [LOCK_RING] = "ring",
	[LOCK_STATEDB] = "statedb",  [LOCK_UPLINK] = "uplink",
};

/* Locks of each level this thread holds. */
static __thread unsigned short held[LOCK_LEVEL_MAX];

static const char *level_name(int level)
{
	return level > 0 && level < LOCK_LEVEL_MAX ? level_names[level] : "?";
}

void lockorder_wait(enum lock_level level)
{
	for (int l = LOCK_LEVEL_MAX - 1; l >= (int)level; l--) {
		if (!held[l])
			continue;
		/* stderr, not the log: the log may be what is locked. */
		fprintf(stderr,
			"lock order violated: waiting for %s (level %d) holding %s (level %d)\n",
			level_name(level), (int)level, level_name(l), l);
		abort();
	}
	held[level]++;
}

void lockorder_tried(enum lock_level level)
{
	held[level]++;
}

void lockorder_release(enum lock_level level)
{
	if (held[level])
		held[level]--;
}
#endif
