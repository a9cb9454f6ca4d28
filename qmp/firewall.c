/*
 * qmp firewall: what may cross between dom0's client and QEMU. See qmp.h.
 */
#include "qmp.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

const char *qmp_fw_check_client(struct json_object *obj, const char *allow, char *why, size_t len)
{
	struct json_object *exec;
	const char *cmd;

	if (!json_object_object_get_ex(obj, "execute", &exec) ||
	    !json_object_is_type(exec, json_type_string)) {
		snprintf(why, len, "not a QMP command (no execute string)");
		return why;
	}
	cmd = json_object_get_string(exec);
	if (!allowed(allow, cmd)) {
		snprintf(why, len, "command '%.64s' is not allowed on this path", cmd);
		return why;
	}
	return NULL;
}

int qmp_fw_pass_qemu(struct json_object *obj)
{
	struct json_object *v;

	/* libxl ignores events, and an unsolicited write races its close. */
	return !json_object_object_get_ex(obj, "event", &v);
}
