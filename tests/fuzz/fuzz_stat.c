// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: a /proc/PID/stat line (child_parse_stat), whose command name QEMU sets itself.
 * The first two bytes choose the fields asked for.
 */
#include "fuzz.h"
#include "core/child.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long v[4];
	char *text;

	if (size < 2)
		return 0;
	text = fuzz_string(data + 2, size - 2);
	if (!text)
		return 0;
	child_parse_stat(text, data[0] % 64, v, data[1] % 5);
	free(text);
	return 0;
}
