/*
 * netlink: the stubdomain's network links, through libnl-route (no ip/brctl, no hand-packed
 * netlink). Owns the route netlink socket and everything done with it.
 *
 * Now: bringing a link up (the loopback at boot). The taps, bridges and PV NIC joins of later
 * work build on the same socket.
 */
#ifndef STUBINIT_NET_H
#define STUBINIT_NET_H

/* Opens the route netlink socket. Returns 0 or a negative errno; problems are logged. */
int net_open(void);

/* Sets IFF_UP on @ifname. Returns 0 or a negative errno; problems are logged with libnl's text. */
int net_link_up(const char *ifname);

void net_close(void);

#endif
