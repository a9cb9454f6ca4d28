/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xswire: the xenstore wire protocol as QEMU speaks it to stubinit's filter (agent/xsproxy.h), and
 * the filter's policy. Owns reading one request's header and payload (checked: a type a client
 * may send, a payload within XENSTORE_PAYLOAD_MAX, a path that is NUL-terminated and a valid
 * xenstore path), resolving a relative path against the stubdomain's home as xenstored would,
 * and the verdict on it: which operations on which paths QEMU may have (README: Containing QEMU).
 * Pure: no I/O.
 *
 * The allow-list, with S the stubdomain and G the guest (paths absolute after resolving):
 *   read                                /local/domain/S/domid
 *   read                                /local/domain/G/image/device-model-domid
 *   read                                /local/domain/S/device/pci/0/backend
 *   read, directory                     /local/domain/0/backend/pci/S/0/...
 *   write                               /local/domain/S/device-model/G/state
 *   mkdir, set_perms, read, directory   /local/domain/S/device-model/G/backends/...
 *   everything but introduce/release    /local/domain/S/backend and below (QEMU's own backends)
 *   transactions, get_domain_path, unwatch of anything it watches
 * and nothing else: not the vchan nodes dom0's QMP and display are reached by, not stubinit's
 * status, not the command protocol's keys.
 */
#ifndef STUBINIT_XSWIRE_H
#define STUBINIT_XSWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#define XSWIRE_HDR sizeof(struct xsd_sockmsg)
#define XSWIRE_MAX (XSWIRE_HDR + XENSTORE_PAYLOAD_MAX)

struct xswire_ident {
	unsigned stubdom, guest;
};

enum xswire_verdict {
	XSWIRE_ALLOW,
	XSWIRE_REFUSE,	  /* answered with EACCES */
	XSWIRE_MALFORMED, /* answered with EINVAL */
};

/* Whether @h can start a request from a client: a known type a client sends, a payload length
 * within XENSTORE_PAYLOAD_MAX. The stream is out of step otherwise. */
bool xswire_header_ok(const struct xsd_sockmsg *h);

/* The operation's name for the log ("read", "write", ...). */
const char *xswire_op(uint32_t type);

/*
 * The verdict on one request (@payload: @h->len bytes). @what gets "<op> <absolute path>" (or why
 * it is malformed), for the log.
 */
enum xswire_verdict xswire_check(const struct xswire_ident *id, const struct xsd_sockmsg *h,
				 const char *payload, char *what, size_t len);

/* The error reply to @req: header and "<errname>\0" into @out (XSWIRE_MAX bytes). Returns its
 * length. */
size_t xswire_error(const struct xsd_sockmsg *req, const char *errname, char *out);

#endif
