#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: four simulated cameras (real RTSP servers on 127.0.0.1),
# recorded by `camgate run` for DEMO_SECONDS (default 30) and pushed to a
# local central (nginx over mutual TLS), then the ring's contents, what
# central holds, and a playable MP4 of one camera. Everything stays on
# loopback and stops by itself.
set -eu
BIN=$1
SECS=${DEMO_SECONDS:-30}
PORT=${DEMO_PORT:-18554}
CPORT=${DEMO_CENTRAL_PORT:-18443}
D=$(pwd)/build/demo
PY=/usr/bin/python3

rm -rf "$D"
mkdir -p "$D"
cam_pid=""
gw_pid=""
cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null || true
	sh scripts/central.sh stop "$D/central"
	[ -n "$cam_pid" ] && kill "$cam_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "demo: starting 4 simulated cameras on rtsp://127.0.0.1:$PORT/cam1..cam4"
echo "      (cam1 H.264+AAC, cam2 H.265+AAC, cam3 H.264+G.711, cam4 H.265; clips encoded once into build/clips)"
$PY tests/camsim/rtsp_cam.py --port "$PORT" --cams 4 --codec h264,h265,h264,h265 \
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

echo "demo: starting a local central: nginx over mutual TLS with WebDAV"
sh scripts/central.sh start "$D/central" "$CPORT"

cat > "$D/camgate.conf" <<CONF
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

[camera:lobby]
url = rtsp://127.0.0.1:$PORT/cam1

[camera:gate]
url = rtsp://127.0.0.1:$PORT/cam2

[camera:parking]
url = rtsp://127.0.0.1:$PORT/cam3

[camera:warehouse]
url = rtsp://127.0.0.1:$PORT/cam4
CONF

echo "demo: recording for $SECS s with: $BIN -c $D/camgate.conf run"
"$BIN" -c "$D/camgate.conf" run 2>"$D/camgate.log" &
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
	print(" ".join("%s:%s/%dseg" % (c["name"], c["state"], c["segments"]) for c in s["cameras"])
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
( cd "$D/central/www" && find . -type f | sed 's|^\./||' | awk -F/ '{print $1"/"$2"/"$3"/"$4}' | sort | uniq -c )
ls "$D"/central/www/gateways/gw-demo-01/media/*/live.m3u8 2>/dev/null | while read -r m; do
	echo "  live playlist: https://127.0.0.1:$CPORT${m#$D/central/www}"
done
m=$D/central/www/gateways/gw-demo-01/media/lobby/live.m3u8
[ -f "$m" ] && ffprobe -v error -show_entries stream=codec_name,width,height -of compact "$m" | sed 's/^/  lobby live.m3u8 plays: /'
echo
echo "demo: done. Play it with: ffplay $D/lobby.mp4   (logs in $D)"
