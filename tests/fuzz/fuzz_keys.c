// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: stubinit.* keys from a kernel command line, into stubinit's own table.
 */
#include "fuzz.h"
#include "agent/keys.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct key_val vals[K__COUNT];
	struct keyset ks;
	char *text = fuzz_string(data, size);

	if (!text)
		return 0;
	log_init();
	keys_init(&ks, keys_stubinit()->defs, K__COUNT, NULL, 0, vals);
	keys_parse_cmdline(&ks, text);
	keys_fini(&ks);
	free(text);
	return 0;
}
