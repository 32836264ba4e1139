/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testutil - fixture pieces several unit tests share: a private folder
 * under /tmp for each test, removed with all it holds afterwards.
 * tests/unit/testutil.c is linked into every tests/unit binary by the
 * Makefile's unit-test rule.
 *
 * Failures end the running test through cmocka's assertions, so these
 * belong in setup and teardown functions and test bodies only.
 */
#ifndef CAMGATE_TESTS_UNIT_TESTUTIL_H
#define CAMGATE_TESTS_UNIT_TESTUTIL_H

#include <stddef.h>

/* Make a new folder "/tmp/@name-XXXXXX" and write its path into @dir of
 * @cap bytes; fails the test when the path does not fit or mkdtemp()
 * fails. @name is borrowed. */
void testutil_mkdtemp(char *dir, size_t cap, const char *name);

/* Remove @dir and everything below it, without following symbolic links.
 * Best effort: a teardown has nothing better to do on error. */
void testutil_rmtree(const char *dir);

#endif /* CAMGATE_TESTS_UNIT_TESTUTIL_H */
