/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * network: the glue between what the toolstack asked for and netlink/. Owns building the topology
 * (the default join of every emulated NIC in dm-argv to its PV NIC, plus the spec from
 * stubinit.network and /etc/stubinit/network), applying it before QEMU starts, feeding link events
 * from the loop to netlink/, and unplugging a NIC when QEMU reports DEVICE_DELETED for it.
 */
#ifndef STUBINIT_NETWORK_H
#define STUBINIT_NETWORK_H

#include "config.h"

#include <stdbool.h>

struct network_opts {
	const char *spec;      /* stubinit.network: spec lines, ';' between them */
	const char *spec_file; /* stubinit.network-file; absent is fine */
	bool unplug_pv_nic;    /* stubinit.unplug-pv-nic */
};

/* Returns the number of items that failed (logged); QEMU starts either way. From then on QEMU's
 * DEVICE_DELETED for "nic<devid>" takes that NIC's bridge and tap away, and with unplug_pv_nic the
 * stubdomain's PV NIC <devid> too (its netfront unbound, device/vif/<devid> removed), so dom0
 * tears down that vif and the guest's own PV NIC is the only one left on the network. */
unsigned network_setup(const struct dm_config *cfg, const struct network_opts *o);

#endif
