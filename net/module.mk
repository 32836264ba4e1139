# SPDX-License-Identifier: GPL-2.0-or-later
# net/: the uplink to central (libcurl multi, OpenSSL back end), its
# outbox in state.db (SQLite) and JSON objects (cJSON).
LIB_SRCS += $(wildcard net/*.c)
PKGS += libcurl sqlite3 libcjson

# The end-to-end driver of tests/integration/uplink (not a unit test: it
# needs nginx, so run-unit.sh must not pick it up; no _test suffix).
$(O)/tests/uplink_driver: $(O)/obj/tests/integration/uplink/uplink_driver.o $(O)/libcamgate.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_PROJECT) -o $@ $^ $(LIBS)
# Its object depends on the headers it includes (net/uplink.h's hooks).
-include $(O)/obj/tests/integration/uplink/uplink_driver.d
