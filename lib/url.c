// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/url.h"

#include <stdio.h>
#include <string.h>

bool url_userinfo(const char *url, size_t *startp, size_t *lenp)
{
	const char *auth = strstr(url, "://"), *at;
	size_t authlen;

	if (!auth || auth == url)
		return false;
	auth += 3;
	authlen = strcspn(auth, "/?#");
	at = memrchr(auth, '@', authlen);
	if (!at)
		return false;
	*startp = (size_t)(auth - url);
	*lenp = (size_t)(at - auth);
	return true;
}

const char *url_redact(const char *url, char *buf, size_t cap)
{
	size_t start, len;
	int n;

	if (!url_userinfo(url, &start, &len))
		return url;
	n = snprintf(buf, cap, "%.*s***%s", (int)start, url, url + start + len);
	return n >= 0 && (size_t)n < cap ? buf : "***";
}
