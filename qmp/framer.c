// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp framer: JSON objects out of a byte stream, with bounded cost. See framer.h.
 */
#include "framer.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct qmp_framer {
	struct json_tokener *tok;
	size_t max_bytes, max_alloc;
	/* the message under way */
	bool in_msg, skipping;
	bool in_str, esc;
	unsigned depth;
	size_t bytes, cost;
	unsigned long refused;
	char why[64];
};

/* -1 until probed */
static int lenient = -1;

/* Whether json-c's strict mode refuses a string that is well-formed UTF-8. */
static bool strict_refuses_utf8(void)
{
	static const char probe[] = "{\"a\": \"\xc3\xa9\"}";
	struct json_tokener *tok = json_tokener_new_ex(QMP_MAX_DEPTH);
	struct json_object *obj;
	bool refused;

	if (!tok)
		return false;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, probe, (int)sizeof(probe) - 1);
	refused = !obj;
	json_object_put(obj);
	json_tokener_free(tok);
	return refused;
}

bool qmp_framer_lenient(void)
{
	if (lenient < 0)
		lenient = strict_refuses_utf8();
	return lenient;
}

void qmp_framer_set_lenient(bool on)
{
	lenient = on;
}

struct qmp_framer *qmp_framer_new(size_t max_bytes, size_t max_alloc)
{
	struct qmp_framer *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->tok = json_tokener_new_ex(QMP_MAX_DEPTH);
	if (!f->tok) {
		free(f);
		return NULL;
	}
	/* Strict JSON (see framer.h for a json-c whose strict mode is broken), and a message may be
	 * followed by the next in the same read. */
	json_tokener_set_flags(f->tok, (qmp_framer_lenient() ? 0 : JSON_TOKENER_STRICT) |
					       JSON_TOKENER_ALLOW_TRAILING_CHARS);
	f->max_bytes = max_bytes;
	f->max_alloc = max_alloc;
	return f;
}

void qmp_framer_free(struct qmp_framer *f)
{
	if (!f)
		return;
	json_tokener_free(f->tok);
	free(f);
}

size_t qmp_framer_pending(const struct qmp_framer *f)
{
	return f->in_msg ? f->bytes : 0;
}

const char *qmp_framer_why(const struct qmp_framer *f)
{
	return f->why;
}

unsigned long qmp_framer_refused(const struct qmp_framer *f)
{
	return f->refused;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One byte of the message's structure: what json-c will allocate for it. Returns false when the
 * message closed with this byte. */
static bool charge(struct qmp_framer *f, char c)
{
	if (f->in_str) {
		f->cost++;
		if (f->esc)
			f->esc = false;
		else if (c == '\\')
			f->esc = true;
		else if (c == '"')
			f->in_str = false;
		return true;
	}
	switch (c) {
	case '"':
		f->in_str = true;
		break;
	case '{':
		f->depth++;
		f->cost += QMP_COST_OBJECT;
		break;
	case '[':
		f->depth++;
		f->cost += QMP_COST_ARRAY + QMP_COST_VALUE;
		break;
	case ':':
	case ',':
		f->cost += QMP_COST_VALUE;
		break;
	case '}':
	case ']':
		if (f->depth && !--f->depth)
			return false;
		break;
	}
	return true;
}

static bool over(const struct qmp_framer *f)
{
	return f->bytes > f->max_bytes || f->cost > f->max_alloc ||
	       f->cost > QMP_ALLOC_BASE + QMP_ALLOC_RATIO * f->bytes;
}

static void refuse(struct qmp_framer *f, qmp_object_fn fn, void *arg)
{
	if (f->bytes > f->max_bytes)
		snprintf(f->why, sizeof(f->why), "over the size cap (%zu bytes)", f->max_bytes);
	else
		snprintf(f->why, sizeof(f->why), "over the allocation budget");
	f->skipping = true;
	f->refused++;
	json_tokener_reset(f->tok);
	fn(NULL, arg);
}

/*
 * Scans @buf up to the end of the current message or of @len, stopping before a byte that would
 * pass a limit. Returns the bytes scanned; *@closed when the message ended with the last of them.
 */
static size_t scan(struct qmp_framer *f, const char *buf, size_t len, bool *closed, bool *tripped)
{
	size_t i;

	*closed = *tripped = false;
	for (i = 0; i < len; i++) {
		f->bytes++;
		if (!charge(f, buf[i])) {
			*closed = true;
			i++;
			break;
		}
		if (!f->skipping && over(f)) {
			*tripped = true;
			i++;
			break;
		}
	}
	return i;
}

static void end_msg(struct qmp_framer *f)
{
	f->in_msg = f->skipping = f->in_str = f->esc = false;
	f->depth = 0;
	f->bytes = f->cost = 0;
}

/* Hands @n scanned bytes to the tokener; with @closed they end the message. */
static int parse(struct qmp_framer *f, const char *buf, size_t n, bool closed, qmp_object_fn fn,
		 void *arg)
{
	struct json_object *obj = json_tokener_parse_ex(f->tok, buf, (int)n);
	enum json_tokener_error jerr = json_tokener_get_error(f->tok);

	if (!closed) {
		json_object_put(obj);
		return jerr == json_tokener_continue ? 0 : -EBADMSG;
	}
	if (jerr != json_tokener_success || !obj || json_tokener_get_parse_end(f->tok) != n ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return -EBADMSG;
	}
	json_tokener_reset(f->tok);
	end_msg(f);
	fn(obj, arg);
	json_object_put(obj);
	return 0;
}

int qmp_framer_feed(struct qmp_framer *f, const char *buf, size_t len, qmp_object_fn fn, void *arg)
{
	while (len) {
		bool closed, tripped;
		size_t n;
		int err;

		if (!f->in_msg) {
			/* Between messages only whitespace (QMP's CRLF) may stand; only objects. */
			if (is_space(*buf)) {
				buf++, len--;
				continue;
			}
			if (*buf != '{')
				return -EBADMSG;
			f->in_msg = true;
		}
		n = scan(f, buf, len, &closed, &tripped);
		if (f->skipping) {
			if (closed)
				end_msg(f);
		} else if (tripped) {
			refuse(f, fn, arg);
			if (closed)
				end_msg(f);
		} else if ((err = parse(f, buf, n, closed, fn, arg)) < 0) {
			return err;
		}
		buf += n, len -= n;
	}
	return 0;
}
