// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp firewall: what may cross between dom0's client and QEMU. See firewall.h.
 */
#include "firewall.h"
#include "json.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Protocol section 7. */
const char qmp_fw_default_allow[] =
	"qmp_capabilities cont stop device_add device_del query-pci xen-save-devices-state "
	"xen-set-global-dirty-log query-cpus-fast query-cpus query-hotpluggable-cpus cpu-add "
	"system_wakeup human-monitor-command query-version eject query-fdsets remove-fd "
	"blockdev-change-medium query-status xen-set-replication xen-colo-do-checkpoint "
	"query-xen-replication-status xen-load-devices-state nbd-server-start nbd-server-add "
	"nbd-server-stop x-blockdev-change";

void qmp_fw_init(struct qmp_fw *fw, const char *allow)
{
	fw->allow = allow && *allow ? allow : qmp_fw_default_allow;
	fw->negotiated = false;
}

void qmp_fw_reset(struct qmp_fw *fw)
{
	fw->negotiated = false;
}

static bool allowed(const char *allow, const char *cmd)
{
	size_t n = strlen(cmd);

	if (!strcmp(allow, "*"))
		return true;
	if (!n)
		return false;
	for (const char *p = allow; (p = strstr(p, cmd)); p += n) {
		bool start = p == allow || p[-1] == ' ';
		bool end = p[n] == 0 || p[n] == ' ';

		if (start && end)
			return true;
	}
	return false;
}

struct json_object *qmp_fw_error(const char *class, const char *desc, struct json_object *client_id)
{
	struct json_object *reply = json_object_new_object(), *err = json_object_new_object();

	json_object_object_add(err, "class", json_object_new_string(class));
	json_object_object_add(err, "desc", json_object_new_string(desc));
	json_object_object_add(reply, "error", err);
	if (client_id)
		json_object_object_add(reply, "id", json_object_get(client_id));
	return reply;
}

static struct json_object *client_id(struct json_object *msg)
{
	struct json_object *id = NULL;

	json_object_object_get_ex(msg, "id", &id);
	return id;
}

static bool is_fdset1_save(struct json_object *msg, const char *cmd)
{
	const char *file = qmp_get_str(qmp_get_obj(msg, "arguments"), "filename");

	return !strcmp(cmd, "xen-save-devices-state") && file && !strcmp(file, "/dev/fdset/1");
}

/* qmp_capabilities, answered as QEMU answers it: the greeting offered no capability. */
static enum qmp_fw_verdict negotiate(struct qmp_fw *fw, struct json_object *msg,
				     struct json_object **reply)
{
	struct json_object *enable =
		qmp_get_arr(qmp_get_obj(msg, "arguments"), "enable", &(size_t){0});
	char desc[128];

	if (fw->negotiated) {
		*reply = qmp_fw_error("CommandNotFound",
				      "Capabilities negotiation is already complete, command "
				      "ignored",
				      client_id(msg));
		return QMP_FW_ANSWER;
	}
	if (enable && json_object_array_length(enable) > 0) {
		struct json_object *first = json_object_array_get_idx(enable, 0);

		snprintf(desc, sizeof(desc), "Capability '%.64s' not available",
			 first && json_object_is_type(first, json_type_string)
				 ? json_object_get_string(first)
				 : "?");
		*reply = qmp_fw_error("GenericError", desc, client_id(msg));
		return QMP_FW_ANSWER;
	}
	fw->negotiated = true;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "return", json_object_new_object());
	if (client_id(msg))
		json_object_object_add(*reply, "id", json_object_get(client_id(msg)));
	return QMP_FW_ANSWER;
}

enum qmp_fw_verdict qmp_fw_client(struct qmp_fw *fw, struct json_object *msg,
				  struct json_object **reply, bool *save, char *why, size_t len)
{
	const char *cmd = qmp_get_str(msg, "execute");

	*reply = NULL;
	*save = false;
	if (!cmd) {
		snprintf(why, len, "stubinit: not a QMP command (no execute string)");
	} else if (!allowed(fw->allow, cmd)) {
		snprintf(why, len, "stubinit: command '%.64s' is not allowed on this path", cmd);
	} else if (!strcmp(cmd, "qmp_capabilities")) {
		return negotiate(fw, msg, reply);
	} else if (!fw->negotiated) {
		*reply = qmp_fw_error("CommandNotFound",
				      "Expecting capabilities negotiation with 'qmp_capabilities'",
				      client_id(msg));
		return QMP_FW_ANSWER;
	} else {
		*save = is_fdset1_save(msg, cmd);
		return QMP_FW_FORWARD;
	}
	*reply = qmp_fw_error("GenericError", why, client_id(msg));
	return QMP_FW_REFUSE;
}

bool qmp_fw_reply(struct json_object *reply, struct json_object *id)
{
	if (!qmp_has(reply, "return") && !qmp_has(reply, "error"))
		return false;
	if (id)
		json_object_object_add(reply, "id", json_object_get(id));
	else
		json_object_object_del(reply, "id");
	return true;
}

bool qmp_fw_event(struct json_object *event)
{
	(void)event;
	return false;
}

char *qmp_fw_text(struct json_object *obj, size_t *len)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = text ? strlen(text) : 0;
	char *out;

	if (!text || !qmp_utf8_valid(text, n) || !qmp_json_finite(obj) || !(out = malloc(n + 3)))
		return NULL;
	memcpy(out, text, n);
	memcpy(out + n, "\r\n", 3);
	*len = n + 2;
	return out;
}

char *qmp_fw_greeting(struct json_object *greeting, size_t *len)
{
	struct json_object *qmp = qmp_get_obj(greeting, "QMP");

	if (!qmp)
		return NULL;
	json_object_object_add(qmp, "capabilities", json_object_new_array());
	return qmp_fw_text(greeting, len);
}
