// SPDX-License-Identifier: GPL-2.0-or-later
#include "backoff.h"

#include <sys/random.h>
#include <time.h>

uint64_t backoff_seed(const void *salt)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (uintptr_t)salt;
}

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t max_ms, uint64_t seed)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	b->failures = 0;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint32_t backoff_ceiling(const struct backoff *b)
{
	uint64_t c = b->base_ms;

	for (uint32_t i = 0; i < b->failures && c < b->max_ms; i++)
		c <<= 1;
	return c > b->max_ms ? b->max_ms : (uint32_t)c;
}

static uint64_t backoff_rand(struct backoff *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rng = x;
	return x;
}

uint32_t backoff_next(struct backoff *b)
{
	uint32_t ceil = backoff_ceiling(b);
	uint32_t floor = b->base_ms / 2;
	/* 64-bit span: ceil - floor + 1 overflows 32 bits at UINT32_MAX. */
	uint64_t span = (uint64_t)ceil - floor + 1;
	uint32_t d = floor + (uint32_t)(backoff_rand(b) % span);

	if (b->failures < 32)
		b->failures++;
	return d;
}

void backoff_reset(struct backoff *b)
{
	b->failures = 0;
}
