# SPDX-License-Identifier: GPL-2.0-or-later
#
# drivers/onvif: the ONVIF client (discovery, device, media, PTZ) on code
# that soapcpp2 generates at build time from drivers/onvif/onvif.gsoap.h.
# Included by the top Makefile before LIB_OBJS and the flags are computed,
# so everything here that needs O, CC or the flags expands lazily.
#
# Generated files live in $(O)/gen/onvif/, are never edited and never
# committed. They are compiled with their own flags (no -Werror: the
# generator's style is not ours) and go into the library as GEN_OBJS;
# soapServer.o (the server skeleton) only into the camera simulator.
#
# Reproducible: soapcpp2 runs from the top of the tree on a relative path,
# and SOURCE_DATE_EPOCH (default 1; soapcpp2 ignores 0) fixes the stamp it
# writes into every file.
#
# Targets added:
#   $(O)/tests/onvif_sim          the camera simulator (tests/camsim)
#   onvif-fuzz                    libFuzzer targets in $(O)/fuzz/ (clang)
#   onvif-fuzz-check              a short run of each over its corpus
#   onvif-fuzz-long               FUZZ_SECONDS (default 600) per target

# Included before the Makefile's `all`: keep its first target the default.
onvif_saved_goal := $(.DEFAULT_GOAL)

ONVIF_IDL := drivers/onvif/onvif.gsoap.h
ONVIF_GEN := $(O)/gen/onvif
ONVIF_SOAPCPP2 ?= soapcpp2
ONVIF_IMPORT ?= /usr/share/gsoap/import:/usr/share/gsoap
ONVIF_SDE := $(or $(SOURCE_DATE_EPOCH),1)
# C, SOAP 1.2, no *Lib files, no WSDL/XSD, no sample messages.
ONVIF_SOAPCPP2_FLAGS := -c -2 -L -w -x

PKGS += gsoap libavformat
# Not WITH_NOIDREF: Debian's libgsoap references soap_markelement(), which
# that drops. id/href is ignored at run time instead (SOAP_XML_TREE).
GEN_INCLUDES += -I$(ONVIF_GEN)
LIB_SRCS += $(filter-out drivers/onvif/%_test.c,$(wildcard drivers/onvif/*.c))
ONVIF_LIB_SRCS := $(wildcard drivers/onvif/*.c)
GEN_OBJS += $(ONVIF_GEN)/soapC.o $(ONVIF_GEN)/soapClient.o

ONVIF_GEN_FILES := $(addprefix $(ONVIF_GEN)/,soapC.c soapClient.c soapServer.c \
	soapH.h soapStub.h Device.nsmap)

ONVIF_SAN_CFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all)
# The project's -D flags (pkg-config's -DWITH_IPV6 -DWITH_DOM among them):
# struct soap must look the same to generated code and ours.
ONVIF_GEN_CFLAGS = -std=gnu11 $(OPT) -w -fno-strict-aliasing -pthread \
	$(filter -D%,$(CFLAGS_PROJECT)) $(BOARD_CFLAGS) -I$(ONVIF_GEN) $(ONVIF_SAN_CFLAGS) \
	$(EXTRA_CFLAGS)

$(ONVIF_GEN)/.stamp: $(ONVIF_IDL) drivers/onvif/module.mk
	@mkdir -p $(ONVIF_GEN)
	@$(if $(Q),echo "  SOAPCPP2 $<")
	$(Q)SOURCE_DATE_EPOCH=$(ONVIF_SDE) $(ONVIF_SOAPCPP2) $(ONVIF_SOAPCPP2_FLAGS) \
		-d$(ONVIF_GEN) -I$(ONVIF_IMPORT) $(ONVIF_IDL) > $(ONVIF_GEN)/soapcpp2.log 2>&1 || \
		{ cat $(ONVIF_GEN)/soapcpp2.log; exit 1; }
	$(Q)touch $@

$(ONVIF_GEN_FILES): $(ONVIF_GEN)/.stamp
	@:

$(ONVIF_GEN)/%.o: $(ONVIF_GEN)/%.c $(O)/.settings
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ONVIF_GEN_CFLAGS) -c $< -o $@

# Our sources include soapH.h: generate before the first compile.
$(ONVIF_LIB_SRCS:%.c=$(O)/obj/%.o): $(ONVIF_GEN)/.stamp

# ---- camera simulator and the unit tests that run it in-process --------
ONVIF_SIM_OBJS := $(addprefix $(O)/obj/tests/camsim/,onvif_simsrv.o onvif_simnet.o \
	onvif_simops.o) $(ONVIF_GEN)/soapServer.o
ONVIF_INPROC_TESTS := $(O)/tests/onvif_client_test $(O)/tests/onvif_discovery_test

$(O)/obj/tests/camsim/onvif_sim.o $(filter $(O)/obj/%,$(ONVIF_SIM_OBJS)): $(ONVIF_GEN)/.stamp

$(O)/tests/onvif_sim: $(O)/obj/tests/camsim/onvif_sim.o $(ONVIF_SIM_OBJS) $(O)/libcamgate.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_PROJECT) -o $@ $^ $(LIBS)

# Explicit, so the simulator objects come before the library on the line.
$(ONVIF_INPROC_TESTS): $(O)/tests/%: $(O)/obj/tests/unit/%.o $(ONVIF_SIM_OBJS) $(O)/libcamgate.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_PROJECT) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

unit: $(O)/tests/onvif_sim

-include $(patsubst %.o,%.d,$(O)/obj/tests/camsim/onvif_sim.o $(filter $(O)/obj/%,$(ONVIF_SIM_OBJS)))

# ---- libFuzzer targets (clang; host only) ------------------------------
# The parsers are rebuilt with clang and coverage so the fuzzer sees into
# them; libgsoap itself stays uninstrumented (Debian ships no source).
ONVIF_FUZZ_CC ?= clang
ONVIF_FUZZ_SRCS := $(wildcard tests/fuzz/onvif_*.c)
ONVIF_FUZZ_BINS := $(ONVIF_FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
ONVIF_FUZZ_OBJS := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(ONVIF_LIB_SRCS) lib/log.c lib/termsafe.c lib/parse.c lib/clock.c lib/hex.c) \
	$(O)/fuzz/obj/gen/soapC.o $(O)/fuzz/obj/gen/soapClient.o
ONVIF_FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
ONVIF_FUZZ_CFLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer $(ONVIF_FUZZ_SAN) \
	-D_GNU_SOURCE -pthread -I. -I$(O)/gen $(GEN_INCLUDES) \
	$(shell $(PKG_CONFIG) --cflags gsoap libavformat 2>/dev/null)
ONVIF_FUZZ_LIBS = $(shell $(PKG_CONFIG) --libs gsoap libavformat libavutil 2>/dev/null) \
	-lmbedcrypto -pthread
ONVIF_FUZZ_SECONDS ?= 10
FUZZ_SECONDS ?= 600

$(O)/fuzz/obj/gen/%.o: $(ONVIF_GEN)/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(ONVIF_FUZZ_CC) $(ONVIF_FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@

$(O)/fuzz/obj/%.o: %.c $(ONVIF_GEN)/.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(ONVIF_FUZZ_CC) $(ONVIF_FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Wall -c $< -o $@

$(O)/fuzz/onvif_%: $(O)/fuzz/obj/tests/fuzz/onvif_%.o $(ONVIF_FUZZ_OBJS)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(ONVIF_FUZZ_CC) $(ONVIF_FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(ONVIF_FUZZ_LIBS)

# Keep the objects between runs (make would delete them as intermediates).
.SECONDARY: $(ONVIF_FUZZ_OBJS) $(ONVIF_FUZZ_SRCS:%.c=$(O)/fuzz/obj/%.o)

onvif-fuzz: $(ONVIF_FUZZ_BINS)

# Each target over its seed corpus for ONVIF_FUZZ_SECONDS; new inputs go to
# a scratch corpus in $(O), never into the tree. Crashes are written as
# $(O)/fuzz/crash-* and fail the run: copy them to tests/fuzz/corpus/.
onvif-fuzz-check: $(ONVIF_FUZZ_BINS)
	$(Q)for b in $(ONVIF_FUZZ_BINS); do \
		n=$${b##*/}; mkdir -p $(O)/fuzz/work/$$n; \
		echo "  FUZZRUN $$n ($(ONVIF_FUZZ_SECONDS) s)"; \
		$$b -max_total_time=$(ONVIF_FUZZ_SECONDS) -max_len=65536 -timeout=10 \
			-rss_limit_mb=1024 -artifact_prefix=$(O)/fuzz/crash-$$n- \
			$(O)/fuzz/work/$$n tests/fuzz/corpus/$$n > $(O)/fuzz/$$n.log 2>&1 || \
			{ tail -40 $(O)/fuzz/$$n.log; exit 1; }; \
	done

onvif-fuzz-long:
	$(MAKE) onvif-fuzz-check ONVIF_FUZZ_SECONDS=$(FUZZ_SECONDS)

.PHONY: onvif-fuzz onvif-fuzz-check onvif-fuzz-long

.DEFAULT_GOAL := $(onvif_saved_goal)
