# SPDX-License-Identifier: GPL-2.0-or-later
#
# camgate - plain GNU make.
#   make                      build $(O)/camgate for BOARD (default host)
#   make deps                 install every Debian package build/tests/demo need (root)
#   make check                all tests (unit plain + ASan/UBSan, integration), one summary line
#   make check-long           the fault tests at full length (docs/reliability.md), bundles, boot test
#   make boot-test BOARD=rpi4 the image booted under qemu-system-aarch64, A/B update (docs/operations.md)
#   make demo                 simulated cameras recorded for ~30 s
#   make BOARD=rpi4           cross build (aarch64); make check BOARD=rpi4 runs unit tests under qemu
#   make SANITIZE=address,undefined   sanitizer build in its own O=
#   make runtime BOARD=rpi4   the lean runtime (FFmpeg, libcurl, mbedtls from Debian sources)
#   make BOARD=rpi4 RUNTIME=lean      camgate against it, in build/rpi4-lean
#   V=1 shows commands; O=DIR picks the build folder.

BOARD ?= host
.DEFAULT_GOAL := all
ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error unknown BOARD '$(BOARD)': see board/)
endif
include board/$(BOARD)/board.mk
ifneq ($(TOOLCHAIN),)
include toolchain/$(TOOLCHAIN).mk
endif

# RUNTIME=debian: FFmpeg, libcurl and mbedtls are the sysroot's Debian
# packages (the host always). RUNTIME=lean (cross boards): the ones
# scripts/runtime-build.sh built into build/BOARD/runtime; see below.
RUNTIME ?= debian
SAN_SUFFIX := $(if $(SANITIZE),-san)
O ?= build/$(BOARD)$(SAN_SUFFIX)$(if $(filter lean,$(RUNTIME)),-lean)

CC := $(CROSS_COMPILE)gcc
AR := $(CROSS_COMPILE)ar
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Every module has a fragment, MODULE/module.mk, that adds its sources to
# LIB_SRCS (the library; main.c alone is not in it) and the pkg-config
# packages it uses to PKGS; it may add GEN_OBJS (generated code, built
# with its own flags, no -Werror), LIBS_EXTRA, GEN_INCLUDES, and rules of
# its own. A source folder missing from MODULES, or a module without a
# fragment, is an error, not a silent gap.
MODULES := lib storage drivers/stream drivers/onvif drivers/serial drivers/watchdog net firmware
MODULES_FOUND := $(patsubst %/,%,$(sort $(dir $(wildcard lib/*.c storage/*.c drivers/*/*.c \
	net/*.c firmware/*.c))))
ifneq ($(filter-out $(MODULES),$(MODULES_FOUND)),)
$(error $(filter-out $(MODULES),$(MODULES_FOUND)): not in MODULES (Makefile), or no module.mk)
endif
PKGS :=
LIB_SRCS :=
GEN_OBJS :=
GEN_INCLUDES :=
LIBS_EXTRA :=
include $(MODULES:%=%/module.mk)
# Each package once, in first-declared order (libavformat before libavcodec).
uniq = $(if $1,$(firstword $1) $(call uniq,$(filter-out $(firstword $1),$1)))
PKGS := $(call uniq,$(PKGS))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)

PKG_CFLAGS :=
PKG_LIBS :=
# The lean runtime (docs/operations.md): libavformat, libavcodec,
# libavutil, libcurl and mbedtls come from RUNTIME_DIR, the rest from the
# sysroot. Its .pc files hold absolute paths, so they are read by a
# pkg-config of their own (no sysroot prefix); its -L comes before the
# sysroot's default dirs, so -lmbedcrypto and -lmbedx509 find it too. On
# the image the libraries live in /usr/lib/camgate (scripts/runtime-install.sh),
# which camgate's RUNPATH names, as the libraries' own RUNPATHs do.
# The runtime's stamp is an included makefile, like the sysroot's: make
# builds it (scripts/runtime-build.sh, a no-op when complete) first.
ifeq ($(RUNTIME),lean)
ifeq ($(TOOLCHAIN),)
$(error RUNTIME=lean is for the cross boards; the host build keeps Debian's packages)
endif
RUNTIME_DIR ?= build/$(BOARD)/runtime
RUNTIME_ABS := $(abspath $(RUNTIME_DIR))
RUNTIME_LIBDIR := /usr/lib/camgate
RUNTIME_PKGS := libavformat libavcodec libavutil libcurl
RUNTIME_PKG_CONFIG := PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$(RUNTIME_ABS)/lib/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR= pkg-config
PKG_CFLAGS := $(shell $(RUNTIME_PKG_CONFIG) --cflags $(filter $(RUNTIME_PKGS),$(PKGS)) 2>/dev/null)
PKG_LIBS := -L$(RUNTIME_ABS)/lib \
	$(shell $(RUNTIME_PKG_CONFIG) --libs $(filter $(RUNTIME_PKGS),$(PKGS)) 2>/dev/null)
PKGS := $(filter-out $(RUNTIME_PKGS),$(PKGS))
override BOARD_CFLAGS := -I$(RUNTIME_ABS)/include $(BOARD_CFLAGS)
override BOARD_LDFLAGS += -Wl,-rpath,$(RUNTIME_LIBDIR) -Wl,-rpath-link,$(RUNTIME_ABS)/lib
RUN := $(subst LD_LIBRARY_PATH=,LD_LIBRARY_PATH=$(RUNTIME_ABS)/lib:,$(RUN))
ifneq ($(filter-out $(SYSROOT_FREE_GOALS) runtime,$(or $(MAKECMDGOALS),all)),)
include $(RUNTIME_ABS)/.camgate-runtime.mk
endif
runtime_saved_goal := $(.DEFAULT_GOAL)
$(RUNTIME_ABS)/.camgate-runtime.mk: scripts/runtime-build.sh $(SYSROOT_STAMP)
	@sh scripts/runtime-build.sh $(BOARD) >&2
.DEFAULT_GOAL := $(runtime_saved_goal)
endif
PKG_CFLAGS += $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

OPT ?= -O2 -g
CFLAGS_PROJECT := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes -Wmissing-prototypes \
	-fno-strict-aliasing -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread \
	-I. -I$(O)/gen $(GEN_INCLUDES) $(BOARD_CFLAGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_PROJECT := -pthread -Wl,--as-needed $(BOARD_LDFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) $(LIBS_EXTRA) -lmbedcrypto -lm
ifneq ($(SANITIZE),)
# ... and the lock order check (lib/lockorder.h) whatever NDEBUG says.
CFLAGS_PROJECT += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all \
	-DCAMGATE_LOCK_CHECK
LDFLAGS_PROJECT += -fsanitize=$(SANITIZE)
endif

MAIN_OBJ := $(O)/obj/firmware/main.o
UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)

# Rebuild everything when the effective flags change (Redis .make-settings).
SETTINGS := $(O)/.settings
SETTINGS_TEXT := CC=$(CC) CFLAGS=$(CFLAGS_PROJECT) LDFLAGS=$(LDFLAGS_PROJECT) LIBS=$(LIBS)
ifneq ($(file <$(SETTINGS)),$(SETTINGS_TEXT))
$(shell mkdir -p $(O) && printf '%s' '$(SETTINGS_TEXT)' > $(SETTINGS))
endif

.PHONY: all deps check check-long check-unit check-san check-integration demo bench fuzz \
	image clean format format-check sysroot
all: $(O)/camgate

$(O)/gen/board_defaults.h: board/$(BOARD)/defaults.conf scripts/board-defaults.sh
	@mkdir -p $(dir $@)
	$(Q)sh scripts/board-defaults.sh $< > $@.tmp && mv $@.tmp $@

# The version from git (scripts/version.sh); rewritten only when it
# changes, and order-only here: the .d files say who includes it.
$(O)/gen/version.h: FORCE
	$(Q)sh scripts/version.sh $@
FORCE:
.PHONY: FORCE

$(O)/obj/%.o: %.c $(SETTINGS) $(O)/gen/board_defaults.h | $(O)/gen/version.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_PROJECT) -MMD -MP -c $< -o $@

$(O)/libcamgate.a: $(LIB_OBJS) $(GEN_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/camgate: $(MAIN_OBJ) $(O)/libcamgate.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_PROJECT) -o $@ $^ $(LIBS)

# testutil.o: fixture pieces the unit tests share (tests/unit/testutil.h).
$(O)/tests/%: $(O)/obj/tests/unit/%.o $(O)/obj/tests/unit/testutil.o $(O)/libcamgate.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_PROJECT) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_BINS)
.PHONY: unit

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_SRCS:tests/unit/%.c=$(O)/obj/tests/unit/%.d)

deps:
	sh scripts/deps.sh $(DEPS_EXTRA)

# Unit tests of this build (under qemu-user when RUN is set by the toolchain).
check-unit: all unit
	sh tests/run-unit.sh "$(O)" "$(RUN)"

check-san:
	$(MAKE) SANITIZE=address,undefined check-unit

check-integration: all
	CAMGATE_BIN=$(abspath $(O)/camgate) sh tests/run-integration.sh

# The whole suite, one summary line at the end. For a cross board
# (TOOLCHAIN set), the unit tests of that build under qemu-user only:
# the integration suite needs host binaries.
ifeq ($(TOOLCHAIN),)
check:
	sh tests/run-all.sh
else
check: check-unit
endif

# The long versions of the suite's fault tests (docs/reliability.md):
# 100 random kills while recording and uploading, against 20 in check;
# the unit tests of armhf against its lean runtime and of aarch64 against
# Debian's libraries (check runs the other two pairings);
# then the firmware images and bundles of the gateway boards (below).
check-long: all unit
	CAMGATE_FAULT_KILLS=100 CAMGATE_BIN=$(abspath $(O)/camgate) PYTEST_ARGS="-k fault" \
		sh tests/run-integration.sh
	$(MAKE) BOARD=rpi4 all unit
	sh tests/run-unit.sh build/rpi4 "$$($(MAKE) -s BOARD=rpi4 print-run)"
	$(MAKE) BOARD=imx6ul runtime
	$(MAKE) BOARD=imx6ul RUNTIME=lean all unit
	sh tests/run-unit.sh build/imx6ul-lean "$$($(MAKE) -s BOARD=imx6ul RUNTIME=lean print-run)"
	$(MAKE) BOARD=rpi4 bundle
	$(MAKE) BOARD=imx6ul bundle
	$(MAKE) BOARD=rpi4 boot-test

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	sh scripts/format-check.sh

demo: all $(O)/tests/onvif_sim
	sh scripts/demo.sh $(abspath $(O)/camgate) $(abspath $(O)/tests/onvif_sim)

bench: all
	bench/record
# The proof benches (docs/performance.md, docs/scaling.md): long runs.
bench-soak: all
	CAMGATE_BIN=$(abspath $(O)/camgate) bench/soak
bench-fleet: all
	CAMGATE_BIN=$(abspath $(O)/camgate) bench/fleet
.PHONY: bench-soak bench-fleet

sysroot:
	sh toolchain/mksysroot.sh $(TOOLCHAIN)
# The lean runtime of a cross board (scripts/runtime-build.sh).
runtime:
	sh scripts/runtime-build.sh $(BOARD)
.PHONY: runtime

# Firmware images and signed updates (docs/operations.md). Root, network
# to the Debian archive, and minutes: never part of `make check`, which
# only checks their inputs (scripts/board-check.sh); `make check-long`
# builds them.
#   make keys                  development signing pair in $(KEYS)/ (never committed)
#   make image BOARD=rpi4      $(IMAGE_DIR)/rootfs.squashfs + manifest.txt (mmdebstrap)
#   make bundle BOARD=rpi4     $(IMAGE_DIR)/camgate-BOARD-VERSION.raucb, signed
KEYS ?= build/keys
IMAGE_DIR ?= build/image/$(BOARD)
RAUC_KEY ?= $(KEYS)/dev.key.pem
RAUC_CERT ?= $(KEYS)/dev.cert.pem
export RAUC_KEY RAUC_CERT
keys:
	sh scripts/mkkeys.sh $(KEYS)
image: all
	@[ -f "$(RAUC_CERT)" ] || $(MAKE) keys
	sh scripts/mkimage.sh $(BOARD) $(O)/camgate $(IMAGE_DIR)
bundle:
	@[ -f "$(IMAGE_DIR)/rootfs.squashfs" ] || $(MAKE) image
	sh scripts/mkbundle.sh $(BOARD) $(IMAGE_DIR)
.PHONY: keys bundle

# The boot test (tests/boot, docs/operations.md): the image with the test's
# layer (IMAGE_EXTRA=tests/boot/image), rebuilt when camgate or an
# overlay file changes, booted under qemu-system-aarch64 (TCG) in a network
# namespace with a simulated camera and the test central; then the A/B
# update and rollback under UEFI and GRUB. Root; tens of minutes, so in
# `make check-long`, not `make check`. BOOT_STEP=boot|ab|all.
BOOT_IMAGE_DIR ?= build/image/$(BOARD)-qemu
BOOT_STEP ?= all
BOOT_INPUTS := $(shell find tests/boot/image board/common board/$(BOARD) -type f 2>/dev/null) \
	scripts/mkimage.sh
$(BOOT_IMAGE_DIR)/rootfs.squashfs: $(O)/camgate $(BOOT_INPUTS)
	@[ -f "$(RAUC_CERT)" ] || $(MAKE) keys
	IMAGE_EXTRA=tests/boot/image sh scripts/mkimage.sh $(BOARD) $(O)/camgate $(BOOT_IMAGE_DIR)
boot-test: $(BOOT_IMAGE_DIR)/rootfs.squashfs
	@[ -f "$(RAUC_CERT)" ] || $(MAKE) keys
	/usr/bin/python3 tests/boot/boot_test.py --step $(BOOT_STEP) $(BOOT_IMAGE_DIR) build/boot-test/$(BOARD)
.PHONY: boot-test

# libFuzzer targets (clang): a short run over each corpus in make check,
# a long one here. Crash reproducers land in $(O)/fuzz/crash-*.
FUZZ_SECONDS ?= 600
FUZZ_CHECK_SECONDS ?= 5
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread -Wall -Wextra -Werror \
	-Wno-unused-command-line-argument -I. -I$(O)/gen
RING_FUZZ_SRCS := lib/log.c lib/termsafe.c $(SHA256_SRC) lib/fsutil.c lib/clock.c lib/lockorder.c \
	$(wildcard storage/ring*.c)
$(O)/fuzz/ring_record_fuzz: tests/fuzz/ring_record_fuzz.c $(RING_FUZZ_SRCS) $(O)/gen/board_defaults.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(RING_FUZZ_SRCS) -lsqlite3 $(SHA256_LIBS) -lxxhash
$(O)/fuzz/config_fuzz: tests/fuzz/config_fuzz.c firmware/config.c lib/parse.c lib/clock.c lib/log.c lib/termsafe.c $(O)/gen/board_defaults.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< firmware/config.c lib/parse.c lib/clock.c lib/log.c lib/termsafe.c -linih
CONSOLE_FUZZ_SRCS := tests/fuzz/stubs/onvif_auth_stub.c tests/fuzz/stubs/ptz_stub.c lib/log.c lib/termsafe.c lib/parse.c lib/fsutil.c \
	$(SHA256_SRC) lib/clock.c lib/url.c lib/sql.c lib/lockorder.c \
	storage/statedb.c firmware/audit.c firmware/audit_key.c firmware/accounts.c firmware/secrets.c \
	firmware/config.c \
	firmware/config_write.c firmware/alarm.c firmware/registry.c firmware/registry_db.c \
	firmware/registry_query.c firmware/pidfile.c drivers/serial/serial.c \
	firmware/blocklist.c firmware/sharing.c firmware/retention.c firmware/compliance.c \
	firmware/compliance_kinds.c lib/workdays.c \
	$(wildcard firmware/console*.c)
$(O)/fuzz/console_line_fuzz: tests/fuzz/console_line_fuzz.c $(CONSOLE_FUZZ_SRCS) $(O)/gen/board_defaults.h \
		$(O)/gen/version.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) $$($(PKG_CONFIG) --cflags libcjson) -o $@ $< $(CONSOLE_FUZZ_SRCS) \
		-lsqlite3 -linih -lcjson -ledit -lmbedcrypto $(SHA256_LIBS) -lpwquality
# Central's command objects: the console's state.db closure (with the
# blocklist, the command whose arguments go furthest) without the console.
COMMAND_FUZZ_SRCS := $(filter-out firmware/console% tests/fuzz/stubs/ptz_stub.c,$(CONSOLE_FUZZ_SRCS))
$(O)/fuzz/command_fuzz: tests/fuzz/command_fuzz.c $(COMMAND_FUZZ_SRCS) $(O)/gen/board_defaults.h \
		$(O)/gen/version.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) $$($(PKG_CONFIG) --cflags libcjson) -o $@ $< $(COMMAND_FUZZ_SRCS) \
		-lsqlite3 -linih -lcjson -lmbedcrypto $(SHA256_LIBS) -lpwquality
# `camgate verify` over a folder built from the input (packages, gateway
# folders): the verifier, the checkpoint parser and the chain's formula.
VERIFY_FUZZ_SRCS := firmware/verify.c firmware/verify_pkg.c firmware/checkpoint.c \
	firmware/identity.c storage/chain.c storage/statedb.c lib/log.c lib/termsafe.c \
	lib/fsutil.c lib/hex.c lib/hashfile.c lib/parse.c lib/clock.c lib/sql.c lib/lockorder.c \
	$(SHA256_SRC)
$(O)/fuzz/verify_fuzz: tests/fuzz/verify_fuzz.c $(VERIFY_FUZZ_SRCS) $(O)/gen/board_defaults.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) $$($(PKG_CONFIG) --cflags libcjson) -o $@ $< $(VERIFY_FUZZ_SRCS) \
		-lsqlite3 -lcjson -lmbedcrypto -lmbedx509 $(SHA256_LIBS)
# The media bytes camgate reads back: export_clip() over a stand-in ring.
EXPORT_FUZZ_SRCS := storage/export.c lib/log.c lib/termsafe.c lib/fsutil.c lib/clock.c \
	lib/lockorder.c
$(O)/fuzz/export_fuzz: tests/fuzz/export_fuzz.c $(EXPORT_FUZZ_SRCS) $(O)/gen/board_defaults.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) $$($(PKG_CONFIG) --cflags libavformat libavcodec libavutil) -o $@ \
		$< $(EXPORT_FUZZ_SRCS) $$($(PKG_CONFIG) --libs libavformat libavcodec libavutil)
# Central's answers on the command channel: net/uplink_cmd.c with its
# neighbours stubbed in the target.
CMD_LISTING_FUZZ_SRCS := net/uplink_cmd.c net/uplink_id.c lib/log.c lib/termsafe.c lib/clock.c \
	lib/parse.c
$(O)/fuzz/cmd_listing_fuzz: tests/fuzz/cmd_listing_fuzz.c $(CMD_LISTING_FUZZ_SRCS) \
		$(O)/gen/board_defaults.h
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) $$($(PKG_CONFIG) --cflags libcjson libcurl) -o $@ $< \
		$(CMD_LISTING_FUZZ_SRCS) -lcjson
CORE_FUZZ := ring_record_fuzz:ring_record config_fuzz:config console_line_fuzz:console_line \
	command_fuzz:command verify_fuzz:verify export_fuzz:export cmd_listing_fuzz:cmd_listing
core-fuzz-check: $(O)/fuzz/ring_record_fuzz $(O)/fuzz/config_fuzz $(O)/fuzz/console_line_fuzz \
		$(O)/fuzz/command_fuzz $(O)/fuzz/verify_fuzz $(O)/fuzz/export_fuzz \
		$(O)/fuzz/cmd_listing_fuzz
	$(Q)for t in $(CORE_FUZZ); do b=$${t%%:*}; c=$${t##*:}; \
		mkdir -p $(O)/fuzz/work/$$b; echo "  FUZZRUN $$b ($(FUZZ_CHECK_SECONDS) s)"; \
		d=; [ ! -f tests/fuzz/$$c.dict ] || d=-dict=tests/fuzz/$$c.dict; \
		$(O)/fuzz/$$b -max_total_time=$(FUZZ_CHECK_SECONDS) -timeout=10 -rss_limit_mb=1024 $$d \
			-artifact_prefix=$(O)/fuzz/crash-$$b- $(O)/fuzz/work/$$b tests/fuzz/corpus/$$c \
			> $(O)/fuzz/$$b.log 2>&1 || { tail -40 $(O)/fuzz/$$b.log; exit 1; }; \
	done
fuzz-check: onvif-fuzz-check core-fuzz-check
fuzz:
	$(MAKE) fuzz-check ONVIF_FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CHECK_SECONDS=$(FUZZ_SECONDS)
.PHONY: fuzz-check core-fuzz-check

clean:
	rm -rf build

print-run:
	@echo '$(RUN)'
.PHONY: print-run

# docs/config.md is generated from the settings table, docs/objects.md from
# docs/schema/; make check compares.
docs: all
	$(O)/camgate config doc > docs/config.md
	python3 scripts/schema-doc.py > docs/objects.md
.PHONY: docs
