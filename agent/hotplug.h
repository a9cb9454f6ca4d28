/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hotplug: the xenstore device-model command protocol the toolstack drives while the guest lives.
 * Owns device-model/<guest>/{command,parameter,state} (pci-ins, pci-rem: one command at a time, in
 * order, each bounded by stubinit.command-timeout, translated into QMP on the permanent monitor)
 * and the parsing of their parameters. A change of the command key is a flag: it is read once per
 * turn of the loop however often it was written, and nothing is written back when it is empty.
 */
#ifndef STUBINIT_HOTPLUG_H
#define STUBINIT_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

struct hotplug_opts {
	const char *pci_driver; /* the QEMU device pci-ins adds */
	uint64_t timeout_ms;	/* one command, at most */
	const char *timeout_text;
};

/* Once QEMU serves: watch the command key. @domid: this stubdomain. */
void hotplug_start(unsigned domid, unsigned target, const struct hotplug_opts *o);

/*
 * query-pci's reply: the vdevfn of QEMU device @qdev_id (0..255), or -1. Its "return" is a list of
 * buses, each with a list of devices; anything of another shape, or a slot or function out of
 * range, is no answer.
 */
struct json_object;
int hotplug_vdevfn(struct json_object *reply, const char *qdev_id);

/* "DDDD:BB:DD.F[@VV],msitranslate=N,power_mgmt=N" (pci-ins) or "DDDD:BB:DD.F" (pci-rem). */
struct pci_param {
	unsigned domain, bus, dev, func;
	int vdevfn; /* -1 when no @VV */
	int msitranslate, power_mgmt;
};
/* Returns NULL, or why @s is malformed. @with_opts: the pci-ins form. */
const char *hotplug_parse_pci(const char *s, bool with_opts, struct pci_param *p);

#endif
