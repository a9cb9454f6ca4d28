// SPDX-License-Identifier: GPL-2.0-only
/*
 * lines: a byte stream cut into bounded lines. See lines.h.
 */
#include "lines.h"

static void end_line(struct lines *l, lines_fn fn, void *arg)
{
	l->line[l->len] = 0;
	l->len = 0;
	fn(l->line, arg);
}

void lines_feed(struct lines *l, const char *p, size_t n, lines_fn fn, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			end_line(l, fn, arg);
			continue;
		}
		l->line[l->len++] = p[i] ? p[i] : '?';
		if (l->len == LINES_MAX - 1)
			end_line(l, fn, arg);
	}
}

void lines_flush(struct lines *l, lines_fn fn, void *arg)
{
	if (l->len)
		end_line(l, fn, arg);
}
