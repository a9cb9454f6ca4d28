################################################################################
#
# stubinit
#
################################################################################

STUBINIT_VERSION = 0.2.0
STUBINIT_SITE = https://github.com/stubinit/stubinit/releases/download/v$(STUBINIT_VERSION)
STUBINIT_LICENSE = GPL-2.0
STUBINIT_LICENSE_FILES = LICENSE
STUBINIT_DEPENDENCIES = host-pkgconf json-c libnl xen-stubdom-libs

# The project's Makefile, told not to install Debian packages (NO_DEPS=1) and not to turn another
# compiler's new warnings into errors (WERROR=). TARGET_CONFIGURE_OPTS gives it CC, CFLAGS,
# CPPFLAGS, LDFLAGS and PKG_CONFIG, which it honours.
STUBINIT_MAKE_OPTS = NO_DEPS=1 WERROR= $(TARGET_CONFIGURE_OPTS)

ifeq ($(BR2_PACKAGE_STUBINIT_STATIC),y)
# `make static` with the target compiler instead of musl-gcc and staging's static libraries
# instead of its own musl build of them (STATIC_PREREQ= skips that build).
STUBINIT_BINARY = build/stubinit.static
STUBINIT_MAKE_OPTS += \
	STATIC_CC="$(TARGET_CC)" \
	STATIC_INC="-I$(STAGING_DIR)/usr/include/libnl3" \
	STATIC_LDDIRS="-L$(STAGING_DIR)/usr/lib" \
	STATIC_PREREQ= \
	STRIP="$(TARGET_STRIP)"
else
STUBINIT_BINARY = build/stubinit
endif

define STUBINIT_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(STUBINIT_MAKE_OPTS) $(STUBINIT_BINARY)
endef

ifeq ($(BR2_PACKAGE_STUBINIT_AS_INIT),y)
define STUBINIT_INSTALL_INIT
	ln -sf usr/sbin/stubinit $(TARGET_DIR)/init
endef
endif

define STUBINIT_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/$(STUBINIT_BINARY) $(TARGET_DIR)/usr/sbin/stubinit
	$(STUBINIT_INSTALL_INIT)
endef

$(eval $(generic-package))
