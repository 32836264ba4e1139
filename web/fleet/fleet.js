// SPDX-License-Identifier: GPL-2.0-or-later
// The fleet view: every gateway and camera as camgate left them at central
// (docs/fleet-view.md). It only reads what the gateways wrote there
// (docs/uplink.md section 2): gateways/{gw}/status.json, registry/*.json,
// events/*.json and media/{camera}/live.m3u8, through listing.js.
//
// Query parameters: central=URL (central's root; default: the folder above
// this page), refresh=SECONDS (10), stale=SECONDS (a status older than this
// reads "stale": 90), events=N (newest events per gateway: 10),
// event_days=D (events of the last D days only: 7),
// play=GATEWAY/CAMERA (start playing that camera).
"use strict";

const params = new URLSearchParams(location.search);
const central = new FleetListing.Central(params.get("central") || new URL("../", location.href).href);
const REFRESH_S = Number(params.get("refresh")) || 10;
const STALE_S = Number(params.get("stale")) || 90;
const EVENTS_N = Number(params.get("events")) || 10;
const EVENTS_DAYS = Number(params.get("event_days")) || 7;

// ---- small DOM helpers: text only, never HTML from central ----

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === "onclick") e.addEventListener("click", v);
		else if (k === "cls") e.className = v;
		else e.setAttribute(k, v === true ? "" : String(v));
	}
	for (const k of kids.flat()) {
		if (k === undefined || k === null) continue;
		e.append(k instanceof Node ? k : document.createTextNode(String(k)));
	}
	return e;
}

function table(id, head, rows, empty) {
	const t = document.getElementById(id);
	t.replaceChildren(el("thead", null, el("tr", null, head.map((h) => el("th", null, h)))));
	const body = el("tbody");
	if (!rows.length) body.append(el("tr", { cls: "empty" }, el("td", { colspan: head.length }, empty)));
	for (const r of rows) body.append(r);
	t.append(body);
}

function num(v) {
	return el("td", { cls: "num" }, v === undefined || v === null ? "" : v);
}

function bytes(n) {
	if (typeof n !== "number") return "";
	const u = ["B", "KiB", "MiB", "GiB", "TiB"];
	let i = 0;
	while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
	return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}

function ms(t) {
	if (t === null || t === undefined || t === "") return NaN;
	return typeof t === "number" ? t : Date.parse(t);
}

function ago(t) {
	const v = ms(t);
	if (!Number.isFinite(v) || v <= 0) return "";
	let s = Math.round((Date.now() - v) / 1000);
	const sign = s < 0 ? "in " : "";
	s = Math.abs(s);
	const txt = s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min"
		: s < 172800 ? Math.round(s / 3600) + " h" : Math.round(s / 86400) + " d";
	return sign ? sign + txt : txt + " ago";
}

function when(t) {
	const v = ms(t);
	if (!Number.isFinite(v) || v <= 0) return "";
	return el("span", { title: new Date(v).toISOString() }, new Date(v).toISOString().replace("T", " ").slice(0, 19) + "Z", " ", el("small", null, "(" + ago(v) + ")"));
}

function flag(text, cls) {
	return el("span", { cls }, text);
}

// ---- reading central ----

function eventsSince() {
	const t = new Date(Date.now() - EVENTS_DAYS * 86400000).toISOString();
	return t.slice(0, 10).replace(/-/g, "") + "T";	// YYYYMMDDT
}

async function readGateway(gw) {
	const root = "gateways/" + gw + "/";
	const g = { id: gw, status: null, error: "", registry: [], events: [], media: [] };
	const [status, reg, media, events] = await Promise.allSettled([
		central.json(root + "status.json"),
		central.list(root + "registry/"),
		central.list(root + "media/"),
		// Event names start with their UTC time (docs/uplink.md section 2):
		// the last EVENTS_DAYS days only.
		central.list(root + "events/", eventsSince()),
	]);
	if (status.status === "fulfilled") g.status = status.value;
	else g.error = status.reason.message;
	if (media.status === "fulfilled") g.media = media.value.dirs;
	const jobs = [];
	if (reg.status === "fulfilled")
		for (const f of reg.value.files.filter((f) => f.name.endsWith(".json")))
			jobs.push(central.json(root + "registry/" + f.name).then((r) => g.registry.push(r), () => {}));
	if (events.status === "fulfilled")
		for (const f of events.value.files.filter((f) => f.name.endsWith(".json")).slice(-EVENTS_N))
			jobs.push(central.json(root + "events/" + f.name).then((e) => g.events.push(e), () => {}));
	await Promise.all(jobs);
	g.registry.sort((a, b) => String(a.camera).localeCompare(String(b.camera)));
	return g;
}

async function readFleet() {
	const top = await central.list("gateways/");
	return Promise.all(top.dirs.map(readGateway));
}

// ---- rendering ----

function statusAge(g) {
	const t = g.status ? ms(g.status.time) : NaN;
	return Number.isFinite(t) ? (Date.now() - t) / 1000 : Infinity;
}

function linkCell(g) {
	if (!g.status) return el("td", null, flag("no status", "bad"), " ", el("small", null, g.error));
	if (statusAge(g) > STALE_S) return el("td", null, flag("stale", "bad"), " ", el("small", null, "last status " + ago(g.status.time)));
	const up = (g.status.uplink || {}).link === "up";
	return el("td", null, flag(up ? "up" : "down", up ? "ok" : "bad"));
}

function renderGateways(fleet) {
	table("gateways", ["gateway", "link", "state", "status", "firmware", "cameras", "backlog", "not at central", "lost", "alarms", "registry pending"],
	      fleet.map((g) => {
		const s = g.status || {};
		const st = s.storage || {};
		const up = s.uplink || {};
		const q = (up.queue || {}).backlog || {};
		const reg = s.registry || {};
		const alarms = (s.alarms || []).length;
		return el("tr", { "data-gateway": g.id },
			el("td", null, g.id), linkCell(g),
			el("td", null, s.daemon_state || ""),
			el("td", null, when(s.time)),
			el("td", null, s.firmware || ""),
			num((s.cameras || []).length || g.media.length),
			el("td", { cls: "num" }, (q.objects || 0) + " obj, " + bytes(q.bytes || 0),
			   q.oldest ? el("small", null, " oldest " + ago(q.oldest)) : ""),
			el("td", { cls: "num" }, (st.segments_pending_upload ?? "") + " seg, " + bytes(st.pinned_bytes)),
			el("td", { cls: "num" }, el("span", { cls: (up.lost_segments || st.evicted_not_uploaded) ? "bad" : "" },
							String((up.lost_segments || 0) + (st.evicted_not_uploaded || 0)))),
			el("td", { cls: "num" }, alarms ? flag(String(alarms), "bad") : "0"),
			el("td", null, reg.pending_changes ? [String(reg.pending_changes) + " due ", when(reg.deadline)] : "0"));
	}), "no gateway has written to central yet");
}

function renderAlarms(fleet) {
	const rows = [];
	for (const g of fleet)
		for (const a of (g.status && g.status.alarms) || [])
			rows.push(el("tr", { "data-alarm": a.code, "data-gateway": g.id, "data-camera": a.camera || "" },
				     el("td", null, g.id), el("td", null, a.camera || "(gateway)"),
				     el("td", null, flag(a.code, "bad")), el("td", null, a.message || ""),
				     el("td", null, when(a.since_ms)), num(a.count)));
	table("alarms", ["gateway", "camera", "alarm", "message", "since", "times"], rows, "no active alarm");
}

function renderCameras(fleet) {
	const rows = [];
	for (const g of fleet) {
		const byName = new Map();
		for (const c of (g.status && g.status.cameras) || []) byName.set(c.name, { st: c });
		for (const r of g.registry) if (r.camera) (byName.get(r.camera) || byName.set(r.camera, {}).get(r.camera)).reg = r;
		for (const m of g.media) (byName.get(m) || byName.set(m, {}).get(m)).media = true;
		for (const [name, c] of [...byName].sort()) {
			const st = c.st || {};
			const reg = c.reg || {};
			const state = st.state || (reg.removed ? "removed" : "not in status");
			const cls = state === "recording" ? "ok" : state === "connecting" ? "warn" : "bad";
			const video = st.video_codec ? st.video_codec + " " + st.width + "x" + st.height + " @" + Number(st.fps || 0).toFixed(1) : "";
			rows.push(el("tr", { "data-gateway": g.id, "data-camera": name, "data-state": state },
				el("td", null, g.id), el("td", null, name, reg.name && reg.name !== name ? el("small", null, " " + reg.name) : ""),
				el("td", null, flag(state, cls)), el("td", null, video, st.audio_codec ? " + " + st.audio_codec : ""),
				el("td", { cls: "num" }, st.bitrate_bps ? (st.bitrate_bps / 1e6).toFixed(2) + " Mbit/s" : ""),
				el("td", null, st.last_segment_utc_ms ? when(st.last_segment_utc_ms) : ""),
				num(st.segments), num(st.reconnects), el("td", null, el("small", null, st.last_error || "")),
				el("td", null, c.media ? el("button", { onclick: () => play(g.id, name), "data-play": g.id + "/" + name }, "▶ live") : "")));
		}
	}
	table("cameras", ["gateway", "camera", "state", "stream", "bitrate", "last segment", "segments", "reconnects", "last error", "live"], rows, "no camera known");
}

const DUTY_COLS = ["kind", "requirement", "camera", "state", "open", "opened_at", "deadline", "since", "detail"];

function renderCompliance(fleet) {
	// status.compliance (docs/schema/status.schema.json): one row per camera
	// and duty. Absent on gateways that do not report it: nothing is shown.
	const rows = [];
	const extra = new Set();
	for (const g of fleet)
		for (const d of (g.status && Array.isArray(g.status.compliance) && g.status.compliance) || []) {
			rows.push([g, d]);
			Object.keys(d).filter((k) => !DUTY_COLS.includes(k)).forEach((k) => extra.add(k));
		}
	const sec = document.getElementById("compliance-section");
	sec.hidden = !rows.length;
	const box = document.getElementById("compliance");
	if (!rows.length) { box.replaceChildren(); return; }
	const cols = DUTY_COLS.concat([...extra]);
	// Soonest deadline first; duties without one (closed) last.
	const due = (d) => (Number.isFinite(ms(d.deadline)) ? ms(d.deadline) : Infinity);
	rows.sort((a, b) => due(a[1]) - due(b[1]));
	const t = el("table", { id: "compliance-table" });
	box.replaceChildren(t);
	table("compliance-table", ["gateway"].concat(cols), rows.map(([g, d]) =>
		el("tr", { cls: d.state === "overdue" ? "late" : d.state === "due-soon" ? "due" : "", "data-duty": d.kind, "data-state": d.state },
		   el("td", null, g.id),
		   cols.map((k) => el("td", null, /(_at|deadline|since)$/.test(k) && d[k] ? when(d[k])
			   : k === "state" ? flag(d[k], d[k] === "ok" ? "ok" : d[k] === "overdue" ? "bad" : "warn")
			   : typeof d[k] === "object" && d[k] !== null ? JSON.stringify(d[k]) : d[k])))), "");
}

function renderRegistry(fleet) {
	const rows = [];
	for (const g of fleet)
		for (const r of g.registry) {
			const late = !r.removed && ms(r.deadline) < Date.now();
			rows.push(el("tr", { "data-gateway": g.id, "data-camera": r.camera },
				el("td", null, g.id), el("td", null, r.camera, r.removed ? flag(" removed", "warn") : ""),
				el("td", null, r.name || ""), el("td", null, [r.manufacturer, r.model].filter(Boolean).join(" ")),
				el("td", null, r.serial || ""), el("td", null, r.address || "", r.mac ? el("small", null, " " + r.mac) : ""),
				el("td", null, (r.location && r.location.description) || ""),
				el("td", null, r.provider_unit || ""), el("td", null, r.update_method || "", el("small", null, " " + (r.update_frequency || ""))),
				el("td", null, (r.users || []).join(", ")), el("td", null, when(r.changed_at)),
				el("td", null, late ? flag("past ", "bad") : "", when(r.deadline))));
		}
	table("registry", ["gateway", "camera", "name", "make and model", "serial", "address", "location", "provider unit", "update", "users", "changed", "deadline"], rows, "no registry record at central");
}

function renderEvents(fleet) {
	const all = [];
	for (const g of fleet) for (const e of g.events) all.push([g, e]);
	all.sort((a, b) => String(b[1].time).localeCompare(String(a[1].time)));
	table("events", ["time", "gateway", "type", "camera", "message"], all.map(([g, e]) =>
		el("tr", { "data-type": e.type },
		   el("td", null, when(e.time)), el("td", null, g.id),
		   el("td", null, e.type === "alarm" ? flag("alarm", "bad") : e.type),
		   el("td", null, e.camera || ""), el("td", null, e.message || ""))), "no event at central");
}

// ---- live playback ----

let hls = null;
const video = document.getElementById("video");
const player = document.getElementById("player");

function playerState(state, detail) {
	player.dataset.state = state;
	player.textContent = state + (detail ? ": " + detail : "");
}

// The video codec the camera's status reports ("" when unknown).
let fleetNow = [];
function codecOf(gw, cam) {
	const g = fleetNow.find((x) => x.id === gw);
	const c = g && g.status && (g.status.cameras || []).find((x) => x.name === cam);
	return (c && c.video_codec) || "";
}

function play(gw, cam) {
	const src = central.url("gateways/" + gw + "/media/" + cam + "/live.m3u8");
	document.getElementById("player-title").textContent = gw + " / " + cam;
	player.dataset.camera = gw + "/" + cam;
	video.hidden = false;
	if (hls) { hls.destroy(); hls = null; }
	video.removeAttribute("src");
	// Cameras send H.264 or H.265 as they are (no transcoding); many
	// browsers decode no H.265 in Media Source Extensions (Debian's
	// Chromium among them): say so rather than fail obscurely.
	const mse = window.Hls && Hls.isSupported();
	if (mse && /^(hevc|h265)$/i.test(codecOf(gw, cam)) &&
	    !MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L120.90"')) {
		playerState("error", "this browser does not decode H.265, which " + cam + " sends; open it in one that does (Safari, Edge or Chrome with hardware decoding)");
		return;
	}
	playerState("loading", src);
	if (mse) {
		hls = new Hls({ liveSyncDurationCount: 2 });
		hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) playerState("error", d.type + " " + d.details); });
		hls.loadSource(src);
		hls.attachMedia(video);
	} else if (video.canPlayType("application/vnd.apple.mpegurl")) {
		video.src = src;	// a player with HLS built in
	} else {
		playerState("error", "this browser plays no HLS by itself and hls.js is missing (make deps)");
		return;
	}
	video.play().catch(() => {});
}

// The state a test (or a person) reads off the page.
setInterval(() => {
	player.dataset.readyState = String(video.readyState);
	player.dataset.currentTime = video.currentTime.toFixed(2);
	if (player.dataset.state === "loading" && video.readyState >= 2 && video.currentTime > 0)
		playerState("playing", player.dataset.camera);
}, 250);

// ---- the loop ----

async function refresh() {
	const err = document.getElementById("error");
	try {
		const fleet = await readFleet();
		fleetNow = fleet;
		renderGateways(fleet);
		renderAlarms(fleet);
		renderCameras(fleet);
		renderCompliance(fleet);
		renderRegistry(fleet);
		renderEvents(fleet);
		err.hidden = true;
		document.body.dataset.gateways = String(fleet.length);
		document.body.dataset.loaded = "yes";
		const want = params.get("play");
		if (want && !player.dataset.camera) {
			const [gw, cam] = want.split("/");
			play(gw, cam);
		}
	} catch (e) {
		err.hidden = false;
		err.textContent = "cannot read central: " + e.message;
	}
	document.getElementById("listing-style").textContent = central.style === "s3" ? "S3 ListObjectsV2 listings" : central.style === "autoindex" ? "nginx autoindex JSON listings" : "listing style not known yet";
	document.getElementById("refreshed").textContent = new Date().toISOString().slice(11, 19) + "Z";
	setTimeout(refresh, REFRESH_S * 1000);
}

document.getElementById("central-url").textContent = central.root;
refresh();
