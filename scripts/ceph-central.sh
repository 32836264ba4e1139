#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A one-node Ceph cluster with radosgw as an S3 central, on loopback, for
# the tests (tests/integration/uplink/test_s3_radosgw.py) and by hand:
#
#   scripts/ceph-central.sh start DIR    # prints KEY=VALUE lines (also in DIR/env)
#   scripts/ceph-central.sh stop DIR     # kills everything it started
#
# One monitor (made with --mkfs), one OSD on memstore (RAM: no loop device,
# no root-only block setup, and a fresh cluster in about 10 s; the data dies
# with the OSD, which is what a test wants), no manager (radosgw and the
# rados clients need only mon + osd) and no cephx (auth none: the monitor,
# OSD and gateway trust loopback; S3 clients are still checked by radosgw's
# SigV4). radosgw serves S3 with the beast frontend over TLS only, on
# 127.0.0.1, with the certificate given in CEPH_CENTRAL_CERT/_KEY (the test
# PKI's server certificate; a self-signed one is made when unset). A user
# (access key/secret) is created with radosgw-admin and a bucket with a
# SigV4-signed PUT (curl --aws-sigv4).
#
# Environment: CEPH_CENTRAL_CERT, CEPH_CENTRAL_KEY, CEPH_CENTRAL_CA (CA file
# for curl; default: the certificate), CEPH_CENTRAL_BUCKET (central),
# CEPH_CENTRAL_REGION (default: radosgw's zonegroup, "default"),
# CEPH_CENTRAL_MEMSTORE_BYTES (the OSD's RAM store; default 1 GiB).
# Everything lives in DIR; nothing touches /etc/ceph, /var/lib/ceph or systemd.
set -eu

usage() {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
D=$(cd "$2" && pwd)
CONF=$D/ceph.conf

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop() {
	# radosgw first (it holds the OSD's attention), then the OSD, the monitor.
	for f in "$D"/run/client.*.pid "$D"/run/osd.*.pid "$D"/run/mon.*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			i=0
			while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

fail() {
	echo "ceph-central: $*" >&2
	for l in "$D"/log/*.log; do
		[ -f "$l" ] || continue
		echo "--- $l" >&2
		grep -v pg_epoch "$l" | tail -n 8 >&2
	done
	[ -n "${CEPH_CENTRAL_KEEP:-}" ] || stop
	exit 1
}

# mon_cmd WHAT ARGS...: `ceph ARGS` against this cluster, tried up to 10
# times a second apart; its output on success.
mon_cmd() {
	what=$1
	shift
	n=0
	until ceph $C --connect-timeout 5 "$@" 2>>"$D/log/ceph-cmd.log"; do
		n=$((n + 1))
		[ $n -lt 10 ] || fail "$what failed: $(tail -n 2 "$D/log/ceph-cmd.log")"
		sleep 1
	done
}

wait_for() { # seconds what command...
	t=$1 what=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le $((t * 5)) ] || fail "$what did not come up in ${t}s"
		sleep 0.2
	done
}

start() {
	for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl openssl; do
		command -v $b >/dev/null || { echo "ceph-central: $b missing (make deps)" >&2; exit 3; }
	done
	stop
	rm -rf "$D/mon" "$D/osd" "$D/run" "$D/log" "$D/env"
	mkdir -p "$D/mon" "$D/osd" "$D/run" "$D/log" "$D/rgw"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	monport=$(free_port)
	s3port=$(free_port)
	cert=${CEPH_CENTRAL_CERT:-}
	key=${CEPH_CENTRAL_KEY:-}
	if [ -z "$cert" ]; then
		cert=$D/rgw/server.crt key=$D/rgw/server.key
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$key" -out "$cert" -days 30 -subj /CN=localhost \
			-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	fi
	ca=${CEPH_CENTRAL_CA:-$cert}
	bucket=${CEPH_CENTRAL_BUCKET:-central}
	region=${CEPH_CENTRAL_REGION:-default}
	cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$monport
ms bind msgr2 = false
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
crash dir = $D/crash
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
[mon.a]
mon data = $D/mon
[osd]
osd data = $D/osd
osd objectstore = memstore
# The OSD's own crush and class updates at start race its first monmap
# (seen: "wrong fsid" from a fsid of zeros); the script places it instead.
osd crush update on start = false
osd class update on start = false
memstore device bytes = ${CEPH_CENTRAL_MEMSTORE_BYTES:-1073741824}
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw data = $D/rgw
debug rgw = ${CEPH_CENTRAL_DEBUG:-1}
rgw frontends = beast ssl_endpoint=127.0.0.1:$s3port ssl_certificate=$cert ssl_private_key=$key
rgw dns name = localhost
EOF
	C="-c $CONF"
	monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$monport]" "$D/run/monmap" \
		>/dev/null || fail "monmaptool failed"
	ceph-mon $C -i a --mkfs --monmap "$D/run/monmap" >"$D/log/mkfs.log" 2>&1 ||
		fail "ceph-mon --mkfs failed: $(tail -n 3 "$D/log/mkfs.log")"
	ceph-mon $C -i a || fail "ceph-mon did not start"
	wait_for 30 "the monitor" ceph $C --connect-timeout 2 mon stat
	uuid=$(cat /proc/sys/kernel/random/uuid)
	# A client's commands can still meet the monitor before it has settled
	# ("problem getting command descriptions", a fsid of zeros) on a loaded
	# machine: `osd new` with the same uuid and `osd crush add` of the same
	# OSD are idempotent, so each is retried (errors in log/ceph-cmd.log).
	id=$(mon_cmd "ceph osd new" osd new "$uuid")
	ceph-osd $C -i "$id" --mkfs --osd-uuid "$uuid" >"$D/log/osd-mkfs.log" 2>&1 ||
		fail "ceph-osd --mkfs failed: $(tail -n 3 "$D/log/osd-mkfs.log")"
	mon_cmd "ceph osd crush add" osd crush add "osd.$id" 1.0 root=default >/dev/null
	ceph-osd $C -i "$id" 2>>"$D/log/osd-start.log" || fail "ceph-osd did not start"
	wait_for 60 "the OSD" sh -c "ceph $C osd dump | grep -q '^osd.$id up'"
	radosgw $C -n client.rgw 2>>"$D/log/rgw-start.log" || fail "radosgw did not start"
	wait_for 90 "radosgw" curl -s --cacert "$ca" -o /dev/null "https://127.0.0.1:$s3port/"
	ak=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	sk=$(head -c 30 /dev/urandom | base64 | tr -d '\n/+=')
	radosgw-admin $C -n client.rgw user create --uid central --display-name central \
		--access-key "$ak" --secret-key "$sk" >"$D/log/user.json" 2>"$D/log/admin.log" ||
		fail "radosgw-admin user create failed: $(tail -n 3 "$D/log/admin.log")"
	# curl 7.88 signs the empty body's hash but does not send it; radosgw then
	# assumes UNSIGNED-PAYLOAD: send the header so both sides hash the same.
	empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	code=$(curl -s -o "$D/log/bucket.xml" -w '%{http_code}' --cacert "$ca" -X PUT \
		-H "x-amz-content-sha256: $empty" \
		--aws-sigv4 "aws:amz:$region:s3" --user "$ak:$sk" "https://127.0.0.1:$s3port/$bucket")
	[ "$code" = 200 ] || fail "bucket PUT answered $code: $(cat "$D/log/bucket.xml")"
	cat >"$D/env" <<EOF
CEPH_CONF=$CONF
S3_URL=https://127.0.0.1:$s3port
S3_PORT=$s3port
S3_BUCKET=$bucket
S3_REGION=$region
S3_ACCESS_KEY=$ak
S3_SECRET_KEY=$sk
RGW_PID=$(cat "$D/run/client.rgw.pid" 2>/dev/null || echo)
EOF
	cat "$D/env"
}

case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
