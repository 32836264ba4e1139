#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mkkeys.sh DIR - a development signing pair for RAUC bundles (`make keys`):
#   DIR/dev.key.pem    private key (0600), signs bundles (make bundle)
#   DIR/dev.cert.pem   self-signed certificate: the keyring an image built
#                      with it trusts (/etc/rauc/keyring.pem) and the one
#                      `camgate update` checks against
# Never committed (build/ is ignored); a release key lives offline and its
# certificate replaces this one (RAUC_KEY / RAUC_CERT, docs/operations.md).
# Idempotent: an existing pair is kept.
set -eu
dir=${1:-build/keys}
if [ -s "$dir/dev.key.pem" ] && [ -s "$dir/dev.cert.pem" ]; then
	echo "keys: $dir/dev.key.pem and dev.cert.pem exist; kept"
	exit 0
fi
command -v openssl >/dev/null || { echo "keys: openssl missing (make deps)" >&2; exit 1; }
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 3650 \
	-subj "/O=camgate development/CN=camgate development bundle signer" \
	-keyout "$dir/dev.key.pem.tmp" -out "$dir/dev.cert.pem.tmp" 2>/dev/null
chmod 0644 "$dir/dev.cert.pem.tmp"
mv "$dir/dev.key.pem.tmp" "$dir/dev.key.pem"
mv "$dir/dev.cert.pem.tmp" "$dir/dev.cert.pem"
echo "keys: made $dir/dev.key.pem (private, development only) and $dir/dev.cert.pem"
