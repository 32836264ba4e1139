/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sharing - what of a camera goes to central (R14, R15), decided by the
 * registry's sharing_class and owner of the camera.
 *
 * Classes, a fixed set:
 *   province    (the default, also for an empty field) registry, live and
 *               segments go to central, the provincial system;
 *   public      the same, and central may publish it (R14);
 *   owner-only  the registry record only: footage stays on the gateway
 *               until central asks for a time range (the resend-range
 *               command: R15, "supply data on request").
 * The registry record goes to central whatever the class (R2).
 *
 * Owner: "", "unit" or a unit's name (no ';') for a unit's own camera; a
 * third party's camera is onboarded with "NAME; CONTACT" (both required),
 * so central knows whom to ask (R15).
 *
 * Threads: any (pure functions).
 */
#ifndef CAMGATE_FIRMWARE_SHARING_H
#define CAMGATE_FIRMWARE_SHARING_H

#include <stdbool.h>
#include <stddef.h>

enum sharing_class {
	SHARING_PROVINCE = 0,
	SHARING_PUBLIC,
	SHARING_OWNER_ONLY,
};

/* "" -> province. -EINVAL for anything outside the set. */
int sharing_class_parse(const char *s, enum sharing_class *cp);
/* The class the stored text stands for: "province" for "" (and for an
 * unknown legacy value, which the console no longer accepts). */
const char *sharing_class_name(const char *stored);
/* Do live view and segments go to central for this stored class? */
bool sharing_media(const char *stored);
/* Check an owner value; -EINVAL with @msg saying what a third party
 * needs. */
int sharing_owner_check(const char *owner, char *msg, size_t cap);
/* Check a registry field set from the console or central: sharing_class
 * and owner are checked, other fields pass. -EINVAL with @msg. */
int sharing_field_check(const char *field, const char *value, char *msg, size_t cap);

#endif /* CAMGATE_FIRMWARE_SHARING_H */
