# tubewatch - plain Makefile (STYLE section 9). Sources are found by
# wildcard, so a new module, worker, test, fuzz target or benchmark needs no
# edit here. One static library per layer (docs/ARCHITECTURE.md draws them);
# each binary links only the layers it may use, and tests/scripts/layers.sh
# (in `make check`) fails when a file includes a header of a layer it may not
# use:
#   common/base/*.c   -> $(BUILD)/lib/libtw_base.a   (rc, log, buf, time, ...)
#   proto/*.c         -> $(BUILD)/lib/libtw_proto.a  (the wire messages)
#   common/bus/*.c    -> $(BUILD)/lib/libtw_bus.a    (delivery, worker, loop)
#   common/net/*.c    -> $(BUILD)/lib/libtw_net.a    (http and its clients)
#   common/store/*.c  -> $(BUILD)/lib/libtw_store.a  (files several read)
#   supervisor/daemon/*.c -> $(BUILD)/bin/tubewatchd
#   supervisor/cli/*.c    -> $(BUILD)/bin/tubewatch
#   workers/KIND/*.c      -> $(BUILD)/libexec/tubewatch/tw-KIND
#   tools/ytsim/*.c       -> $(BUILD)/bin/ytsim
#   tests/unit/check_X.c  -> $(BUILD)/tests/unit-tests (suite X_suite)
#   tests/e2e/check_e2e_X.c -> $(BUILD)/tests/e2e-tests (suite e2e_X_suite)
#   tests/tools/X.c       -> $(BUILD)/tests/X
#   bench/X.c             -> $(BUILD)/bench/X
#   fuzz/fuzz_X.c         -> $(BUILD)/fuzz/fuzz_X (clang, libFuzzer)
#   docs/man/X.N.scd      -> $(BUILD)/man/X.N (when scdoc is installed)
# Tests, tools, benchmarks and fuzz targets link every layer and every
# worker's modules ($(BUILD)/lib/libtw_workers.a).
# `make deb` builds $(BUILD)/tubewatch_VERSION_amd64.deb (packaging/deb/mkdeb).

BUILD  ?= build
SAN    ?=
ifeq ($(SAN),1)
BUILD   = build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
CFLAGS ?= -O1 -g
endif
CFLAGS ?= -O2 -g
CC     ?= cc
FUZZCC ?= clang
PREFIX ?= /usr/local
DESTDIR ?=

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wvla
PKGS    = libzmq libczmq msgpack libzip libcurl jansson expat libutf8proc \
          libmicrohttpd libsystemd libcrypto zlib rdkafka avro-c libfiu
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) check 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
INCLUDES = -Icommon/base -Iproto -Icommon/bus -Icommon/net -Icommon/store \
           -I$(BUILD)/gen
XCFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
          $(SANFLAGS) $(INCLUDES) $(PKG_CFLAGS) \
          -DTW_LIBEXECDIR='"$(PREFIX)/libexec/tubewatch"' $(CFLAGS)
XLDFLAGS = $(SANFLAGS) $(LDFLAGS)

LAYERS    := base proto bus net store
base_SRC  := $(wildcard common/base/*.c)
proto_SRC := $(wildcard proto/*.c)
bus_SRC   := $(wildcard common/bus/*.c)
net_SRC   := $(wildcard common/net/*.c)
store_SRC := $(wildcard common/store/*.c)
DAEMON_SRC := $(wildcard supervisor/daemon/*.c)
CLI_SRC   := $(wildcard supervisor/cli/*.c)
WORKERS   := $(patsubst workers/%/main.c,%,$(wildcard workers/*/main.c))
WORKER_MODS := $(filter-out %/main.c,$(wildcard workers/*/*.c))
LAYER_SRC := $(foreach l,$(LAYERS),$($(l)_SRC))
# Everything but the binaries' entry points: what tests and fuzz targets use.
ALL_SRC   := $(LAYER_SRC) $(WORKER_MODS) \
             $(filter-out %/main.c,$(DAEMON_SRC)) \
             $(filter-out %/ctl_main.c,$(CLI_SRC))
YTSIM_SRC := $(wildcard tools/ytsim/*.c)
UNIT_SUITES := $(wildcard tests/unit/check_*.c)
UNIT_SRC  := $(wildcard tests/unit/*.c)
E2E_SRC   := $(wildcard tests/e2e/*.c)
E2E_SUITES := $(wildcard tests/e2e/check_e2e_*.c)
TOOL_SRC  := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
MAN_SRC   := $(wildcard docs/man/*.scd)
SCDOC     ?= $(shell command -v scdoc 2>/dev/null)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
lib = $(BUILD)/lib/libtw_$(1).a
# Link order: higher layers first.
BASE_LIBS  = $(call lib,proto) $(call lib,base)
DAEMON_LIBS = $(call lib,bus) $(BASE_LIBS)
CLI_LIBS   = $(call lib,store) $(call lib,bus) $(call lib,net) $(BASE_LIBS)
WORKER_LIBS = $(CLI_LIBS)
TEST_LIBS  = $(call lib,workers) $(call lib,cli) $(call lib,daemon) $(CLI_LIBS)
BIN     = $(BUILD)/bin/tubewatchd $(BUILD)/bin/tubewatch \
          $(if $(YTSIM_SRC),$(BUILD)/bin/ytsim)
WORKER_BIN = $(addprefix $(BUILD)/libexec/tubewatch/tw-,$(WORKERS))
TOOL_BIN  = $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))
BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_BIN  = $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
MAN       = $(if $(SCDOC),$(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRC)))
PROGS     = $(BUILD)/bin/tubewatchd $(BUILD)/bin/tubewatch $(WORKER_BIN)
TEST_BIN  = $(BUILD)/tests/unit-tests \
            $(if $(E2E_SUITES),$(BUILD)/tests/e2e-tests) $(TOOL_BIN) \
            $(BUILD)/tests/tw-fiu-shim.so $(BUILD)/tests/tw-thread-preload.so

.PHONY: all deps check check-unit check-e2e bench fuzz demo chaos faults \
        install clean format format-check man progs deb soak
.DEFAULT_GOAL := all

all: $(BIN) $(WORKER_BIN) $(TEST_BIN) $(BENCH_BIN) $(MAN)

# What an installation needs (no simulator, tests or benchmarks).
progs: $(PROGS) $(MAN)

man: $(MAN)

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

deps:
	@scripts/deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lib/libtw_%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(foreach l,$(LAYERS),$(eval $(call lib,$(l)): $(call obj,$($(l)_SRC))))
$(call lib,daemon): $(call obj,$(filter-out %/main.c,$(DAEMON_SRC)))
$(call lib,cli): $(call obj,$(filter-out %/ctl_main.c,$(CLI_SRC)))
$(call lib,workers): $(call obj,$(WORKER_MODS))

LINK = $(CC) $(XLDFLAGS) -o $@ $(filter %.o %.a,$^) $(PKG_LIBS)

$(BUILD)/bin/tubewatchd: $(call obj,supervisor/daemon/main.c) \
                         $(call lib,daemon) $(DAEMON_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/bin/tubewatch: $(call obj,supervisor/cli/ctl_main.c) \
                        $(call lib,cli) $(CLI_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/bin/ytsim: $(call obj,$(YTSIM_SRC)) $(call lib,base)
	@mkdir -p $(dir $@)
	$(LINK)

# A worker links its own modules and the common layers, nothing else.
define WORKER_RULE
$(BUILD)/libexec/tubewatch/tw-$(1): $(call obj,$(wildcard workers/$(1)/*.c)) \
                                    $(WORKER_LIBS)
	@mkdir -p $$(dir $$@)
	$$(LINK)
endef
$(foreach w,$(WORKERS),$(eval $(call WORKER_RULE,$(w))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)

# LD_PRELOAD helper of the fault tests (tests/faults/run)
$(BUILD)/tests/tw-fiu-shim.so: tests/faults/fiu_shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl -pthread

# LD_PRELOAD helper of the supervisor e2e tests: a foreign thread
$(BUILD)/tests/tw-thread-preload.so: tests/faults/thread_preload.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -pthread

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)

# Test runners: the suite table is generated from the file names.
TEST_GEN = $(BUILD)/gen/unit_suites.h $(BUILD)/gen/e2e_suites.h
TEST_CFLAGS = -Itests -include tests/tw_test.h
$(BUILD)/obj/tests/%.o: tests/%.c | $(TEST_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/unit_suites.h: $(UNIT_SUITES) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(patsubst tests/unit/check_%.c,'TW_SUITE(%)',$(UNIT_SUITES)) >$@.tmp
	@mv $@.tmp $@

$(BUILD)/gen/e2e_suites.h: $(E2E_SUITES) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(patsubst tests/e2e/check_%.c,'TW_SUITE(%)',$(E2E_SUITES)) >$@.tmp
	@mv $@.tmp $@

$(BUILD)/obj/tests/unit/runner.o: tests/runner.c $(TEST_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(TEST_CFLAGS) -DTW_SUITES='"unit_suites.h"' -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/e2e/runner.o: tests/runner.c $(TEST_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(TEST_CFLAGS) -DTW_SUITES='"e2e_suites.h"' -MMD -MP -c $< -o $@

$(BUILD)/tests/unit-tests: $(BUILD)/obj/tests/unit/runner.o \
                           $(call obj,$(UNIT_SRC)) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(LINK) $(CHECK_LIBS)

$(BUILD)/tests/e2e-tests: $(BUILD)/obj/tests/e2e/runner.o \
                          $(call obj,$(E2E_SRC)) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(LINK) $(CHECK_LIBS)

# Fuzz targets: the library is rebuilt with clang and fuzzer coverage.
FUZZFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
            -fsanitize=fuzzer-no-link,address,undefined $(INCLUDES) \
            $(PKG_CFLAGS) -DTW_LIBEXECDIR='"$(PREFIX)/libexec/tubewatch"'
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzzobj/fuzz/%.o \
                 $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(ALL_SRC))
	@mkdir -p $(dir $@)
	$(FUZZCC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_BIN)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) -j$(JOBS) all
	@if command -v $(FUZZCC) >/dev/null 2>&1 && [ "$(SAN)" != 1 ]; then \
	    $(MAKE) -j$(JOBS) fuzz; fi
	@BUILD=$(BUILD) SAN=$(SAN) tests/run

check-unit: all
	$(BUILD)/tests/unit-tests

check-e2e: all
	$(BUILD)/tests/e2e-tests

bench: all
	@BUILD=$(BUILD) bench/run

demo: deps
	$(MAKE) -j$(JOBS) all
	@BUILD=$(BUILD) scripts/demo

chaos: all
	@BUILD=$(BUILD) TW_CHAOS_LONG=1 tests/chaos/run

# A simulated week under the test clock (about 27 min); make check runs one day.
soak: all
	@BUILD=$(BUILD) DAYS=$${DAYS:-7} sh tests/soak/run

# The fault-injection matrix and every crash point; make check runs short forms.
faults: all $(BUILD)/tests/tw-fiu-shim.so
	@BUILD=$(BUILD) TW_FAULTS_LONG=1 sh tests/faults/run && \
	    BUILD=$(BUILD) TW_FAULTS_LONG=1 sh tests/faults/points

install: $(BIN) $(WORKER_BIN) $(MAN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/tubewatch \
	    $(DESTDIR)$(PREFIX)/share/tubewatch
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	$(if $(WORKER_BIN),install -m 0755 $(WORKER_BIN) $(DESTDIR)$(PREFIX)/libexec/tubewatch/)
	install -m 0644 supervisor.toml $(DESTDIR)$(PREFIX)/share/tubewatch/supervisor.toml.example
	sed 's|/usr/local/|$(PREFIX)/|g' packaging/tubewatch.service \
	    >$(DESTDIR)$(PREFIX)/share/tubewatch/tubewatch.service
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/tubewatch/
	for m in $(MAN); do \
	    install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$${m##*/}; \
	done
	install -D -m 0644 packaging/bash-completion/tubewatch \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tubewatch
	if [ -d data ] && [ -n "$$(ls data)" ]; then cp -r data/. $(DESTDIR)$(PREFIX)/share/tubewatch/; fi

# The Debian package: built with PREFIX=/usr in its own build directory.
deb:
	@BUILD=$(BUILD) MAKE="$(MAKE)" JOBS=$(JOBS) packaging/deb/mkdeb

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
