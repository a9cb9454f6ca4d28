/*
 * qmp: QMP, the JSON protocol QEMU speaks on its monitors.
 *
 * Owns framing: a byte stream in, complete JSON objects out, using json-c's incremental tokener
 * (a QMP message may arrive split across any number of reads, or several in one). A cap bounds each
 * object; anything that is not a well-formed JSON object is an error, never passed on. Later work
 * builds the permanent monitor, client sessions and the firewall on this.
 */
#ifndef STUBINIT_QMP_H
#define STUBINIT_QMP_H

#include <stddef.h>

struct json_object;
struct qmp_framer;

/* @obj is borrowed: take a reference with json_object_get() to keep it. */
typedef void (*qmp_object_fn)(struct json_object *obj, void *arg);

struct qmp_framer *qmp_framer_new(size_t max_object);
void qmp_framer_free(struct qmp_framer *f);

/*
 * Feeds @len bytes; calls @fn for each object completed. Returns 0, -EBADMSG (malformed JSON, or a
 * value that is not an object) or -EMSGSIZE (an object over the cap). After an error the stream is
 * out of step: the caller ends the session.
 */
int qmp_framer_feed(struct qmp_framer *f, const char *buf, size_t len, qmp_object_fn fn, void *arg);

/* Bytes of the object being assembled (0 between objects). */
size_t qmp_framer_pending(const struct qmp_framer *f);

#endif
