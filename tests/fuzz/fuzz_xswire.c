// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the xenstore filter's checks on QEMU's requests. Properties: a request that passes
 * writes, removes or changes permissions only under the stubdomain's backend/ or its
 * device-model/<guest>/backends/, or writes device-model/<guest>/state; and of the guest's
 * device-model directory nothing else passes at all (but unwatch, which only drops a watch).
 */
#include "fuzz.h"
#include "agent/xswire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool under(const char *what, const char *op, const char *prefix)
{
	char want[128];
	size_t n = (size_t)snprintf(want, sizeof(want), "%s %s", op, prefix);

	return !strncmp(what, want, n) && (!what[n] || what[n] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xswire_ident id = {5, 7};
	struct xsd_sockmsg h;
	char what[256];
	const char *op, *dm;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	h.len = (uint32_t)(size - sizeof(h));
	if (!xswire_header_ok(&h))
		return 0;
	if (xswire_check(&id, &h, (const char *)data + sizeof(h), what, sizeof(what)) !=
	    XSWIRE_ALLOW)
		return 0;
	op = xswire_op(h.type);
	if (h.type == XS_WRITE || h.type == XS_RM || h.type == XS_SET_PERMS || h.type == XS_MKDIR) {
		if (!under(what, op, "/local/domain/5/backend") &&
		    !under(what, op, "/local/domain/5/device-model/7/backends") &&
		    strcmp(what, "write /local/domain/5/device-model/7/state"))
			abort();
	}
	/* Of the guest's device-model directory, only its state and the backends directory: never
	 * the vchans dom0 is reached by, stubinit's status, the command protocol. (Unwatching
	 * passes for any path: it only drops a watch of the connection's own.) */
	if (h.type != XS_UNWATCH && (dm = strstr(what, " /local/domain/5/device-model/7/")) &&
	    strcmp(dm + 32, "state") && strncmp(dm + 32, "backends", 8))
		abort();
	return 0;
}
