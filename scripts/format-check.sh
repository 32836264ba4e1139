#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Style gate for `make check`: clang-format clean, SPDX line first, and no
# banned functions in project sources. Prints one line per offence.
set -u
bad=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find lib firmware drivers storage net tests -name '*.[ch]')
for f in $files; do
	[ -f "$f" ] || continue
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "format: $f differs from .clang-format (run 'make format')"
		bad=$((bad + 1))
	fi
	if ! head -3 "$f" | grep -q 'SPDX-License-Identifier:'; then
		echo "spdx: $f has no SPDX-License-Identifier line"
		bad=$((bad + 1))
	fi
	# Banned: unbounded or error-blind calls (curl checksrc, checkpatch).
	if grep -nE '(^|[^_a-zA-Z0-9.>])(atoi|atol|sprintf|vsprintf|strcpy|strcat|strtok|gets|system)[[:space:]]*\(' "$f" |
		grep -vE '(snprintf|vsnprintf)' | grep -v '/\*.*banned-ok' ; then
		echo "banned: $f uses a banned function (see above)"
		bad=$((bad + 1))
	fi
done
if [ "$bad" -ne 0 ]; then
	echo "style: $bad problems"
	exit 1
fi
echo "style: $(echo "$files" | wc -w) files clean"
