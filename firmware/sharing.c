// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/sharing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const class_names[] = {
	[SHARING_PROVINCE] = "province",
	[SHARING_PUBLIC] = "public",
	[SHARING_OWNER_ONLY] = "owner-only",
};

int sharing_class_parse(const char *s, enum sharing_class *cp)
{
	if (!s || !*s) {
		*cp = SHARING_PROVINCE;
		return 0;
	}
	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (!strcmp(s, class_names[i])) {
			*cp = (enum sharing_class)i;
			return 0;
		}
	return -EINVAL;
}

const char *sharing_class_name(const char *stored)
{
	enum sharing_class c;

	return class_names[sharing_class_parse(stored, &c) ? SHARING_PROVINCE : c];
}

bool sharing_media(const char *stored)
{
	enum sharing_class c;

	return sharing_class_parse(stored, &c) || c != SHARING_OWNER_ONLY;
}

int sharing_owner_check(const char *owner, char *msg, size_t cap)
{
	const char *semi = strchr(owner, ';');

	/* Without ';' it names the owning unit. */
	if (semi && (semi == owner || !semi[1 + strspn(semi + 1, " ")])) {
		snprintf(msg, cap,
			 "owner: a third party as \"NAME; CONTACT\" (both needed, R15), "
			 "or the owning unit's name");
		return -EINVAL;
	}
	return 0;
}

int sharing_field_check(const char *field, const char *value, char *msg, size_t cap)
{
	enum sharing_class c;

	if (!strcmp(field, "owner"))
		return sharing_owner_check(value, msg, cap);
	if (!strcmp(field, "sharing_class") && sharing_class_parse(value, &c)) {
		snprintf(msg, cap, "sharing: one of province, public, owner-only");
		return -EINVAL;
	}
	return 0;
}
