#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A local stand-in for the provincial central system, for the demo: nginx
# over TLS on 127.0.0.1 with WebDAV PUT, a CA, a server certificate and a
# client CA for mutual TLS, all made here with openssl; and the operators'
# fleet view (web/fleet/, docs/fleet-view.md) over that tree.
#   central.sh start DIR PORT   -> DIR/pki/{ca.crt,client.crt,client.key}, DIR/www
#   central.sh view DIR PORT    -> http://127.0.0.1:PORT/fleet/: a read-only
#                                  nginx of its own over DIR/www, for a browser
#                                  outside the namespace central runs in
#   central.sh stop DIR         -> stops both
set -eu
cmd=$1
D=$2
WEB=$(cd "$(dirname "$0")/../web/fleet" && pwd)
case "$cmd" in
stop)
	for p in "$D/nginx.pid" "$D/view.pid"; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	exit 0 ;;
start | view) ;;
*) echo "usage: $0 start DIR PORT | view DIR PORT | stop DIR" >&2; exit 2 ;;
esac
PORT=$3
mkdir -p "$D/www" "$D/tmp"
# The part of both configurations before their server block; $1 names the
# pid file, the logs and the temporary folders (nginx, view).
head() {
	cat <<CONF
daemon on;
worker_processes 1;
user root;
pid $D/$1.pid;
error_log $D/$1-error.log warn;
events { worker_connections 256; }
http {
	access_log $D/$1-access.log;
	client_body_temp_path $D/tmp/$1-body;
	proxy_temp_path $D/tmp/$1-proxy;
	fastcgi_temp_path $D/tmp/$1-fastcgi;
	uwsgi_temp_path $D/tmp/$1-uwsgi;
	scgi_temp_path $D/tmp/$1-scgi;
	types { text/html html; text/css css; text/javascript js;
		application/vnd.apple.mpegurl m3u8; video/mp4 mp4 m4s; application/json json; }
CONF
}
# The page, read-only, from web/fleet/.
fleet='location /fleet/ { limit_except GET { deny all; } alias '"$WEB"'/; }'
if [ "$cmd" = view ]; then
	[ -f "$WEB/vendor/hls.min.js" ] || sh "$WEB/../build.sh" >&2 ||
		echo "central: no hls.js for the fleet view (run make deps): live playback will not work" >&2
	# Operators only read: GET and HEAD, the gateways' tree with JSON
	# listings, the page under /fleet/. Plain HTTP on loopback only.
	{ head view; cat <<CONF; } > "$D/view.conf"
	server {
		listen 127.0.0.1:$PORT;
		root $D/www;
		location / {
			limit_except GET { deny all; }
			autoindex on;
			autoindex_format json;
		}
		$fleet
	}
}
CONF
	/usr/sbin/nginx -c "$D/view.conf" -p "$D" -e "$D/view-error.log"
	echo "fleet view: http://127.0.0.1:$PORT/fleet/ (read-only over $D/www)"
	exit 0
fi
P=$D/pki
mkdir -p "$P"
ossl() { openssl "$@" >/dev/null 2>&1; }
key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$P/$1.key"; }
ca() {
	key "$1"
	ossl req -x509 -new -key "$P/$1.key" -out "$P/$1.crt" -days 30 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {	# name ca cn ext
	key "$1"
	ossl req -new -key "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$3"
	echo "$4" > "$P/$1.ext"
	ossl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" -CAcreateserial \
		-days 30 -extfile "$P/$1.ext" -out "$P/$1.crt"
}
if [ ! -f "$P/client.crt" ]; then
	ca ca "camgate demo central CA"
	ca client-ca "camgate demo gateway CA"
	leaf server ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
	leaf client client-ca gw-demo-01 "extendedKeyUsage=clientAuth"
fi
{ head nginx; cat <<CONF; } > "$D/nginx.conf"
	# When each answer went out and how long the request took (bench/fleet).
	log_format timing '\$msec \$request_time \$status \$request_method \$uri \$request_length \$ssl_protocol \$ssl_cipher \$ssl_client_s_dn';
	access_log $D/timing.log timing;
	server {
		listen 127.0.0.1:$PORT ssl http2;
		ssl_certificate $P/server.crt;
		ssl_certificate_key $P/server.key;
		ssl_client_certificate $P/client-ca.crt;
		ssl_verify_client on;
		root $D/www;
		client_max_body_size 64m;
		location / {
			dav_methods PUT DELETE MKCOL;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
			autoindex on;
			autoindex_format json;
		}
		# The fleet view, for an operator's browser holding a client
		# certificate; \`view\` above serves it without one.
		$fleet
	}
}
CONF
/usr/sbin/nginx -c "$D/nginx.conf" -p "$D" -e "$D/nginx-error.log"
echo "central: https://127.0.0.1:$PORT (nginx, mutual TLS, WebDAV) serving $D/www"
