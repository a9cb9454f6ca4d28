// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the network topology spec.
 */
#include "fuzz.h"
#include "core/log.h"
#include "netlink/net.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_topology t = {0};
	unsigned char mac[6];
	char *text = fuzz_string(data, size);

	if (!text)
		return 0;
	log_init();
	net_spec_parse(&t, text, "fuzz");
	net_parse_mac(text, mac);
	net_topology_free(&t);
	free(text);
	return 0;
}
