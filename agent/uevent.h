/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * uevent: what the kernel says about devices arriving in the stubdomain. Owns the kernel's uevent
 * socket (only messages from the kernel itself are read), PCI devices hot-plugged through pcifront
 * (recorded, and taken from any stubdomain driver: they are QEMU's to pass through; on Xen,
 * drivers_autoprobe is turned off), a pcifront going away, and CD-ROM vbds, which are opened
 * read-only and handed to QEMU with add-fd, opaque "stub-devid:<devid>" (what libxl's cd-insert
 * looks for), after which stubinit's own copy is closed so blkfront can detach it later.
 */
#ifndef STUBINIT_UEVENT_H
#define STUBINIT_UEVENT_H

#include <stdbool.h>
#include <stddef.h>

/* Once QEMU serves. @qemu_privileged: QEMU keeps root; @qemu_user: the key's text. */
void uevent_start(bool qemu_privileged, const char *qemu_user);

/* The value of @key in one uevent message @buf of @len bytes (NUL-separated KEY=value items),
 * or NULL. */
const char *uevent_get(const char *buf, size_t len, const char *key);

#endif
