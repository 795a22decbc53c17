# protocolfs — build, test, demo.
#
#   make              build ./protocolfs
#   make check        install missing build/test packages (root, apt-get), build, run all tests
#   make check SANITIZE=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo         generate sample data, keys, seal, inspect (and mount, see README.md)
#   make install      PREFIX=/usr/local DESTDIR= (binary, man pages, configs, unit, folders)
#   make uninstall    the same PREFIX, DESTDIR; keeps /etc/protocolfs and the daemon's folders
#   make deb          build/protocolfs_VERSION_ARCH.deb (dpkg-deb from a staged root)
#   make format-check clang-format over fs/ include/ tests/unit/ tests/tools/

VERSION = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc

# Where `make install` puts things. The sample config and the unit name /etc and
# /var/lib, /var/log whatever PREFIX is (systemd and logrotate look there).
BINDIR     = $(PREFIX)/bin
MANDIR     = $(PREFIX)/share/man
DOCDIR     = $(PREFIX)/share/doc/protocolfs
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR = /etc
# The daemon's folders, "mode:path" in creation order. Their owner is the daemon's
# user: root today. When the daemon gets its own system user ([daemon] user), set
# PFS_USER/PFS_GROUP here and enable the adduser line in conf/debian/postinst.
PFS_USER   = root
PFS_GROUP  = root
PFS_DIRS   = 0755:/var/lib/protocolfs 0700:/var/lib/protocolfs/state \
	     0700:/var/lib/protocolfs/state/notices 0750:/var/log/protocolfs

# Debian packages the build and the tests need; `make deps` installs whatever is missing.
BUILD_PKGS = tzdata pkg-config libfuse3-dev fuse3 libsodium-dev libiniparser-dev
TEST_PKGS  = python3 faketime attr procps util-linux passwd e2fsprogs strace \
	     man-db groff-base systemd dpkg-dev lintian debootstrap debian-archive-keyring rsyslog

PKG_CFLAGS = $(shell pkg-config --cflags fuse3 libsodium 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs fuse3 libsodium 2>/dev/null)
# Debian's iniparser ships no .pc file.
INI_CFLAGS = -I/usr/include/iniparser
INI_LIBS   = -liniparser

WARN    = -Wall -Wextra -Wmissing-declarations -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -DPFS_VERSION='"$(VERSION)"' $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
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

.PHONY: all deps build check demo demo-stop install install-files install-dirs uninstall deb deb-only \
	clean format format-check bench

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

# install-files and install-dirs do not build (the tests call them on the binary
# under test, SANITIZE=1 included); install and deb build first.
install: build
	@$(MAKE) --no-print-directory install-files install-dirs

# The unit names the installed binary; the sample configs are never overwritten
# (a city's edited config stays as it is).
install-files:
	@test -x protocolfs || { echo "make install: no ./protocolfs (run make first)" >&2; exit 2; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/protocolfs $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0755 protocolfs $(DESTDIR)$(BINDIR)/protocolfs
	install -m 0644 conf/man/protocolfs.1 $(DESTDIR)$(MANDIR)/man1/protocolfs.1
	install -m 0644 conf/man/protocolfs.ini.5 $(DESTDIR)$(MANDIR)/man5/protocolfs.ini.5
	install -m 0644 conf/mechelen.ini conf/protocol-mechelen-2021.ini conf/mechelen.env \
		$(DESTDIR)$(DOCDIR)/examples/
	sed 's|@BINDIR@|$(BINDIR)|g' conf/systemd/protocolfs@.service >$(DESTDIR)$(UNITDIR)/protocolfs@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/protocolfs@.service
	install -m 0644 conf/logrotate.protocolfs $(DESTDIR)$(SYSCONFDIR)/logrotate.d/protocolfs
	@for f in mechelen.ini mechelen.env; do \
		if [ -e $(DESTDIR)$(SYSCONFDIR)/protocolfs/$$f ]; then \
			echo "kept $(DESTDIR)$(SYSCONFDIR)/protocolfs/$$f (the sample is in $(DOCDIR)/examples)"; \
		else \
			echo "install -m 0644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/protocolfs/$$f"; \
			install -m 0644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/protocolfs/$$f; \
		fi; \
	done

# The daemon's folders, owned by PFS_USER when run as root (a staged DESTDIR made
# by another user gets that user's). Existing folders are left as they are.
install-dirs:
	@for d in $(PFS_DIRS); do \
		p=$(DESTDIR)$${d#*:}; m=$${d%%:*}; \
		if [ -d $$p ]; then echo "kept $$p"; continue; fi; \
		if [ "$$(id -u)" = 0 ]; then o="-o $(PFS_USER) -g $(PFS_GROUP)"; else o=; fi; \
		echo "install -d -m $$m $$o $$p"; install -d -m $$m $$o $$p || exit 2; \
	done

# Removes what install-files put outside /etc; the configs, keys and the daemon's
# folders (audit log, state) stay: they are the city's, and evidence.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/protocolfs $(DESTDIR)$(MANDIR)/man1/protocolfs.1 \
		$(DESTDIR)$(MANDIR)/man5/protocolfs.ini.5 $(DESTDIR)$(UNITDIR)/protocolfs@.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/protocolfs \
		$(DESTDIR)$(DOCDIR)/examples/mechelen.ini $(DESTDIR)$(DOCDIR)/examples/mechelen.env \
		$(DESTDIR)$(DOCDIR)/examples/protocol-mechelen-2021.ini
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/protocolfs/ and the daemon's folders (config, keys, audit log, state)"

# ---- the Debian package: a staged root (install-files with PREFIX=/usr), the
# control files from conf/debian/, dpkg-deb. The folders are made by postinst.
DEB_ARCH  = $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_DIR  ?= build
DEB       = $(DEB_DIR)/protocolfs_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT  = $(DEB_DIR)/deb/root
deb: build
	@$(MAKE) --no-print-directory deb-only

deb-only:
	rm -rf $(DEB_DIR)/deb
	$(MAKE) --no-print-directory install-files DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null
	strip --remove-section=.comment --remove-section=.note --strip-unneeded \
		$(DEB_ROOT)/usr/bin/protocolfs
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/protocolfs.1 $(DEB_ROOT)/usr/share/man/man5/protocolfs.ini.5
	install -m 0644 conf/debian/copyright $(DEB_ROOT)/usr/share/doc/protocolfs/copyright
	gzip -9n <conf/debian/changelog >$(DEB_ROOT)/usr/share/doc/protocolfs/changelog.gz
	gzip -9n <README.md >$(DEB_ROOT)/usr/share/doc/protocolfs/README.md.gz
	chmod 0644 $(DEB_ROOT)/usr/share/doc/protocolfs/*.gz
	install -d $(DEB_ROOT)/DEBIAN
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
		-e "s|@SIZE@|$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" \
		conf/debian/control >$(DEB_ROOT)/DEBIAN/control
	for s in postinst prerm postrm; do \
		sed -e 's|@PFS_USER@|$(PFS_USER)|' -e 's|@PFS_GROUP@|$(PFS_GROUP)|' \
			-e 's|@PFS_DIRS@|$(strip $(PFS_DIRS))|' conf/debian/$$s >$(DEB_ROOT)/DEBIAN/$$s; \
		chmod 0755 $(DEB_ROOT)/DEBIAN/$$s; \
	done
	cd $(DEB_ROOT) && find etc -type f | sed 's|^|/|' | LC_ALL=C sort >DEBIAN/conffiles
	cd $(DEB_ROOT) && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | \
		LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums
	chmod 0644 $(DEB_ROOT)/DEBIAN/control $(DEB_ROOT)/DEBIAN/conffiles $(DEB_ROOT)/DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(DEB)

format:
	clang-format -i fs/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c

format-check:
	clang-format --dry-run --Werror fs/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/tools/*.c

clean:
	rm -rf build protocolfs

-include $(OBJS:.o=.d)
