# SPDX-License-Identifier: GPL-2.0-only
################################################################################
#
# stubinit
#
################################################################################

# Built from the checkout this external tree is part of. For a release from git instead:
#   STUBINIT_VERSION = v0.2.0
#   STUBINIT_SITE = <the project's git URL>
#   STUBINIT_SITE_METHOD = git
STUBINIT_VERSION = 0.2.0
STUBINIT_SITE = $(BR2_EXTERNAL_STUBINIT_PATH)/../..
STUBINIT_SITE_METHOD = local
# Not the checkout's build outputs (images, caches): only the sources.
STUBINIT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude=/build
# The project has no licence file yet; set STUBINIT_LICENSE(_FILES) when it has one.
STUBINIT_LICENSE = unknown
STUBINIT_DEPENDENCIES = xen libnl json-c host-pkgconf

# The top Makefile, told not to install Debian packages (NO_DEPS=1) and not to turn another
# compiler's new warnings into errors (WERROR=). Buildroot's CC carries --sysroot=$(STAGING_DIR),
# so /usr/include and /usr/lib of staging are found without -I/-L.
STUBINIT_MAKE_OPTS = NO_DEPS=1 WERROR=

ifeq ($(BR2_PACKAGE_STUBINIT_STATIC),y)
# `make static` with the target toolchain instead of musl-gcc and staging's static libraries
# instead of packaging/static-deps (STATIC_PREREQ= skips building those).
STUBINIT_TARGET = build/stubinit.static
STUBINIT_MAKE_OPTS += \
	STATIC_CC="$(TARGET_CC)" \
	STATIC_INC="-I$(STAGING_DIR)/usr/include/libnl3" \
	STATIC_LDDIRS="-L$(STAGING_DIR)/usr/lib" \
	STATIC_PREREQ= \
	STRIP="$(TARGET_STRIP)"
else
STUBINIT_TARGET = build/stubinit
STUBINIT_MAKE_OPTS += \
	$(TARGET_CONFIGURE_OPTS) \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)"
endif

define STUBINIT_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(STUBINIT_MAKE_OPTS) $(STUBINIT_TARGET)
endef

ifeq ($(BR2_PACKAGE_STUBINIT_AS_INIT),y)
define STUBINIT_INSTALL_INIT
	ln -sf usr/sbin/stubinit $(TARGET_DIR)/init
endef
endif

# stubinit's default QEMU is Debian's path; Xen's own build installs qemu-xen in /usr/lib/xen/bin.
define STUBINIT_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/$(STUBINIT_TARGET) $(TARGET_DIR)/usr/sbin/stubinit
	$(STUBINIT_INSTALL_INIT)
	if [ -x $(TARGET_DIR)/usr/lib/xen/bin/qemu-system-i386 ] && \
	   [ ! -e $(TARGET_DIR)/usr/libexec/xen-qemu-system-i386 ]; then \
		mkdir -p $(TARGET_DIR)/usr/libexec && \
		ln -sf ../lib/xen/bin/qemu-system-i386 \
			$(TARGET_DIR)/usr/libexec/xen-qemu-system-i386; \
	fi
endef

$(eval $(generic-package))
