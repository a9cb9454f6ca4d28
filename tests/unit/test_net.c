// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the network spec's MAC parser: the MACs libxl writes in xenstore and the QEMU
 * command line names, and what must not pass.
 */
#include "unit.h"
#include "netlink/net.h"

#include <string.h>

TEST(net_parse_mac_strict)
{
	unsigned char m[6];

	CHECK_INT(net_parse_mac("00:16:3e:0a:Bc:fF", m), 0);
	CHECK(!memcmp(m, "\x00\x16\x3e\x0a\xbc\xff", 6));
	CHECK_INT(net_parse_mac("0:1:2:a:b:c", m), 0); /* one digit a group, as %2x took it */
	CHECK(!memcmp(m, "\x00\x01\x02\x0a\x0b\x0c", 6));
	CHECK_INT(net_parse_mac("00:16:3e:0a:bc:ff ", m), -1); /* something after */
	CHECK_INT(net_parse_mac("00:16:3e:0a:bc", m), -1);     /* five groups */
	CHECK_INT(net_parse_mac("00:16:3e:0a:bc:ff:00", m), -1);
	CHECK_INT(net_parse_mac("001:16:3e:0a:bc:ff", m), -1); /* three digits */
	CHECK_INT(net_parse_mac("00-16-3e-0a-bc-ff", m), -1);
	CHECK_INT(net_parse_mac(" 00:16:3e:0a:bc:ff", m), -1);
	CHECK_INT(net_parse_mac("+0:16:3e:0a:bc:ff", m), -1);
	CHECK_INT(net_parse_mac("0x:16:3e:0a:bc:ff", m), -1);
	CHECK_INT(net_parse_mac("", m), -1);
	CHECK_INT(net_parse_mac("g0:16:3e:0a:bc:ff", m), -1);
}
