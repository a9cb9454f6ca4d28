/*
 * Fuzz target: the QMP framer and both directions of the firewall, fed in uneven chunks.
 */
#include "fuzz.h"
#include "agent/log.h"
#include "qmp/qmp.h"

#include <json-c/json.h>
#include <stdlib.h>


static void check_client(struct json_object *obj, void *arg)
{
	char why[192];

	(void)arg;
	qmp_fw_check_client(obj, "qmp_capabilities query-version", why, sizeof(why));
	qmp_fw_check_client(obj, "*", why, sizeof(why));
	/* What the server forwards must serialize. */
	json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void check_qemu(struct json_object *obj, void *arg)
{
	(void)arg;
	qmp_fw_pass_qemu(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_framer *a = qmp_framer_new(4096), *b = qmp_framer_new(4096);
	size_t off = 0;

	log_init();
	while (off < size && a && b) {
		size_t n = 1 + data[off] % 61;

		if (n > size - off)
			n = size - off;
		if (qmp_framer_feed(a, (const char *)data + off, n, check_client, NULL) < 0)
			break;
		qmp_framer_feed(b, (const char *)data + off, n, check_qemu, NULL);
		off += n;
	}
	qmp_framer_free(a);
	qmp_framer_free(b);
	return 0;
}
