#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetches the fleet view's one dependency, hls.js, from the npm registry at
# the version package-lock.json pins (npm ci checks its integrity hash), and
# copies its minified build and licence into web/fleet/vendor/. The page
# itself needs no build. Run by `make deps` (scripts/deps.sh) and by
# `make demo` when the file is missing.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
	echo "web: npm not found (make deps installs it)" >&2
	exit 1
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p fleet/vendor
cp node_modules/hls.js/dist/hls.min.js fleet/vendor/hls.min.js
cp node_modules/hls.js/LICENSE fleet/vendor/hls.js.LICENSE
echo "web: fleet/vendor/hls.min.js is hls.js $(node -p 'require("./node_modules/hls.js/package.json").version' 2>/dev/null || echo '?')"
