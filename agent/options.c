// SPDX-License-Identifier: GPL-2.0-only
/*
 * options: the keys, read once into typed settings. See options.h.
 */
#include "options.h"
#include "keys.h"
#include "core/log.h"

#include <string.h>
#include <sys/un.h>

/* A path a unix socket is bound to must fit sun_path with its NUL; a console path gets a digit
 * or two after the prefix in buffers of 128. */
#define SOCKET_PATH_MAX	   (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CONSOLE_PREFIX_MAX 120

/* @k's text, or its default when it is longer than @max (reported by name, never truncated). */
static const char *path_key(enum stubinit_key k, size_t max)
{
	const struct keyset *ks = keys_stubinit();
	const char *v = key(k)->str;

	if (strlen(v) <= max)
		return v;
	log_error("key stubinit.%s=%s: longer than %zu bytes, the most this path may have; the "
		  "default %s stands",
		  ks->defs[k].name, v, max, ks->defs[k].def);
	return ks->defs[k].def;
}

void options_read(struct options *o)
{
	o->console_prefix = path_key(K_CONSOLE_PREFIX, CONSOLE_PREFIX_MAX);
	o->modules = key(K_MODULES)->str;
	o->readonly_root = key(K_READONLY_ROOT)->num;
	o->gntalloc_limit = key(K_GNTALLOC_LIMIT)->num;
	o->xenstore_timeout_ms = key(K_XENSTORE_TIMEOUT)->num;
	o->shutdown_timeout_ms = key(K_SHUTDOWN_TIMEOUT)->num;
	o->stats_interval_ms = key(K_STATS_INTERVAL)->num;
	o->on_qemu_exit = (enum policy)key(K_ON_QEMU_EXIT)->num;
	o->xenstore_filter = (enum xsproxy_mode)key(K_XENSTORE_FILTER)->num;
	o->qemu = (struct qemu_opts){
		.binary = key(K_QEMU)->str,
		.datadir = key(K_QEMU_DATADIR)->str,
		.devices = key(K_QEMU_DEVICES)->str,
		.kernel_disk = key(K_KERNEL_DISK)->str,
		.extra = key(K_QEMU_EXTRA)->str,
		.drop = key(K_QEMU_DROP)->str,
		.replace = key(K_QEMU_REPLACE)->str,
		.append = key(K_QEMU_APPEND)->str,
		.console_prefix = o->console_prefix,
		.user = key(K_QEMU_USER)->str,
		.sandbox = (enum qemu_sandbox)key(K_QEMU_SANDBOX)->num,
		.vnc = key(K_VNC)->num,
		.xenstore_filter = key(K_XENSTORE_FILTER)->num != XSPROXY_OFF,
	};
	o->monitor = (struct monitor_opts){
		.greeting_timeout_ms = key(K_QEMU_GREETING_TIMEOUT)->num,
		.greeting_timeout_text = key(K_QEMU_GREETING_TIMEOUT)->str,
		.test_kill_ms = key(K_TEST_KILL_QEMU)->num,
	};
	/* In the order of qmp-transport's choices: vchan, unix. */
	o->dom0 = (struct dom0_opts){
		.transport = key(K_QMP_TRANSPORT)->num == 1 ? SESSION_UNIX : SESSION_VCHAN,
		.qmp_socket = path_key(K_QMP_SOCKET, SOCKET_PATH_MAX),
		.vnc_socket = path_key(K_VNC_SOCKET, SOCKET_PATH_MAX),
		.peer = (unsigned)key(K_QMP_PEER)->num,
		.max_message = key(K_QMP_MAX_MESSAGE)->num,
		.allow = key(K_QMP_ALLOW)->str,
		.save_drain_ms = key(K_SAVE_DRAIN_TIMEOUT)->num,
		.vnc = key(K_VNC)->num,
		.test_lag_ms = key(K_TEST_VCHAN_LAG)->num,
	};
	o->hotplug = (struct hotplug_opts){
		.pci_driver = key(K_PCI_DRIVER)->str,
		.timeout_ms = key(K_COMMAND_TIMEOUT)->num,
		.timeout_text = key(K_COMMAND_TIMEOUT)->str,
	};
	o->audio = (struct audio_opts){
		.helper = key(K_AUDIO_HELPER)->str,
		.wait_ms = key(K_AUDIO_WAIT)->num,
	};
	o->network = (struct network_opts){
		.spec = key(K_NETWORK)->str,
		.spec_file = key(K_NETWORK_FILE)->str,
		.unplug_pv_nic = key(K_UNPLUG_PV_NIC)->num,
	};
}
