/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uplink_fetch - a copy of a folder central holds, for `camgate verify
 * URL` (docs/integrity.md): the folder is listed the way the command
 * channel lists commands/ on a plain nginx/WebDAV central (autoindex,
 * JSON: [{"name", "type": "file"|"directory"}]), each file fetched with
 * GET, each folder recursively. TLS and credentials are the uplink's
 * (net/tls.h tls_apply(), the [uplink] auth), and only below the
 * configured base_url: the credentials go nowhere else.
 *
 * Errors (@why says what, with the URL): -EINVAL (@url not below
 * base_url, or a bad setting), -ENOENT (404), -EACCES (401, 403),
 * -EHOSTUNREACH (central not reached: name, connection, TLS), -EPROTO
 * (another status, or a folder whose listing is not JSON autoindex: an S3
 * bucket is not listed this way), -EIO (a local file), -ENOMEM.
 * Ownership: everything borrowed. One thread.
 */
#ifndef CAMGATE_NET_UPLINK_FETCH_H
#define CAMGATE_NET_UPLINK_FETCH_H

#include <stddef.h>

struct uplink_cfg;

/* Copy the folder @url (ending in '/') and everything below it into the
 * existing folder @dest; *@files counts the files fetched. */
int uplink_fetch_tree(const struct uplink_cfg *cfg, const char *url, const char *dest,
		      size_t *files, char *why, size_t cap);

/* One file @url into @path. */
int uplink_fetch_file(const struct uplink_cfg *cfg, const char *url, const char *path, char *why,
		      size_t cap);

#endif /* CAMGATE_NET_UPLINK_FETCH_H */
