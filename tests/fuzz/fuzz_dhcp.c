// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the DHCP server's answers to what the guest sends (an IPv4 packet from its IP
 * header on, from the guest's MAC), and Qubes' -qubes-net value. A reply must fit, name the
 * lease's address or none, and carry a correct IP header checksum.
 */
#include "fuzz.h"
#include "agent/dhcp.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_lease l = {0};
	unsigned char out[600];
	struct dhcp_answer a;
	char why[160], *text = fuzz_string(data, size);
	unsigned sum = 0;

	if (!text)
		return 0;
	log_init();
	dhcp_parse_qubes(text, &l, why, sizeof(why));
	free(text);
	if (dhcp_parse_qubes("client_ip=10.137.0.5,gw=10.137.0.1,netmask=255.255.255.0,"
			     "dns_0=10.139.1.1",
			     &l, why, sizeof(why)) < 0)
		abort();
	memcpy(l.mac, "\x00\x16\x3e\x5e\x6c\x01", 6);
	dhcp_answer(&l, l.mac, data, size, out, sizeof(out), &a);
	if (a.kind == DHCP_NONE)
		return 0;
	if (a.len < 20 + 8 + 240 || a.len > sizeof(out))
		abort();
	for (int i = 0; i < 20; i += 2)
		sum += (unsigned)(out[i] << 8 | out[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff || memcmp(out + 12, &l.router, 4))
		abort();
	return 0;
}
