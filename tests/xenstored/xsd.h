/* SPDX-License-Identifier: MIT */
/*
 * xsd.h - declarations shared by the test xenstored's three parts: the node tree and
 * permissions (store.c), the request handlers, watches and transactions (ops.c), and the
 * socket/epoll front end with its connections and log (main.c).
 *
 * This daemon only exists so that stubinit's tests can run real xenstore clients
 * (Debian's libxenstore and xenstore-utils) against something that speaks the genuine
 * wire protocol without needing a Xen host.
 */
#ifndef XSD_H
#define XSD_H

/* xs_wire.h only defines its xsd_errors[] table when errno.h came first. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

/* Access bits of one permission entry. OWNER is internal: it is never on the wire. */
#define XSD_PERM_NONE	0u
#define XSD_PERM_READ	1u
#define XSD_PERM_WRITE	2u
#define XSD_PERM_OWNER	4u

/* Unprivileged connections get the same per-domain limits as a default xenstored. */
#define XSD_MAX_TXNS	10
#define XSD_MAX_WATCHES	128

struct xsd_perm {
	unsigned int id;	/* domid */
	unsigned int mode;	/* XSD_PERM_READ | XSD_PERM_WRITE */
};

/* Entry 0 names the owner and the default access of everybody else. */
struct xsd_perms {
	unsigned int num;
	struct xsd_perm *p;
};

struct xsd_node {
	char *name;			/* last path component, "" for the root */
	char *value;			/* binary, may hold NULs; NULL when len == 0 */
	unsigned int len;
	struct xsd_perms perms;
	uint64_t gen;			/* changes whenever the node or its child list does */
	struct xsd_node *parent;
	struct xsd_node **child;	/* in creation order, as xenstored lists them */
	unsigned int nchild;
	unsigned int cap;
};

struct xsd_watch;
struct xsd_txn;

enum xsd_ep_kind { XSD_EP_LISTENER, XSD_EP_SIGNAL, XSD_EP_CONN };

struct xsd_conn {
	enum xsd_ep_kind kind;		/* first: epoll data points at it */
	struct xsd_conn *next;
	int fd;
	unsigned int serial;		/* for the log only */
	unsigned int domid;
	bool dead;			/* reaped after the current epoll batch */
	bool pollout;			/* EPOLLOUT currently requested */

	unsigned char in[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t inlen;

	unsigned char *out;
	size_t outoff, outlen, outcap;

	struct xsd_watch *watches;
	unsigned int nwatches;
	struct xsd_txn *txns;
	unsigned int ntxns;
};

/* main.c */
extern struct xsd_conn *xsd_conns;
void xsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool xsd_logging(void);
void conn_send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	       const void *data, size_t len);

/* store.c */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool path_valid(const char *path);
bool path_is_child(const char *child, const char *parent);
char *path_parent(const char *path);

struct xsd_node *node_new(struct xsd_node *parent, const char *name, size_t namelen,
			  const struct xsd_perms *perms);
struct xsd_node *node_walk(struct xsd_node *root, const char *path, bool *found);
struct xsd_node *node_lookup(struct xsd_node *root, const char *path);
struct xsd_node *node_copy(const struct xsd_node *src, struct xsd_node *parent);
void node_unlink(struct xsd_node *n);
void node_free(struct xsd_node *n);
void node_set_value(struct xsd_node *n, const void *value, size_t len);

void perms_copy(struct xsd_perms *dst, const struct xsd_perms *src);
void perms_free(struct xsd_perms *p);
int perms_parse(const char *s, size_t len, struct xsd_perms *out);
size_t perms_format(const struct xsd_perms *p, char *buf, size_t cap);
char *perms_describe(const struct xsd_perms *p);
unsigned int perm_for(unsigned int domid, int target, const struct xsd_perms *p);

/* ops.c */
void ops_init(void);
void ops_fini(void);
void ops_handle(struct xsd_conn *c, const struct xsd_sockmsg *hdr, const char *payload);
void ops_conn_gone(struct xsd_conn *c);

#endif /* XSD_H */
