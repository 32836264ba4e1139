# SPDX-License-Identifier: GPL-2.0-or-later
# storage/: the segment ring (index in SQLite, fMP4 checks with
# libavformat), state.db and the export. Depends on lib/.
LIB_SRCS += $(wildcard storage/*.c)
PKGS += sqlite3 libavformat libavcodec libavutil
