################################################################################
#
# xen-stubdom-libs
#
################################################################################

# The release Buildroot's xen package builds, downloaded to the same place.
XEN_STUBDOM_LIBS_VERSION = 4.19.5
XEN_STUBDOM_LIBS_SOURCE = xen-$(XEN_STUBDOM_LIBS_VERSION).tar.gz
XEN_STUBDOM_LIBS_SITE = https://downloads.xenproject.org/release/xen/$(XEN_STUBDOM_LIBS_VERSION)
XEN_STUBDOM_LIBS_DL_SUBDIR = xen
XEN_STUBDOM_LIBS_LICENSE = LGPL-2.1 (libraries), MIT (public headers)
XEN_STUBDOM_LIBS_LICENSE_FILES = COPYING LICENSES/LGPL-2.1 LICENSES/MIT
XEN_STUBDOM_LIBS_CPE_ID_VENDOR = xen
XEN_STUBDOM_LIBS_INSTALL_STAGING = YES
XEN_STUBDOM_LIBS_DEPENDENCIES = host-acpica host-pkgconf host-python3 ncurses util-linux \
	yajl zlib
ifeq ($(BR2_PACKAGE_ARGP_STANDALONE),y)
XEN_STUBDOM_LIBS_DEPENDENCIES += argp-standalone
endif

# Only tools/ is configured, and nothing of it that needs QEMU, firmware or a language other
# than C: --with-system-qemu keeps configure from asking for glib and pixman.
XEN_STUBDOM_LIBS_CONF_ENV = PYTHON=$(HOST_DIR)/bin/python3
XEN_STUBDOM_LIBS_CONF_OPTS = \
	--disable-xen \
	--disable-docs \
	--disable-stubdom \
	--disable-werror \
	--disable-golang \
	--disable-ocamltools \
	--disable-pygrub \
	--disable-monitors \
	--disable-xsmpolicy \
	--disable-seabios \
	--disable-ipxe \
	--disable-rombios \
	--disable-pvshim \
	--disable-9pfs \
	--with-system-qemu=/usr/libexec/xen-qemu-system-i386

# In dependency order (tools/libs/uselibs.mk): each links the ones before it.
XEN_STUBDOM_LIBS_LIBS = toolcore toollog evtchn gnttab call foreignmemory devicemodel ctrl \
	store vchan

XEN_STUBDOM_LIBS_MAKE_ENV = \
	XEN_TARGET_ARCH=x86_64 \
	CROSS_COMPILE=$(TARGET_CROSS) \
	HOST_EXTRACFLAGS="-Wno-error" \
	$(TARGET_CONFIGURE_OPTS)

define XEN_STUBDOM_LIBS_BUILD_CMDS
	$(XEN_STUBDOM_LIBS_MAKE_ENV) $(MAKE) -C $(@D)/tools/include
	$(foreach l,$(XEN_STUBDOM_LIBS_LIBS), \
		$(XEN_STUBDOM_LIBS_MAKE_ENV) $(MAKE) -C $(@D)/tools/libs/$(l)
	)
endef

# $(1): the root to install into. Each library's install copies its .pc file to
# $(libdir)/pkgconfig without creating it (Xen's top-level install does).
define XEN_STUBDOM_LIBS_INSTALL_LIBS
	mkdir -p $(1)/usr/lib/pkgconfig
	$(foreach l,$(XEN_STUBDOM_LIBS_LIBS), \
		$(XEN_STUBDOM_LIBS_MAKE_ENV) $(MAKE) -C $(@D)/tools/libs/$(l) \
			DESTDIR=$(1) install
	)
endef

define XEN_STUBDOM_LIBS_INSTALL_STAGING_CMDS
	$(call XEN_STUBDOM_LIBS_INSTALL_LIBS,$(STAGING_DIR))
endef

# The shared libraries; Buildroot's target-finalize drops the headers, .pc and .a files.
define XEN_STUBDOM_LIBS_INSTALL_TARGET_CMDS
	$(call XEN_STUBDOM_LIBS_INSTALL_LIBS,$(TARGET_DIR))
endef

$(eval $(autotools-package))
