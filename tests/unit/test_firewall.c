// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the QMP firewall's policy: allowed and refused commands, negotiation answered as
 * QEMU answers it, ids restored, events dropped, the save marked, the greeting, text toward dom0.
 */
#include "unit.h"
#include "qmp/firewall.h"
#include "qmp/json.h"

#include <json-c/json.h>
#include <stdlib.h>

/* The verdict on @text, and the reply's text (or "") in @out. */
static enum qmp_fw_verdict judge(struct qmp_fw *fw, const char *text, bool *save, char *out,
				 size_t len)
{
	struct json_object *msg = json_tokener_parse(text), *reply;
	enum qmp_fw_verdict v;
	char why[192];

	v = qmp_fw_client(fw, msg, &reply, save, why, sizeof(why));
	snprintf(out, len, "%s",
		 reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : "");
	json_object_put(reply);
	json_object_put(msg);
	return v;
}

TEST(firewall_negotiation_as_qemu_answers)
{
	struct qmp_fw fw;
	char out[256];
	bool save;

	qmp_fw_init(&fw, "");
	/* Before qmp_capabilities, QEMU's own error; then the answer; then "already complete". */
	CHECK_INT(judge(&fw, "{\"execute\":\"query-status\",\"id\":1}", &save, out, sizeof(out)),
		  QMP_FW_ANSWER);
	CHECK_STR(out,
		  "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities "
		  "negotiation with 'qmp_capabilities'\"},\"id\":1}");
	CHECK_INT(judge(&fw,
			"{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]},"
			"\"id\":\"a\"}",
			&save, out, sizeof(out)),
		  QMP_FW_ANSWER);
	CHECK_STR(out, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Capability 'oob' not "
		       "available\"},\"id\":\"a\"}");
	CHECK_INT(
		judge(&fw, "{\"execute\":\"qmp_capabilities\",\"id\":2}", &save, out, sizeof(out)),
		QMP_FW_ANSWER);
	CHECK_STR(out, "{\"return\":{},\"id\":2}");
	CHECK_INT(judge(&fw, "{\"execute\":\"qmp_capabilities\"}", &save, out, sizeof(out)),
		  QMP_FW_ANSWER);
	CHECK_STR(out, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Capabilities "
		       "negotiation is already complete, command ignored\"}}");
	/* A new session negotiates again. */
	qmp_fw_reset(&fw);
	CHECK_INT(judge(&fw, "{\"execute\":\"cont\"}", &save, out, sizeof(out)), QMP_FW_ANSWER);
	/* A null or odd enable is no capability asked. */
	CHECK_INT(judge(&fw, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":null}}",
			&save, out, sizeof(out)),
		  QMP_FW_ANSWER);
	CHECK_STR(out, "{\"return\":{}}");
}

TEST(firewall_allow_list)
{
	struct qmp_fw fw;
	char out[256];
	bool save;

	qmp_fw_init(&fw, "");
	fw.negotiated = true;
	CHECK_INT(judge(&fw, "{\"execute\":\"query-status\",\"id\":3}", &save, out, sizeof(out)),
		  QMP_FW_FORWARD);
	CHECK(!save);
	CHECK_STR(out, "");
	CHECK_INT(judge(&fw, "{\"execute\":\"human-monitor-command\"}", &save, out, sizeof(out)),
		  QMP_FW_FORWARD);
	/* Not on libxl's list; not a command; a command whose name is not a string. */
	CHECK_INT(judge(&fw, "{\"execute\":\"migrate\",\"id\":4}", &save, out, sizeof(out)),
		  QMP_FW_REFUSE);
	CHECK_STR(out, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"stubinit: command "
		       "'migrate' is not allowed on this path\"},\"id\":4}");
	CHECK_INT(judge(&fw, "{\"return\":{}}", &save, out, sizeof(out)), QMP_FW_REFUSE);
	CHECK_CONTAINS(out, "not a QMP command (no execute string)");
	CHECK_INT(judge(&fw, "{\"execute\":null,\"id\":[1]}", &save, out, sizeof(out)),
		  QMP_FW_REFUSE);
	CHECK_CONTAINS(out, "\"id\":[1]");
	/* Prefixes and substrings of allowed names are not allowed. */
	CHECK_INT(judge(&fw, "{\"execute\":\"cont2\"}", &save, out, sizeof(out)), QMP_FW_REFUSE);
	CHECK_INT(judge(&fw, "{\"execute\":\"con\"}", &save, out, sizeof(out)), QMP_FW_REFUSE);
	CHECK_INT(judge(&fw, "{\"execute\":\"\"}", &save, out, sizeof(out)), QMP_FW_REFUSE);
	/* A list of one's own, and "*". */
	qmp_fw_init(&fw, "query-version");
	fw.negotiated = true;
	CHECK_INT(judge(&fw, "{\"execute\":\"query-status\"}", &save, out, sizeof(out)),
		  QMP_FW_REFUSE);
	CHECK_INT(judge(&fw, "{\"execute\":\"query-version\"}", &save, out, sizeof(out)),
		  QMP_FW_FORWARD);
	qmp_fw_init(&fw, "*");
	fw.negotiated = true;
	CHECK_INT(judge(&fw, "{\"execute\":\"migrate\"}", &save, out, sizeof(out)), QMP_FW_FORWARD);
}

TEST(firewall_save_marked)
{
	struct qmp_fw fw;
	char out[256];
	bool save;

	qmp_fw_init(&fw, "");
	fw.negotiated = true;
	CHECK_INT(judge(&fw,
			"{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":"
			"\"/dev/fdset/1\"}}",
			&save, out, sizeof(out)),
		  QMP_FW_FORWARD);
	CHECK(save);
	CHECK_INT(judge(&fw,
			"{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":"
			"\"/tmp/x\"}}",
			&save, out, sizeof(out)),
		  QMP_FW_FORWARD);
	CHECK(!save);
	CHECK_INT(judge(&fw, "{\"execute\":\"xen-save-devices-state\",\"arguments\":null}", &save,
			out, sizeof(out)),
		  QMP_FW_FORWARD);
	CHECK(!save);
}

TEST(firewall_replies_ids_events_and_text)
{
	struct json_object *r =
		json_tokener_parse("{\"return\":{\"status\":\"running\"},\"id\":7}");
	struct json_object *id = json_tokener_parse("{\"libxl\":[1,2]}");
	struct json_object *g, *e;
	size_t len;
	char *text;

	/* The client's id back, whatever its type; none when it sent none. */
	CHECK(qmp_fw_reply(r, id));
	text = qmp_fw_text(r, &len);
	CHECK_STR(text, "{\"return\":{\"status\":\"running\"},\"id\":{\"libxl\":[1,2]}}\r\n");
	CHECK_INT(len, strlen(text));
	free(text);
	CHECK(qmp_fw_reply(r, NULL));
	text = qmp_fw_text(r, &len);
	CHECK_STR(text, "{\"return\":{\"status\":\"running\"}}\r\n");
	free(text);
	json_object_put(r);
	/* Not a reply: it must not reach the client. */
	r = json_tokener_parse("{\"id\":7,\"surprise\":1}");
	CHECK(!qmp_fw_reply(r, id));
	json_object_put(r);
	json_object_put(id);
	/* Events never go to the client. */
	e = json_tokener_parse("{\"event\":\"STOP\"}");
	CHECK(!qmp_fw_event(e));
	json_object_put(e);
	/* The greeting offers no capability; slashes stay as they are. */
	g = json_tokener_parse("{\"QMP\":{\"version\":{\"package\":\"a/b\"},\"capabilities\":"
			       "[\"oob\"]}}");
	text = qmp_fw_greeting(g, &len);
	CHECK_STR(text, "{\"QMP\":{\"version\":{\"package\":\"a/b\"},\"capabilities\":[]}}\r\n");
	free(text);
	json_object_put(g);
	g = json_tokener_parse("{\"QMP\":null}");
	CHECK(!qmp_fw_greeting(g, &len));
	json_object_put(g);
	/* Text that is not UTF-8 is never made. */
	e = json_object_new_object();
	json_object_object_add(e, "return", json_object_new_string("\xff\xfe\xc0\xaf"));
	CHECK(!qmp_fw_text(e, &len));
	json_object_put(e);
}

TEST(firewall_error_reply)
{
	struct json_object *id = json_object_new_int(5);
	struct json_object *e = qmp_fw_error("GenericError", "stubinit: no", id);

	CHECK_STR(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
		  "{\"error\":{\"class\":\"GenericError\",\"desc\":\"stubinit: no\"},\"id\":5}");
	json_object_put(e);
	json_object_put(id);
}
