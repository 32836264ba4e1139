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

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uplink_cfg;

/* Copy the folder @url (ending in '/') and everything below it into the
 * existing folder @dest; *@files counts the files fetched. */
int uplink_fetch_tree(const struct uplink_cfg *cfg, const char *url, const char *dest,
		      size_t *files, char *why, size_t cap);

/* One file @url into @path. */
int uplink_fetch_file(const struct uplink_cfg *cfg, const char *url, const char *path, char *why,
		      size_t cap);

/* Progress of uplink_fetch_large(): @got bytes so far of @total (0:
 * central did not say). Called at most about once a second, and once at
 * the end. */
typedef void (*uplink_fetch_progress_fn)(void *arg, uint64_t got, uint64_t total);

/* A large file (an update bundle) @url into @path, which is created (an
 * existing file is truncated). Any https URL, not only below base_url:
 * the TLS rules and trust are the uplink's (tls_apply()), the [uplink]
 * credentials go only to URLs below base_url. The transfer has no total
 * time bound but is aborted after cfg->stall_timeout_ms without a byte.
 * Errors as above, and -EFBIG (over @max_bytes, announced or received),
 * -ENOSPC (@path's filesystem is full), -ECANCELED (*@cancel became true:
 * a stop). @progress and @cancel may be NULL. On an error @path may hold
 * part of the file: the caller removes it. */
int uplink_fetch_large(const struct uplink_cfg *cfg, const char *url, const char *path,
		       uint64_t max_bytes, uplink_fetch_progress_fn progress, void *arg,
		       const atomic_bool *cancel, char *why, size_t cap);

#endif /* CAMGATE_NET_UPLINK_FETCH_H */
