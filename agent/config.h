/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config: what the toolstack put in xenstore for this stubdomain, read once at boot into one
 * struct: own domid, the target guest, its vm path, QEMU's arguments (dm-argv, numerically
 * ordered, or the legacy MiniOS dmargs string), and the consoles, disks and NICs it was given.
 * Every problem is logged naming the path and the value; nothing here crashes or guesses.
 */
#ifndef STUBINIT_CONFIG_H
#define STUBINIT_CONFIG_H

#include "dmargs.h"

#include <stdbool.h>

struct dm_config {
	unsigned domid;	 /* this stubdomain */
	unsigned target; /* the guest whose device model we run */
	bool have_target;
	char *vm;	       /* "/vm/<uuid>" */
	struct argv_list args; /* QEMU's arguments from the toolstack (argv[0] not included) */
	bool legacy_dmargs;    /* they came from the MiniOS dmargs string */
	bool restore;	       /* the arguments ask for an incoming stream */
	unsigned consoles;     /* device/console/N entries */
	bool console2_output;  /* device/console/2/output exists: dom0 streams a restore */
	unsigned nvbd, nvif;   /* entries under device/vbd and device/vif */
	unsigned npci;	       /* entries under device/pci at boot */
	struct {
		unsigned devid;
		char mac[18]; /* device/vif/<devid>/mac, or "" */
	} vif[32];	      /* the first 32 of them */
	char error[256];      /* the first problem, one line (for the status) */
};

/* Returns 0, or -1 with cfg->error set (and logged). Needs a connected store. */
int config_read(struct dm_config *cfg);
void config_free(struct dm_config *cfg);

#endif
