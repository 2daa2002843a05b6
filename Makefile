# tubewatch - plain Makefile (STYLE section 9). Sources are found by
# wildcard, so a new module, worker, test, fuzz target or benchmark needs no
# edit here:
#   common/*.c proto/*.c         -> $(BUILD)/lib/libtw.a
#   supervisor/*.c, workers/*/*.c (not main.c) -> $(BUILD)/lib/libtwint.a
#   supervisor/main.c            -> $(BUILD)/bin/tubewatchd
#   supervisor/ctl_main.c        -> $(BUILD)/bin/tubewatch
#   workers/KIND/main.c          -> $(BUILD)/libexec/tubewatch/tw-KIND
#   tools/ytsim/*.c              -> $(BUILD)/bin/ytsim
#   tests/unit/check_X.c         -> $(BUILD)/tests/unit-tests (suite X_suite)
#   tests/e2e/check_e2e_X.c      -> $(BUILD)/tests/e2e-tests (suite e2e_X_suite)
#   tests/tools/X.c              -> $(BUILD)/tests/X
#   bench/X.c                    -> $(BUILD)/bench/X
#   fuzz/fuzz_X.c                -> $(BUILD)/fuzz/fuzz_X (clang, libFuzzer)
#   docs/man/X.N.scd             -> $(BUILD)/man/X.N (when scdoc is installed)
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
PKGS    = libzmq libczmq msgpack libzip libcurl jansson expat libutf8proc libfiu \
          libmicrohttpd libsystemd libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) check 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
INCLUDES = -Icommon -Iproto -I$(BUILD)/gen
XCFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
          $(SANFLAGS) $(INCLUDES) $(PKG_CFLAGS) \
          -DTW_LIBEXECDIR='"$(PREFIX)/libexec/tubewatch"' $(CFLAGS)
XLDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC   := $(wildcard common/*.c proto/*.c)
INT_SRC   := $(filter-out %/main.c supervisor/ctl_main.c, \
               $(wildcard supervisor/*.c workers/*/*.c))
WORKERS   := $(patsubst workers/%/main.c,%,$(wildcard workers/*/main.c))
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
LIB     = $(BUILD)/lib/libtw.a
INTLIB  = $(BUILD)/lib/libtwint.a
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
            $(BUILD)/tests/tw-fiu-shim.so

.PHONY: all deps check check-unit check-e2e bench fuzz demo chaos faults install \
        clean format format-check man progs deb
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

$(LIB): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(INTLIB): $(call obj,$(INT_SRC)) $(LIB)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $(call obj,$(INT_SRC))

LINK = $(CC) $(XLDFLAGS) -o $@ $(filter %.o,$^) $(INTLIB) $(LIB) $(PKG_LIBS)

$(BUILD)/bin/tubewatchd: $(call obj,supervisor/main.c) $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/bin/tubewatch: $(call obj,supervisor/ctl_main.c) $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/bin/ytsim: $(call obj,$(YTSIM_SRC)) $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/libexec/tubewatch/tw-%: $(BUILD)/obj/workers/%/main.o $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK)

# LD_PRELOAD helper of the fault tests (tests/faults/run)
$(BUILD)/tests/tw-fiu-shim.so: tests/faults/fiu_shim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(INTLIB) $(LIB)
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
                           $(call obj,$(UNIT_SRC)) $(INTLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(LINK) $(CHECK_LIBS)

$(BUILD)/tests/e2e-tests: $(BUILD)/obj/tests/e2e/runner.o \
                          $(call obj,$(E2E_SRC)) $(INTLIB) $(LIB)
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
                 $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(LIB_SRC) $(INT_SRC))
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

faults: all
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
