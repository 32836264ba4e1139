/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xxh - libxxhash's XXH3 at the widest vector unit the CPU has.
 *
 * The ring checks every recorded byte with XXH3 when it is written and
 * again before it is uploaded. libxxhash's plain entry points are built
 * for the ABI's baseline, SSE2 on x86-64; its _dispatch ones pick AVX2
 * or AVX-512 once at run time and give the same hashes. On 256 KiB
 * pieces that is 8.1 -> 26 GB/s here (docs/performance.md). aarch64's
 * baseline already has NEON, so other targets take xxhash.h alone.
 *
 * Include this instead of <xxhash.h>: on x86 it maps XXH3_64bits,
 * XXH3_64bits_update and the rest onto the _dispatch functions.
 */
#ifndef CAMGATE_LIB_XXH_H
#define CAMGATE_LIB_XXH_H

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>
#endif

#endif
