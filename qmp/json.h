/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp json: the only way stubinit reads JSON that QEMU wrote. Owns the typed accessors: each takes
 * an object (which may itself be NULL or of any type) and a member name, and answers the member
 * only when it has the asked type: a JSON null, a number where a string was expected, an object
 * where an array was expected all read as "absent". Nothing else in stubinit calls json-c's
 * getters on QEMU's messages. Also the reply verdict (any "error" member is a failure) and the
 * UTF-8 check applied to everything that goes to dom0.
 */
#ifndef STUBINIT_QMP_JSON_H
#define STUBINIT_QMP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* @obj's member @key when it is a string, else NULL. */
const char *qmp_get_str(struct json_object *obj, const char *key);
/* ... when it is an object, else NULL. */
struct json_object *qmp_get_obj(struct json_object *obj, const char *key);
/* ... when it is an array, else NULL; *@n gets its length (0 when NULL). */
struct json_object *qmp_get_arr(struct json_object *obj, const char *key, size_t *n);
/* ... when it is an integer within [@min, @max]: true and *@out set; else false. */
bool qmp_get_int(struct json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out);
/* Whether @obj (an object) has member @key, of any type, null included. */
bool qmp_has(struct json_object *obj, const char *key);
/* Element @i of the array @arr when it is an object, else NULL. */
struct json_object *qmp_arr_obj(struct json_object *arr, size_t i);

/*
 * The verdict on a reply to a command: NULL for success, else why it failed. A reply with any
 * "error" member is a failure (its "desc" when that is a string, else a fixed text); a reply that
 * is not an object, or has no "return", is a failure too. @msg NULL: the connection closed first.
 */
const char *qmp_reply_error(struct json_object *msg);

/* Whether @s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates, nothing past
 * U+10FFFF). */
bool qmp_utf8_valid(const char *s, size_t n);

/* Whether every number in @v, at any depth, is finite: json-c writes NaN and the infinities as
 * NaN, Infinity and -Infinity, which are not JSON. Recursion as deep as the tokener nests. */
bool qmp_json_finite(struct json_object *v);

#endif
