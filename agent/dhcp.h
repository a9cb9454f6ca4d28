/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dhcp: the guest's one address, as Qubes' toolstack asks for it with -qubes-net:client_ip=...,
 * gw=...,netmask=...,dns_0=...,dns_1=... (Qubes' own stubdomain runs busybox udhcpd for it). Owns
 * parsing that argument, answering the guest's DHCP requests (RFC 2131: one lease, exactly
 * client_ip, to the guest's MAC only; the gateway's address is the server identifier) and the
 * packet socket on the NIC's bridge that carries them.
 *
 * The guest is the hostile side here: a request is read in place from one datagram, at fixed
 * offsets and through a bounded walk over its options; nothing is allocated, nothing is kept
 * between packets, and each wake-up reads a bounded number of them.
 */
#ifndef STUBINIT_DHCP_H
#define STUBINIT_DHCP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* udhcpd's default lease, which Qubes' stubdomain leaves as it is: ten days. */
#define DHCP_LEASE_SECONDS 864000u

struct dhcp_lease {
	struct in_addr client;	/* client_ip: the one address offered */
	struct in_addr router;	/* gw: the router option and the server identifier */
	struct in_addr netmask; /* netmask */
	struct in_addr dns[2];	/* dns_0, dns_1 */
	unsigned ndns;
	unsigned char mac[6]; /* the guest's NIC: nobody else gets an answer */
};

/*
 * Parses the value of -qubes-net: ("client_ip=10.137.0.5,gw=10.137.0.1,netmask=255.255.255.255,
 * dns_0=10.139.1.1,dns_1=10.139.1.2"). client_ip, gw and netmask are required, the DNS servers
 * optional. Returns 0, or -1 with @why naming the item and its value. @l->mac is left as it was.
 */
int dhcp_parse_qubes(const char *s, struct dhcp_lease *l, char *why, size_t len);

enum dhcp_answer_kind {
	DHCP_NONE, /* nothing to send; @why says why (debug) */
	DHCP_OFFER,
	DHCP_ACK,
	DHCP_NAK,
};

struct dhcp_answer {
	enum dhcp_answer_kind kind;
	unsigned char dst_mac[6]; /* where the frame goes (ff:ff:ff:ff:ff:ff for a broadcast) */
	size_t len;		  /* of the IPv4 packet written to @out */
	const char *what;	  /* the request: "DISCOVER", "REQUEST", ... or "" */
	char why[96];		  /* DHCP_NONE: why; otherwise what was answered */
};

/*
 * One request: @in is an IPv4 packet (from its IP header on, as a SOCK_DGRAM packet socket
 * gives it) of @n bytes, received from @src_mac. Writes the reply, an IPv4 packet with its UDP
 * header, into @out (@cap bytes; 576 are always enough) and says where it goes. Pure.
 */
void dhcp_answer(const struct dhcp_lease *l, const unsigned char src_mac[6], const void *in,
		 size_t n, void *out, size_t cap, struct dhcp_answer *a);

/*
 * Serves @l on the bridge @ifname from now on (a packet socket bound to it, with a filter that
 * lets only IPv4 UDP to port 67 through, in the event loop). Returns 0, or a negative errno after
 * logging what failed.
 */
int dhcp_serve(const char *ifname, const struct dhcp_lease *l);

#endif
