# SPDX-License-Identifier: GPL-2.0-or-later
"""The live playlist across gateway restarts, as central sees it.

`camgate run` records a camera into nginx while the test reads
media/{camera}/live.m3u8 at central every few milliseconds and keeps every
version it sees. camgate is killed (SIGKILL) in mid-stream and started
again; once the discontinuity of that restart has slid out of the window it
is stopped cleanly and started again. Every pair of successive versions
must keep the rules RFC 8216 section 6.2.2 sets for a live playlist
(check_versions below), across both restarts, and the first segment each
restart adds is marked EXT-X-DISCONTINUITY (the stream was reopened: its
timestamps start over)."""

import math
import re
import sqlite3
import threading
import time

import pytest

import cglib

GW = "gw-live-01"
CAM = "cam1"
LIVE_WINDOW = 3


class Playlist:
	"""One version of an HLS media playlist, as the rules need it."""

	def __init__(self, text):
		self.text = text
		self.version = None
		self.target = None
		self.msn = 0
		self.dseq = 0
		self.ended = False
		self.segs = []	# [{uri, msn, disc, dur, map, pdt}]
		disc, dur, mp, pdt = False, None, None, None
		lines = text.splitlines()
		assert lines and lines[0] == "#EXTM3U", text
		for line in lines[1:]:
			if line.startswith("#EXT-X-VERSION:"):
				self.version = int(line.split(":", 1)[1])
			elif line.startswith("#EXT-X-TARGETDURATION:"):
				self.target = int(line.split(":", 1)[1])
			elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
				assert not self.segs, "MEDIA-SEQUENCE after a segment: %s" % text
				self.msn = int(line.split(":", 1)[1])
			elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
				assert not self.segs, "DISCONTINUITY-SEQUENCE after a segment"
				self.dseq = int(line.split(":", 1)[1])
			elif line == "#EXT-X-DISCONTINUITY":
				disc = True
			elif line.startswith("#EXT-X-MAP:"):
				mp = re.search(r'URI="([^"]+)"', line).group(1)
			elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
				pdt = line.split(":", 1)[1]
			elif line.startswith("#EXTINF:"):
				dur = float(line.split(":", 1)[1].split(",", 1)[0])
			elif line == "#EXT-X-ENDLIST":
				self.ended = True
			elif line and not line.startswith("#"):
				assert dur is not None, "URI without EXTINF: %s" % text
				self.segs.append({"uri": line, "msn": self.msn + len(self.segs),
						  "disc": disc, "dur": dur, "map": mp, "pdt": pdt})
				disc, dur, pdt = False, None, None

	def last_msn(self):
		return self.msn + len(self.segs) - 1


def check_one(p):
	"""Rules for one live playlist version (RFC 8216 4.3.3, 4.3.2.1)."""
	assert p.version == 7 and not p.ended and p.segs, p.text
	assert p.target is not None, p.text
	for s in p.segs:
		# 4.3.3.1: each EXTINF rounded to the nearest integer <= target.
		assert math.floor(s["dur"] + 0.5) <= p.target, (s, p.text)
		assert s["map"], "segment without EXT-X-MAP: %s" % p.text


def check_versions(versions):
	"""RFC 8216 section 6.2.2 over successive versions (versions seen by
	polling may skip some in between, which the rules allow for):
	  - EXT-X-MEDIA-SEQUENCE never decreases;
	  - a media sequence number always names the same segment, and a
	    segment keeps its number (and its tags) while it is listed;
	  - segments leave only from the start, new ones come only at the end;
	  - EXT-X-DISCONTINUITY-SEQUENCE never decreases and goes up by exactly
	    the number of EXT-X-DISCONTINUITY tags that left the window (at
	    least by those, when versions in between were not seen);
	  - EXT-X-TARGETDURATION never changes (4.3.3.1: MUST NOT change)."""
	by_msn, by_uri = {}, {}
	for p in versions:
		check_one(p)
		for s in p.segs:
			assert by_msn.setdefault(s["msn"], s["uri"]) == s["uri"], \
				"msn %d named %s and %s" % (s["msn"], by_msn[s["msn"]], s["uri"])
			assert by_uri.setdefault(s["uri"], s["msn"]) == s["msn"], \
				"%s had msn %d, now %d" % (s["uri"], by_uri[s["uri"]], s["msn"])
	for a, b in zip(versions, versions[1:]):
		ctx = "\n--- before\n%s--- after\n%s" % (a.text, b.text)
		assert b.msn >= a.msn, "EXT-X-MEDIA-SEQUENCE went back" + ctx
		assert b.dseq >= a.dseq, "EXT-X-DISCONTINUITY-SEQUENCE went back" + ctx
		assert b.last_msn() >= a.last_msn(), "segments removed from the end" + ctx
		assert b.target == a.target, "EXT-X-TARGETDURATION changed" + ctx
		# What both list is the same, tag for tag.
		for s in a.segs:
			if s["msn"] >= b.msn:
				t = b.segs[s["msn"] - b.msn]
				for k in ("uri", "disc", "dur", "map", "pdt"):
					assert s[k] == t[k], ("segment %s changed %s" % (s["uri"], k)) + ctx
		gone = b.msn - a.msn
		tags_out = sum(1 for s in a.segs[:gone] if s["disc"])
		if gone <= len(a.segs):
			assert b.dseq == a.dseq + tags_out, \
				"DISCONTINUITY-SEQUENCE not the count of tags that left" + ctx
		else:
			assert b.dseq >= a.dseq + tags_out, ctx


def test_checker_catches_violations():
	"""The rules above fail on playlists that break them (so the camgate
	test below can fail)."""
	def pl(msn, segs, dseq=0, target=2):
		out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n" % target
		out += "#EXT-X-MEDIA-SEQUENCE:%d\n" % msn
		if dseq:
			out += "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n" % dseq
		out += '#EXT-X-MAP:URI="init-1.mp4"\n'
		for name, disc in segs:
			out += ("#EXT-X-DISCONTINUITY\n" if disc else "") + \
				"#EXTINF:2.000,\n%s.m4s\n" % name
		return Playlist(out)
	good = [pl(5, [("a", False), ("b", True), ("c", False)]),
		pl(6, [("b", True), ("c", False), ("d", False)]),
		pl(7, [("c", False), ("d", False), ("e", True)], dseq=1)]
	check_versions(good)
	bad = [
		[good[1], pl(0, [("x", False)])],		# msn back to 0
		[good[2], pl(8, [("d", False), ("e", True), ("f", False)])],  # dseq back
		[good[0], pl(6, [("b", True), ("c", False), ("d", False)], dseq=1)],  # counted
		[good[0], pl(7, [("c", False), ("d", False), ("e", False)])],  # b's tag left
		[good[0], pl(6, [("c", False), ("d", False)])],	# c renumbered
		[good[0], pl(5, [("a", False), ("b", False), ("c", False)])],  # tag dropped
		[good[0], pl(5, [("a", False), ("b", True), ("c", False)], target=1)],
	]
	for vs in bad:
		with pytest.raises(AssertionError):
			check_versions(vs)


class Watcher:
	"""Reads a file at central every few milliseconds and keeps each
	version (nginx renames a PUT's body into place, so every read is a
	whole version), with the time it was first seen."""

	def __init__(self, path):
		self.path = path
		self.seen = []	# [(t, text)]
		self._stop = threading.Event()
		self._t = threading.Thread(target=self._run, daemon=True)
		self._t.start()

	def _run(self):
		last = None
		while not self._stop.is_set():
			try:
				text = self.path.read_text()
			except FileNotFoundError:
				text = None
			if text and text != last:
				self.seen.append((time.time(), text))
				last = text
			self._stop.wait(0.01)

	def since(self, t):
		return [Playlist(x) for ts, x in self.seen if ts >= t]

	def stop(self):
		self._stop.set()
		self._t.join(5)


def saved_window(cg):
	"""The URIs of the window camgate will resume from (state.db, read
	after it stopped); the last version seen at central when state.db
	has none (a camgate that keeps no such state)."""
	try:
		rows = cg.db_rows("SELECT body FROM outbox_live WHERE camera = ?", (CAM,))
	except sqlite3.OperationalError as e:
		if "no such table" not in str(e):
			raise
		rows = []
	if rows:
		body = rows[0]["body"]
		return Playlist(body.decode() if isinstance(body, bytes) else body)
	return None


def first_new(versions, known):
	"""The first segment listed in @versions that is not in @known."""
	for p in versions:
		for s in p.segs:
			if s["uri"] not in known:
				return s, p
	return None, None


@pytest.mark.budget(120)
def test_live_playlist_rules_across_restarts(env, central_mtls, uplink_config, schema_check):
	central = central_mtls
	srv = env.cameras(cams=1, codec="h264", audio="none")
	cg = env.camgate()
	uplink_config(cg, central, {CAM: srv.url(1)}, gateway={"id": GW},
		      storage={"extents": 8, "extent_size": "32M"}, live_window=LIVE_WINDOW)
	w = Watcher(central.file("gateways/%s/media/%s/live.m3u8" % (GW, CAM)))
	try:
		cg.start()

		def versions_with(pred, what, timeout):
			return cglib.wait_for(what, lambda: cg.assert_running() or
					      any(pred(p) for p in w.since(0)), timeout, 0.2)

		# A full window that has slid a few times.
		versions_with(lambda p: len(p.segs) == LIVE_WINDOW and p.msn >= 3,
			      "a full live window that slid", 40)
		restarts = []
		for how in ("kill9", "stop"):
			if how == "kill9":
				cg.kill9()
			else:
				assert cg.stop() == 0
			t_down = time.time()
			saved = saved_window(cg)
			before = [Playlist(x) for ts, x in w.seen if ts < t_down]
			known = {s["uri"] for p in before for s in p.segs}
			if saved:
				known |= {s["uri"] for s in saved.segs}
			restarts.append((t_down, known, saved))
			cg.start()
			# The restart's first segment, then its tag slid out (if
			# it never does, the checks below say which rule broke).
			try:
				versions_with(lambda p: p.dseq >= len(restarts) and
					      any(s["uri"] not in known for s in p.segs),
					      "the discontinuity of restart %d slid out"
					      % len(restarts), 25)
			except cglib.Failure:
				cg.assert_running()
		assert cg.stop() == 0
	finally:
		w.stop()
		srv.stop()
	versions = w.since(0)
	check_versions(versions)
	for n, (t_down, known, saved) in enumerate(restarts, 1):
		s, p = first_new(w.since(t_down), known)
		assert s, "no new segment after restart %d" % n
		assert s["disc"], "first segment after restart %d not marked " \
			"EXT-X-DISCONTINUITY:\n%s" % (n, p.text)
		if saved:
			# It goes on from the saved window's numbers.
			assert s["msn"] > saved.last_msn(), (saved.text, p.text)
	assert versions[-1].dseq >= len(restarts), versions[-1].text
	schema_check(central, GW)
