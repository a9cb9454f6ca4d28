// SPDX-License-Identifier: GPL-2.0-only
/*
 * network: topology from dm-argv and specs, applied through netlink/. See network.h.
 */
#include "network.h"
#include "dhcp.h"
#include "monitor.h"
#include "paths.h"
#include "store.h"
#include "core/log.h"
#include "core/loop.h"
#include "netlink/net.h"
#include "qmp/json.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_NICS 32

static struct net_topology topo;
static struct {
	unsigned domid; /* the stubdomain's */
	bool unplug_pv_nic;
} nw;

static void on_link_events(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events, (void)arg;
	net_events_ready();
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, 0, f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	return text;
}

static void on_device_deleted(struct json_object *ev, void *arg);

/*
 * Qubes' -qubes-net:client_ip=...,gw=...,netmask=...: stubinit's DHCP server on the bridge of the
 * first emulated NIC (Qubes gives a VM one), for that NIC's MAC.
 */
static void serve_qubes_net(const struct dm_config *cfg, const struct dm_nic *nics, int n)
{
	struct dhcp_lease l = {0};
	const char *arg = dmargs_qubes_net(cfg->args.v, cfg->args.n), *mac = "";
	char why[160], br[NET_NAME];

	if (!arg)
		return;
	if (dhcp_parse_qubes(arg, &l, why, sizeof(why)) < 0) {
		log_error("network: %s; the guest gets no DHCP server", why);
		return;
	}
	if (n < 1) {
		log_error(
			"network: -qubes-net: the guest has no emulated NIC (-netdev type=tap) to "
			"serve its address on");
		return;
	}
	if (n > 1)
		log_warn("network: -qubes-net: %d emulated NICs; its address is served on NIC %u's "
			 "bridge only",
			 n, nics[0].devid);
	mac = nics[0].mac;
	for (unsigned i = 0; !*mac && i < cfg->nvif && i < 32; i++)
		if (cfg->vif[i].devid == nics[0].devid)
			mac = cfg->vif[i].mac;
	if (net_parse_mac(mac, l.mac) < 0) {
		log_error("network: -qubes-net: NIC %u has no usable MAC ('%s' in its -device, or "
			  "device/vif/%u/mac); the guest gets no DHCP server",
			  nics[0].devid, mac, nics[0].devid);
		return;
	}
	net_default_bridge(nics[0].devid, br);
	dhcp_serve(br, &l);
}

unsigned network_setup(const struct dm_config *cfg, const struct network_opts *o)
{
	struct dm_nic nics[MAX_NICS];
	int n = dmargs_nics(cfg->args.v, cfg->args.n, nics, MAX_NICS);
	const char *inline_spec = o->spec;
	char *file = read_file(o->spec_file);
	unsigned bad = 0, failed;
	int fd;

	nw.domid = cfg->domid;
	nw.unplug_pv_nic = o->unplug_pv_nic;
	if (!file && errno != ENOENT)
		log_errno(LV_ERROR, errno, "network: cannot read %s", o->spec_file);
	monitor_subscribe("DEVICE_DELETED", on_device_deleted, NULL);
	if (n < 1)
		serve_qubes_net(cfg, nics, 0); /* says so, if Qubes asked for an address */
	if (!n && !*inline_spec && !file)
		return 0;
	for (unsigned i = 0; i < cfg->nvif; i++) {
		unsigned char mac[6];

		if (cfg->vif[i].mac[0] && net_parse_mac(cfg->vif[i].mac, mac) == 0)
			net_vif_mac(cfg->vif[i].devid, mac);
	}
	for (int i = 0; i < n; i++) {
		log_info("network: NIC %u: tap %s joins the netfront of device/vif/%u",
			 nics[i].devid, nics[i].tap, nics[i].devid);
		net_default_nic(&topo, nics[i].devid, nics[i].tap);
	}
	if (file) {
		bad += net_spec_parse(&topo, file, o->spec_file);
		free(file);
	}
	if (*inline_spec) {
		/* On the kernel command line, ';' separates the lines of a spec. */
		char *text = strdup(inline_spec);

		for (char *c = text; c && *c; c++)
			if (*c == ';')
				*c = '\n';
		if (text)
			bad += net_spec_parse(&topo, text, "stubinit.network");
		free(text);
	}
	if (net_open() < 0)
		return (unsigned)topo.n + bad;
	fd = net_events_fd();
	if (fd >= 0)
		loop_add(fd, EPOLLIN, on_link_events, NULL);
	failed = net_apply(&topo);
	log_info("network: %zu item(s): %u failed, %u waiting, %u bad spec line(s)", topo.n, failed,
		 net_pending(), bad);
	if (n > 0)
		serve_qubes_net(cfg, nics, n);
	return failed + bad;
}

/* The stubdomain's own PV NIC <devid> goes: its netfront unbound (the driver says Closed to dom0's
 * backend) and its frontend directory removed, so dom0 tears down that vif. Each step is logged;
 * one failing does not stop the other. */
static void unplug_pv_nic(unsigned devid)
{
	char name[32], path[64];
	int fd, n, err = 0;

	n = snprintf(name, sizeof(name), "vif-%u", devid);
	fd = open(VIF_UNBIND, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, name, (size_t)n) != n)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		log_errno(LV_WARN, err, "network: cannot unbind %s from the netfront driver (%s)",
			  name, VIF_UNBIND);
	else
		log_info("network: %s unbound from the netfront driver", name);
	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%u", nw.domid, devid);
	err = store_rm(path);
	if (err < 0)
		log_errno(LV_WARN, err, "network: cannot remove %s", path);
	else
		log_info("network: removed %s: dom0 tears down the stubdomain's vif %u", path,
			 devid);
}

/* The guest's PV drivers unplugged emulated NIC <devid>: "nic<devid>" is deleted. */
static void on_device_deleted(struct json_object *ev, void *arg)
{
	const char *d = qmp_get_str(qmp_get_obj(ev, "data"), "device");
	char *end;
	unsigned long devid;

	(void)arg;
	if (!d || strncmp(d, "nic", 3) || d[3] < '0' || d[3] > '9')
		return;
	errno = 0;
	devid = strtoul(d + 3, &end, 10);
	if (*end || errno || devid > 0xffff)
		return;
	/* The guest's PV drivers unplugged the emulated NIC: its path through here is done. */
	log_info("network: QEMU unplugged %s; removing its bridge and tap", d);
	if (net_nic_gone((unsigned)devid) && nw.unplug_pv_nic)
		unplug_pv_nic((unsigned)devid);
}
