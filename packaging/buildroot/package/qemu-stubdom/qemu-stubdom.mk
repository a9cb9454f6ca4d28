################################################################################
#
# qemu-stubdom
#
################################################################################

# The release Buildroot's qemu package builds, downloaded to the same place.
QEMU_STUBDOM_VERSION = 10.2.0
QEMU_STUBDOM_SOURCE = qemu-$(QEMU_STUBDOM_VERSION).tar.xz
QEMU_STUBDOM_SITE = https://download.qemu.org
QEMU_STUBDOM_DL_SUBDIR = qemu
QEMU_STUBDOM_LICENSE = GPL-2.0, LGPL-2.1, MIT, BSD-3-Clause, BSD-2-Clause, Others/BSD-1c
QEMU_STUBDOM_LICENSE_FILES = COPYING COPYING.LIB
QEMU_STUBDOM_CPE_ID_VENDOR = qemu
QEMU_STUBDOM_DEPENDENCIES = host-meson host-ninja host-pkgconf host-python3 \
	host-python-distlib dtc libglib2 libseccomp pixman xen-stubdom-libs zlib

# The options and devices of the stubinit image's own QEMU (packaging/qemu in the stubinit
# source): configure.opts has one per line beside its comments. --with-git-submodules is left
# out: a release tarball has no submodules.
QEMU_STUBDOM_STUBINIT_DIR = $(BR2_EXTERNAL_STUBINIT_PATH)/../qemu
QEMU_STUBDOM_OPTS = $(filter-out --with-git-submodules=%, \
	$(shell sed -n 's/^\(--[^ ]*\).*/\1/p' $(QEMU_STUBDOM_STUBINIT_DIR)/configure.opts))

define QEMU_STUBDOM_DEVICES
	cp $(QEMU_STUBDOM_STUBINIT_DIR)/devices.mak \
		$(@D)/configs/devices/i386-softmmu/xenstubdom.mak
endef
QEMU_STUBDOM_POST_PATCH_HOOKS += QEMU_STUBDOM_DEVICES

define QEMU_STUBDOM_CONFIGURE_CMDS
	unset TARGET_DIR; \
	cd $(@D) && \
		LIBS='-lrt -lm' \
		$(TARGET_CONFIGURE_OPTS) \
		$(TARGET_CONFIGURE_ARGS) \
		CPP="$(TARGET_CC) -E" \
		./configure \
			--prefix=/usr \
			--libexecdir=/usr/libexec \
			--cross-prefix=$(TARGET_CROSS) \
			--python=$(HOST_DIR)/bin/python3 \
			--ninja=$(HOST_DIR)/bin/ninja \
			--disable-download \
			--disable-strip \
			--without-default-devices \
			--with-devices-i386=xenstubdom \
			$(QEMU_STUBDOM_OPTS)
endef

define QEMU_STUBDOM_BUILD_CMDS
	unset TARGET_DIR; \
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D)
endef

# The binary where stubinit looks for it by default, the ROMs libxl's guests ask for (VGA BIOSes,
# the e1000 and rtl8139 iPXE ROMs, direct kernel boot) and the VNC server's keymaps, from the
# release tarball's pc-bios/.
QEMU_STUBDOM_ROMS = vgabios-stdvga.bin vgabios-cirrus.bin efi-e1000.rom efi-rtl8139.rom \
	linuxboot.bin linuxboot_dma.bin

define QEMU_STUBDOM_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/build/qemu-system-i386 \
		$(TARGET_DIR)/usr/libexec/xen-qemu-system-i386
	$(foreach r,$(QEMU_STUBDOM_ROMS), \
		$(INSTALL) -D -m 0644 $(@D)/pc-bios/$(r) $(TARGET_DIR)/usr/share/qemu/$(r)
	)
	mkdir -p $(TARGET_DIR)/usr/share/qemu/keymaps
	cp $(@D)/pc-bios/keymaps/[a-z]* $(TARGET_DIR)/usr/share/qemu/keymaps/
	rm -f $(TARGET_DIR)/usr/share/qemu/keymaps/meson.build
endef

$(eval $(generic-package))
