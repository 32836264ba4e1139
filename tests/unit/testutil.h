/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testutil - fixture pieces several unit tests share: a private folder
 * under /tmp for each test, removed with all it holds afterwards, and the
 * synthetic H.264 + AAC clip the media tests encode with the ffmpeg CLI.
 * tests/unit/testutil.c is linked into every tests/unit binary by the
 * Makefile's unit-test rule, so it needs nothing beyond libc and cmocka.
 *
 * testutil_mkdtemp() and testutil_rmtree() end the running test through
 * cmocka's assertions on failure, so they belong in setup and teardown
 * functions and test bodies only. The clip functions return a status
 * instead, for group setups that report failure by returning non-zero.
 */
#ifndef CAMGATE_TESTS_UNIT_TESTUTIL_H
#define CAMGATE_TESTS_UNIT_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Make a new folder "/tmp/@name-XXXXXX" and write its path into @dir of
 * @cap bytes; fails the test when the path does not fit or mkdtemp()
 * fails. @name is borrowed. */
void testutil_mkdtemp(char *dir, size_t cap, const char *name);

/* Remove @dir and everything below it, without following symbolic links.
 * Best effort: a teardown has nothing better to do on error. */
void testutil_rmtree(const char *dir);

/* Run @argv (NULL-terminated, argv[0] looked up on PATH; borrowed) with
 * this process's environment and wait for it. Returns 0 when it exited
 * with status 0, -EIO when it exited otherwise or died, or a negative
 * errno when it could not be started or waited for. */
int testutil_run(const char *const argv[]);

/* Encode the shared test clip into @path (borrowed) with the ffmpeg CLI:
 * 6 s of testsrc 320x240 at 24 fps as H.264 with a keyframe every 12
 * frames and 2 B-frames, and a 440 Hz sine as 48 kHz AAC, in MPEG-TS.
 * Returns 0 or as testutil_run(). */
int testutil_make_clip(const char *path);

/* Fill @buf with @len deterministic bytes of @seed (xorshift32), so a
 * test can make the same segment again to compare. */
void testutil_fill(uint8_t *buf, size_t len, uint32_t seed);

#endif /* CAMGATE_TESTS_UNIT_TESTUTIL_H */
