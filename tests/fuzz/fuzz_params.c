// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: command-protocol parameters (pci-ins and pci-rem forms).
 */
#include "fuzz.h"
#include "agent/hotplug.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_param p;
	char *text = fuzz_string(data, size);

	if (!text)
		return 0;
	hotplug_parse_pci(text, true, &p);
	hotplug_parse_pci(text, false, &p);
	free(text);
	return 0;
}
