/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netlink: the stubdomain's network, through libnl-route (no ip/brctl, no hand-packed netlink).
 * Owns the route netlink socket, the link-event cache manager, the topology model (bridges, taps,
 * links and which bridge each port belongs to), its text spec, and applying it idempotently.
 *
 * Each emulated guest NIC has two halves: the tap QEMU uses (vif<g>.<devid>-emu) and the
 * stubdomain's PV NIC (netfront) for the same devid, which dom0 bridges to the real network. The
 * default topology joins them with one bridge per NIC; a spec can declare more. Items naming a
 * link that does not exist yet wait for it: link events (RTM_NEWLINK) apply them, nobody polls.
 *
 * Spec, one item per line ('#' starts a comment):
 *   bridge <name> [mtu=<n>] [mtu-from=<link>]      a bridge: STP off, forward delay 0
 *   tap <name> [mac=<mac>] [mtu=<n>] [mtu-from=<link>]   a persistent tap
 *   link <link> [mac=<mac>] [mtu=<n>]              an existing link to configure
 *   attach <bridge> <link>                         make <link> a port of <bridge>
 * <link> is an interface name, or vif:<devid> for the netfront of that devid. Everything named is
 * brought up.
 */
#ifndef STUBINIT_NET_H
#define STUBINIT_NET_H

#include <stdbool.h>
#include <stddef.h>

#define NET_NAME 16 /* IFNAMSIZ */

/* Opens the route netlink socket and the link-event cache. Returns 0 or a negative errno. */
int net_open(void);
void net_close(void);

/* Sets IFF_UP on @ifname. Returns 0 or a negative errno; problems are logged with libnl's text. */
int net_link_up(const char *ifname);

enum net_kind {
	NI_BRIDGE,
	NI_TAP,
	NI_LINK,
	NI_ATTACH
};

struct net_item {
	enum net_kind kind;
	char name[NET_NAME];   /* bridge, tap, link: the device; attach: the bridge */
	char member[NET_NAME]; /* attach: the port */
	unsigned char mac[6];
	bool has_mac;
	unsigned mtu; /* 0: leave it */
	char mtu_from[NET_NAME];
	char origin[64]; /* "/etc/stubinit/network line 3", "NIC 0" */
	bool done;	 /* fully applied */
	bool gone;	 /* removed (its NIC was unplugged) */
};

struct net_topology {
	struct net_item *v;
	size_t n;
};

/*
 * Adds the items of @text to @t. Each bad line is logged naming @origin, the line and the item,
 * and skipped; the others are kept. Returns the number of bad lines.
 */
unsigned net_spec_parse(struct net_topology *t, const char *text, const char *origin);
int net_topology_add(struct net_topology *t, const struct net_item *it);
void net_topology_free(struct net_topology *t);

/* The default topology for the emulated NIC @devid whose tap QEMU opens as @tap. */
int net_default_nic(struct net_topology *t, unsigned devid, const char *tap);
/* The name of the bridge the default topology gives NIC @devid. */
void net_default_bridge(unsigned devid, char name[NET_NAME]);

/* The MAC the toolstack gave the netfront of @devid (when sysfs has no nodename to match). */
void net_vif_mac(unsigned devid, const unsigned char mac[6]);

/*
 * Applies @t (which must stay alive while link events arrive): creates what is missing, changes
 * what differs, brings everything up. Returns the number of items that failed (each logged with
 * its origin); items waiting for a link are not failures.
 */
unsigned net_apply(struct net_topology *t);

/* Items still waiting for a link to appear. */
unsigned net_pending(void);

/* Link events: poll this fd; when readable call net_events_ready() (it re-applies). */
int net_events_fd(void);
void net_events_ready(void);

/* The guest unplugged emulated NIC @devid: its bridge and tap go; the netfront stays. Returns
 * whether the topology had that NIC. */
bool net_nic_gone(unsigned devid);

/*
 * An fd on the existing tap @name, for QEMU (-netdev tap,fd=N), so QEMU never opens /dev/net/tun
 * itself. Returns the fd (close-on-exec) or a negative errno, logged.
 */
int net_tap_open(const char *name);

/* Parses "aa:bb:cc:dd:ee:ff". */
int net_parse_mac(const char *s, unsigned char mac[6]);

#endif
