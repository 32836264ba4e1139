#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# apt-sources.sh ARCH - the deb822 sources list for a target architecture,
# on stdout: the host's configured Debian archive (/etc/apt/sources.list
# and sources.list.d, one-line and deb822 formats) for the host's own
# release, or SYSROOT_MIRROR when set. Third-party repositories on other
# suites are left out. Used by toolchain/mksysroot.sh (the sysroot) and
# scripts/mkimage.sh (mmdebstrap), so both fetch from the same archive.
#
# Environment: SYSROOT_MIRROR, SYSROOT_SUITES (default CODENAME
# CODENAME-updates), SYSROOT_COMPONENTS (default main).
set -eu
die() { echo "apt-sources: error: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 ARCH (arm64, armhf)"
ARCH=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Lines "URI|SUITE|COMPONENTS|KEYRING" for every enabled binary source of the
# host, one-line (.list) and deb822 (.sources) formats alike.
host_sources() {
	set -- /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources
	for f; do
		[ -f "$f" ] || continue
		case "$f" in
		*.sources)
			awk '
			function flush(  nu, ns, u, s, i, j) {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
					nu = split(uris, u, /[ \t]+/)
					ns = split(suites, s, /[ \t]+/)
					for (i = 1; i <= nu; i++)
						for (j = 1; j <= ns; j++)
							print u[i] "|" s[j] "|" comps "|" key
				}
				types = uris = suites = comps = key = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { next }
			{
				k = tolower($0); sub(/:.*/, "", k)
				v = $0; sub(/^[^:]*:[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
				if (k == "types") types = v
				else if (k == "uris") uris = v
				else if (k == "suites") suites = v
				else if (k == "components") comps = v
				else if (k == "signed-by") key = v
				else if (k == "enabled") enabled = tolower(v)
			}
			END { flush() }' "$f"
			;;
		*)
			awk '
			/^[ \t]*deb[ \t]/ {
				line = $0; sub(/#.*/, "", line); key = ""
				if (match(line, /\[[^]]*\]/)) {
					opts = substr(line, RSTART + 1, RLENGTH - 2)
					line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH)
					if (match(opts, /signed-by=[^ \t]+/))
						key = substr(opts, RSTART + 10, RLENGTH - 10)
				}
				n = split(line, w, /[ \t]+/)
				i = (w[1] == "") ? 2 : 1
				comps = w[i + 3]
				for (j = i + 4; j <= n; j++) if (w[j] != "") comps = comps " " w[j]
				print w[i + 1] "|" w[i + 2] "|" comps "|" key
			}' "$f"
			;;
		esac
	done
}

# Writes the private sources list: the host's archive entries for its own
# release (third-party repositories on other suites are left out), or
# SYSROOT_MIRROR when set.
write_sources() {
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || codename=bookworm
	default_key=
	[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
		default_key=/usr/share/keyrings/debian-archive-keyring.gpg
	if [ -n "${SYSROOT_MIRROR:-}" ]; then
		for s in ${SYSROOT_SUITES:-$codename $codename-updates}; do
			echo "$SYSROOT_MIRROR|$s|${SYSROOT_COMPONENTS:-main}|"
		done
	else
		host_sources
	fi | sort -u | while IFS='|' read -r uri suite comps key; do
		case "$suite" in
		"$codename"|"$codename"[-/]*) ;;
		*) continue ;;
		esac
		case "$key" in
		/*) ;;
		*) key=$default_key ;;
		esac
		printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nArchitectures: %s\n' \
			"$uri" "$suite" "${comps:-main}" "$ARCH"
		[ -z "$key" ] || printf 'Signed-By: %s\n' "$key"
		echo
	done > "$out"
	grep -q '^URIs:' "$out" ||
		die "no Debian $codename archive in /etc/apt/sources.list{,.d}; set SYSROOT_MIRROR=http://deb.debian.org/debian"
	cat "$out"
}

write_sources
