// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_id_ok() (net/uplink.h) on its own: the check of every name
 * central or the config hands the uplink, linked alone by the command
 * channel's fuzz target (tests/fuzz/cmd_listing_fuzz.c).
 */
#include "net/uplink.h"

#include <string.h>

bool uplink_id_ok(const char *id)
{
	size_t n;

	if (!id || !*id || *id == '.')
		return false;
	n = strnlen(id, UPLINK_ID_MAX);
	return n < UPLINK_ID_MAX &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}
