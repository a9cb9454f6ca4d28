// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the QMP framer and the firewall's decisions on a client's stream, fed in uneven
 * chunks, in json-c's strict mode or the lenient one. Properties: whatever the firewall answers,
 * and whatever it lets through, is text that is well-formed UTF-8, parses back as one JSON object
 * with finite numbers only and ends in CRLF.
 */
#include "fuzz.h"
#include "core/log.h"
#include "qmp/firewall.h"
#include "qmp/framer.h"
#include "qmp/json.h"

#include <json-c/json.h>
#include <stdlib.h>

static void check_text(struct json_object *obj)
{
	size_t len;
	char *text = obj ? qmp_fw_text(obj, &len) : NULL;
	struct json_object *back;

	if (!text)
		return;
	if (len < 2 || text[len - 2] != '\r' || text[len - 1] != '\n' || !qmp_utf8_valid(text, len))
		abort();
	text[len - 2] = 0;
	back = json_tokener_parse(text);
	if (!back || !json_object_is_type(back, json_type_object) || !qmp_json_finite(back))
		abort();
	json_object_put(back);
	free(text);
}

static void check_client(struct json_object *obj, void *arg)
{
	struct qmp_fw *fw = arg;
	struct json_object *reply;
	char why[192];
	bool save;

	if (!obj)
		return;
	if (qmp_fw_client(fw, obj, &reply, &save, why, sizeof(why)) == QMP_FW_FORWARD) {
		if (reply)
			abort();
		check_text(obj);
	} else {
		if (!reply)
			abort();
		check_text(reply);
		json_object_put(reply);
	}
}

static void check_qemu(struct json_object *obj, void *arg)
{
	(void)arg;
	if (obj && qmp_fw_reply(obj, NULL))
		check_text(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int probed = -1;
	struct qmp_framer *a, *b;
	struct qmp_fw fw;
	size_t off = 0;

	/* the json-c in use's mode, or the lenient one (what json-c 0.18 gets) */
	if (probed < 0)
		probed = qmp_framer_lenient();
	qmp_framer_set_lenient(probed || (size && data[0] & 2));
	a = qmp_framer_new(4096, 1 << 20), b = qmp_framer_new(4096, 1 << 20);
	log_init();
	qmp_fw_init(&fw, size && data[0] & 1 ? "*" : "");
	while (off < size && a && b) {
		size_t n = 1 + data[off] % 61;

		if (n > size - off)
			n = size - off;
		if (qmp_framer_feed(a, (const char *)data + off, n, check_client, &fw) < 0)
			break;
		qmp_framer_feed(b, (const char *)data + off, n, check_qemu, NULL);
		off += n;
	}
	qmp_framer_free(a);
	qmp_framer_free(b);
	return 0;
}
