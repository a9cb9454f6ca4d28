/*
 * network: the glue between what the toolstack asked for and netlink/. Owns building the topology
 * (the default join of every emulated NIC in dm-argv to its PV NIC, plus the spec from
 * stubinit.network and /etc/stubinit/network), applying it before QEMU starts, feeding link events
 * from the loop to netlink/, and unplugging a NIC when QEMU reports DEVICE_DELETED for it.
 */
#ifndef STUBINIT_NETWORK_H
#define STUBINIT_NETWORK_H

#include "config.h"

struct json_object;

/* Returns the number of items that failed (logged); QEMU starts either way. */
unsigned network_setup(const struct dm_config *cfg);

/* A QMP event from QEMU: DEVICE_DELETED for "nic<devid>" takes that NIC's bridge and tap away. */
void network_qemu_event(struct json_object *ev);

#endif
