#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# runtime-build.sh BOARD - the lean runtime of a gateway image: a remux-only
# FFmpeg and libcurl on mbedtls with nghttp2, cross-compiled from Debian 12's
# own source packages, installed into build/BOARD/runtime (include/, lib/).
#
#   sh scripts/runtime-build.sh rpi4          (make runtime BOARD=rpi4)
#   make BOARD=rpi4 RUNTIME=lean              camgate against it
#
# Sources: `apt-get source` from the archive this machine is configured with
# (toolchain/apt-sources.sh, the same archive as the sysroot), through a
# private apt root with a deb-src list, so the host's apt state is never
# touched. apt checks every downloaded file against the signed Sources index;
# dpkg-source -x checks them against the .dsc and applies Debian's patches.
# The unpacked trees are kept in RUNTIME_SRC (default: RUNTIME_CACHE/src,
# else build/runtime-src; shared by every board).
#
# RUNTIME_CACHE (default /var/cache/camgate/runtime when it can be written,
# RUNTIME_CACHE= for none) keeps the sources and each board's last complete
# build outside the tree, so a clean clone (CI) builds the runtime once per
# machine and Debian point release: a build dir without a runtime takes the
# cached one, and the stamps below decide, part by part, whether it still
# holds (a new source version or recipe rebuilds that part). Only an
# optimisation: without the cache everything is fetched and built.
#
# What is built (and why nothing else), per package:
#   mbedtls   2.28 (Debian's config: threading on), shared: libmbedcrypto,
#             libmbedx509, libmbedtls. camgate's own SHA-256, ECDSA and
#             X.509 code (lib/sha256.h, firmware/audit_key.c) links it too,
#             so the image holds one mbedtls.
#   nghttp2   the library only (HTTP/2 for libcurl).
#   curl      libcurl, HTTP and HTTPS only, on mbedtls + nghttp2, no zlib,
#             no IDN/PSL/SSH/LDAP/brotli/zstd; the CA bundle path is
#             Debian's (/etc/ssl/certs/ca-certificates.crt).
#   ffmpeg    libavformat, libavcodec, libavutil: --disable-everything,
#             then the names camgate opens (drivers/stream, storage/export):
#             the rtsp demuxer (RTP/RTCP over TCP or UDP; rtsps through the
#             tls protocol on mbedtls), the mp4 muxer and mov demuxer (fMP4
#             segments, exports, reading segments back), the h264, hevc and
#             aac parsers, the aac_adtstoasc bitstream filter, the file, tcp,
#             udp and tls protocols. mpegts and nut demuxers: the clips the
#             unit tests stream and mux (tests/unit/testutil.c) are .ts and
#             .nut files. The h264, hevc and aac decoders, because
#             avformat_find_stream_info learns the picture size and the
#             audio format from a decoded frame (5.1's parsers keep them to
#             themselves) and the mp4 muxer refuses a video track without
#             dimensions; camgate itself decodes nothing. No encoder, no
#             filter, no swscale.
#
# Idempotent: each part has a stamp naming its version and flags; a matching
# stamp means nothing to do. Environment: RUNTIME_SRC, RUNTIME_PREFIX
# (default build/BOARD/runtime), SYSROOT (default build/sysroot/TRIPLE), J
# (parallel jobs, default 2).
set -eu

say() { echo "runtime: $*"; }
die() { echo "runtime: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 BOARD (rpi4, imx6ul)"
BOARD=$1
cd "$(dirname "$0")/.."
[ -f "board/$BOARD/board.mk" ] || die "unknown board '$BOARD'"
# The board's facts, read from its board.mk (plain 'NAME := value' lines).
board_var() { sed -n "s/^$1 *:= *//p" "board/$BOARD/board.mk"; }
TOOLCHAIN=$(board_var TOOLCHAIN)
CPUFLAGS=$(board_var BOARD_CFLAGS)
case "$TOOLCHAIN" in
aarch64-linux-gnu) ARCH=arm64 FFARCH=aarch64 ;;
arm-linux-gnueabihf) ARCH=armhf FFARCH=arm ;;
*) die "board $BOARD builds natively: the host keeps Debian's packages" ;;
esac
TRIPLE=$TOOLCHAIN
J=${J:-2}
SYSROOT=$(realpath -m "${SYSROOT:-build/sysroot/$TRIPLE}")
PREFIX=$(realpath -m "${RUNTIME_PREFIX:-build/$BOARD/runtime}")
CACHE=${RUNTIME_CACHE-/var/cache/camgate/runtime}
if [ -n "$CACHE" ] && ! mkdir -p "$CACHE" 2>/dev/null; then
	CACHE=
fi
if [ -n "$CACHE" ]; then
	SRC=$(realpath -m "${RUNTIME_SRC:-$CACHE/src}")
else
	SRC=$(realpath -m "${RUNTIME_SRC:-build/runtime-src}")
fi
WORK=$(realpath -m "build/$BOARD/runtime-work")
PACKAGES="mbedtls nghttp2 curl ffmpeg"

for tool in apt-get dpkg-source cmake make "$TRIPLE-gcc" pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (make deps)"
done
# The sysroot (no-op when complete): glibc and headers of the target.
sh toolchain/mksysroot.sh "$TRIPLE" >&2

mkdir -p "$SRC" "$WORK" "$PREFIX"
# A cached build: its pkg-config files name the prefix it was built in.
if [ -n "$CACHE" ] && [ ! -f "$PREFIX/.camgate-runtime.mk" ] &&
	[ -f "$CACHE/$BOARD/prefix/.camgate-runtime.mk" ]; then
	echo "runtime: taking the cached build in $CACHE/$BOARD" >&2
	cp -a "$CACHE/$BOARD/prefix/." "$PREFIX/"
	cp "$CACHE/$BOARD/"*.stamp "$WORK/"
	old=$(cat "$CACHE/$BOARD/prefix.path")
	find "$PREFIX/lib/pkgconfig" -name '*.pc' -exec sed -i "s|$old|$PREFIX|g" {} +
fi
LOG=$WORK/log
: > "$LOG"
fail() {
	echo "---- last lines of $LOG:" >&2
	tail -n 25 "$LOG" >&2
	die "$1"
}

# --- sources ---------------------------------------------------------------
# A private apt root whose only list is deb-src of the host's archive.
APTROOT=$SRC/apt
fetch_sources() {
	mkdir -p "$APTROOT/etc/apt/sources.list.d" "$APTROOT/etc/apt/apt.conf.d" \
		"$APTROOT/etc/apt/preferences.d" "$APTROOT/var/lib/dpkg" \
		"$APTROOT/var/lib/apt/lists/partial" "$APTROOT/var/cache/apt/archives/partial"
	: > "$APTROOT/var/lib/dpkg/status"
	sh toolchain/apt-sources.sh "$ARCH" | sed -e 's/^Types: deb$/Types: deb-src/' \
		-e '/^Architectures:/d' > "$APTROOT/etc/apt/sources.list.d/src.sources" ||
		die "no Debian archive (toolchain/apt-sources.sh)"
	eval "$(apt-config shell HTTP_PROXY Acquire::http::Proxy)"
	cat > "$APTROOT/apt.conf" <<EOF
Dir "$APTROOT/";
Dir::State::status "$APTROOT/var/lib/dpkg/status";
Dir::Etc::Trusted "/etc/apt/trusted.gpg";
Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d/";
Acquire::Languages "none";
Acquire::Retries "3";
EOF
	[ -z "${HTTP_PROXY:-}" ] || echo "Acquire::http::Proxy \"$HTTP_PROXY\";" >> "$APTROOT/apt.conf"
	say "fetching the Sources indices"
	APT_CONFIG=$APTROOT/apt.conf apt-get -q update --error-on=any >> "$LOG" 2>&1 ||
		fail "apt-get update (deb-src) failed"
	mkdir -p "$SRC/dl"
	# Only the packages not already unpacked at the archive's version.
	need=
	for p in $PACKAGES; do
		v=$(APT_CONFIG=$APTROOT/apt.conf apt-cache showsrc --only-source "$p" 2>>"$LOG" |
			sed -n 's/^Version: //p' | sort -V | tail -n 1)
		[ -n "$v" ] || fail "no source package $p in the archive"
		[ -f "$SRC/$p.version" ] && [ "$(cat "$SRC/$p.version")" = "$v" ] && continue
		need="$need $p=$v"
	done
	[ -n "$need" ] || return 0
	say "apt-get source$need"
	# shellcheck disable=SC2086
	(cd "$SRC/dl" && APT_CONFIG=$APTROOT/apt.conf apt-get -q source --download-only $need) \
		>> "$LOG" 2>&1 || fail "apt-get source failed"
	for pv in $need; do
		p=${pv%%=*} v=${pv#*=}
		dsc=$SRC/dl/${p}_${v#*:}.dsc
		[ -f "$dsc" ] || fail "$dsc not downloaded"
		rm -rf "${SRC:?}/$p"
		# Checksums of every file against the .dsc, then Debian's patches.
		dpkg-source -x "$dsc" "$SRC/$p" >> "$LOG" 2>&1 || fail "dpkg-source -x $dsc failed"
		echo "$v" > "$SRC/$p.version"
		rm -f "$SRC/dl/${p}_"*
	done
}
fetch_sources
for p in $PACKAGES; do say "$p $(cat "$SRC/$p.version")"; done

# --- cross environment ------------------------------------------------------
CC="$TRIPLE-gcc --sysroot=$SYSROOT"
OPTFLAGS="-O2 $CPUFLAGS -fPIC"
# Each library finds its siblings in /usr/lib/camgate, where the image
# holds them (scripts/runtime-install.sh; here LD_LIBRARY_PATH points at
# the prefix). An absolute path: $ORIGIN does not survive the layers of
# make and libtool of curl's and FFmpeg's builds (CMake's parts use it).
RUNTIME_LIBDIR=/usr/lib/camgate
RPATH_LDFLAGS="-L$PREFIX/lib -Wl,-rpath,$RUNTIME_LIBDIR"
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR=''
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

# CMake's cross settings (mbedtls, nghttp2): libraries and headers from the
# sysroot and the prefix only, never the host's.
# Compiler and linker flags come in CFLAGS and LDFLAGS (cmake_env).
CMAKE_CROSS="-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=$FFARCH
 -DCMAKE_C_COMPILER=$TRIPLE-gcc -DCMAKE_C_FLAGS_RELEASE=-DNDEBUG -DCMAKE_BUILD_TYPE=Release
 -DCMAKE_FIND_ROOT_PATH=$SYSROOT;$PREFIX -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER
 -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY
 -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY -DCMAKE_INSTALL_PREFIX=$PREFIX
 -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_RPATH=\$ORIGIN"

cmake_env() {
	CFLAGS="--sysroot=$SYSROOT $OPTFLAGS" LDFLAGS="--sysroot=$SYSROOT" "$@"
}

# part NAME KEY: true when NAME must be (re)built for KEY.
stale() {
	[ "$(cat "$WORK/$1.stamp" 2>/dev/null)" != "$2" ]
}
done_part() {
	echo "$2" > "$WORK/$1.stamp"
}
timed() {
	t0=$(date +%s)
	"$@"
	say "$1: $(($(date +%s) - t0)) s"
}

# Debian's configuration changes that matter to a program with threads
# (debian/rules: threading on, pthread mutexes); set in the unpacked tree,
# idempotent.
MBEDTLS_SET="MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD"
build_mbedtls() {
	b=$WORK/mbedtls
	rm -rf "$b"
	mkdir -p "$b"
	for o in $MBEDTLS_SET; do
		(cd "$SRC/mbedtls" && python3 scripts/config.py set "$o") >> "$LOG" 2>&1 ||
			fail "mbedtls: config.py set $o"
	done
	# shellcheck disable=SC2086
	(cd "$b" && cmake_env cmake "$SRC/mbedtls" $CMAKE_CROSS \
		-DUSE_SHARED_MBEDTLS_LIBRARY=ON -DUSE_STATIC_MBEDTLS_LIBRARY=OFF \
		-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DMBEDTLS_FATAL_WARNINGS=OFF &&
		make -j"$J" && make install) >> "$LOG" 2>&1 || fail "mbedtls failed"
}

# Debian's nghttp2 source has no generated configure: its CMake build.
build_nghttp2() {
	b=$WORK/nghttp2
	rm -rf "$b"
	mkdir -p "$b"
	# shellcheck disable=SC2086
	(cd "$b" && cmake_env cmake "$SRC/nghttp2" $CMAKE_CROSS \
		-DENABLE_LIB_ONLY=ON -DENABLE_STATIC_LIB=OFF -DENABLE_SHARED_LIB=ON \
		-DENABLE_DOC=OFF -DENABLE_PYTHON_BINDINGS=OFF -DWITH_LIBXML2=OFF \
		-DWITH_JEMALLOC=OFF -DENABLE_FAILMALLOC=OFF &&
		make -j"$J" && make install) >> "$LOG" 2>&1 || fail "nghttp2 failed"
}

build_curl() {
	b=$WORK/curl
	rm -rf "$b"
	mkdir -p "$b"
	(cd "$b" && "$SRC/curl/configure" --host="$TRIPLE" --prefix="$PREFIX" \
		--disable-static --enable-shared --with-mbedtls="$PREFIX" \
		--with-nghttp2="$PREFIX" --without-openssl --without-gnutls --without-zlib \
		--without-brotli --without-zstd --without-libidn2 --without-libpsl \
		--without-librtmp --without-libssh --without-libssh2 --without-libgsasl \
		--without-ngtcp2 --without-nghttp3 --without-quiche --without-hyper \
		--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
		--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp \
		--disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap \
		--disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-manual \
		--disable-ntlm --disable-ntlm-wb --disable-kerberos-auth --disable-unix-sockets \
		--disable-alt-svc --disable-hsts --disable-doh --disable-netrc --disable-dateparse \
		--disable-progress-meter --enable-threaded-resolver --disable-docs \
		CC="$CC" CFLAGS="$OPTFLAGS" CPPFLAGS="-I$PREFIX/include" \
		LDFLAGS="$RPATH_LDFLAGS" &&
		make -j"$J" -C lib && make -C lib install && make -C include install &&
		make install-pkgconfigDATA) >> "$LOG" 2>&1 || fail "curl failed"
}

FF_ENABLE="--enable-demuxer=rtsp,mov,mpegts,nut --enable-muxer=mp4 \
--enable-parser=h264,hevc,aac --enable-decoder=h264,hevc,aac \
--enable-bsf=aac_adtstoasc --enable-protocol=file,tcp,udp,tls"
build_ffmpeg() {
	b=$WORK/ffmpeg
	rm -rf "$b"
	mkdir -p "$b"
	# shellcheck disable=SC2086
	(cd "$b" && "$SRC/ffmpeg/configure" --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--enable-cross-compile --target-os=linux --arch="$FFARCH" \
		--cross-prefix="$TRIPLE-" --sysroot="$SYSROOT" --pkg-config=pkg-config \
		--extra-cflags="$CPUFLAGS -I$PREFIX/include" --extra-ldflags="$RPATH_LDFLAGS" \
		--enable-shared --disable-static --enable-pic --disable-debug --disable-doc \
		--disable-programs --disable-autodetect --disable-everything \
		--disable-avdevice --disable-avfilter --disable-swscale --disable-swresample \
		--disable-postproc --enable-network --enable-version3 --enable-mbedtls \
		$FF_ENABLE && make -j"$J" && make install) >> "$LOG" 2>&1 || fail "ffmpeg failed"
}

# Each part's key: this recipe's version, its source version and the flags
# that shape it.
RECIPE=2
# shellcheck disable=SC2034 # read through eval below
key_mbedtls="r$RECIPE $(cat "$SRC/mbedtls.version") $CPUFLAGS $MBEDTLS_SET"
# shellcheck disable=SC2034
key_nghttp2="r$RECIPE $(cat "$SRC/nghttp2.version") $CPUFLAGS"
# shellcheck disable=SC2034
key_curl="r$RECIPE $(cat "$SRC/curl.version") $CPUFLAGS $RUNTIME_LIBDIR $key_mbedtls"
# shellcheck disable=SC2034
key_ffmpeg="r$RECIPE $(cat "$SRC/ffmpeg.version") $CPUFLAGS $FF_ENABLE $RUNTIME_LIBDIR $key_mbedtls"
k=
for p in $PACKAGES; do
	eval "k=\$key_$p"
	if stale "$p" "$k" || [ ! -d "$PREFIX/lib" ]; then
		say "building $p for $BOARD ($TRIPLE)"
		timed "build_$p"
		done_part "$p" "$k"
	fi
done
# Nothing the image does not load: static archives, libtool files, docs.
rm -rf "${PREFIX:?}/share" "${PREFIX:?}/bin"
find "$PREFIX/lib" -name '*.la' -delete
# The stamp the Makefile includes (RUNTIME=lean): complete, and which.
{
	echo "# Written by scripts/runtime-build.sh: this runtime is complete."
	for p in $PACKAGES; do
		eval "k=\$key_$p"
		echo "RUNTIME_KEY_$p := $k"
	done
} > "$PREFIX/.camgate-runtime.mk"
say "$(find "$PREFIX/lib" -maxdepth 1 -name '*.so.*' -type f | wc -l) libraries in $PREFIX/lib"
if [ -n "$CACHE" ]; then
	rm -rf "$CACHE/$BOARD.new"
	mkdir -p "$CACHE/$BOARD.new/prefix"
	cp -a "$PREFIX/." "$CACHE/$BOARD.new/prefix/"
	cp "$WORK/"*.stamp "$CACHE/$BOARD.new/"
	echo "$PREFIX" > "$CACHE/$BOARD.new/prefix.path"
	rm -rf "${CACHE:?}/$BOARD"
	mv "$CACHE/$BOARD.new" "$CACHE/$BOARD"
fi
