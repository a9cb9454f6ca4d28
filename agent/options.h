/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * options: the stubinit.* keys (agent/keys.h), read once after configuration into one struct of
 * typed settings, one part per room, which main.c passes on. No other module reads a key.
 * Values that cannot work together with the rest (a socket path longer than a unix socket address
 * holds) are reported naming the key, and the key's default is used instead.
 */
#ifndef STUBINIT_OPTIONS_H
#define STUBINIT_OPTIONS_H

#include "audio.h"
#include "dom0.h"
#include "hotplug.h"
#include "monitor.h"
#include "network.h"
#include "policy.h"
#include "qemu.h"
#include "xsproxy.h"

#include <stdbool.h>
#include <stdint.h>

struct options {
	const char *console_prefix; /* consoles are <prefix>1, <prefix>2, ... */
	const char *modules;	    /* the kernel module list */
	bool readonly_root;
	uint64_t gntalloc_limit; /* 0: the kernel's */
	uint64_t xenstore_timeout_ms;
	uint64_t shutdown_timeout_ms;
	uint64_t stats_interval_ms;
	enum policy on_qemu_exit;
	enum xsproxy_mode xenstore_filter;
	struct qemu_opts qemu;
	struct monitor_opts monitor;
	struct dom0_opts dom0;
	struct hotplug_opts hotplug;
	struct network_opts network;
	struct audio_opts audio;
};

void options_read(struct options *o);

#endif
