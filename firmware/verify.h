/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify - `camgate verify DIR`: an offline check of footage against the
 * gateway's hash chain (docs/integrity.md). DIR is either a gateway's
 * folder as central stores it (media/{camera}/ segments beside
 * chain/{camera}/ checkpoints), a folder holding such gateway folders
 * (gateways/{id}/), or an export package (manifest.json, manifest.sig).
 *
 * Every finding is one line on @out: camera, time, sequence and what is
 * wrong (altered, missing, reordered, inserted, a checkpoint that does
 * not verify or is signed by another key, a gap in the checkpoints).
 * Declared gaps and segments newer than the last checkpoint are notes,
 * not findings.
 *
 * Errors: 0 with *findingsp set; -ENOENT (nothing to verify in DIR),
 * -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_VERIFY_H
#define CAMGATE_FIRMWARE_VERIFY_H

#include <stdio.h>

/* @fingerprint: the key fingerprint every signature must have (64 hex),
 * or NULL to take the first checkpoint's and require the rest to match. */
int verify_dir(const char *dir, const char *fingerprint, FILE *out, unsigned int *findingsp);

#endif /* CAMGATE_FIRMWARE_VERIFY_H */
