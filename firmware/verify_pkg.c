// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate verify` of an export package (docs/integrity.md, "Export
 * package"): the signed manifest, its chain, the checkpoints it ties to
 * and the files it lists.
 */
#include "firmware/verify_int.h"

#include <errno.h>

int verify__package(struct vctx *v, const char *root, unsigned int *notes)
{
	(void)v;
	(void)root;
	(void)notes;
	return -ENOTSUP;
}
