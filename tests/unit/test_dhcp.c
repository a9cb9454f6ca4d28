// SPDX-License-Identifier: GPL-2.0-only
/*
 * dhcp: Qubes' -qubes-net value, and the answers to requests built byte by byte as a client
 * sends them (RFC 2131), including the ones that must get none.
 */
#include "unit.h"
#include "agent/dhcp.h"

#include <arpa/inet.h>
#include <string.h>

static const unsigned char guest[6] = {0x00, 0x16, 0x3e, 0x5e, 0x6c, 0x01};
static const char qubes_net[] = "client_ip=10.137.0.5,dns_0=10.139.1.1,dns_1=10.139.1.2,"
				"gw=10.137.0.1,netmask=255.255.255.255";

static struct dhcp_lease lease(void)
{
	struct dhcp_lease l = {0};
	char why[160];

	dhcp_parse_qubes(qubes_net, &l, why, sizeof(why));
	memcpy(l.mac, guest, 6);
	return l;
}

static unsigned addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* A request as a client builds it: IP, UDP, BOOTP, cookie, then @opts (@olen bytes). */
struct req {
	unsigned char b[600];
	size_t n;
};

static struct req request(const void *opts, size_t olen, unsigned flags, const char *ciaddr)
{
	struct req r = {{0}, 20 + 8 + 240 + olen};
	unsigned char *ip = r.b, *udp = r.b + 20, *bp = udp + 8;

	ip[0] = 0x45;
	ip[2] = (unsigned char)(r.n >> 8), ip[3] = (unsigned char)r.n;
	ip[8] = 64, ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	udp[1] = 68, udp[3] = 67;
	udp[4] = (unsigned char)((r.n - 20) >> 8), udp[5] = (unsigned char)(r.n - 20);
	bp[0] = 1, bp[1] = 1, bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);
	bp[10] = (unsigned char)(flags >> 8);
	if (ciaddr) {
		unsigned a = addr(ciaddr);
		memcpy(bp + 12, &a, 4);
	}
	memcpy(bp + 28, guest, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4);
	memcpy(bp + 240, opts, olen);
	return r;
}

/* The option @code of a reply's BOOTP part, or NULL. */
static const unsigned char *reply_opt(const unsigned char *pkt, size_t n, unsigned code)
{
	const unsigned char *o = pkt + 28 + 240, *end = pkt + n;

	while (o < end && *o != 255) {
		if (*o == code)
			return o;
		o += *o ? 2 + o[1] : 1;
	}
	return NULL;
}

TEST(dhcp_parse_qubes_net)
{
	struct dhcp_lease l = {0};
	char why[160];

	CHECK_INT(dhcp_parse_qubes(qubes_net, &l, why, sizeof(why)), 0);
	CHECK_INT(l.client.s_addr, addr("10.137.0.5"));
	CHECK_INT(l.router.s_addr, addr("10.137.0.1"));
	CHECK_INT(l.netmask.s_addr, addr("255.255.255.255"));
	CHECK_INT(l.ndns, 2);
	CHECK_INT(l.dns[1].s_addr, addr("10.139.1.2"));
	CHECK_INT(dhcp_parse_qubes("client_ip=1.2.3.4,gw=1.2.3.1,netmask=255.0.0.0", &l, why,
				   sizeof(why)),
		  0);
	CHECK_INT(l.ndns, 0);
	CHECK_INT(dhcp_parse_qubes("client_ip=1.2.3.4,gw=1.2.3.1", &l, why, sizeof(why)), -1);
	CHECK_STR(why, "-qubes-net: no netmask=");
	CHECK_INT(dhcp_parse_qubes("client_ip=1.2.3.400,gw=1,netmask=1", &l, why, sizeof(why)), -1);
	CHECK_STR(why, "-qubes-net: client_ip=1.2.3.400 is not an IPv4 address");
	CHECK_INT(dhcp_parse_qubes("client_ip=1.2.3.4,ntp=1.1.1.1", &l, why, sizeof(why)), -1);
	CHECK_STR(why, "-qubes-net: unknown item 'ntp=1.1.1.1'");
	CHECK_INT(dhcp_parse_qubes("gw", &l, why, sizeof(why)), -1);
	CHECK_STR(why, "-qubes-net: unknown item 'gw'");
}

TEST(dhcp_discover_request_ack)
{
	struct dhcp_lease l = lease();
	unsigned char out[600];
	struct dhcp_answer a;
	static const unsigned char discover[] = {53, 1, 1, 55, 3, 1, 3, 6, 255};
	static const unsigned char select[] = {53, 1,  3, 50, 4,   10, 137, 0,
					       5,  54, 4, 10, 137, 0,  1,   255};
	struct req r = request(discover, sizeof(discover), 0x8000, NULL);
	const unsigned char *o;
	unsigned v;

	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_OFFER);
	CHECK_STR(a.what, "DISCOVER");
	CHECK_STR(a.why, "OFFER 10.137.0.5");
	CHECK(!memcmp(a.dst_mac, "\xff\xff\xff\xff\xff\xff", 6)); /* the broadcast flag */
	CHECK_INT(a.len, 20 + 8 + 300);
	CHECK_INT(out[0], 0x45);
	memcpy(&v, out + 16, 4);
	CHECK_INT(v, 0xffffffffu);
	memcpy(&v, out + 12, 4);
	CHECK_INT(v, addr("10.137.0.1"));
	CHECK_INT(out[20 + 1], 67);
	CHECK_INT(out[20 + 3], 68);
	CHECK_INT(out[28], 2);
	CHECK(!memcmp(out + 28 + 4, "\x12\x34\x56\x78", 4));
	memcpy(&v, out + 28 + 16, 4);
	CHECK_INT(v, addr("10.137.0.5"));
	CHECK((o = reply_opt(out, a.len, 53)) && o[2] == 2);
	CHECK((o = reply_opt(out, a.len, 1)) && !memcmp(o + 2, "\xff\xff\xff\xff", 4));
	CHECK((o = reply_opt(out, a.len, 3)) && !memcmp(o + 2, "\x0a\x89\x00\x01", 4));
	CHECK((o = reply_opt(out, a.len, 6)) && o[1] == 8);
	CHECK((o = reply_opt(out, a.len, 51)) && !memcmp(o + 2, "\x00\x0d\x2f\x00", 4));
	/* the IP header's checksum adds up */
	{
		unsigned sum = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (unsigned)(out[i] << 8 | out[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		CHECK_INT(sum, 0xffff);
	}

	r = request(select, sizeof(select), 0, NULL);
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_ACK);
	CHECK(!memcmp(a.dst_mac, guest, 6)); /* no broadcast flag: to the guest's MAC */
	memcpy(&v, out + 16, 4);
	CHECK_INT(v, addr("10.137.0.5"));
}

TEST(dhcp_requests_for_other_addresses)
{
	struct dhcp_lease l = lease();
	unsigned char out[600];
	struct dhcp_answer a;
	static const unsigned char wrong_ip[] = {53, 1, 3, 50, 4, 10, 137, 0, 9, 255};
	static const unsigned char other_server[] = {53, 1,  3, 50, 4, 10, 137, 0,
						     5,	 54, 4, 10, 0, 0,  1,	255};
	static const unsigned char renew[] = {53, 1, 3, 255};
	struct req r = request(wrong_ip, sizeof(wrong_ip), 0, NULL);

	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_NAK); /* INIT-REBOOT for an address that is not the guest's */
	CHECK(!memcmp(a.dst_mac, "\xff\xff\xff\xff\xff\xff", 6));
	CHECK(!reply_opt(out, a.len, 51));
	r = request(other_server, sizeof(other_server), 0, NULL);
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_NONE);
	CHECK_STR(a.why, "REQUEST for another server");
	r = request(renew, sizeof(renew), 0, "10.137.0.5");
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_ACK); /* RENEWING: unicast to ciaddr */
	r = request(renew, sizeof(renew), 0, "10.137.0.6");
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_NAK);
}

/* Why a request with options @opts from the guest got no answer, or "answered". */
static const char *ignored(const struct dhcp_lease *l, const void *opts, size_t olen)
{
	static struct dhcp_answer a;
	unsigned char out[600];
	struct req r = request(opts, olen, 0, NULL);

	dhcp_answer(l, guest, r.b, r.n, out, sizeof(out), &a);
	return a.kind == DHCP_NONE ? a.why : "answered";
}

TEST(dhcp_hostile_requests_get_nothing)
{
	struct dhcp_lease l = lease();
	unsigned char out[600], stranger[6] = {0x02, 0, 0, 0, 0, 1};
	struct dhcp_answer a;
	static const unsigned char discover[] = {53, 1, 1, 255};
	static const unsigned char overrun[] = {53, 1, 1, 12, 200, 'x'};
	static const unsigned char bad_len[] = {53, 2, 1, 1, 255};
	static const unsigned char no_type[] = {12, 1, 'x', 255};
	static const unsigned char server_type[] = {53, 1, 2, 255};
	struct req r = request(discover, sizeof(discover), 0, NULL);

	dhcp_answer(&l, stranger, r.b, r.n, out, sizeof(out), &a);
	CHECK_INT(a.kind, DHCP_NONE);
	CHECK_STR(a.why, "from a MAC that is not the guest's");
	for (size_t cut = 0; cut < r.n; cut++) { /* every truncation */
		dhcp_answer(&l, guest, r.b, cut, out, sizeof(out), &a);
		CHECK_INT(a.kind, DHCP_NONE);
	}
	r.b[20 + 8 + 24] = 10; /* giaddr */
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_STR(a.why, "through a relay (giaddr set)");
	CHECK_STR(ignored(&l, overrun, sizeof(overrun)), "option 12 runs past the packet");
	CHECK_STR(ignored(&l, bad_len, sizeof(bad_len)), "option 53 has length 2");
	CHECK_STR(ignored(&l, no_type, sizeof(no_type)),
		  "no DHCP message type, or one no client sends");
	CHECK_STR(ignored(&l, server_type, sizeof(server_type)), "a server's message type");
	r = request(discover, sizeof(discover), 0, NULL);
	r.b[6] = 0x20; /* more fragments */
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_STR(a.why, "not an unfragmented IPv4 UDP packet");
	r = request(discover, sizeof(discover), 0, NULL);
	r.b[20 + 4] = 0xff; /* UDP length past the packet */
	dhcp_answer(&l, guest, r.b, r.n, out, sizeof(out), &a);
	CHECK_STR(a.why, "a UDP length past the packet");
	dhcp_answer(&l, guest, r.b, r.n, out, 100, &a);
	CHECK_STR(a.why, "no room for a reply");
}
