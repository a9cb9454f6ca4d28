// SPDX-License-Identifier: GPL-2.0-only
/*
 * xswire: xenstore requests from QEMU, checked and judged. See xswire.h.
 */
#include "xswire.h"

#include <stdio.h>
#include <string.h>

#define OP(t) (1u << (t))

/* What a rule grants, on one path (exactly) or on a path and everything below it. */
struct rule {
	uint32_t ops;
	const char *path; /* S: the stubdomain's id, G: the guest's */
	bool subtree;
};

#define READS (OP(XS_READ) | OP(XS_DIRECTORY) | OP(XS_DIRECTORY_PART) | OP(XS_GET_PERMS))
#define OWN                                                                                        \
	(READS | OP(XS_WATCH) | OP(XS_UNWATCH) | OP(XS_WRITE) | OP(XS_MKDIR) | OP(XS_RM) |         \
	 OP(XS_SET_PERMS))

static const struct rule rules[] = {
	{OP(XS_READ), "/local/domain/S/domid", false},
	{OP(XS_READ), "/local/domain/G/image/device-model-domid", false},
	{OP(XS_READ), "/local/domain/S/device/pci/0/backend", false},
	{READS, "/local/domain/0/backend/pci/S/0", true},
	{OP(XS_WRITE), "/local/domain/S/device-model/G/state", false},
	{READS | OP(XS_MKDIR) | OP(XS_SET_PERMS), "/local/domain/S/device-model/G/backends", true},
	{OWN, "/local/domain/S/backend", true},
};

static const char *const names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "control",
	[XS_DIRECTORY] = "directory",
	[XS_READ] = "read",
	[XS_GET_PERMS] = "get_perms",
	[XS_WATCH] = "watch",
	[XS_UNWATCH] = "unwatch",
	[XS_TRANSACTION_START] = "transaction_start",
	[XS_TRANSACTION_END] = "transaction_end",
	[XS_INTRODUCE] = "introduce",
	[XS_RELEASE] = "release",
	[XS_GET_DOMAIN_PATH] = "get_domain_path",
	[XS_WRITE] = "write",
	[XS_MKDIR] = "mkdir",
	[XS_RM] = "rm",
	[XS_SET_PERMS] = "set_perms",
	[XS_WATCH_EVENT] = "watch_event",
	[XS_ERROR] = "error",
	[XS_IS_DOMAIN_INTRODUCED] = "is_domain_introduced",
	[XS_RESUME] = "resume",
	[XS_SET_TARGET] = "set_target",
	[XS_RESET_WATCHES] = "reset_watches",
	[XS_DIRECTORY_PART] = "directory_part",
};

const char *xswire_op(uint32_t type)
{
	return type < XS_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

bool xswire_header_ok(const struct xsd_sockmsg *h)
{
	return h->type < XS_TYPE_COUNT && names[h->type] && h->type != XS_WATCH_EVENT &&
	       h->type != XS_ERROR && h->len <= XENSTORE_PAYLOAD_MAX;
}

size_t xswire_error(const struct xsd_sockmsg *req, const char *errname, char *out)
{
	struct xsd_sockmsg h = {.type = XS_ERROR, .req_id = req->req_id, .tx_id = req->tx_id};
	size_t n = strlen(errname) + 1;

	h.len = (uint32_t)n;
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), errname, n);
	return sizeof(h) + n;
}

/* As xenstored's is_valid_nodename: [A-Za-z0-9-/_@], no "//", no trailing '/', within the
 * lengths it allows. */
static bool valid_path(const char *p)
{
	size_t n = strlen(p);

	if (!n || n > 3072 || (n > 1 && p[n - 1] == '/') || strstr(p, "//"))
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-/_@", *p)))
			return false;
	return true;
}

/* @path (relative to the stubdomain's home, as xenstored resolves it, or absolute) into @abs. */
static bool resolve(const struct xswire_ident *id, const char *path, char *abs, size_t len)
{
	int n = path[0] == '/' ? snprintf(abs, len, "%s", path)
			       : snprintf(abs, len, "/local/domain/%u/%s", id->stubdom, path);

	return n > 0 && (size_t)n < len;
}

static bool matches(const struct xswire_ident *id, const struct rule *r, const char *abs)
{
	char want[128];
	size_t n = 0;

	for (const char *t = r->path; *t && n < sizeof(want) - 8; t++) {
		if (*t == 'S' || *t == 'G')
			n += (size_t)snprintf(want + n, sizeof(want) - n, "%u",
					      *t == 'S' ? id->stubdom : id->guest);
		else
			want[n++] = *t;
	}
	want[n] = 0;
	if (strncmp(abs, want, n))
		return false;
	return !abs[n] || (r->subtree && abs[n] == '/');
}

static enum xswire_verdict malformed(char *what, size_t len, const char *op, const char *why)
{
	snprintf(what, len, "%s: %s", op, why);
	return XSWIRE_MALFORMED;
}

enum xswire_verdict xswire_check(const struct xswire_ident *id, const struct xsd_sockmsg *h,
				 const char *payload, char *what, size_t len)
{
	const char *op = xswire_op(h->type);
	char abs[3200];
	const char *end = memchr(payload, 0, h->len);

	switch (h->type) {
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
	case XS_GET_DOMAIN_PATH:
		/* Its own transactions; a domain's path says nothing new. */
		snprintf(what, len, "%s", op);
		return XSWIRE_ALLOW;
	case XS_READ:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_WATCH:
	case XS_UNWATCH:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
		break;
	default:
		snprintf(what, len, "%s", op);
		return XSWIRE_REFUSE;
	}
	if (!end)
		return malformed(what, len, op, "the path is not NUL-terminated");
	if (!valid_path(payload))
		return malformed(what, len, op, "not a valid xenstore path");
	if (!resolve(id, payload, abs, sizeof(abs)))
		return malformed(what, len, op, "the path is too long");
	snprintf(what, len, "%s %s", op, abs);
	/* Unwatching is only ever of a watch it set, which passed the rules. */
	if (h->type == XS_UNWATCH)
		return XSWIRE_ALLOW;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if ((rules[i].ops & OP(h->type)) && matches(id, &rules[i], abs))
			return XSWIRE_ALLOW;
	return XSWIRE_REFUSE;
}
