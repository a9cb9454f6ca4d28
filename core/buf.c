// SPDX-License-Identifier: GPL-2.0-only
/*
 * buf: bounded byte buffers. See buf.h.
 */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	*b = (struct buf){.max = max};
}

void buf_free(struct buf *b)
{
	free(b->d);
	*b = (struct buf){.max = b->max};
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

/* Room for @n more pending bytes at the end: the consumed front reused first, then growth. */
static int make_room(struct buf *b, size_t n)
{
	size_t need;

	if (n > buf_room(b))
		return -ENOBUFS;
	if (b->off && b->len + n > b->cap) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	need = b->len + n;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nd;

		while (cap < need)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		nd = realloc(b->d, cap);
		if (!nd)
			return -ENOMEM;
		b->d = nd;
		b->cap = cap;
	}
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int err;

	if (!n)
		return 0;
	err = make_room(b, n);
	if (err)
		return err;
	memcpy(b->d + b->len, p, n);
	b->len += n;
	return 0;
}

char *buf_space(struct buf *b, size_t want, size_t *got)
{
	size_t n = want < buf_room(b) ? want : buf_room(b);

	*got = 0;
	if (!n || make_room(b, n) < 0)
		return NULL;
	*got = b->cap - b->len;
	if (*got > buf_room(b))
		*got = buf_room(b);
	return b->d + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}
