# labd + labmon: build, test, benchmark, install.
#
#   make demo      install what is missing, build, start labd on the bundled site
#                  (make demo LAB=1, as root: behind the lab link, 40 ms and 1 % loss)
#   make check     the whole test suite (unit + end-to-end, also under ASan+UBSan)
#   make bench     side-by-side benchmarks (labd vs nginx, h2o, lighttpd and a floor;
#                  labmon vs tshark/tcpdump)
#   make fuzz      longer fuzzing campaigns
#   make stress    longer reliability runs (hostile clients, faults, floods)
#   make install   PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: a new .c file in master/, worker/, monitor/
# or shared/ is built without touching this file. `main.c` in master/ and
# monitor/ holds main(); everything else goes into a static library so unit
# tests can link any module.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
SHAREDIR := $(PREFIX)/share/labd
MANDIR := $(PREFIX)/share/man

# V=release (default, build/) or V=asan (build/asan/, ASan+UBSan).
V ?= release
ifeq ($(V),asan)
B := build/asan
VARIANT_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                  -fno-sanitize-recover=undefined
VARIANT_LDFLAGS := -fsanitize=address,undefined
else
B := build
VARIANT_CFLAGS := -O2 -g
VARIANT_LDFLAGS :=
endif

CC ?= cc
NPROC := $(shell nproc 2>/dev/null || echo 2)
# Quiet build lines ("CC file"); `make VERBOSE=1` shows the full commands.
ifeq ($(VERBOSE),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wno-missing-field-initializers
CPPFLAGS += -I. -D_GNU_SOURCE -DLABD_VERSION='"$(VERSION)"' \
            -DLABD_DATADIR='"$(SHAREDIR)"'
CFLAGS += -std=gnu11 $(WARN) $(VARIANT_CFLAGS) -MMD -MP
LDFLAGS += $(VARIANT_LDFLAGS)

PCAP_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
CPPFLAGS += $(CURSES_CFLAGS)
# libmnl: rtnetlink for the --lab link (master/lab_net.c).
MNL_LIBS := $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl)

SHARED_SRCS := $(wildcard shared/*.c)
MASTER_SRCS := $(filter-out master/main.c,$(wildcard master/*.c))
WORKER_SRCS := $(wildcard worker/*.c)
MONITOR_SRCS := $(filter-out monitor/main.c,$(wildcard monitor/*.c))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
TESTLIB_SRCS := $(wildcard tests/unit/lib_*.c)

objs = $(patsubst %.c,$(B)/%.o,$(1))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
LIBS_ALL := $(B)/libmaster.a $(B)/libworker.a $(B)/libmonitor.a $(B)/libshared.a

# Keep test objects: they are intermediate files of a pattern chain.
.SECONDARY:

.PHONY: all clean check unit unit-bins e2e demo deps test-deps install uninstall \
        format format-check bench fuzz stress help

all: $(B)/labd $(B)/labmon

help:
	@sed -n '3,11p' Makefile | sed 's/^# \{0,1\}//'

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libshared.a: $(call objs,$(SHARED_SRCS))
$(B)/libmaster.a: $(call objs,$(MASTER_SRCS))
$(B)/libworker.a: $(call objs,$(WORKER_SRCS))
$(B)/libmonitor.a: $(call objs,$(MONITOR_SRCS))
$(B)/lib%.a:
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/labd: $(B)/master/main.o $(B)/libmaster.a $(B)/libworker.a $(B)/libshared.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MNL_LIBS) $(SECCOMP_LIBS)

$(B)/labmon: $(B)/monitor/main.o $(B)/libmonitor.a $(B)/libshared.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(CURSES_LIBS) $(SECCOMP_LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(call objs,$(TESTLIB_SRCS)) $(LIBS_ALL)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(call objs,$(TESTLIB_SRCS)) $(LIBS_ALL) \
	    -lcmocka $(PCAP_LIBS) $(CURSES_LIBS) $(MNL_LIBS) $(SECCOMP_LIBS)

# Test programs the end-to-end tests and benchmarks drive (tests/e2e/*.c, one file each).
E2E_HELPERS := $(patsubst tests/e2e/%.c,$(B)/tests/e2e/%,$(wildcard tests/e2e/*.c))
$(B)/tests/e2e/%: $(B)/tests/e2e/%.o $(B)/libmaster.a $(B)/libshared.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(MNL_LIBS) $(SECCOMP_LIBS)

# Unit tests run from the source root so fixtures resolve as tests/...
unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

e2e: all $(E2E_HELPERS)
	@LABD=$(abspath $(B)/labd) LABMON=$(abspath $(B)/labmon) E2E_BUILD=$(E2E_BUILD) \
	    tests/e2e/run.sh $(E2E)

# Dependencies: build headers first (only when missing), then the tools the
# test suite drives. Both go through apt-get and do nothing when present.
deps:
	@tests/deps.sh build

test-deps: deps
	@tests/deps.sh test

# The full suite: formatting, a -Werror release build, then unit and
# end-to-end tests against both the release and the ASan+UBSan binaries.
check: test-deps
	@rm -f build/results.log
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory -j$(NPROC) all $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit e2e E2E_BUILD=release
	@$(MAKE) --no-print-directory -j$(NPROC) V=asan all unit-bins
	@$(MAKE) --no-print-directory V=asan unit e2e E2E_BUILD=asan
	@tests/fuzz/run.sh smoke
	@tests/summary.sh

demo: deps all
	@LAB=$(LAB) tests/demo.sh $(abspath $(B)/labd) $(abspath $(B)/labmon)

FORMAT_FILES = $(wildcard master/*.[ch] worker/*.[ch] monitor/*.[ch] \
                 shared/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/bench/*.[ch] \
                 tests/e2e/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@if command -v clang-format >/dev/null; then \
	    clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format: ok"; \
	else echo "format: clang-format not installed, skipped"; fi

bench: test-deps all
	@tests/deps.sh bench
	@tests/bench/run.sh $(abspath $(B)/labd) $(abspath $(B)/labmon)

fuzz: test-deps
	@tests/fuzz/run.sh long

stress: test-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory V=asan all
	@tests/reliability/stress.sh build build/asan

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/www $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/labd $(B)/labmon $(DESTDIR)$(BINDIR)/
	cp -R www/. $(DESTDIR)$(SHAREDIR)/www/
	install -m 644 master/labd.8 monitor/labmon.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/labd $(DESTDIR)$(BINDIR)/labmon \
	      $(DESTDIR)$(MANDIR)/man8/labd.8 $(DESTDIR)$(MANDIR)/man8/labmon.8
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
