# SPDX-License-Identifier: GPL-2.0-only
# xenlibs.mk - build the Xen client libraries the agent needs as static
# archives, straight from an unpacked Xen source tree.
#
# Xen's own build wants tools/configure, which needs many host libraries
# musl does not have (yajl, zlib, argp, ...) just to compile a few small
# files.  Instead this makefile lists the Linux sources of each library in
# tools/libs/, compiles them with the same defines Xen's tools build uses,
# and generates the bits of tools/include that the sources need (the xen/
# public header tree, xen/sys and xen/foreign).
#
# Usage (normally from ./Makefile):
#   make -f xenlibs.mk XEN=<xen source root> B=<build dir> PREFIX=<dir> \
#        CC=musl-gcc OPTFLAGS="-Os ..." KINC=<dir> install
#
# Dependencies between the libraries follow tools/libs/uselibs.mk:
#   evtchn, gnttab, call, foreignmemory: toollog toolcore
#   devicemodel: toollog toolcore call      store: toolcore
#   vchan: toollog store gnttab evtchn
# Static archives do not record those, so link dependents first, e.g.
#   -lxenvchan -lxenstore -lxendevicemodel -lxenforeignmemory -lxencall
#   -lxengnttab -lxenevtchn -lxentoollog -lxentoolcore

XEN     ?= $(error XEN (Xen source root) is not set)
B       ?= $(error B (build directory) is not set)
PREFIX  ?= $(error PREFIX (install directory) is not set)
# ./Makefile passes CC=$(MUSL_CC).
CC      := musl-gcc
PYTHON  ?= python3
AR      ?= ar
OPTFLAGS ?= -Os -ffunction-sections -fdata-sections
# Directory with only linux/, asm/, asm-generic/ (musl-gcc has no uapi headers).
KINC    ?=

# y: xs watches are read by a background thread and xs_fileno() is a pipe
#    (what Xen's shared libxenstore does);  n: watches are read from the
#    xenstore socket synchronously (what Xen's own static archive does).
XS_PTHREAD ?= y
XEN_RUN_STORED ?= /var/run/xenstored

LIBS := toollog toolcore evtchn gnttab call foreignmemory devicemodel store vchan

# Sources per library, relative to $(XEN)/tools (Linux variants only).
SRCS_toollog       := libs/toollog/xtl_core.c
SRCS_toolcore      := libs/toolcore/handlereg.c
SRCS_evtchn        := libs/evtchn/core.c libs/evtchn/linux.c
SRCS_gnttab        := libs/gnttab/gnttab_core.c libs/gnttab/gntshr_core.c libs/gnttab/linux.c
SRCS_call          := libs/call/core.c libs/call/buffer.c libs/call/linux.c
SRCS_foreignmemory := libs/foreignmemory/core.c libs/foreignmemory/linux.c
SRCS_devicemodel   := libs/devicemodel/core.c libs/devicemodel/common.c
SRCS_store         := libs/store/xs.c xenstore/xs_lib.c
SRCS_vchan         := libs/vchan/init.c libs/vchan/io.c

# Sources of this directory's own, per library. libxentoollog has no stdio logger
# (xtl_logger_stdio.c): stubinit gives every Xen library handle a logger of its own, and
# xtl-nostdio.c makes an open without one fail instead (8 KB of stubinit.static, musl's time zone
# code among them).
HERE     := $(dir $(lastword $(MAKEFILE_LIST)))
OWN_toollog := xtl-nostdio.c

# Public headers per library, relative to $(XEN)/tools/include.
HDRS_toollog       := xentoollog.h
HDRS_toolcore      := xentoolcore.h
HDRS_evtchn        := xenevtchn.h
HDRS_gnttab        := xengnttab.h
HDRS_call          := xencall.h
HDRS_foreignmemory := xenforeignmemory.h
HDRS_devicemodel   := xendevicemodel.h
HDRS_store         := xenstore.h xenstore_lib.h xenstore-compat/xs.h xenstore-compat/xs_lib.h
HDRS_vchan         := libxenvchan.h

# Flags of Xen's tools build (Config.mk, tools/Rules.mk) minus -Werror/-g.
XEN_CFLAGS := -std=gnu99 -fno-strict-aliasing -Wall -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-but-set-variable -Wno-unused-local-typedefs \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ \
	-D_LARGEFILE_SOURCE -D_LARGEFILE64_SOURCE \
	-I$(B)/include -I$(XEN)/tools/include \
	$(if $(KINC),-idirafter $(KINC))

EXTRA_store := -include $(B)/gen/config.h -DXEN_RUN_STORED='"$(XEN_RUN_STORED)"' \
	-iquote $(XEN)/tools/xenstore $(if $(filter y,$(XS_PTHREAD)),-DUSE_PTHREAD)
EXTRA_vchan := -D__XEN_TOOLS__

ARCHIVES := $(foreach l,$(LIBS),$(B)/lib/libxen$(l).a)
GEN_HDRS := $(B)/include/xen/.tree \
	$(foreach a,x86_32 x86_64 arm32 arm64,$(B)/include/xen/foreign/$(a).h)

.PHONY: all install
all: $(ARCHIVES)

# --- generated include tree: $(B)/include/xen ---------------------------
$(B)/include/xen/.tree: $(wildcard $(XEN)/xen/include/public/*.h)
	@rm -rf $(B)/include/xen && mkdir -p $(B)/include/xen/sys $(B)/include/xen/foreign
	cp -R $(XEN)/xen/include/public/. $(B)/include/xen/
	cp $(XEN)/tools/include/xen-sys/Linux/*.h $(B)/include/xen/sys/
	@touch $@

FOREIGN := $(XEN)/tools/include/xen-foreign
PUB     := $(XEN)/xen/include/public
FOREIGN_IN_x86_32 := $(PUB)/arch-x86/xen-x86_32.h $(PUB)/arch-x86/xen.h $(PUB)/xen.h
FOREIGN_IN_x86_64 := $(PUB)/arch-x86/xen-x86_64.h $(PUB)/arch-x86/xen.h $(PUB)/xen.h
FOREIGN_IN_arm32  := $(PUB)/arch-arm.h $(PUB)/xen.h
FOREIGN_IN_arm64  := $(PUB)/arch-arm.h $(PUB)/xen.h

# mkheader.py derives the include guard from its output file name, so it is
# run inside the output directory with a relative name, as Xen does.  The
# sed drops an alignment attribute from casts, like Xen's own rule.
$(B)/include/xen/foreign/%.h: $(B)/include/xen/.tree $(FOREIGN)/mkheader.py $(FOREIGN)/structs.py
	cd $(@D) && PYTHONDONTWRITEBYTECODE=1 $(PYTHON) $(FOREIGN)/mkheader.py $* $*.h.tmp $(FOREIGN_IN_$*)
	sed 's/(__align8__ \(uint64_t\))/(\1)/g' < $@.tmp > $@.tmp2 && rm -f $@.tmp && mv -f $@.tmp2 $@

# The only configure result xs.c reads.  Kept out of the include path that
# gets installed, so it cannot clash with anybody else's config.h.
$(B)/gen/config.h:
	@mkdir -p $(@D)
	echo '#define HAVE_PIPE2 1' > $@

# --- objects and archives -------------------------------------------------
obj = $(B)/obj/$(1)/$(basename $(notdir $(2))).o

define lib_rules
$(call obj,$(1),$(2)): $(XEN)/tools/$(2) $(GEN_HDRS) $(if $(filter store,$(1)),$(B)/gen/config.h)
	@mkdir -p $$(@D)
	$$(CC) $$(OPTFLAGS) $$(XEN_CFLAGS) $$(EXTRA_$(1)) -c -o $$@ $$<
endef
$(foreach l,$(LIBS),$(foreach s,$(SRCS_$(l)),$(eval $(call lib_rules,$(l),$(s)))))

define own_rules
$(call obj,$(1),$(2)): $(HERE)$(2) $(GEN_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(OPTFLAGS) $$(XEN_CFLAGS) -c -o $$@ $$<
endef
$(foreach l,$(LIBS),$(foreach s,$(OWN_$(l)),$(eval $(call own_rules,$(l),$(s)))))

define archive_rule
$(B)/lib/libxen$(1).a: $(foreach s,$(SRCS_$(1)) $(OWN_$(1)),$(call obj,$(1),$(s)))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach l,$(LIBS),$(eval $(call archive_rule,$(l))))

# --- install --------------------------------------------------------------
install: all
	mkdir -p $(PREFIX)/lib $(PREFIX)/include/xenstore-compat
	rm -rf $(PREFIX)/include/xen
	cp -R $(B)/include/xen $(PREFIX)/include/xen
	rm -f $(PREFIX)/include/xen/.tree
	cp $(ARCHIVES) $(PREFIX)/lib/
	cd $(XEN)/tools/include && for h in $(foreach l,$(LIBS),$(HDRS_$(l))); do cp $$h $(PREFIX)/include/$$h; done
	ln -sf xenstore-compat/xs.h $(PREFIX)/include/xs.h
	ln -sf xenstore-compat/xs_lib.h $(PREFIX)/include/xs_lib.h
