// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the xenstore filter's wire checks and policy: what QEMU may do in xenstore.
 */
#include "unit.h"
#include "agent/xswire.h"

#include <stdio.h>

static const struct xswire_ident id = {5, 7}; /* stubdomain 5 serves guest 7 */

/* The verdict on @type with @payload (@len bytes; -1: its strlen + 1). */
static enum xswire_verdict verdict(uint32_t type, const char *payload, int len, char *what)
{
	struct xsd_sockmsg h = {.type = type, .req_id = 9, .tx_id = 0};

	h.len = (uint32_t)(len < 0 ? strlen(payload) + 1 : (size_t)len);
	return xswire_check(&id, &h, payload, what, 256);
}

TEST(xswire_allows_what_qemu_needs)
{
	char what[256];
	static const struct {
		uint32_t type;
		const char *path;
	} ok[] = {
		{XS_READ, "domid"},
		{XS_READ, "/local/domain/5/domid"},
		{XS_READ, "/local/domain/7/image/device-model-domid"},
		{XS_READ, "device/pci/0/backend"},
		{XS_READ, "/local/domain/0/backend/pci/5/0/num_devs"},
		{XS_DIRECTORY, "/local/domain/0/backend/pci/5/0"},
		{XS_MKDIR, "device-model/7/backends/console"},
		{XS_SET_PERMS, "device-model/7/backends/vkbd"},
		{XS_WATCH, "backend/qdisk/7"},
		{XS_DIRECTORY, "backend"},
		{XS_WRITE, "backend/vkbd/7/0/state"},
		{XS_UNWATCH, "/anything/it/watched"},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (verdict(ok[i].type, ok[i].path, -1, what) != XSWIRE_ALLOW) {
			unit_fail(__FILE__, __LINE__, "refused: %s", what);
			return;
		}
	}
	/* The one write QEMU must make: its state, "running". */
	CHECK_INT(verdict(XS_WRITE, "device-model/7/state\0running", 29, what), XSWIRE_ALLOW);
	CHECK_STR(what, "write /local/domain/5/device-model/7/state");
	CHECK_INT(verdict(XS_TRANSACTION_START, "", 1, what), XSWIRE_ALLOW);
	CHECK_INT(verdict(XS_GET_DOMAIN_PATH, "0", -1, what), XSWIRE_ALLOW);
}

TEST(xswire_refuses_the_rest)
{
	char what[256];
	static const struct {
		uint32_t type;
		const char *path;
	} no[] = {
		/* the channels dom0 trusts, stubinit's status, the command protocol */
		{XS_WRITE, "device-model/7/qmp-vchan/ring-ref\0"
			   "8"},
		{XS_WRITE, "/local/domain/5/device-model/7/qmp-vchan/event-channel"},
		{XS_RM, "device-model/7/vnc-vchan"},
		{XS_WRITE, "device-model/7/stubinit/state"},
		{XS_WRITE, "device-model/7/command"},
		{XS_WRITE, "device-model/7/parameter"},
		{XS_SET_PERMS, "device-model/7/qmp-vchan"},
		{XS_MKDIR, "device-model/7/qmp-vchan2"},
		{XS_READ, "device-model/7/qmp-vchan/ring-ref"},
		/* another guest's state, a prefix that is not a path component */
		{XS_WRITE, "device-model/8/state"},
		{XS_WRITE, "device-model/7/statefoo"},
		{XS_WRITE, "/local/domain/5/domid"},
		{XS_READ, "/local/domain/0/backend/pci/6/0/num_devs"},
		{XS_READ, "/vm"},
		{XS_WATCH, "@introduceDomain"},
		{XS_WATCH, "device-model"},
		{XS_MKDIR, "device-model/7/backend"},
	};

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (verdict(no[i].type, no[i].path, -1, what) != XSWIRE_REFUSE) {
			unit_fail(__FILE__, __LINE__, "not refused: %s", what);
			return;
		}
	}
	CHECK_INT(verdict(XS_INTRODUCE,
			  "1\0"
			  "2\0"
			  "3",
			  6, what),
		  XSWIRE_REFUSE);
	CHECK_INT(verdict(XS_SET_TARGET,
			  "1\0"
			  "2",
			  4, what),
		  XSWIRE_REFUSE);
	CHECK_INT(verdict(XS_RESET_WATCHES, "", 1, what), XSWIRE_REFUSE);
	CHECK_INT(verdict(XS_CONTROL, "log", -1, what), XSWIRE_REFUSE);
}

TEST(xswire_malformed_requests)
{
	char what[256];
	struct xsd_sockmsg h = {.type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1};

	/* Paths xenstored would not read as we do: not ours to pass. */
	CHECK_INT(verdict(XS_READ, "domid", 5, what), XSWIRE_MALFORMED);
	CHECK_CONTAINS(what, "not NUL-terminated");
	CHECK_INT(verdict(XS_WRITE, "device-model/7/state/../command", -1, what), XSWIRE_MALFORMED);
	CHECK_INT(verdict(XS_WRITE, "device-model//7/state", -1, what), XSWIRE_MALFORMED);
	CHECK_INT(verdict(XS_WRITE, "device-model/7/state/", -1, what), XSWIRE_MALFORMED);
	CHECK_INT(verdict(XS_WRITE, "", 1, what), XSWIRE_MALFORMED);
	CHECK_INT(verdict(XS_READ, "dom id", -1, what), XSWIRE_MALFORMED);
	/* Headers a client may not send. */
	CHECK(!xswire_header_ok(&h));
	h.len = 10;
	CHECK(xswire_header_ok(&h));
	h.type = XS_WATCH_EVENT;
	CHECK(!xswire_header_ok(&h));
	h.type = XS_ERROR;
	CHECK(!xswire_header_ok(&h));
	h.type = 999;
	CHECK(!xswire_header_ok(&h));
}

TEST(xswire_error_reply)
{
	struct xsd_sockmsg req = {.type = XS_WRITE, .req_id = 42, .tx_id = 3, .len = 5}, h;
	char out[XSWIRE_MAX];
	size_t n = xswire_error(&req, "EACCES", out);

	CHECK_INT(n, XSWIRE_HDR + 7);
	memcpy(&h, out, sizeof(h));
	CHECK_INT(h.type, XS_ERROR);
	CHECK_INT(h.req_id, 42);
	CHECK_INT(h.tx_id, 3);
	CHECK_INT(h.len, 7);
	CHECK(!memcmp(out + XSWIRE_HDR, "EACCES", 7));
	CHECK_STR(xswire_op(XS_SET_PERMS), "set_perms");
	CHECK_STR(xswire_op(12345), "unknown");
}
