// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Link stub for fuzz targets that take firmware/registry.c without the
 * gSOAP client (tests/fuzz/console_line_fuzz.c): registry_from_onvif()
 * names the auth method with this, and nothing there calls it.
 */
#include "drivers/onvif/onvif.h"

const char *onvif_auth_name(enum onvif_auth auth)
{
	(void)auth;
	return "stub";
}
