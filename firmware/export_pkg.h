/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * export_pkg - an evidence package of one camera's footage over a time
 * range (R10, R12; docs/integrity.md "Export package"): a playable MP4
 * (storage/export.h, remuxed, NAL units unchanged), the original segments
 * and init segments byte for byte, the checkpoints that cover them, a
 * manifest (segments, hashes, chain positions, gaps, performer,
 * requester, purpose, time) signed with the device key, the public key
 * and a README for the recipient.
 *
 * Policy (who may, the audit row) is the caller's: this module refuses
 * only a request without purpose, requester or performer.
 * Ownership: everything borrowed for the call.
 * Errors: -EINVAL (@why says which field), -EEXIST (@dir exists and is
 * not empty), -ENOENT (no footage in the range), -EIO, -ENOMEM, or
 * export_clip()'s errors.
 */
#ifndef CAMGATE_FIRMWARE_EXPORT_PKG_H
#define CAMGATE_FIRMWARE_EXPORT_PKG_H

#include <stddef.h>
#include <stdint.h>

struct ring;
struct chain;
struct identity;

struct export_pkg_req {
	const char *gateway;
	const char *camera;
	int64_t from_ms, to_ms;
	const char *purpose;
	const char *requester;
	const char *performer;
	const char *dir; /* created; must not exist or be empty */
};

struct export_pkg_report {
	uint64_t segments;
	uint64_t chained; /* of them with a chain position */
	uint64_t gaps;	  /* gap entries inside the range */
	int64_t duration_ms;
	char manifest_sha256[65];
};

int export_pkg_write(struct ring *ring, struct chain *ch, struct identity *id,
		     const struct export_pkg_req *rq, int64_t now_ms, struct export_pkg_report *rep,
		     char *why, size_t cap);

#endif /* CAMGATE_FIRMWARE_EXPORT_PKG_H */
