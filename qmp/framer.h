/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp framer: a byte stream in, complete JSON objects out, on json-c's incremental tokener (a QMP
 * message may arrive split across any number of reads, or several in one).
 *
 * Owns the limits on what one message may cost. Bytes alone do not bound what parsing allocates
 * (json-c spends about 800 bytes on an empty object, `{}`: 2 bytes of text), so a structural
 * pre-scan runs ahead of the tokener and charges each message an upper bound of what json-c will
 * allocate for it: QMP_COST_OBJECT per object, QMP_COST_ARRAY per array, QMP_COST_VALUE per member
 * or element, and every byte of its strings. A message is refused when its bytes pass
 * @max_bytes, or its cost passes QMP_ALLOC_RATIO times its bytes plus QMP_ALLOC_BASE, or
 * @max_alloc: the tokener is never handed the byte that would pass a limit, the refused message
 * is skipped to its end without being parsed, and the owner hears of it at once. Nesting deeper
 * than QMP_MAX_DEPTH, and any value that is not an object, are malformed: the stream is out of
 * step then, and the owner ends it. Strings are not checked for UTF-8 here: what goes to dom0 is
 * checked as it leaves (qmp/firewall.h).
 *
 * The tokener runs in json-c's strict mode, unless that mode refuses strings with bytes above 0x7f
 * (json-c 0.18 compares them as signed chars against its control characters: json-c issues 875
 * and 892), which a probe of the json-c in use finds once; then it parses leniently. What lenient
 * json-c also takes (comments, single quotes, a trailing comma) is written again as strict JSON,
 * or puts the pre-scan out of step with the tokener, which is malformed. Numbers that are not
 * finite, which json-c takes in either mode (NaN even when strict) and would write as NaN or
 * Infinity, are left, like UTF-8, to what leaves (qmp/firewall.h, qmp/json.h).
 */
#ifndef STUBINIT_QMP_FRAMER_H
#define STUBINIT_QMP_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct qmp_framer;

/* Upper bounds of what json-c 0.16 allocates (measured: 784 bytes per `{}`, 152 per `[]`, 72 to
 * 104 per scalar, 104 per object member), with room to spare. The static build's json-c starts an
 * object's hash table at 4 entries instead of 16 (packaging/static-deps), so its `{}` costs less
 * and these still bound it. */
#define QMP_COST_OBJECT 832
#define QMP_COST_ARRAY	192
#define QMP_COST_VALUE	128
/* Real QMP traffic costs about 20 times its text (query-pci: 22, query-qmp-schema: 20). */
#define QMP_ALLOC_RATIO 48
#define QMP_ALLOC_BASE	(64 * 1024)
#define QMP_MAX_DEPTH	32

/*
 * @obj is borrowed (take a reference with json_object_get() to keep it). NULL: a message was
 * refused over a limit (qmp_framer_why() says which); it is being skipped.
 */
typedef void (*qmp_object_fn)(struct json_object *obj, void *arg);

struct qmp_framer *qmp_framer_new(size_t max_bytes, size_t max_alloc);
void qmp_framer_free(struct qmp_framer *f);

/*
 * Feeds @len bytes; calls @fn for each object completed and once for each message refused. Returns
 * 0, or -EBADMSG (malformed: not JSON, not an object, too deep). After -EBADMSG the
 * stream is out of step: the caller ends it.
 */
int qmp_framer_feed(struct qmp_framer *f, const char *buf, size_t len, qmp_object_fn fn, void *arg);

/* Bytes of the message being assembled or skipped (0 between messages). */
size_t qmp_framer_pending(const struct qmp_framer *f);

/* Why the last message was refused: "over the size cap (N bytes)", "over the allocation
 * budget". */
const char *qmp_framer_why(const struct qmp_framer *f);

/* Messages refused since start. */
unsigned long qmp_framer_refused(const struct qmp_framer *f);

/* Whether framers made from now on parse leniently (the probe above); qmp_framer_set_lenient()
 * overrides it for framers made after (tests, fuzzing). */
bool qmp_framer_lenient(void);
void qmp_framer_set_lenient(bool lenient);

#endif
