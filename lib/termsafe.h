/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termsafe - text that came from a device or from central, made safe to
 * print on an operator's terminal.
 *
 * A camera's WS-Discovery scopes, its ONVIF identity, a registry field or
 * an error string may hold ESC, OSC or other control sequences that a
 * terminal would obey (clear the screen, set the title, draw a fake
 * prompt). Each C0 control byte, DEL, C1 control (U+0080..U+009F, which
 * some terminals obey as CSI/OSC), and each byte that is not part of valid
 * UTF-8 (overlong forms, surrogates, above U+10FFFF, cut sequences) is
 * written as the four characters \xNN. Printable UTF-8 (Vietnamese camera
 * names, for one) is copied as it is. A backslash is copied as it is.
 *
 * Only what is printed is escaped: callers keep and store the raw value.
 *
 * Truncation never splits an escape or a UTF-8 sequence: when @cap runs
 * out, the output ends at the last whole one.
 *
 * Ownership: the caller owns every buffer; nothing is kept between calls.
 * Threads: no shared state; any thread.
 */
#ifndef CAMGATE_LIB_TERMSAFE_H
#define CAMGATE_LIB_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>

/* Output bytes that hold @n input bytes whatever they are, NUL included. */
#define TERMSAFE_CAP(n) (4 * (size_t)(n) + 1)

/* Escape @in (NULL prints as "") into @out of @cap bytes (cap >= 1), always
 * NUL-terminated. Returns @out, so a call can be a printf argument.
 * *@cutp, when not NULL, is set to whether the output was truncated. */
const char *termsafe(const char *in, char *out, size_t cap, bool *cutp);

/*
 * Several escaped strings for one printf: each termsafe_add() escapes into
 * the next free part of @b and returns it. When @b runs out, later strings
 * are truncated (down to ""), never unterminated.
 *   struct termsafe_buf tb = { 0 };
 *   printf("%s %s\n", termsafe_add(&tb, make), termsafe_add(&tb, model));
 */
/*
 * JSON text (as cJSON prints it, whose strings may carry DEL and C1
 * controls raw) with DEL, each C1 control and any control byte other than
 * the layout's tab and line ends written as \u00XX: the same JSON value,
 * nothing a terminal obeys. A new string the caller frees; NULL: no memory.
 */
char *termsafe_json(const char *json);

#define TERMSAFE_BUF 4096

struct termsafe_buf {
	size_t used;
	char text[TERMSAFE_BUF];
};

const char *termsafe_add(struct termsafe_buf *b, const char *in);

#endif /* CAMGATE_LIB_TERMSAFE_H */
