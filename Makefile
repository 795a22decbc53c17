# protocolfs — build, test, demo.
#
#   make              build ./protocolfs
#   make check        install missing build/test packages (root, apt-get), build, run all tests
#   make check SANITIZE=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo         generate sample data, keys, seal, inspect (and mount, see README.md)
#   make install      PREFIX=/usr/local DESTDIR=
#   make format-check clang-format over fs/ include/ tests/unit/ tests/tools/

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

# Debian packages the build and the tests need; `make deps` installs whatever is missing.
BUILD_PKGS = tzdata pkg-config libfuse3-dev fuse3 libsodium-dev libiniparser-dev
TEST_PKGS  = python3 faketime attr procps util-linux passwd e2fsprogs strace

PKG_CFLAGS = $(shell pkg-config --cflags fuse3 libsodium 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs fuse3 libsodium 2>/dev/null)
# Debian's iniparser ships no .pc file.
INI_CFLAGS = -I/usr/include/iniparser
INI_LIBS   = -liniparser

WARN    = -Wall -Wextra -Wmissing-declarations -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDFLAGS += -pie -Wl,-z,relro,-z,now
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = $(CFLAGS) -Iinclude $(PKG_CFLAGS) $(INI_CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) $(INI_LIBS)

SRCS      = $(wildcard fs/*.c)
OBJS      = $(SRCS:fs/%.c=build/%.o)
LIB_OBJS  = $(filter-out build/cli.o,$(OBJS))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
TOOLS     = build/pfs-sample

.PHONY: all deps build check demo demo-stop install clean format format-check bench

# Each entry point installs missing packages first, in its own make run, so that
# pkg-config answers after the packages exist.
all:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build

build: protocolfs $(TOOLS)

# Rebuild everything when the flags change (SANITIZE=1 and back).
build/.flags: FORCE
	@mkdir -p build
	@echo '$(ALL_CFLAGS) $(LDFLAGS) $(LIBS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(LDFLAGS) $(LIBS)' > $@
FORCE:

build/%.o: fs/%.c build/.flags
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

protocolfs: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

build/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS) build/.flags
	@mkdir -p build/unit
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LIBS)

build/pfs-sample: tests/tools/pfs-sample.c build/.flags
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS)

# Installs missing Debian packages when run as root; otherwise says what is missing.
deps:
	@sh tests/lib/deps.sh $(BUILD_PKGS) $(if $(filter check demo,$(MAKECMDGOALS)),$(TEST_PKGS))

check:
	@$(MAKE) --no-print-directory deps MAKECMDGOALS=check
	@$(MAKE) --no-print-directory build $(UNIT_BINS)
	@sh tests/run.sh

demo:
	@$(MAKE) --no-print-directory deps MAKECMDGOALS=demo
	@$(MAKE) --no-print-directory build
	@sh tests/demo.sh

demo-stop:
	@sh tests/demo.sh stop

bench: all
	@echo "benchmarks: see tests/bench/README.md"

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 protocolfs $(DESTDIR)$(PREFIX)/bin/protocolfs

format:
	clang-format -i fs/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c

format-check:
	clang-format --dry-run --Werror fs/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c

clean:
	rm -rf build protocolfs

-include $(OBJS:.o=.d)
