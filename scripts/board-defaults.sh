#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# board/<name>/defaults.conf ("key = value" lines, '#' comments) -> C header.
set -eu
echo "/* Generated from $1 by scripts/board-defaults.sh; do not edit. */"
echo "#ifndef CAMGATE_BOARD_DEFAULTS_H"
echo "#define CAMGATE_BOARD_DEFAULTS_H"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | while IFS='=' read -r k v; do
	k=$(echo "$k" | tr -d '[:space:]' | tr 'a-z.' 'A-Z_')
	v=$(echo "$v" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/["\\]/\\&/g')
	echo "#define BOARD_${k} \"${v}\""
done
echo "#endif"
