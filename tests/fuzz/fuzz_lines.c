// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: what stubinit cuts out of other programs' bytes: QEMU's output (and the kernel's
 * log) into lines, and the kernel's uevent messages into their KEY=value items. Properties: no
 * line is longer than LINES_MAX - 1 or holds a '\n' or a NUL; every byte reaches a line but the
 * '\n's; a uevent value found lies inside the message and is NUL-terminated there.
 */
#include "fuzz.h"
#include "agent/uevent.h"
#include "core/lines.h"

#include <stdlib.h>
#include <string.h>

static size_t total;

static void on_line(const char *line, void *arg)
{
	size_t n = strlen(line);

	(void)arg;
	if (n > LINES_MAX - 1 || strchr(line, '\n'))
		abort();
	total += n;
}

static void check_key(const char *buf, size_t len, const char *key)
{
	const char *v = uevent_get(buf, len, key);

	if (v && (v < buf || v >= buf + len || !memchr(v, 0, (size_t)(buf + len - v))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lines l = {.len = 0};
	size_t off = 0, newlines = 0;
	char *copy;

	total = 0;
	/* In uneven chunks, as reads deliver them. */
	while (off < size) {
		size_t n = 1 + data[off] % 700;

		if (n > size - off)
			n = size - off;
		lines_feed(&l, (const char *)data + off, n, on_line, NULL);
		off += n;
	}
	lines_flush(&l, on_line, NULL);
	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	if (total != size - newlines)
		abort();
	/* A uevent message, exactly as recv() gives it: not NUL-terminated at its end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	check_key(copy, size, "ACTION");
	check_key(copy, size, "SUBSYSTEM");
	check_key(copy, size, "DEVNAME");
	check_key(copy, size, "A");
	free(copy);
	return 0;
}
