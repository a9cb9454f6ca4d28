/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lines: a byte stream cut into lines, for text that comes from elsewhere (QEMU's output, the
 * kernel's log). Owns only the line being assembled: a line longer than LINES_MAX - 1 bytes is
 * cut there and the rest starts the next one, so no input grows it; a NUL inside a line is
 * kept out of it (replaced by '?'), so what a line says is all of what it holds.
 */
#ifndef STUBINIT_LINES_H
#define STUBINIT_LINES_H

#include <stddef.h>

#define LINES_MAX 512

struct lines {
	char line[LINES_MAX];
	size_t len;
};

/* @line is NUL-terminated, without its '\n', and borrowed. */
typedef void (*lines_fn)(const char *line, void *arg);

/* Feeds @n bytes; calls @fn for every line they complete. */
void lines_feed(struct lines *l, const char *p, size_t n, lines_fn fn, void *arg);

/* The end of the stream: a last line without its '\n' is complete now. */
void lines_flush(struct lines *l, lines_fn fn, void *arg);

#endif
