#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A local stand-in for the provincial central system, for the demo: nginx
# over TLS on 127.0.0.1 with WebDAV PUT, a CA, a server certificate and a
# client CA for mutual TLS, all made here with openssl.
#   central.sh start DIR PORT   -> DIR/pki/{ca.crt,client.crt,client.key}, DIR/www
#   central.sh stop DIR
set -eu
cmd=$1
D=$2
case "$cmd" in
stop)
	[ -f "$D/nginx.pid" ] && kill "$(cat "$D/nginx.pid")" 2>/dev/null || true
	exit 0 ;;
start) ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
PORT=$3
P=$D/pki
mkdir -p "$P" "$D/www" "$D/tmp"
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
cat > "$D/nginx.conf" <<CONF
daemon on;
worker_processes 1;
user root;
pid $D/nginx.pid;
error_log $D/error.log warn;
events { worker_connections 256; }
http {
	access_log $D/access.log;
	# When each answer went out and how long the request took (bench/fleet).
	log_format timing '\$msec \$request_time \$status \$request_method \$uri \$request_length \$ssl_protocol \$ssl_cipher \$ssl_client_s_dn';
	access_log $D/timing.log timing;
	client_body_temp_path $D/tmp/body;
	proxy_temp_path $D/tmp/proxy;
	fastcgi_temp_path $D/tmp/fastcgi;
	uwsgi_temp_path $D/tmp/uwsgi;
	scgi_temp_path $D/tmp/scgi;
	types { application/vnd.apple.mpegurl m3u8; video/mp4 mp4 m4s; application/json json; }
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
	}
}
CONF
/usr/sbin/nginx -c "$D/nginx.conf" -p "$D" -e "$D/error.log"
echo "central: https://127.0.0.1:$PORT (nginx, mutual TLS, WebDAV) serving $D/www"
