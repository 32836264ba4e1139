# SPDX-License-Identifier: GPL-2.0-or-later
# lib/: pieces every layer shares (log, parse, fsutil, hex, backoff,
# termsafe, SHA-256 on mbedtls, xxHash, cJSON helpers). Depends on nothing
# of the project.
# SHA-256 hashes every recorded byte; its back end is a board fact
# (board.mk SHA256_BACKEND, lib/sha256.h says why): mbedtls unless the
# board picks openssl.
SHA256_BACKEND ?= mbedtls
SHA256_SRC := lib/sha256_$(SHA256_BACKEND).c
ifeq ($(wildcard $(SHA256_SRC)),)
$(error SHA256_BACKEND '$(SHA256_BACKEND)': no $(SHA256_SRC))
endif
LIB_SRCS += $(filter-out lib/sha256_%.c,$(wildcard lib/*.c)) $(SHA256_SRC)
PKGS += libxxhash libcjson $(if $(filter openssl,$(SHA256_BACKEND)),libcrypto)
SHA256_LIBS := $(if $(filter openssl,$(SHA256_BACKEND)),-lcrypto,-lmbedcrypto)
