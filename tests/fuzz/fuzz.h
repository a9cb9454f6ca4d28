/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz: what every target shares: its entry point, and the input as a C string.
 */
#ifndef STUBINIT_FUZZ_H
#define STUBINIT_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input, NUL-terminated (a parser's view of a xenstore value or a command line). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text) {
		memcpy(text, data, size);
		text[size] = 0;
	}
	return text;
}

#endif
