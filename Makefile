# SPDX-License-Identifier: GPL-2.0-only
# stubinit build. `make` builds build/stubinit against Debian's -dev packages (development and
# tests); `make static` builds build/stubinit.static with musl and the libraries built by
# packaging/static-deps; `make check` runs every test tier; `make deps` installs what those need.

# The version, from one place: the VERSION file of a release tarball (make dist writes it), else
# git describe of the newest v* tag (0.2.0 on the tag; 0.2.0-3-g1234abc after it; -dirty with
# uncommitted changes); $(BUILD)/version holds it for the tests. A clone fetched without tags
# gets CHANGELOG.md's newest release in describe's form, with 0 commits counted (0.2.0-0-g1234abc).
VERSION := $(shell cat VERSION 2>/dev/null || \
	{ d=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) && echo "$${d#v}"; } || \
	{ r=$$(sed -n 's/^## \([0-9][0-9.]*\) .*/\1/p' CHANGELOG.md | head -n 1); \
	  h=$$(git rev-parse --short HEAD 2>/dev/null); [ -n "$$r" ] && [ -n "$$h" ] && echo "$$r-0-g$$h"; })
ifeq ($(VERSION),)
VERSION := unknown
endif
# Debian's spelling: 0.2.0-3-g1234abc -> 0.2.0+git3.g1234abc, -dirty -> +dirty
DEB_VERSION := $(shell echo '$(VERSION)' | sed 's/^unknown$$/0~unknown/; s/-\([0-9]*\)-g/+git\1.g/; s/-dirty$$/+dirty/')
# RPM's: 0.2.0-3-g1234abc -> 0.2.0^git3.g1234abc (after 0.2.0, before 0.2.1)
RPM_VERSION := $(shell echo '$(VERSION)' | sed 's/^unknown$$/0~unknown/; s/-\([0-9]*\)-g/^git\1.g/; s/-dirty$$/~dirty/')

# Installation, as GNU's conventions name it: make install [DESTDIR=...] [PREFIX=/usr]
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
sbindir ?= $(exec_prefix)/sbin
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
man8dir ?= $(mandir)/man8
INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL)
INSTALL_DATA ?= $(INSTALL) -m 644

ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := xenstore xenvchan xendevicemodel xentoollog libnl-3.0 libnl-route-3.0 json-c

# Buildroot and Alpine builds pass NO_DEPS=1 (their own dependencies) and may relax WERROR.
NO_DEPS ?=
WERROR ?= -Werror
WARN := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DSTUBINIT_VERSION='"$(VERSION)"' -iquote .
CFLAGS ?= -O2 -g
# CPPFLAGS and LDFLAGS as distributions pass them (hardening: _FORTIFY_SOURCE, -z relro, ...)
CPPFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

# Every module; main.c alone is left out of the unit-test binary.
SRCS := $(wildcard core/*.c agent/*.c console/*.c qmp/*.c netlink/*.c)
LIB_SRCS := $(filter-out agent/main.c,$(SRCS))
HDRS := $(wildcard core/*.h agent/*.h console/*.h qmp/*.h netlink/*.h)
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
XSD_SRCS := $(wildcard tests/xenstored/*.c)

.PHONY: all deps deps-static deps-image static image image-debian image-trixie image-shellinit \
	check check-clock check-xen check-xen-4.20 clang demo demo-local bench clean format \
	fuzz fuzz-build \
	sanitize-build man install uninstall dist deb deb-4.20 print-deb-version rpm print-rpm-version FORCE \
	buildroot-linux-config
all: $(BUILD)/stubinit $(BUILD)/stubinit.8

# Rewritten only when the version changes, so a new version rebuilds what carries it. (The static
# binary is always build/'s, whatever BUILD says.)
$(sort $(BUILD)/version build/version): FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@

deps:
ifeq ($(NO_DEPS),)
	@packaging/install-deps packaging/packages
endif

deps-static:
ifeq ($(NO_DEPS),)
	@packaging/install-deps packaging/static-deps/packages
endif

$(BUILD)/obj/%.o: %.c $(HDRS) Makefile $(BUILD)/version | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/stubinit: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/unit-tests: $(UNIT_SRCS) $(LIB_OBJS) $(wildcard tests/unit/*.h)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRCS) $(LIB_OBJS) $(LIBS)

$(BUILD)/test-xenstored: $(XSD_SRCS) $(wildcard tests/xenstored/*.h) | deps
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $(XSD_SRCS)

# Every tier; a plain `make check` also runs unit and local against the ASan+UBSan build and the
# local tier under valgrind (CHECK_ALL); `make check SANITIZE=1` runs only the sanitized build.
# (check-clock comes first: tests/run prints how long make check took, its builds included)
check: check-clock $(BUILD)/stubinit $(BUILD)/unit-tests $(BUILD)/test-xenstored build/stubinit.static \
	clang fuzz-build $(if $(SANITIZE),,sanitize-build) image \
	$(if $(SANITIZE),,image-debian image-trixie image-shellinit) $(BUILD)/stubinit.8 \
	$(if $(SANITIZE),,deb deb-4.20)
	@BUILD=$(abspath $(BUILD)) SANITIZE=$(SANITIZE) FUZZ_SECONDS=$${FUZZ_SECONDS:-30} \
		CHECK_ALL=$(if $(SANITIZE),0,1) CHECK_START=$$(cat build/.check-start) tests/run

check-clock:
	@mkdir -p build && date +%s >build/.check-start

sanitize-build: | deps
	@$(MAKE) --no-print-directory SANITIZE=1 build/sanitize/stubinit build/sanitize/unit-tests \
		build/sanitize/test-xenstored >/dev/null

# ---- fuzzers (libFuzzer, clang): one per parser ------------------------------------------------
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB_SRCS) $(HDRS) | deps
	@mkdir -p build/fuzz
	clang $(BASE_CFLAGS) $(FUZZ_FLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) \
		-iquote tests/fuzz -o $@ $< $(LIB_SRCS) $(LIBS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run

# The code must stay warnings-clean under clang too; -Werror makes this build the check.
clang: | deps
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang SANITIZE= build/clang/stubinit \
		build/clang/unit-tests build/clang/test-xenstored >/dev/null

# ---- static musl build -----------------------------------------------------------------------
DEPS_O := $(abspath build/deps)
STATIC_LIBS := -lxenvchan -lxenstore -lxendevicemodel -lxencall -lxengnttab -lxenevtchn \
	-lxentoollog -lxentoolcore -lnl-route-3 -lnl-3 -ljson-c -lpthread
STATIC_CC ?= musl-gcc
STATIC_INC ?= -idirafter $(DEPS_O)/kinc -I$(DEPS_O)/prefix/include -I$(DEPS_O)/prefix/include/libnl3
STATIC_LDDIRS ?= -L$(DEPS_O)/prefix/lib
STATIC_PREREQ ?= build/deps/.stamp
STRIP ?= strip
# (no unwind tables, as for the dependencies: packaging/static-deps/Makefile)
STATIC_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DSTUBINIT_VERSION='"$(VERSION)"' -iquote . \
	-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
	$(STATIC_INC)

static: build/stubinit.static

build/deps/.stamp: $(wildcard packaging/static-deps/*) $(wildcard packaging/apt/*) | deps-static
	@$(MAKE) --no-print-directory -C packaging/static-deps O=$(DEPS_O)
	@touch $@

build/stubinit.static: $(SRCS) $(HDRS) $(STATIC_PREREQ) build/version
	$(STATIC_CC) -static $(STATIC_CFLAGS) $(CPPFLAGS) -o $@ $(SRCS) $(STATIC_LDDIRS) $(LDFLAGS) \
		-Wl,--gc-sections -Wl,-Map=$@.map $(STATIC_LIBS)
	$(STRIP) $@
	@echo "stubinit.static: $$(stat -c %s $@) bytes stripped"

# ---- the stubdomain image (packaging/image): build/image/stubdom-{kernel,initramfs} -----------
# IMAGE_SUITE=trixie (or SUITE=trixie) builds build/image-trixie.
# KERNEL=stubdom (packaging/kernel: hvc consoles raw from the first byte, everything built in) is
# the default, since the emulated-Xen scenarios pass with it (trixie's 6.12 too, on Xen 4.20:
# create, save, restore and cd); KERNEL=debian takes the suite's linux-image-amd64 and its modules
# instead, in a directory of its own: build/image-debian, build/image-trixie-debian.
# QEMU=stubdom (packaging/qemu: Debian's QEMU source built for a stubdomain only, about a dozen
# libraries, fits libxl's default stubdomain_memory of 128) is the default; for trixie it is built
# in a trixie build root, against trixie's libraries. QEMU=debian takes the suite's qemu-system-xen
# (spice and 40-odd libraries) into build/image-qemu-debian, build/image-trixie-qemu-debian.
IMAGE_SUITE ?= $(or $(SUITE),bookworm)
IMAGE_KERNEL_DEFAULT := stubdom
IMAGE_KERNEL ?= $(or $(KERNEL),$(IMAGE_KERNEL_DEFAULT))
IMAGE_QEMU_DEFAULT := stubdom
IMAGE_QEMU ?= $(or $(QEMU),$(IMAGE_QEMU_DEFAULT))
IMAGE_O := $(abspath build/image$(if $(filter-out bookworm,$(IMAGE_SUITE)),-$(IMAGE_SUITE))$(if \
	$(filter-out $(IMAGE_KERNEL_DEFAULT),$(IMAGE_KERNEL)),-$(IMAGE_KERNEL))$(if \
	$(filter-out $(IMAGE_QEMU_DEFAULT),$(IMAGE_QEMU)),-qemu-$(IMAGE_QEMU)))

deps-image:
ifeq ($(NO_DEPS),)
	@packaging/install-deps packaging/image/packages $(if $(filter stubdom,$(IMAGE_QEMU)),packaging/qemu/packages)
endif

image: build/stubinit.static | deps-image
	@$(MAKE) --no-print-directory -C packaging/image O=$(IMAGE_O) SUITE=$(IMAGE_SUITE) \
		KERNEL=$(IMAGE_KERNEL) QEMU=$(IMAGE_QEMU) STUBINIT=$(abspath build/stubinit.static)

# The emulated-Xen tier (tests/xen): Xen 4.17 + a Debian dom0 under QEMU TCG, the real xl, the
# image from `make image`; `make check` runs it as its tier xen (see tests/xen/README.md).
check-xen: image
	@tests/xen/run

# The Xen 4.20 column: Debian trixie's Xen, dom0 and QEMU 10, with the trixie image.
check-xen-4.20: image-trixie
	@XEN_VERSION=4.20 tests/xen/run

# The image with Debian's kernel: make check's boot-time scenario boots it beside the default
# image to print both kernels' start-to-/init time.
image-debian: build/stubinit.static | deps-image
	@$(MAKE) --no-print-directory image IMAGE_KERNEL=debian

image-trixie: build/stubinit.static | deps-image
	@$(MAKE) --no-print-directory image IMAGE_SUITE=trixie

# Bench P5's baseline: build/image's kernel and QEMU with a busybox shell init instead of stubinit
# (tests/xen/shell-init; the tools from bookworm's packages) in build/image-shellinit, cached by
# key (tests/xen/shell-image). Only of the default image: the script loads no kernel modules and
# runs Xen 4.17's vchan-socket-proxy.
image-shellinit: image
	@tests/xen/shell-image $(abspath build/image) $(abspath build/image-shellinit)

bench: $(BUILD)/stubinit $(BUILD)/test-xenstored build/stubinit.static image image-shellinit
	@BUILD=$(abspath $(BUILD)) bench/run

# The demo: emulated Xen boots, xl creates an HVM guest whose QEMU runs under stubinit in the image,
# its serial output and stubinit's status stream by, QMP answers, the guest is destroyed (as root).
demo: image
	@tests/xen/run --demo

# The PID 1 core alone, in namespaces beside a test xenstored (no Xen, no root needed beyond unshare).
demo-local: $(BUILD)/stubinit $(BUILD)/test-xenstored
	@BUILD=$(abspath $(BUILD)) tests/local/demo

# ---- the man page, installation, the release tarball, the Debian package -----------------------
# stubinit(8): packaging/man/stubinit.8.in with the key table from the binary (--keys-man), the
# one table README's key section and --help come from, and the date of the source's last commit:
# in a release tarball, its VERSION file's (dated by that commit), even when the tarball is
# unpacked inside another git tree (aports, Buildroot's output), whose log is not this source's.
man: $(BUILD)/stubinit.8
$(BUILD)/stubinit.8: packaging/man/stubinit.8.in $(BUILD)/stubinit
	@$(BUILD)/stubinit --keys-man > $@.keys
	@d=$$(if [ -f VERSION ]; then date -u -r VERSION +%F; else git log -1 --format=%cs 2>/dev/null; fi); \
	sed -e 's/@VERSION@/$(VERSION)/; s/@DATE@/'"$$d"'/' -e '/^@KEYS@$$/{r $@.keys' -e 'd}' $< > $@
	@rm -f $@.keys

install: $(BUILD)/stubinit $(BUILD)/stubinit.8
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(man8dir)
	$(INSTALL_PROGRAM) $(BUILD)/stubinit $(DESTDIR)$(sbindir)/stubinit
	$(INSTALL_DATA) $(BUILD)/stubinit.8 $(DESTDIR)$(man8dir)/stubinit.8

uninstall:
	rm -f $(DESTDIR)$(sbindir)/stubinit $(DESTDIR)$(man8dir)/stubinit.8

# build/dist/stubinit-<version>.tar.gz (+ .sha256): HEAD's tree and a VERSION file, reproducible.
dist:
	@packaging/dist.sh '$(VERSION)' build/dist

# build/deb/stubinit-stubdom_<version>_amd64.deb: the image from make image, installed where libxl
# looks for a Linux stubdomain by default (Debian's /usr/lib/xen-<ver>/boot). Xen 4.17 (bookworm)
# by default; DEB_XEN=4.20 packages it for trixie's Xen 4.20 in build/deb-4.20 (a directory of its
# own: the file name is the same), which the 4.20 column's scenario installed installs;
# DEB_IMAGE=build/image-trixie takes trixie's image instead.
DEB_IMAGE ?= build/image
DEB_XEN ?= 4.17
DEB_DIR := build/deb$(if $(filter-out 4.17,$(DEB_XEN)),-$(DEB_XEN))
print-deb-version:
	@echo '$(DEB_VERSION)'

deb: image
	@packaging/install-deps packaging/deb/packages
	@packaging/deb/build.sh $(DEB_IMAGE) $(DEB_XEN) '$(DEB_VERSION)' $(DEB_DIR)

# make check's 4.20 column installs it (scenario installed).
deb-4.20: image
	@$(MAKE) --no-print-directory deb DEB_XEN=4.20

# build/rpm/stubinit-<version>-1.<arch>.rpm: the binary and its man page, built by rpmbuild from
# make dist's tarball (packaging/rpm/stubinit.spec.in), for RPM-based image builders (Qubes).
print-rpm-version:
	@echo '$(RPM_VERSION)'

rpm: dist
	@packaging/install-deps packaging/rpm/packages
	@packaging/rpm/build.sh build/dist/stubinit-$(VERSION).tar.gz '$(VERSION)' '$(RPM_VERSION)' \
		build/rpm

# packaging/buildroot's kernel configuration: the complete .config of the image's stubdomain kernel
# (allnoconfig + packaging/kernel/stubdom.config), which Buildroot's olddefconfig takes to its
# own Linux release and toolchain. Run after a change of stubdom.config or of the suite's kernel.
BR_LINUX_CONFIG := packaging/buildroot/board/stubdom/linux.config
buildroot-linux-config: image
	@{ echo '# The stubinit image'"'"'s stubdomain kernel configuration (make buildroot-linux-config):'; \
	  echo '# allnoconfig + packaging/kernel/stubdom.config on '"$$(sed -n 's/^# Linux\/x86_64 \(.*\) Kernel Configuration$$/Linux \1/p' build/image/stubdom-kernel.config)"'.'; \
	  echo '# Buildroot'"'"'s olddefconfig recomputes the lines its toolchain decides (CONFIG_CC_*, ...).'; \
	  grep -v '^#$$\|^# Automatically generated\|^# Linux/' build/image/stubdom-kernel.config; \
	} >$(BR_LINUX_CONFIG).tmp && mv $(BR_LINUX_CONFIG).tmp $(BR_LINUX_CONFIG)
	@echo "$(BR_LINUX_CONFIG): $$(grep -c '^CONFIG_' $(BR_LINUX_CONFIG)) options set"

format:
	clang-format -i $(SRCS) $(HDRS) $(UNIT_SRCS) $(XSD_SRCS)

clean:
	rm -rf build
