// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp json: typed accessors for QEMU's JSON. See json.h.
 */
#include "json.h"

#include <json-c/json.h>
#include <math.h>

static struct json_object *member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !v || !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *qmp_get_str(struct json_object *obj, const char *key)
{
	struct json_object *v = member(obj, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

struct json_object *qmp_get_obj(struct json_object *obj, const char *key)
{
	return member(obj, key, json_type_object);
}

struct json_object *qmp_get_arr(struct json_object *obj, const char *key, size_t *n)
{
	struct json_object *v = member(obj, key, json_type_array);

	*n = v ? json_object_array_length(v) : 0;
	return v;
}

bool qmp_get_int(struct json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	struct json_object *v = member(obj, key, json_type_int);
	int64_t x;

	if (!v)
		return false;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return false;
	*out = x;
	return true;
}

bool qmp_has(struct json_object *obj, const char *key)
{
	return obj && json_object_is_type(obj, json_type_object) &&
	       json_object_object_get_ex(obj, key, NULL);
}

struct json_object *qmp_arr_obj(struct json_object *arr, size_t i)
{
	struct json_object *v;

	if (!arr || !json_object_is_type(arr, json_type_array) ||
	    i >= json_object_array_length(arr))
		return NULL;
	v = json_object_array_get_idx(arr, i);
	return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

const char *qmp_reply_error(struct json_object *msg)
{
	const char *desc;

	if (!msg)
		return "connection closed";
	if (!json_object_is_type(msg, json_type_object))
		return "a reply that is not an object";
	if (qmp_has(msg, "error")) {
		desc = qmp_get_str(qmp_get_obj(msg, "error"), "desc");
		return desc ? desc : "error without a description";
	}
	if (!qmp_has(msg, "return"))
		return "a reply with neither return nor error";
	return NULL;
}

bool qmp_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p++, need, min, cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - p) < need)
			return false;
		for (unsigned i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		p += need;
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

bool qmp_json_finite(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		return isfinite(json_object_get_double(v));
	case json_type_array:
		for (size_t i = 0, n = json_object_array_length(v); i < n; i++)
			if (!qmp_json_finite(json_object_array_get_idx(v, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, val)
		{
			(void)key;
			if (!qmp_json_finite(val))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}
