// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ring_evict_test - the footage ring (storage/ring.h) when it wraps:
 * appends into a full ring reuse the oldest extent, its segments go
 * oldest first and ids keep rising across a reopen; the pins of G2 (the
 * retention floor, and un-uploaded segments while uploads are required)
 * keep a segment until the evict hook agrees to its loss, and are counted
 * when it does.
 *
 * Folders and geometry are those of tests/unit/ring_fixture.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"
#include "storage/ring.h"
#include "tests/unit/ring_fixture.h"

static void test_wrap_evicts_oldest_first(void **state)
{
	struct fx *fx = *state;
	static struct seglist put, now;
	struct ring_stat st;
	const uint32_t count = EXTENTS * PER_EXTENT + 5;

	fill_ring(fx, count, &put);
	/* 10 per extent; the 31st reused extent 0, the 36th is its 5th. */
	assert_int_equal(put.s[9].extent, 0);
	assert_int_equal(put.s[10].extent, 1);
	assert_int_equal(put.s[29].extent, 2);
	assert_int_equal(put.s[30].extent, 0);
	assert_int_equal(put.s[30].offset, 4096 + 4096); /* after init */

	list_all(fx, &now);
	assert_int_equal(now.n, count - PER_EXTENT);
	for (size_t i = 0; i < now.n; i++) { /* the newest, in order */
		assert_int_equal(now.s[i].id, put.s[PER_EXTENT + i].id);
		assert_true(i == 0 || now.s[i].seq == now.s[i - 1].seq + 1);
	}
	for (uint32_t n = 0; n < PER_EXTENT; n++) {
		uint8_t b[1];
		size_t len;

		assert_int_equal(ring_read(fx->ring, put.s[n].id, b, 1, &len), -ENOENT);
	}
	assert_seg(fx, put.s[10].id, 10);
	assert_seg(fx, put.s[count - 1].id, count - 1);

	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, PER_EXTENT);
	assert_int_equal(st.evicted_pinned, 0);
	assert_int_equal(st.segs, count - PER_EXTENT);
	assert_int_equal(st.oldest_utc_ms, T0 + 1000LL * PER_EXTENT);
	assert_int_equal(st.newest_utc_ms, T0 + 1000LL * (count - 1));

	/* Wrap again across a reopen: ids keep rising, extent 1 goes. The
	 * eviction counters are the index's, so a reopen keeps them. */
	fx_reopen(fx);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, PER_EXTENT);
	for (uint32_t n = count; n < count + 6; n++)
		put_ok(fx, n, &put.s[n]);
	assert_int_equal(put.s[count + 5].extent, 1);
	assert_true(put.s[count + 5].id > put.s[count - 1].id);
	list_all(fx, &now);
	assert_int_equal(now.s[0].id, put.s[2 * PER_EXTENT].id);
}

struct hook_log {
	int calls;
	int veto_after; /* veto from this call on; -1 never */
	char why[32];
	uint64_t last_id;
};

static int hook(void *arg, const struct ring_seg_info *info, const char *why)
{
	struct hook_log *h = arg;

	snprintf(h->why, sizeof(h->why), "%s", why);
	h->last_id = info->id;
	h->calls++;
	return h->veto_after >= 0 && h->calls > h->veto_after ? -1 : 0;
}

/* With everything pinned, appending into a full ring must not lose a
 * segment unless the hook agrees. */
static void test_floor_protects(void **state)
{
	struct fx *fx = *state;
	static struct seglist put, before, after;
	struct hook_log h = { .veto_after = -1 };
	struct ring_stat st;
	const uint32_t full = EXTENTS * PER_EXTENT;

	fill_ring(fx, full, &put);
	ring_set_floor(fx->ring, T0); /* every segment is in the floor */
	list_all(fx, &before);

	/* No hook: pinned segments are never overwritten. */
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	list_all(fx, &after);
	assert_int_equal(after.n, before.n);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, 0);
	assert_int_equal(st.bytes_pinned, st.bytes_used - 4096 * EXTENTS);

	/* A hook that vetoes the third: -ENOSPC, nothing evicted. */
	h.veto_after = 2;
	ring_set_evict_hook(fx->ring, hook, &h);
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 3);
	assert_string_equal(h.why, "retention-floor");
	assert_int_equal(h.last_id, put.s[2].id);
	list_all(fx, &after);
	assert_int_equal(after.n, before.n);
	assert_seg(fx, put.s[0].id, 0);

	/* A hook that accepts: the oldest extent goes, each one counted. */
	h = (struct hook_log){ .veto_after = -1 };
	put_ok(fx, full, NULL);
	assert_int_equal(h.calls, PER_EXTENT);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_pinned, PER_EXTENT);
	assert_int_equal(st.evicted_segs, PER_EXTENT);

	/* Below the floor segments go silently. */
	ring_set_floor(fx->ring, T0 + 1000LL * (2 * PER_EXTENT));
	h.calls = 0;
	for (uint32_t n = full + 1; n < full + 1 + PER_EXTENT; n++)
		put_ok(fx, n, NULL);
	assert_int_equal(h.calls, 0);
}

static void test_unuploaded_protects(void **state)
{
	struct fx *fx = *state;
	static struct seglist put;
	struct hook_log h = { .veto_after = 0 };
	struct ring_stat st;
	const uint32_t full = EXTENTS * PER_EXTENT;

	fill_ring(fx, full, &put);
	ring_set_evict_hook(fx->ring, hook, &h);

	/* Uploads required: an un-uploaded segment is pinned. */
	ring_set_upload_required(fx->ring, true);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_true(st.upload_required);
	assert_int_equal(st.segs_pending_upload, full);
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 1);
	assert_string_equal(h.why, "not-uploaded");

	/* Acknowledged by central: the extent may go, no hook asked. */
	for (uint32_t n = 0; n < PER_EXTENT; n++)
		assert_int_equal(ring_mark_uploaded(fx->ring, put.s[n].id), 0);
	assert_int_equal(ring_mark_uploaded(fx->ring, 987654), -ENOENT);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs_pending_upload, full - PER_EXTENT);
	h.calls = 0;
	put_ok(fx, full, NULL);
	assert_int_equal(h.calls, 0);

	/* Uploads not required: no pin, even with nothing uploaded. */
	ring_set_upload_required(fx->ring, false);
	for (uint32_t n = full + 1; n < full + 1 + PER_EXTENT; n++)
		put_ok(fx, n, NULL);
	assert_int_equal(h.calls, 0);
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.evicted_segs, 2 * PER_EXTENT);
	assert_int_equal(st.evicted_pinned, 0);
}

/* A stand-in for the outbox (the real one: outbox_test::test_segment_
 * record): segments below @acked_below are at central. */
struct owner_log {
	uint64_t acked_below;
	unsigned int asked;
	int fail; /* answer this instead, when not 0 */
};

static int owner_owed(void *arg, const struct ring_seg_info *info)
{
	struct owner_log *o = arg;

	o->asked++;
	return o->fail ? o->fail : info->id >= o->acked_below;
}

static int owner_pending(void *arg, int64_t before_ms, uint64_t *segsp, uint64_t *bytesp)
{
	(void)arg;
	(void)before_ms;
	*segsp = 7;
	*bytesp = 4242;
	return 0;
}

/* With an upload owner the ring keeps no upload state: its eviction asks
 * the owner (G2), ring_seg_uploaded() and the pending figures are the
 * owner's, an owner that cannot tell keeps the segment, and the flag of
 * an older build still counts as acknowledged. */
static void test_upload_owner(void **state)
{
	struct fx *fx = *state;
	static struct seglist put;
	struct hook_log h = { .veto_after = 0 };
	struct owner_log o = { 0 };
	const struct ring_upload_owner owner = { .owed = owner_owed,
						 .pending = owner_pending,
						 .arg = &o };
	struct ring_stat st;
	const uint32_t full = EXTENTS * PER_EXTENT;

	fill_ring(fx, full, &put);
	ring_set_evict_hook(fx->ring, hook, &h);
	ring_set_upload_required(fx->ring, true);
	ring_set_upload_owner(fx->ring, &owner);
	o.acked_below = put.s[0].id; /* nothing at central */
	assert_false(ring_seg_uploaded(fx->ring, &put.s[0]));
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 1);
	assert_string_equal(h.why, "not-uploaded");
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs_pending_upload, 7);

	/* The owner cannot tell: kept. */
	o.fail = -EIO;
	h.calls = 0;
	assert_int_equal(put_seg(fx, full, NULL), -ENOSPC);
	assert_int_equal(h.calls, 1);
	assert_false(ring_seg_uploaded(fx->ring, &put.s[0]));
	o.fail = 0;

	/* The oldest extent at central by the owner's word: it goes, no
	 * hook asked, and no flag was ever set. */
	o.acked_below = put.s[PER_EXTENT].id;
	assert_true(ring_seg_uploaded(fx->ring, &put.s[0]));
	assert_false(put.s[0].uploaded);
	h.calls = 0;
	o.asked = 0;
	put_ok(fx, full, NULL);
	assert_int_equal(h.calls, 0);
	assert_int_equal(o.asked, PER_EXTENT);

	/* The flag of an older build: acknowledged, the owner not asked. */
	assert_int_equal(ring_mark_uploaded(fx->ring, put.s[PER_EXTENT].id), 0);
	put.s[PER_EXTENT].uploaded = true;
	o.asked = 0;
	assert_true(ring_seg_uploaded(fx->ring, &put.s[PER_EXTENT]));
	assert_int_equal(o.asked, 0);

	/* Without an owner again, the flag decides. */
	ring_set_upload_owner(fx->ring, NULL);
	assert_false(ring_seg_uploaded(fx->ring, &put.s[PER_EXTENT + 1]));
	assert_int_equal(ring_stat(fx->ring, &st), 0);
	assert_int_equal(st.segs_pending_upload, st.segs - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_wrap_evicts_oldest_first),
		T(test_floor_protects),
		T(test_unuploaded_protects),
		T(test_upload_owner),
#undef T
	};

	log_init("ring_evict_test", LOG_DEST_PLAIN, getenv("RING_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
