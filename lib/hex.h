/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hex - bytes as lowercase hexadecimal text (digests, nonces).
 */
#ifndef CAMGATE_LIB_HEX_H
#define CAMGATE_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2 * @n digits and a NUL into @out, which the caller sizes to at
 * least 2 * @n + 1 bytes. Returns @out. */
char *hex_encode(const void *in, size_t n, char *out);

/* The value of hex digit @c (either case), or -1. */
int hex_digit(char c);

/* Reads exactly 2 * @n hex digits (either case) of @in into @out; @in
 * must end there. -EINVAL otherwise (@out then undefined). */
int hex_decode(const char *in, void *out, size_t n);

#endif /* CAMGATE_LIB_HEX_H */
