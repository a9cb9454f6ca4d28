// SPDX-License-Identifier: GPL-2.0-only
/*
 * dhcp: one lease for the guest, on its NIC's bridge. See dhcp.h.
 */
#include "dhcp.h"
#include "core/log.h"
#include "core/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* BOOTP's fixed part (RFC 2131 figure 1), the magic cookie, and the options we read or write. */
#define BOOTP_FIXED 236
#define BOOTP_MIN   300 /* a reply is padded to this (RFC 1542 3.2.1: some clients need it) */
#define OFF_OP	    0
#define OFF_HTYPE   1
#define OFF_HLEN    2
#define OFF_XID	    4
#define OFF_FLAGS   10
#define OFF_CIADDR  12
#define OFF_YIADDR  16
#define OFF_GIADDR  24
#define OFF_CHADDR  28
#define OFF_COOKIE  BOOTP_FIXED
#define FLAG_BCAST  0x8000
#define PORT_SERVER 67
#define PORT_CLIENT 68
#define OPT_PAD	    0
#define OPT_MASK    1
#define OPT_ROUTER  3
#define OPT_DNS	    6
#define OPT_REQ_IP  50
#define OPT_LEASE   51
#define OPT_TYPE    53
#define OPT_SERVER  54
#define OPT_END	    255
#define IP_HDR	    20
#define UDP_HDR	    8
#define REPLY_MAX   (IP_HDR + UDP_HDR + BOOTP_MIN + 64)
#define RX_BUF	    2048
#define RX_BUDGET   16 /* requests read per wake-up */

static const unsigned char cookie[4] = {99, 130, 83, 99};
static const unsigned char bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

enum {
	DISCOVER = 1,
	OFFER,
	REQUEST,
	DECLINE,
	ACK,
	NAK,
	RELEASE,
	INFORM
};
static const char *const type_names[] = {"",	"DISCOVER", "OFFER",   "REQUEST", "DECLINE",
					 "ACK", "NAK",	    "RELEASE", "INFORM"};

static int parse_addr(const char *item, const char *v, size_t vlen, struct in_addr *a, char *why,
		      size_t len)
{
	char buf[INET_ADDRSTRLEN];

	if (vlen < sizeof(buf)) {
		memcpy(buf, v, vlen);
		buf[vlen] = 0;
		if (inet_pton(AF_INET, buf, a) == 1)
			return 0;
	}
	snprintf(why, len, "-qubes-net: %s=%.*s is not an IPv4 address", item,
		 (int)(vlen > 40 ? 40 : vlen), v);
	return -1;
}

int dhcp_parse_qubes(const char *s, struct dhcp_lease *l, char *why, size_t len)
{
	static const char *const names[] = {"client_ip", "gw", "netmask", "dns_0", "dns_1"};
	struct in_addr *slot[] = {&l->client, &l->router, &l->netmask, &l->dns[0], &l->dns[1]};
	bool seen[5] = {false};

	l->ndns = 0;
	while (*s) {
		size_t item = strcspn(s, ","), name = strcspn(s, "=,");
		unsigned k;

		for (k = 0; k < 5; k++)
			if (strlen(names[k]) == name && !strncmp(s, names[k], name))
				break;
		if (k == 5 || s[name] != '=') {
			snprintf(why, len, "-qubes-net: unknown item '%.*s'",
				 (int)(item > 40 ? 40 : item), s);
			return -1;
		}
		if (parse_addr(names[k], s + name + 1, item - name - 1, slot[k], why, len) < 0)
			return -1;
		seen[k] = true;
		s += item + (s[item] == ',');
	}
	for (unsigned k = 0; k < 3; k++)
		if (!seen[k]) {
			snprintf(why, len, "-qubes-net: no %s=", names[k]);
			return -1;
		}
	if (seen[3])
		l->dns[l->ndns++] = l->dns[0];
	if (seen[4])
		l->dns[l->ndns++] = l->dns[1];
	return 0;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static uint16_t ip_checksum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* What a request says in its options: each read with the length it must have. */
struct request {
	int type;
	bool has_req_ip, has_server;
	struct in_addr req_ip, server;
};

/* Returns 0, or -1 with @why set: a bounded walk, every length checked against the end. */
static int read_options(const unsigned char *p, size_t n, struct request *r, char *why, size_t len)
{
	size_t i = 0;

	while (i < n) {
		unsigned code = p[i], olen;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (i + 2 > n || i + 2 + p[i + 1] > n) {
			snprintf(why, len, "option %u runs past the packet", code);
			return -1;
		}
		olen = p[i + 1];
		if ((code == OPT_TYPE && olen != 1) ||
		    ((code == OPT_REQ_IP || code == OPT_SERVER) && olen != 4)) {
			snprintf(why, len, "option %u has length %u", code, olen);
			return -1;
		}
		/* the first of a repeated option counts */
		if (code == OPT_TYPE && !r->type)
			r->type = p[i + 2] ? p[i + 2] : -1;
		else if (code == OPT_REQ_IP && !r->has_req_ip)
			r->has_req_ip = true, memcpy(&r->req_ip, p + i + 2, 4);
		else if (code == OPT_SERVER && !r->has_server)
			r->has_server = true, memcpy(&r->server, p + i + 2, 4);
		i += 2 + olen;
	}
	return 0; /* no end option: what was read stands */
}

static void none(struct dhcp_answer *a, const char *why)
{
	a->kind = DHCP_NONE;
	snprintf(a->why, sizeof(a->why), "%s", why);
}

static unsigned char *put_opt(unsigned char *o, unsigned code, const void *v, unsigned n)
{
	o[0] = (unsigned char)code;
	o[1] = (unsigned char)n;
	memcpy(o + 2, v, n);
	return o + 2 + n;
}

/* The reply to the request at @req (its BOOTP part) as an IPv4 packet into @out. */
static void build(const struct dhcp_lease *l, const unsigned char *req, int type, bool bcast,
		  struct in_addr yiaddr, struct in_addr dst, unsigned char *out,
		  struct dhcp_answer *a)
{
	unsigned char *ip = out, *udp = out + IP_HDR, *b = udp + UDP_HDR, *o;
	uint32_t lease = htonl(DHCP_LEASE_SECONDS);
	unsigned char t = (unsigned char)type;
	size_t blen;

	memset(out, 0, REPLY_MAX);
	b[OFF_OP] = 2; /* BOOTREPLY */
	b[OFF_HTYPE] = 1;
	b[OFF_HLEN] = 6;
	memcpy(b + OFF_XID, req + OFF_XID, 4);
	memcpy(b + OFF_FLAGS, req + OFF_FLAGS, 2);
	if (type != NAK)
		memcpy(b + OFF_CIADDR, req + OFF_CIADDR, 4);
	memcpy(b + OFF_YIADDR, &yiaddr, 4);
	memcpy(b + OFF_CHADDR, req + OFF_CHADDR, 16);
	memcpy(b + OFF_COOKIE, cookie, 4);
	o = b + OFF_COOKIE + 4;
	o = put_opt(o, OPT_TYPE, &t, 1);
	o = put_opt(o, OPT_SERVER, &l->router, 4);
	if (type != NAK) {
		if (yiaddr.s_addr)
			o = put_opt(o, OPT_LEASE, &lease, 4);
		o = put_opt(o, OPT_MASK, &l->netmask, 4);
		o = put_opt(o, OPT_ROUTER, &l->router, 4);
		if (l->ndns)
			o = put_opt(o, OPT_DNS, l->dns, 4 * l->ndns);
	}
	*o++ = OPT_END;
	blen = (size_t)(o - b) < BOOTP_MIN ? BOOTP_MIN : (size_t)(o - b);

	put16(udp, PORT_SERVER);
	put16(udp + 2, PORT_CLIENT);
	put16(udp + 4, (unsigned)(UDP_HDR + blen));
	/* UDP checksum 0: none, as IPv4 allows */
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(IP_HDR + UDP_HDR + blen));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &l->router, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, ip_checksum(ip, IP_HDR));

	a->kind = type == OFFER ? DHCP_OFFER : type == ACK ? DHCP_ACK : DHCP_NAK;
	memcpy(a->dst_mac, bcast ? bcast_mac : req + OFF_CHADDR, 6);
	a->len = IP_HDR + UDP_HDR + blen;
	snprintf(a->why, sizeof(a->why), "%s %s", type_names[type],
		 type == NAK ? "" : inet_ntoa(yiaddr));
}

void dhcp_answer(const struct dhcp_lease *l, const unsigned char src_mac[6], const void *in,
		 size_t n, void *out, size_t cap, struct dhcp_answer *a)
{
	const unsigned char *ip = in, *udp, *b;
	struct request r = {0};
	struct in_addr zero = {0}, bcast = {INADDR_BROADCAST}, ciaddr, giaddr, dst;
	size_t ihl, total, ulen;
	bool to_bcast;

	memset(a, 0, sizeof(*a));
	a->what = "";
	if (cap < REPLY_MAX)
		return none(a, "no room for a reply");
	if (n < IP_HDR || (ip[0] >> 4) != 4 || (ihl = (size_t)(ip[0] & 15) * 4) < IP_HDR ||
	    (total = get16(ip + 2)) > n || total < ihl + UDP_HDR || ip[9] != IPPROTO_UDP ||
	    (get16(ip + 6) & 0x3fff))
		return none(a, "not an unfragmented IPv4 UDP packet");
	udp = ip + ihl;
	if (get16(udp + 2) != PORT_SERVER)
		return none(a, "not to port 67");
	ulen = get16(udp + 4);
	if (ulen < UDP_HDR || ulen > total - ihl)
		return none(a, "a UDP length past the packet");
	b = udp + UDP_HDR;
	ulen -= UDP_HDR;
	if (ulen < BOOTP_FIXED + 4 || memcmp(b + OFF_COOKIE, cookie, 4))
		return none(a, "not a DHCP message (short, or no magic cookie)");
	if (b[OFF_OP] != 1 || b[OFF_HTYPE] != 1 || b[OFF_HLEN] != 6)
		return none(a, "not an Ethernet BOOTREQUEST");
	if (memcmp(b + OFF_CHADDR, l->mac, 6) || memcmp(src_mac, l->mac, 6))
		return none(a, "from a MAC that is not the guest's");
	memcpy(&giaddr, b + OFF_GIADDR, 4);
	if (giaddr.s_addr)
		return none(a, "through a relay (giaddr set)");
	if (read_options(b + OFF_COOKIE + 4, ulen - BOOTP_FIXED - 4, &r, a->why, sizeof(a->why)) <
	    0)
		return;
	if (r.type < DISCOVER || r.type > INFORM)
		return none(a, "no DHCP message type, or one no client sends");
	a->what = type_names[r.type];
	memcpy(&ciaddr, b + OFF_CIADDR, 4);
	to_bcast = (get16(b + OFF_FLAGS) & FLAG_BCAST) != 0;
	switch (r.type) {
	case DISCOVER:
		dst = to_bcast ? bcast : l->client;
		return build(l, b, OFFER, to_bcast, l->client, dst, out, a);
	case REQUEST:
		if (r.has_server) { /* SELECTING */
			if (r.server.s_addr != l->router.s_addr)
				return none(a, "REQUEST for another server");
			if (!r.has_req_ip || r.req_ip.s_addr != l->client.s_addr)
				return build(l, b, NAK, true, zero, bcast, out, a);
		} else if (r.has_req_ip) { /* INIT-REBOOT */
			if (r.req_ip.s_addr != l->client.s_addr)
				return build(l, b, NAK, true, zero, bcast, out, a);
		} else if (ciaddr.s_addr) { /* RENEWING, REBINDING */
			if (ciaddr.s_addr != l->client.s_addr)
				return build(l, b, NAK, true, zero, bcast, out, a);
			return build(l, b, ACK, false, l->client, ciaddr, out, a);
		} else {
			return none(a, "REQUEST with neither a server, an address nor ciaddr");
		}
		dst = to_bcast ? bcast : l->client;
		return build(l, b, ACK, to_bcast, l->client, dst, out, a);
	case INFORM:
		if (!ciaddr.s_addr)
			return none(a, "INFORM without ciaddr");
		return build(l, b, ACK, false, zero, ciaddr, out, a);
	case DECLINE:
		return none(a, "DECLINE: the guest says its address is in use");
	case RELEASE:
		return none(a, "RELEASE");
	default:
		return none(a, "a server's message type");
	}
}

/* The server: one packet socket on the bridge, read in the loop. */
static struct {
	struct dhcp_lease lease;
	char ifname[IF_NAMESIZE];
	int fd, ifindex;
	unsigned logged; /* answer kinds logged at info once */
	struct log_ratelimit ignored, failed;
} srv = {.fd = -1};

/*
 * IPv4, unfragmented, UDP, destination port 67, for a SOCK_DGRAM packet socket (the packet starts
 * at the IP header): everything else on the bridge never wakes stubinit.
 */
static struct sock_filter only_dhcp[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 8),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),
	BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PORT_SERVER, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, RX_BUF),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static void serve_one(const unsigned char *pkt, size_t n, const struct sockaddr_ll *from)
{
	unsigned char out[REPLY_MAX];
	struct dhcp_answer a;
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = srv.ifindex,
		.sll_halen = 6,
	};
	unsigned char src[6] = {0};

	if (from->sll_halen == 6)
		memcpy(src, from->sll_addr, 6);
	dhcp_answer(&srv.lease, src, pkt, n, out, sizeof(out), &a);
	if (a.kind == DHCP_NONE) {
		if (log_ratelimit(&srv.ignored))
			log_debug("dhcp: %s: %s%s%s", srv.ifname, a.what, *a.what ? ": " : "",
				  a.why);
		return;
	}
	memcpy(to.sll_addr, a.dst_mac, 6);
	if (sendto(srv.fd, out, a.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		if (log_ratelimit(&srv.failed))
			log_errno(LV_WARN, errno, "dhcp: %s: cannot send the %s", srv.ifname,
				  a.why);
		return;
	}
	/* the first answer of each kind at info, the guest's later ones (renewals) at debug */
	log_msg(srv.logged & 1u << a.kind ? LV_DEBUG : LV_INFO, "dhcp: %s: %s -> %s", srv.ifname,
		a.what, a.why);
	srv.logged |= 1u << a.kind;
}

static void on_packets(int fd, uint32_t events, void *arg)
{
	unsigned char pkt[RX_BUF];

	(void)events, (void)arg;
	for (int i = 0; i < RX_BUDGET; i++) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n =
			recvfrom(fd, pkt, sizeof(pkt), MSG_TRUNC, (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* the bridge was taken down, and is still there: it serves again once up */
			if (errno == ENETDOWN &&
			    if_nametoindex(srv.ifname) == (unsigned)srv.ifindex)
				return;
			/* the bridge went (its NIC was unplugged): nothing left to serve */
			log_errno(errno == ENETDOWN ? LV_INFO : LV_WARN, errno,
				  "dhcp: %s: stopped serving", srv.ifname);
			loop_remove(fd);
			close(fd);
			srv.fd = -1;
			return;
		}
		if ((size_t)n > sizeof(pkt) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		serve_one(pkt, (size_t)n, &from);
	}
}

int dhcp_serve(const char *ifname, const struct dhcp_lease *l)
{
	struct sock_fprog prog = {.len = sizeof(only_dhcp) / sizeof(only_dhcp[0]),
				  .filter = only_dhcp};
	struct sockaddr_ll sa = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
	char client[INET_ADDRSTRLEN], router[INET_ADDRSTRLEN];
	int fd, err = 0;

	if (srv.fd >= 0) {
		log_error("dhcp: already serving %s; %s gets no DHCP server", srv.ifname, ifname);
		return -EBUSY;
	}
	srv.lease = *l;
	snprintf(srv.ifname, sizeof(srv.ifname), "%s", ifname);
	srv.ignored = (struct log_ratelimit)LOG_RATELIMIT("dhcp: ignored requests", 5, 1000);
	srv.failed = (struct log_ratelimit)LOG_RATELIMIT("dhcp: failed replies", 5, 1000);
	srv.ifindex = (int)if_nametoindex(ifname);
	if (!srv.ifindex) {
		err = -errno;
		log_errno(LV_ERROR, -err, "dhcp: no interface %s to serve the guest's address on",
			  ifname);
		return err;
	}
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0) {
		err = -errno;
		log_errno(LV_ERROR, -err, "dhcp: %s: cannot open a packet socket", ifname);
		return err;
	}
	sa.sll_ifindex = srv.ifindex;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (err = loop_add(fd, EPOLLIN, on_packets, NULL)) < 0) {
		err = err < 0 ? err : -errno;
		log_errno(LV_ERROR, -err, "dhcp: %s: cannot listen for the guest's requests",
			  ifname);
		close(fd);
		return err;
	}
	srv.fd = fd;
	inet_ntop(AF_INET, &l->client, client, sizeof(client));
	inet_ntop(AF_INET, &l->router, router, sizeof(router));
	log_info("dhcp: serving %s on %s to %02x:%02x:%02x:%02x:%02x:%02x only (router and server "
		 "%s, %u DNS server(s))",
		 client, ifname, l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5],
		 router, l->ndns);
	return 0;
}
