/*
 * hotplug: the device paths the toolstack drives while the guest lives. Owns the xenstore
 * device-model command protocol under device-model/<guest>/ (pci-ins, pci-rem: one command at a
 * time, in order, each bounded, translated into QMP on the permanent monitor), the kernel's uevent
 * socket (PCI devices hot-plugged into the stubdomain are kept from its own drivers and recorded;
 * a CD-ROM vbd that appears is handed to QEMU with add-fd, opaque "stub-devid:<devid>", for
 * libxl's cd-insert), and the parameter parsing for both.
 */
#ifndef STUBINIT_HOTPLUG_H
#define STUBINIT_HOTPLUG_H

#include <stdbool.h>

struct json_object;

/* Once QEMU serves: watch the command key and open the uevent socket. @domid: this stubdomain. */
void hotplug_start(unsigned domid, unsigned target);

/* QMP events from QEMU (DEVICE_DELETED ends a pci-rem). */
void hotplug_qemu_event(struct json_object *ev);

/* "DDDD:BB:DD.F[@VV],msitranslate=N,power_mgmt=N" (pci-ins) or "DDDD:BB:DD.F" (pci-rem). */
struct pci_param {
	unsigned domain, bus, dev, func;
	int vdevfn; /* -1 when no @VV */
	int msitranslate, power_mgmt;
};
/* Returns NULL, or why @s is malformed. @with_opts: the pci-ins form. */
const char *hotplug_parse_pci(const char *s, bool with_opts, struct pci_param *p);

#endif
