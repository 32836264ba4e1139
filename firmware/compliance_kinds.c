// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compliance_kinds - THE table of duty kinds (firmware/compliance.h). A
 * new duty is one row here; docs/compliance.md maps each to its test.
 */
#include <string.h>

#include "firmware/compliance.h"

const struct compliance_kind compliance_kinds[] = {
	/* R2: central holds every registry change within 10 working days
	 * ([uplink] deadline_days); open from the change, closed by
	 * central's acknowledgement of the record. */
	{ "registry", "R2", COMPLIANCE_WORKDAYS, 10, false,
	  "registry change not yet acknowledged by central" },
	/* R2: a record without its mandatory fields is no record. */
	{ "registry-fields", "R2", COMPLIANCE_AT_ONCE, 0, true,
	  "mandatory registry fields empty (unit, users, owner, location)" },
	/* R11: a fault is repaired within 5 working days. */
	{ "fault", "R11", COMPLIANCE_WORKDAYS, 5, true, "camera fault to repair" },
	/* R11: maintenance every 6 months. */
	{ "maintenance", "R11", COMPLIANCE_MONTHS, 6, false, "maintenance every 6 months" },
};
const size_t compliance_nkinds = sizeof(compliance_kinds) / sizeof(compliance_kinds[0]);

const struct compliance_kind *compliance_kind(const char *name)
{
	for (size_t i = 0; name && i < compliance_nkinds; i++)
		if (!strcmp(compliance_kinds[i].name, name))
			return &compliance_kinds[i];
	return NULL;
}

const char *compliance_state_name(enum compliance_state s)
{
	return s == COMPLIANCE_OVERDUE ? "overdue" : s == COMPLIANCE_DUE_SOON ? "due-soon" : "ok";
}
