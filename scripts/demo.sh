#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: four simulated ONVIF cameras (onvif_sim answering
# WS-Discovery and ONVIF calls, GStreamer RTSP servers for the video) are
# discovered by `camgate run`, recorded for DEMO_SECONDS (default 30) and
# pushed to a local central (nginx over mutual TLS); then the ring's
# contents, the registry, what central holds, and a playable MP4 of one
# camera. While it records, the fleet view (docs/fleet-view.md) shows the
# gateway at http://127.0.0.1:DEMO_VIEW_PORT/fleet/ (default 18480).
# Everything but that page's read-only nginx runs inside a network
# namespace the demo creates (multicast on its loopback, no route out);
# all of it stops by itself. Root.
set -eu
BIN=$1
SIM=$2
NS=cgdemo
IN="ip netns exec $NS-gw"
SECS=${DEMO_SECONDS:-30}
PORT=${DEMO_PORT:-18554}
CPORT=${DEMO_CENTRAL_PORT:-18443}
VPORT=${DEMO_VIEW_PORT:-18480}
D=$(pwd)/build/demo
PY=/usr/bin/python3

rm -rf "$D"
mkdir -p "$D"
cam_pid=""
gw_pid=""
sim_pids=""
cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null || true
	for p in $sim_pids; do kill "$p" 2>/dev/null || true; done
	$IN sh scripts/central.sh stop "$D/central" 2>/dev/null
	[ -n "$cam_pid" ] && kill "$cam_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	sh tests/camsim/netns.sh down "$NS" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates a network namespace for WS-Discovery)" >&2
	exit 1
fi
sh tests/camsim/netns.sh down "$NS" 2>/dev/null || true
sh tests/camsim/netns.sh up "$NS" 0 >/dev/null
echo "demo: network namespace $NS-gw (loopback only, multicast stays inside)"
echo "demo: starting 4 simulated cameras on rtsp://127.0.0.1:$PORT/cam1..cam4"
echo "      (cam1 H.264+AAC, cam2 H.265+AAC, cam3 H.264+G.711, cam4 H.265; clips encoded once into build/clips)"
$IN $PY tests/camsim/rtsp_cam.py --port "$PORT" --cams 4 --codec h264,h265,h264,h265 \
	--audio aac,aac,pcmu,none --clip-dir build/clips --ready-file "$D/cams.ready" \
	--max-lifetime $((SECS + 300)) 2>"$D/cams.log" &
cam_pid=$!
i=0
while [ ! -f "$D/cams.ready" ]; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$cam_pid" 2>/dev/null; then
		echo "demo: the camera simulator did not start:"; tail -20 "$D/cams.log"; exit 1
	fi
	sleep 0.5
done

names="lobby gate parking warehouse"
i=0
for n in $names; do
	i=$((i + 1))
	$IN "$SIM" --ip "127.0.0.1$i" --port 8080 --user admin --pass demo-pass \
		--make Camsim --model "DemoCam-$i" --serial "DEMO-000$i" --name "$n" \
		--location "site-a" --rtsp "rtsp://127.0.0.1:$PORT/cam$i" \
		>"$D/onvif-$n.out" 2>"$D/onvif-$n.log" &
	sim_pids="$sim_pids $!"
done
echo "demo: ONVIF cameras answering on 127.0.0.11-14 ($names)"

echo "demo: starting a local central: nginx over mutual TLS with WebDAV"
$IN sh scripts/central.sh start "$D/central" "$CPORT"
# The operators' page: a read-only nginx over the same tree, outside the
# namespace so that a browser on this machine reaches it.
sh scripts/central.sh view "$D/central" "$VPORT"
VIEW=http://127.0.0.1:$VPORT/fleet/
echo "demo: open the fleet view while the demo records: $VIEW"

# The file holds the cameras' ONVIF password in the clear, so only its
# owner may read it (camgate warns, and `config check` fails, otherwise).
# On a gateway, `settings set onvif.password` on the console seals it.
(umask 077 && cat >"$D/camgate.conf") <<CONF
# camgate demo configuration (see docs/config.md)
[gateway]
id = gw-demo-01
state_dir = $D/state

[storage]
dir = $D/ring
extents = 8
extent_size = 32M
retention_floor = 10m

[stream]
segment_duration = 4s

[uplink]
base_url = https://127.0.0.1:$CPORT
ca_file = $D/central/pki/ca.crt
client_cert = $D/central/pki/client.crt
client_key = $D/central/pki/client.key
status_interval = 5s

[onvif]
# The demo's cameras are found, not typed in.
discovery = yes
interfaces = lo
username = admin
password = demo-pass
interval = 30s
probe_window = 1s
CONF
chmod 0600 "$D/camgate.conf"
"$BIN" -c "$D/camgate.conf" config check >/dev/null

echo "demo: discovering and recording for $SECS s with: $BIN -c $D/camgate.conf run"
$IN "$BIN" -c "$D/camgate.conf" run 2>"$D/camgate.log" &
gw_pid=$!
t=0
while [ $t -lt "$SECS" ]; do
	sleep 1
	t=$((t + 1))
	if ! kill -0 "$gw_pid" 2>/dev/null; then
		echo; echo "demo: camgate exited early:"; tail -20 "$D/camgate.log"; exit 1
	fi
	line=$("$BIN" -c "$D/camgate.conf" -q status --json 2>/dev/null |
		$PY -c 'import json,sys
try:
	s=json.load(sys.stdin)
	u=s.get("uplink", {})
	cams=" ".join("%s:%s/%dseg" % (c["name"], c["state"], c["segments"]) for c in s["cameras"])
	print((cams or "discovering cameras...")
	      + " | central: %d sent, %d queued" % (u.get("sent_objects", 0), u.get("pending_rows", 0)))
except Exception:
	print("starting")' 2>/dev/null || echo starting)
	printf '\r[%2d/%d s] %s   ' "$t" "$SECS" "$line"
done
echo
kill -TERM "$gw_pid"
wait "$gw_pid" || { echo "demo: camgate did not stop cleanly"; tail -20 "$D/camgate.log"; exit 1; }
gw_pid=""

echo
echo "demo: the camera registry (R2), as discovery filled it"
sqlite3 -header -column "$D/state/state.db" \
	"SELECT name, manufacturer, model, serial, ip, scope_location AS location, update_method FROM registry_cameras ORDER BY name" 2>/dev/null ||
	echo "  (registry table not readable)"
echo
echo "demo: camgate status (last snapshot)"
"$BIN" -c "$D/camgate.conf" status
echo
echo "demo: camgate ring stat"
"$BIN" -c "$D/camgate.conf" ring stat
echo
echo "demo: camgate ring ls lobby"
"$BIN" -c "$D/camgate.conf" ring ls lobby
echo
echo "demo: camgate ring verify"
"$BIN" -c "$D/camgate.conf" ring verify
echo
echo "demo: camgate ring cat lobby begin end -o $D/lobby.mp4"
"$BIN" -c "$D/camgate.conf" ring cat lobby begin end -o "$D/lobby.mp4"
ffprobe -v error -show_entries format=duration:stream=codec_name,width,height \
	-of compact "$D/lobby.mp4"
echo
echo "demo: what central received (under $D/central/www):"
( cd "$D/central/www" && find . -type f | sed 's|^\./||' | awk -F/ '{n = NF < 4 ? NF : 4; p = $1; for (i = 2; i <= n; i++) p = p "/" $i; print p}' | sort | uniq -c )
ls "$D"/central/www/gateways/gw-demo-01/media/*/live.m3u8 2>/dev/null | while read -r m; do
	echo "  live playlist: https://127.0.0.1:$CPORT${m#$D/central/www}"
done
m=$D/central/www/gateways/gw-demo-01/media/lobby/live.m3u8
[ -f "$m" ] && ffprobe -v error -show_entries stream=codec_name,width,height -of compact "$m" | grep . | sed "s/^program|//" | awk "!seen[\$0]++" | sed 's/^/  lobby live.m3u8 plays: /'
echo
echo "demo: the fleet view was at $VIEW (it stops with the demo;"
echo "      DEMO_SECONDS=600 make demo leaves ten minutes to watch it)"
echo "demo: done. Play it with: ffplay $D/lobby.mp4   (logs in $D)"
