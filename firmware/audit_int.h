/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit_int - internals shared by audit.c (the chain) and audit_key.c
 * (the key file). Nothing here is for other modules; use firmware/audit.h.
 */
#ifndef CAMGATE_FIRMWARE_AUDIT_INT_H
#define CAMGATE_FIRMWARE_AUDIT_INT_H

#include <stdint.h>

#include "firmware/audit.h"

/* Read STATE_DIR/audit.key (format in audit.h). -ENOENT: none yet.
 * -EBADMSG: not an audit key (logged). -errno otherwise (logged). */
int audit__key_read(const char *path, uint8_t key[AUDIT_KEY_LEN], int64_t *first_idp);
/* Write a new key file at @path in @dir, 0600, durably (temp file, fsync,
 * link, fsync of @dir). -EEXIST: another process made it first; read it. */
int audit__key_create(const char *dir, const char *path, const uint8_t key[AUDIT_KEY_LEN],
		      int64_t first_id);

#endif /* CAMGATE_FIRMWARE_AUDIT_INT_H */
