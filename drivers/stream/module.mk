# SPDX-License-Identifier: GPL-2.0-or-later
# drivers/stream: RTSP in, fMP4 segments out, on FFmpeg's libraries.
LIB_SRCS += $(wildcard drivers/stream/*.c)
PKGS += libavformat libavcodec libavutil
