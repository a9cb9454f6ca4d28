# devices.mak - the devices of the stubdomain's QEMU (configs/devices/i386-softmmu/xenstubdom.mak
# in QEMU's tree, configured --without-default-devices --with-devices-i386=xenstubdom): what
# libxl's device-model command lines for an HVM guest name, nothing else. Kconfig adds what these
# select (PIIX3, IDE, ISA serial, RTC, keyboard, the Xen platform device with CONFIG_XEN).

# The machine: xenfv / pc,accel=xen are i440FX boards.
CONFIG_I440FX=y
# vga="cirrus" (libxl's default), vga="stdvga"
CONFIG_VGA_CIRRUS=y
CONFIG_VGA_PCI=y
# model= of a vif: rtl8139 (libxl's default), e1000
CONFIG_RTL8139_PCI=y
CONFIG_E1000_PCI=y
# usb=1, usbdevice="tablet"|"mouse": -usb (piix3-usb-uhci) and usb-tablet / usb-mouse
CONFIG_USB_UHCI=y
# usbversion = 2: ich9-usb-ehci1 with ich9-usb-uhci1..3 as its companions (UHCI above)
CONFIG_USB_EHCI_PCI=y
# usbversion = 3: nec-usb-xhci
CONFIG_USB_XHCI_NEC=y
# hdtype = "ahci": -device ahci (QEMU's alias of ich9-ahci) and an ide-hd per disk
CONFIG_AHCI_ICH9=y
