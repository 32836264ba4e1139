# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared part of the Debian cross toolchains: a sysroot unpacked from the
# target architecture's own -dev packages (toolchain/mksysroot.sh), the
# cross gcc pointed at it, pkg-config reading only its .pc files, and
# qemu-user running the results. Included by toolchain/TRIPLE.mk after it
# sets TRIPLE and QEMU.
#
# Variables (all overridable on the command line):
#   CROSS_COMPILE  $(TRIPLE)-
#   SYSROOT        build/sysroot/$(TRIPLE); shared by every O= of that triple
#   PKG_CONFIG     pkg-config confined to the sysroot
#   RUN            qemu-user prefix for running target binaries on the host

CROSS_COMPILE := $(TRIPLE)-
SYSROOT ?= build/sysroot/$(TRIPLE)
# mksysroot.sh reads it from the environment (make sysroot SYSROOT=...).
export SYSROOT

SYSROOT_ABS := $(abspath $(SYSROOT))
SYSROOT_STAMP := $(SYSROOT_ABS)/.camgate-sysroot.mk
SYSROOT_LIBDIRS := /lib/$(TRIPLE) /usr/lib/$(TRIPLE)

# Only the sysroot's .pc files, with their paths prefixed by the sysroot.
# The target's standard dirs are dropped from the output like the host's are
# natively: gcc --sysroot searches them as system dirs already, and an -I
# would demote FFmpeg's and glibc's headers to user headers under -Werror.
# pkgconf compares prefixed paths, freedesktop pkg-config unprefixed: both.
SYSROOT_INCDIRS := /usr/include /usr/include/$(TRIPLE)
sysroot_pathlist = $(subst $() ,:,$(1) $(addprefix $(SYSROOT_ABS),$(1)))
PKG_CONFIG := PKG_CONFIG_PATH= \
	PKG_CONFIG_LIBDIR=$(SYSROOT_ABS)/usr/lib/$(TRIPLE)/pkgconfig:$(SYSROOT_ABS)/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_ABS) \
	PKG_CONFIG_SYSTEM_INCLUDE_PATH=$(call sysroot_pathlist,$(SYSROOT_INCDIRS)) \
	PKG_CONFIG_SYSTEM_LIBRARY_PATH=$(call sysroot_pathlist,$(SYSROOT_LIBDIRS)) \
	pkg-config

# Debian's cross gcc knows the multiarch layout below --sysroot. The
# -rpath-link dirs let ld resolve the libraries FFmpeg and libcurl pull in
# indirectly (DT_NEEDED of DT_NEEDED) inside the sysroot, never on the host.
# override: a BOARD_CFLAGS/BOARD_LDFLAGS given on the command line still gets these.
override BOARD_CFLAGS += --sysroot=$(SYSROOT_ABS)
override BOARD_LDFLAGS += --sysroot=$(SYSROOT_ABS) \
	$(foreach d,$(SYSROOT_LIBDIRS),-Wl,-rpath-link,$(SYSROOT_ABS)$(d))

# qemu -L makes the target's ELF interpreter and absolute paths resolve in the
# sysroot first. The sysroot has no ld.so.cache of its own (ldconfig never
# ran there), so the dynamic loader gets the library dirs explicitly; -E sets
# them for the target program only, not for qemu itself. The last dir is the
# cross compiler's own target runtime (libasan, libubsan) on the host, which
# matches the compiler exactly; qemu falls back to host paths absent from the
# sysroot.
RUN := $(QEMU) -L $(SYSROOT_ABS) \
	-E LD_LIBRARY_PATH=$(subst $() ,:,$(SYSROOT_LIBDIRS) /usr/$(TRIPLE)/lib)

# LeakSanitizer stops the world with ptrace-like calls qemu-user does not
# emulate, and dies at exit; leaks are the native check-san's job. The
# sanitizers read their options from /proc/self/environ, which under qemu is
# qemu's own environment, so -E cannot carry them: env does.
sysroot_comma := ,
ifneq ($(filter address,$(subst $(sysroot_comma), ,$(SANITIZE))),)
RUN := env ASAN_OPTIONS=$(if $(ASAN_OPTIONS),$(ASAN_OPTIONS):)detect_leaks=0 $(RUN)
endif

# Anything that compiles needs the sysroot before pkg-config is asked, i.e.
# before this makefile is even parsed to its end: the stamp is an included
# makefile, so GNU make builds it first (running mksysroot.sh, which is a
# no-op when the sysroot is complete) and restarts. Goals that compile
# nothing do not trigger it; its progress goes to stderr, so that
# `make -s BOARD=rpi4 print-run` prints nothing but the RUN line.
SYSROOT_FREE_GOALS := sysroot clean deps format format-check print-run keys
ifneq ($(filter-out $(SYSROOT_FREE_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(SYSROOT_STAMP)
endif

# Keep the Makefile's first target the default goal.
sysroot_saved_goal := $(.DEFAULT_GOAL)
$(SYSROOT_STAMP): toolchain/sysroot-packages toolchain/mksysroot.sh
	@sh toolchain/mksysroot.sh $(TRIPLE) >&2
.DEFAULT_GOAL := $(sysroot_saved_goal)
