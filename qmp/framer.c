/*
 * qmp framer: JSON objects out of a byte stream with json-c's incremental tokener. See qmp.h.
 */
#include "qmp.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

struct qmp_framer {
	struct json_tokener *tok;
	size_t max;
	size_t pending; /* bytes fed into the current object */
};

struct qmp_framer *qmp_framer_new(size_t max_object)
{
	struct qmp_framer *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->tok = json_tokener_new();
	if (!f->tok) {
		free(f);
		return NULL;
	}
	/* Strict JSON, but a message may be followed by the next one in the same read. */
	json_tokener_set_flags(f->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	f->max = max_object;
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
	return f->pending;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int qmp_framer_feed(struct qmp_framer *f, const char *buf, size_t len, qmp_object_fn fn, void *arg)
{
	while (len) {
		struct json_object *obj;
		enum json_tokener_error jerr;
		size_t used, chunk;

		/* Between objects only whitespace (QMP's CRLF) may stand; it belongs to no object. */
		if (!f->pending && is_space(*buf)) {
			buf++, len--;
			continue;
		}
		/* Never hand the tokener more than the cap allows, so an endless object stays bounded. */
		chunk = len;
		if (f->pending + chunk > f->max + 1)
			chunk = f->max + 1 - f->pending;
		obj = json_tokener_parse_ex(f->tok, buf, (int)chunk);
		jerr = json_tokener_get_error(f->tok);
		if (jerr == json_tokener_continue) {
			f->pending += chunk;
			if (f->pending > f->max)
				return -EMSGSIZE;
			buf += chunk, len -= chunk;
			continue;
		}
		if (jerr != json_tokener_success)
			return -EBADMSG;
		used = json_tokener_get_parse_end(f->tok);
		f->pending += used;
		if (f->pending > f->max) {
			json_object_put(obj);
			return -EMSGSIZE;
		}
		buf += used, len -= used;
		f->pending = 0;
		json_tokener_reset(f->tok);
		if (!json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return -EBADMSG;
		}
		fn(obj, arg);
		json_object_put(obj);
	}
	return 0;
}
