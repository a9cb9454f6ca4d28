// SPDX-License-Identifier: GPL-2.0-only
/*
 * config: xenstore -> struct dm_config. See config.h.
 */
#include "config.h"
#include "core/log.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct dm_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct dm_config *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof(cfg->error), fmt, ap);
	va_end(ap);
	log_error("config: %s", cfg->error);
	return -1;
}

static int read_domid(struct dm_config *cfg, const char *path, unsigned *out)
{
	if (store_read_domid(path, out) == 0)
		return 0;
	return fail(cfg, "%s missing or not a domain id", path);
}

/* dm-argv: one argument per numbered key, in numeric order (keys may grow past 3 digits). */
static int read_dm_argv(struct dm_config *cfg, const char *dir, char **names, unsigned n)
{
	const char *bad = NULL;

	if (dmargs_sort_keys(names, n, &bad) < 0)
		return fail(cfg, "%s/%s: key is not a distinct decimal argument number", dir, bad);
	for (unsigned i = 0; i < n; i++) {
		char path[512];
		char *v;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		v = store_read(path);
		if (!v)
			return fail(cfg, "%s: cannot read: %s", path, strerror(errno));
		if (argv_push(&cfg->args, v) < 0) {
			free(v);
			return fail(cfg, "%s: out of memory", path);
		}
		free(v);
	}
	log_info("config: %u QEMU arguments from %s", n, dir);
	return 0;
}

/* The MiniOS form: one space-separated string. */
static int read_dmargs(struct dm_config *cfg, const char *path)
{
	char *v = store_read(path);

	if (!v)
		return -1;
	cfg->legacy_dmargs = true;
	if (argv_push_words(&cfg->args, v) < 0) {
		free(v);
		return fail(cfg, "%s: out of memory", path);
	}
	free(v);
	if (!cfg->args.n)
		return fail(cfg, "%s: empty", path);
	log_warn("config: %zu QEMU arguments from the legacy MiniOS string %s (no dm-argv)",
		 cfg->args.n, path);
	return 0;
}

static unsigned count_children(const char *path)
{
	unsigned n = 0;
	char **names = store_directory(path, &n);

	free(names);
	return names ? n : 0;
}

/* The PV NICs given to the stubdomain, with the MACs that let netlink/ recognise them. */
static void read_vifs(struct dm_config *cfg)
{
	unsigned n = 0;
	char **names = store_directory("device/vif", &n);

	for (unsigned i = 0; names && i < n; i++) {
		char path[64], *end, *mac;
		unsigned long devid = strtoul(names[i], &end, 10);

		if (*end || !names[i][0]) {
			log_warn("config: device/vif/%s: not a device id; ignored", names[i]);
			continue;
		}
		if (cfg->nvif >= sizeof(cfg->vif) / sizeof(cfg->vif[0]))
			break;
		cfg->vif[cfg->nvif].devid = (unsigned)devid;
		snprintf(path, sizeof(path), "device/vif/%lu/mac", devid);
		mac = store_read(path);
		snprintf(cfg->vif[cfg->nvif].mac, sizeof(cfg->vif[0].mac), "%s", mac ? mac : "");
		free(mac);
		cfg->nvif++;
	}
	free(names);
}

int config_read(struct dm_config *cfg)
{
	char path[256], dir[300];
	char **names;
	unsigned n = 0;
	char *v;

	*cfg = (struct dm_config){0};
	if (read_domid(cfg, "domid", &cfg->domid) < 0 ||
	    read_domid(cfg, "target", &cfg->target) < 0)
		return -1;
	cfg->have_target = true;
	snprintf(path, sizeof(path), "/local/domain/%u/vm", cfg->target);
	cfg->vm = store_read(path);
	if (!cfg->vm)
		return fail(cfg, "%s: cannot read: %s", path, strerror(errno));
	if (cfg->vm[0] != '/' || strchr(cfg->vm, ' '))
		return fail(cfg, "%s: '%s' is not a xenstore path", path, cfg->vm);

	snprintf(dir, sizeof(dir), "%s/image/dm-argv", cfg->vm);
	names = store_directory(dir, &n);
	if (names) {
		int err = n ? read_dm_argv(cfg, dir, names, n) : fail(cfg, "%s: empty", dir);

		free(names);
		if (err)
			return -1;
	} else {
		snprintf(path, sizeof(path), "%s/image/dmargs", cfg->vm);
		if (read_dmargs(cfg, path) < 0 && !cfg->error[0])
			return fail(cfg, "neither %s nor %s exists", dir, path);
		if (cfg->error[0])
			return -1;
	}
	cfg->restore = dmargs_wants_restore(cfg->args.v, cfg->args.n);

	cfg->consoles = count_children("device/console");
	v = store_read("device/console/2/output");
	cfg->console2_output = v != NULL;
	free(v);
	cfg->nvbd = count_children("device/vbd");
	/* Qubes' libxl attaches a guest's PCI devices to the stubdomain before it runs; upstream's
	 * only after QEMU serves (then this is 0 and they come as hot-plugs). */
	cfg->npci = count_children("device/pci");
	read_vifs(cfg);
	log_info("config: guest %u (%s): %u consoles, %u disks, %u NICs, %u PCI frontends%s",
		 cfg->target, cfg->vm, cfg->consoles, cfg->nvbd, cfg->nvif, cfg->npci,
		 cfg->restore ? ", restoring" : "");
	if (cfg->restore != cfg->console2_output)
		log_warn("config: dm-argv %s a restore but device/console/2/output %s",
			 cfg->restore ? "asks for" : "does not ask for",
			 cfg->console2_output ? "exists" : "is absent");
	return 0;
}

void config_free(struct dm_config *cfg)
{
	argv_free(&cfg->args);
	free(cfg->vm);
	cfg->vm = NULL;
}
