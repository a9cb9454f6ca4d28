// SPDX-License-Identifier: GPL-2.0-only
/*
 * netlink: links, bridges and taps with libnl-route, link events, applying the topology. See net.h.
 */
#include "net.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_VIFS 64

static struct {
	struct nl_sock *sk, *ev;
	struct nl_cache_mngr *mngr;
	struct nl_cache *links; /* kept current by the manager from link events */
	struct net_topology *topo;
	unsigned char vif_mac[MAX_VIFS][6];
	bool vif_mac_set[MAX_VIFS];
	char vif_name[MAX_VIFS][NET_NAME]; /* netfronts found so far (their MAC changes later) */
} nt;

static void on_link_change(struct nl_cache *c, struct nl_object *o, int action, void *arg)
{
	(void)c, (void)o, (void)action, (void)arg;
	/* The caller re-applies once the batch of events is read (net_events_ready). */
}

int net_open(void)
{
	int err;

	if (nt.sk)
		return 0;
	nt.sk = nl_socket_alloc();
	if (!nt.sk) {
		log_error("netlink: cannot allocate a socket");
		return -ENOMEM;
	}
	err = nl_connect(nt.sk, NETLINK_ROUTE);
	if (err < 0) {
		log_error("netlink: connect: %s", nl_geterror(err));
		nl_socket_free(nt.sk);
		nt.sk = NULL;
		return -EIO;
	}
	/* Our own changes come back as a burst of events: a small receive buffer would overflow. */
	nt.ev = nl_socket_alloc();
	err = nt.ev ? nl_cache_mngr_alloc(nt.ev, NETLINK_ROUTE, NL_AUTO_PROVIDE, &nt.mngr)
		    : -NLE_NOMEM;
	if (err >= 0)
		nl_socket_set_buffer_size(nt.ev, 1 << 20, 0);
	if (err >= 0)
		err = nl_cache_mngr_add(nt.mngr, "route/link", on_link_change, NULL, &nt.links);
	if (err < 0) {
		log_error("netlink: link events: %s", nl_geterror(err));
		if (nt.mngr)
			nl_cache_mngr_free(nt.mngr);
		nt.mngr = NULL;
	} else {
		/* libnl opens its sockets without O_CLOEXEC: QEMU must not inherit them. */
		fcntl(nl_cache_mngr_get_fd(nt.mngr), F_SETFD, FD_CLOEXEC);
	}
	fcntl(nl_socket_get_fd(nt.sk), F_SETFD, FD_CLOEXEC);
	return 0;
}

void net_close(void)
{
	if (nt.mngr)
		nl_cache_mngr_free(nt.mngr);
	if (nt.ev)
		nl_socket_free(nt.ev);
	if (nt.sk)
		nl_socket_free(nt.sk);
	nt.mngr = NULL;
	nt.sk = nt.ev = NULL;
}

int net_events_fd(void)
{
	return nt.mngr ? nl_cache_mngr_get_fd(nt.mngr) : -1;
}

/* The link named @name now, or NULL (caller puts it). */
static struct rtnl_link *get_link(const char *name)
{
	struct rtnl_link *l = NULL;

	if (!nt.sk || rtnl_link_get_kernel(nt.sk, 0, name, &l) < 0)
		return NULL;
	return l;
}

static int link_change(struct rtnl_link *l, struct rtnl_link *ch, const char *what,
		       const char *origin)
{
	int err = rtnl_link_change(nt.sk, l, ch, 0);

	if (err < 0) {
		log_error("network: %s: %s %s: %s", origin, what, rtnl_link_get_name(l),
			  nl_geterror(err));
		return -1;
	}
	return 0;
}

int net_link_up(const char *ifname)
{
	struct rtnl_link *l, *ch;
	int err;

	if (!nt.sk && net_open() < 0)
		return -EIO;
	l = get_link(ifname);
	if (!l) {
		log_error("netlink: link %s: no such link", ifname);
		return -ENODEV;
	}
	ch = rtnl_link_alloc();
	rtnl_link_set_flags(ch, IFF_UP);
	err = link_change(l, ch, "up", "boot");
	rtnl_link_put(ch);
	rtnl_link_put(l);
	if (!err)
		log_info("netlink: link %s up", ifname);
	return err ? -EIO : 0;
}

void net_vif_mac(unsigned devid, const unsigned char mac[6])
{
	if (devid >= MAX_VIFS)
		return;
	memcpy(nt.vif_mac[devid], mac, 6);
	nt.vif_mac_set[devid] = true;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The netfront of @devid: sysfs says "device/vif/<devid>", or it has the toolstack's MAC. */
static int find_vif(unsigned devid, char *out)
{
	char want[32], mac[32], path[300], buf[64];
	unsigned char m[6];
	struct dirent *de;
	DIR *d;

	if (devid >= MAX_VIFS)
		return -1;
	if (nt.vif_name[devid][0]) {
		struct rtnl_link *l = get_link(nt.vif_name[devid]);

		if (l) {
			rtnl_link_put(l);
			snprintf(out, NET_NAME, "%s", nt.vif_name[devid]);
			return 0;
		}
		nt.vif_name[devid][0] = 0;
	}
	snprintf(want, sizeof(want), "device/vif/%u", devid);
	d = opendir("/sys/class/net");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		bool hit = false;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/device/nodename", de->d_name);
		if (read_line(path, buf, sizeof(buf)) == 0 && !strcmp(buf, want))
			hit = true;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		if (!hit && nt.vif_mac_set[devid] && read_line(path, mac, sizeof(mac)) == 0 &&
		    net_parse_mac(mac, m) == 0 && !memcmp(m, nt.vif_mac[devid], 6))
			hit = true;
		if (hit && strlen(de->d_name) < NET_NAME) {
			memcpy(nt.vif_name[devid], de->d_name, strlen(de->d_name) + 1);
			memcpy(out, de->d_name, strlen(de->d_name) + 1);
			closedir(d);
			log_info("network: the netfront of NIC %u is %s", devid, out);
			return 0;
		}
	}
	closedir(d);
	return -1;
}

/* An item's link name resolved to an interface; -1 while it does not exist. */
static int resolve(const char *name, char *out)
{
	struct rtnl_link *l;

	if (!strncmp(name, "vif:", 4))
		return find_vif((unsigned)strtoul(name + 4, NULL, 10), out);
	l = get_link(name);
	if (!l)
		return -1;
	rtnl_link_put(l);
	snprintf(out, NET_NAME, "%s", name);
	return 0;
}

/* A persistent tap, so QEMU (even without the right to create one) attaches to it by name. */
static int create_tap(const char *name, const char *origin)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		log_errno(LV_ERROR, errno, "network: %s: cannot create tap %s", origin, name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	log_info("network: created tap %s", name);
	return 0;
}

int net_tap_open(const char *name)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), err;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		log_errno(LV_ERROR, err, "network: cannot open tap %s for QEMU", name);
		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd;
}

static void set_sysfs(const char *br, const char *attr, const char *value)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge/%s", br, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		log_errno(LV_WARN, errno, "network: bridge %s: %s=%s", br, attr, value);
	if (fd >= 0)
		close(fd);
}

static int create_bridge(const char *name, const char *origin)
{
	int err = rtnl_link_bridge_add(nt.sk, name);

	if (err < 0) {
		log_error("network: %s: cannot create bridge %s: %s", origin, name,
			  nl_geterror(err));
		return -1;
	}
	/* A two-port bridge between a tap and a netfront: no loops to find, no learning delay.
	 * libnl has no setter for these, so they go through the bridge's sysfs attributes. */
	set_sysfs(name, "stp_state", "0");
	set_sysfs(name, "forward_delay", "0");
	log_info("network: created bridge %s (STP off, forward delay 0)", name);
	return 0;
}

/* MAC, MTU and up for an existing link, changing only what differs. */
static int configure(const char *ifname, const struct net_item *it, unsigned mtu)
{
	struct rtnl_link *l = get_link(ifname), *ch;
	int changed = 0, err;

	if (!l)
		return -1;
	ch = rtnl_link_alloc();
	if (it->has_mac) {
		struct nl_addr *cur = rtnl_link_get_addr(l);

		if (!cur || nl_addr_get_len(cur) != 6 ||
		    memcmp(nl_addr_get_binary_addr(cur), it->mac, 6)) {
			struct nl_addr *a = nl_addr_build(AF_LLC, it->mac, 6);

			rtnl_link_set_addr(ch, a);
			nl_addr_put(a);
			changed = 1;
		}
	}
	if (mtu && rtnl_link_get_mtu(l) != mtu) {
		rtnl_link_set_mtu(ch, mtu);
		changed = 1;
	}
	if (!(rtnl_link_get_flags(l) & IFF_UP)) {
		rtnl_link_set_flags(ch, IFF_UP);
		changed = 1;
	}
	err = changed ? link_change(l, ch, "configure", it->origin) : 0;
	rtnl_link_put(ch);
	rtnl_link_put(l);
	return err;
}

static unsigned mtu_of(const char *name)
{
	char ifname[NET_NAME];
	struct rtnl_link *l;
	unsigned mtu = 0;

	if (!*name || resolve(name, ifname) < 0)
		return 0;
	l = get_link(ifname);
	if (l) {
		mtu = rtnl_link_get_mtu(l);
		rtnl_link_put(l);
	}
	return mtu;
}

/* 1 applied, 0 waiting for a link, -1 failed. */
static int apply_item(struct net_item *it)
{
	char ifname[NET_NAME], member[NET_NAME];
	struct rtnl_link *br, *port;
	unsigned mtu = it->mtu;
	int err;

	switch (it->kind) {
	case NI_BRIDGE:
	case NI_TAP:
		if (resolve(it->name, ifname) < 0 &&
		    (it->kind == NI_BRIDGE ? create_bridge(it->name, it->origin)
					   : create_tap(it->name, it->origin)) < 0)
			return -1;
		if (*it->mtu_from) {
			/* Carry the netfront's MTU; until it is there, the link is up anyway. */
			mtu = mtu_of(it->mtu_from);
			if (configure(it->name, it, mtu) < 0)
				return -1;
			return mtu ? 1 : 0;
		}
		return configure(it->name, it, mtu) < 0 ? -1 : 1;
	case NI_LINK:
		if (resolve(it->name, ifname) < 0)
			return 0;
		return configure(ifname, it, mtu) < 0 ? -1 : 1;
	case NI_ATTACH:
		if (resolve(it->name, ifname) < 0 || resolve(it->member, member) < 0)
			return 0;
		br = get_link(ifname);
		port = get_link(member);
		err = 0;
		if (!br || !port || !rtnl_link_is_bridge(br)) {
			log_error("network: %s: %s is not a bridge", it->origin, ifname);
			err = -1;
		} else if (rtnl_link_get_master(port) != rtnl_link_get_ifindex(br)) {
			int e = rtnl_link_enslave(nt.sk, br, port);

			if (e < 0) {
				log_error("network: %s: cannot add %s to %s: %s", it->origin,
					  member, ifname, nl_geterror(e));
				err = -1;
			} else {
				log_info("network: %s joined bridge %s", member, ifname);
			}
		}
		if (br)
			rtnl_link_put(br);
		if (port)
			rtnl_link_put(port);
		if (!err) {
			struct net_item up = {.kind = NI_LINK};

			snprintf(up.origin, sizeof(up.origin), "%s", it->origin);
			err = configure(member, &up, 0) < 0 || configure(ifname, &up, 0) < 0 ? -1
											     : 0;
		}
		return err < 0 ? -1 : 1;
	}
	return -1;
}

static unsigned apply_all(void)
{
	unsigned failed = 0;

	if (!nt.topo)
		return 0;
	/* Creation first, then configuration, then ports: each kind may need the ones before. */
	for (int kind = NI_BRIDGE; kind <= NI_ATTACH; kind++) {
		for (size_t i = 0; i < nt.topo->n; i++) {
			struct net_item *it = &nt.topo->v[i];
			int r;

			if ((int)it->kind != kind || it->done || it->gone)
				continue;
			r = apply_item(it);
			if (r < 0) {
				failed++;
				it->gone = true; /* reported once; not retried on every event */
			} else if (r > 0) {
				it->done = true;
			}
		}
	}
	return failed;
}

unsigned net_apply(struct net_topology *t)
{
	unsigned failed;

	if (!nt.sk && net_open() < 0)
		return (unsigned)t->n;
	nt.topo = t;
	failed = apply_all();
	if (net_pending())
		log_info("network: %u item(s) wait for their links to appear", net_pending());
	return failed;
}

unsigned net_pending(void)
{
	unsigned n = 0;

	for (size_t i = 0; nt.topo && i < nt.topo->n; i++)
		n += !nt.topo->v[i].done && !nt.topo->v[i].gone;
	return n;
}

void net_events_ready(void)
{
	unsigned before = net_pending();
	int err;

	if (!nt.mngr)
		return;
	err = nl_cache_mngr_data_ready(nt.mngr);
	if (err < 0)
		log_warn("netlink: link events: %s", nl_geterror(err));
	if (before) {
		apply_all();
		if (before && !net_pending())
			log_info("network: every item applied");
	}
}

static void delete_link(const char *name)
{
	struct rtnl_link *l = get_link(name);
	int err;

	if (!l)
		return;
	err = rtnl_link_delete(nt.sk, l);
	if (err < 0)
		log_error("network: cannot remove %s: %s", name, nl_geterror(err));
	else
		log_info("network: removed %s", name);
	rtnl_link_put(l);
}

bool net_nic_gone(unsigned devid)
{
	char origin[32];
	bool had = false;

	snprintf(origin, sizeof(origin), "NIC %u", devid);
	for (size_t i = 0; nt.topo && i < nt.topo->n; i++) {
		struct net_item *it = &nt.topo->v[i];

		if (strcmp(it->origin, origin) || it->kind == NI_ATTACH || it->kind == NI_LINK)
			continue;
		/* The tap and the bridge go; the netfront (the PV path) is left alone. */
		delete_link(it->name);
	}
	for (size_t i = 0; nt.topo && i < nt.topo->n; i++)
		if (!strcmp(nt.topo->v[i].origin, origin))
			had = nt.topo->v[i].gone = true;
	return had;
}
