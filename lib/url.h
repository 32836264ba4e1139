/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * url - the credentials in a URL, found and hidden the same way wherever
 * a URL is logged, printed or audited.
 *
 * The userinfo is what precedes the last '@' of the authority, which ends
 * at the first '/', '?' or '#' after "scheme://" (RFC 3986; libavformat's
 * av_url_split() splits the same way, so what is hidden is exactly what
 * would be sent as credentials). A password holding a raw '@' is hidden
 * whole.
 */
#ifndef CAMGATE_LIB_URL_H
#define CAMGATE_LIB_URL_H

#include <stdbool.h>
#include <stddef.h>

/* True when @url has userinfo; then @url[*startp, *startp + *lenp) is
 * it, without the '@'. False for no userinfo or no "scheme://". */
bool url_userinfo(const char *url, size_t *startp, size_t *lenp);

/* @url with its userinfo replaced by "***" ("u:p@cam" becomes "***@cam"), written
 * to @buf of @cap bytes, or @url itself when there is nothing to hide.
 * Never returns credentials: if @buf is too small, "***" is returned. */
const char *url_redact(const char *url, char *buf, size_t cap);

#endif /* CAMGATE_LIB_URL_H */
