/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * buf: the one byte buffer of stubinit: bytes in flight between two ends (a client and QEMU, a
 * command and a socket). Owns nothing but its memory. Every buffer has a hard maximum: what does
 * not fit is refused (-ENOBUFS), never grown past it, so nothing in flight grows without bound.
 * Memory is taken as bytes arrive (doubling, up to the maximum) and kept until buf_free().
 */
#ifndef STUBINIT_BUF_H
#define STUBINIT_BUF_H

#include <stddef.h>

struct buf {
	char *d;
	size_t off, len; /* the pending bytes are d[off, len) */
	size_t cap, max;
};

/* An empty buffer that holds at most @max bytes. */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forgets the pending bytes; keeps the memory. */
void buf_reset(struct buf *b);

static inline size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

static inline size_t buf_room(const struct buf *b)
{
	return b->max - buf_pending(b);
}

static inline const char *buf_data(const struct buf *b)
{
	return b->d + b->off;
}

/* Appends @n bytes: 0, -ENOBUFS (they would pass the maximum; nothing is added) or -ENOMEM. */
int buf_add(struct buf *b, const void *p, size_t n);

/* For a read straight into the buffer: at least @want bytes of room at the end (fewer when the
 * maximum allows fewer; *@got says how many), or NULL when full or out of memory. Then
 * buf_commit() the bytes read. */
char *buf_space(struct buf *b, size_t want, size_t *got);
void buf_commit(struct buf *b, size_t n);

/* The first @n pending bytes were sent. */
void buf_consume(struct buf *b, size_t n);

#endif
