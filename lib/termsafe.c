// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/termsafe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Length of the well-formed UTF-8 sequence at @s (RFC 3629 table: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* U+D800..U+DFFF are surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

const char *termsafe(const char *in, char *out, size_t cap, bool *cutp)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t o = 0;
	bool cut = false;

	if (!cap) {
		if (cutp)
			*cutp = *s != '\0';
		return out;
	}
	while (*s) {
		size_t n = *s < 0x80 ? 1 : utf8_len(s);
		/* U+0080..U+009F: C2 80..C2 9F */
		bool esc = *s < 0x20 || *s == 0x7f || !n || (s[0] == 0xc2 && s[1] <= 0x9f);

		if (esc) {
			/* A C1 control escapes both its bytes; anything else
			 * invalid escapes one byte and resynchronises. */
			n = n == 2 ? 2 : 1;
			if (o + 4 * n >= cap) {
				cut = true;
				break;
			}
			for (size_t i = 0; i < n; i++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = digits[s[i] >> 4];
				out[o++] = digits[s[i] & 0xf];
			}
		} else {
			if (o + n >= cap) {
				cut = true;
				break;
			}
			for (size_t i = 0; i < n; i++)
				out[o++] = (char)s[i];
		}
		s += n;
	}
	out[o] = '\0';
	if (cutp)
		*cutp = cut;
	return out;
}

const char *termsafe_add(struct termsafe_buf *b, const char *in)
{
	char *out;

	if (b->used >= sizeof(b->text))
		b->used = sizeof(b->text) - 1; /* the last byte stays a "" for all */
	out = b->text + b->used;
	termsafe(in, out, sizeof(b->text) - b->used, NULL);
	b->used += strlen(out) + 1;
	return out;
}

char *termsafe_json(const char *json)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)json;
	size_t n = strlen(json);
	char *out = malloc(6 * n + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		unsigned int c = *s;
		bool esc = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;

		if (c == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			c = s[1]; /* U+0080..U+009F, two bytes in UTF-8 */
			s++;
			esc = true;
		}
		if (esc) {
			memcpy(o, "\\u00", 4);
			o[4] = digits[c >> 4];
			o[5] = digits[c & 0xf];
			o += 6;
		} else {
			*o++ = (char)c;
		}
		s++;
	}
	*o = '\0';
	return out;
}
