/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backoff - capped exponential backoff with full jitter.
 *
 * delay(n) = random in [0, min(max, base * 2^n)], never below @base / 2 so
 * a dead peer is not hammered. n counts consecutive failures from 0: the
 * very first failure already waits. Caller-embedded, no allocation.
 */
#ifndef CAMGATE_LIB_BACKOFF_H
#define CAMGATE_LIB_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t base_ms;
	uint32_t max_ms;
	uint32_t failures;
	uint64_t rng; /* xorshift state; seeded by backoff_init() */
};

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t max_ms, uint64_t seed);
/* A seed for backoff_init() that differs between peers started together,
 * so their retries spread: getrandom(), else the monotonic clock mixed
 * with @salt (the owner's address is enough: one tick can be shared). */
uint64_t backoff_seed(const void *salt);
/* Records a failure and returns how long to wait before the next try. */
uint32_t backoff_next(struct backoff *b);
/* The ceiling for the next failure: min(max, base * 2^failures). */
uint32_t backoff_ceiling(const struct backoff *b);
void backoff_reset(struct backoff *b);

#endif /* CAMGATE_LIB_BACKOFF_H */
