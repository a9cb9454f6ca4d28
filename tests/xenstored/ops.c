// SPDX-License-Identifier: MIT
/*
 * ops.c - the xenstore protocol of the test daemon: one handler per request type, the
 * permission checks around them, watches and their events, transactions, and the little
 * domain bookkeeping (introduced/released, target) that permissions depend on.
 *
 * The semantics follow the behaviour of the real C xenstored as documented in
 * docs/misc/xenstore.txt, with one deliberate simplification: a transaction conflicts with
 * *any* change committed outside it since it started, not just with changes to the nodes
 * it touched.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

struct xsd_watch {
	struct xsd_watch *next;
	char *node;		/* absolute path or @special */
	char *token;
	bool relative;		/* registered relative: report events relative again */
};

/*
 * A change that may trigger watches.  snap holds permission sets the node had around the
 * change (before a removal or a permission change): a watcher that could read the node
 * then still hears about it, as with xenstored.
 */
struct xsd_event {
	struct xsd_event *next;
	char *path;
	bool exact;		/* only watches on exactly this path (children of a removal) */
	struct xsd_perms *snap;
	unsigned int nsnap;
};

struct xsd_txn {
	struct xsd_txn *next;
	uint32_t id;
	struct xsd_node *root;	/* private copy of the whole store */
	uint64_t start_gen;
	bool dirty;
	struct xsd_event *events;	/* fired only if the commit succeeds */
};

struct domain {
	struct domain *next;
	unsigned int domid;
	bool introduced;
	bool released;
	int target;		/* -1: none */
};

struct special {
	const char *name;
	struct xsd_perms perms;
};

/* The state of one request while it is handled. */
struct req {
	struct xsd_conn *conn;
	const struct xsd_sockmsg *hdr;
	const char *data;	/* payload, with a NUL sentinel after len */
	size_t len;
	struct xsd_txn *tx;
	struct xsd_node *root;	/* the tree this request works on */
	char *what;		/* description for the log */
};

static struct xsd_node *root;
static uint64_t store_gen;	/* counts changes committed to the main tree */
static uint64_t node_gen;	/* source of xsd_node.gen values */
static uint32_t next_txid = 1;
static struct domain *domains;
static struct special specials[] = {
	{ "@introduceDomain", { 0, NULL } },
	{ "@releaseDomain", { 0, NULL } },
};

static const char *const op_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

static const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EIO";
}

/* ---- domains ---------------------------------------------------------------------- */

static struct domain *domain_get(unsigned int domid, bool create)
{
	struct domain *d;

	for (d = domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	if (!create)
		return NULL;
	d = xmalloc(sizeof(*d));
	d->domid = domid;
	d->introduced = false;
	d->released = false;
	d->target = -1;
	d->next = domains;
	domains = d;
	return d;
}

static int domain_target(unsigned int domid)
{
	struct domain *d = domain_get(domid, false);

	return d ? d->target : -1;
}

static bool privileged(const struct xsd_conn *c)
{
	return c->domid == 0;
}

static unsigned int conn_perm(const struct xsd_conn *c, const struct xsd_perms *p)
{
	return perm_for(c->domid, domain_target(c->domid), p);
}

static struct special *special_find(const char *name)
{
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (!strcmp(specials[i].name, name))
			return &specials[i];
	return NULL;
}

/* ---- request arguments ------------------------------------------------------------- */

/* The payload must be exactly one NUL-terminated string. */
static const char *onearg(const struct req *r)
{
	if (!r->len || memchr(r->data, '\0', r->len) != r->data + r->len - 1)
		return NULL;
	return r->data;
}

/* Split up to max NUL-terminated strings off the payload; returns how many were complete. */
static unsigned int get_strings(const struct req *r, const char **vec, unsigned int max)
{
	const char *p = r->data, *end = r->data + r->len;
	unsigned int n = 0;

	while (n < max && p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			break;
		vec[n++] = p;
		p = nul + 1;
	}
	return n;
}

static int parse_domid(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Relative paths live under the connection's home, /local/domain/<domid>. */
static char *canonicalize(const struct xsd_conn *c, const char *path)
{
	if (path[0] == '/' || path[0] == '@')
		return xstrdup(path);
	return xasprintf("/local/domain/%u/%s", c->domid, path);
}

/* ---- replies ------------------------------------------------------------------------ */

static void reply(struct req *r, uint32_t type, const void *data, size_t len)
{
	conn_send(r->conn, type, r->hdr->req_id, r->hdr->tx_id, data, len);
}

static void reply_ok(struct req *r)
{
	reply(r, r->hdr->type, "OK", 3);
}

static void reply_str(struct req *r, const char *s)
{
	reply(r, r->hdr->type, s, strlen(s) + 1);
}

/* ---- watches and events ------------------------------------------------------------- */

static struct xsd_event *event_new(const char *path, bool exact)
{
	struct xsd_event *e = xmalloc(sizeof(*e));

	e->next = NULL;
	e->path = xstrdup(path);
	e->exact = exact;
	e->snap = NULL;
	e->nsnap = 0;
	return e;
}

static void event_snap(struct xsd_event *e, const struct xsd_perms *p)
{
	e->snap = xrealloc(e->snap, (e->nsnap + 1) * sizeof(*e->snap));
	perms_copy(&e->snap[e->nsnap++], p);
}

static void event_free(struct xsd_event *e)
{
	for (unsigned int i = 0; i < e->nsnap; i++)
		perms_free(&e->snap[i]);
	free(e->snap);
	free(e->path);
	free(e);
}

/*
 * Like xenstored, a watcher hears of a change only if it can read the node, either as it
 * was around the change or as it is now, or can read the node's parent.
 */
static bool event_permitted(const struct xsd_conn *c, const struct xsd_event *e)
{
	struct xsd_node *n;

	if (privileged(c))
		return true;
	if (e->path[0] == '@') {
		struct special *s = special_find(e->path);

		return s && (conn_perm(c, &s->perms) & XSD_PERM_READ);
	}
	for (unsigned int i = 0; i < e->nsnap; i++)
		if (conn_perm(c, &e->snap[i]) & XSD_PERM_READ)
			return true;
	n = node_lookup(root, e->path);
	if (n && (conn_perm(c, &n->perms) & XSD_PERM_READ))
		return true;
	if (n && n->parent && (conn_perm(c, &n->parent->perms) & XSD_PERM_READ))
		return true;
	return false;
}

static void send_event(struct xsd_conn *c, const struct xsd_watch *w, const char *path)
{
	size_t plen, tlen;
	char *buf;

	if (w->relative) {
		char *base = xasprintf("/local/domain/%u", c->domid);
		size_t blen = strlen(base);

		if (!strncmp(path, base, blen)) {
			path += blen;
			if (*path == '/')
				path++;
		}
		free(base);
	}
	plen = strlen(path) + 1;
	tlen = strlen(w->token) + 1;
	buf = xmalloc(plen + tlen);
	memcpy(buf, path, plen);
	memcpy(buf + plen, w->token, tlen);
	conn_send(c, XS_WATCH_EVENT, 0, 0, buf, plen + tlen);
	free(buf);
	xsd_log("conn %u dom%u EVENT %s token %s", c->serial, c->domid, path, w->token);
}

static void fire_event(const struct xsd_event *e)
{
	for (struct xsd_conn *c = xsd_conns; c; c = c->next) {
		if (c->dead || !c->watches || !event_permitted(c, e))
			continue;
		for (struct xsd_watch *w = c->watches; w; w = w->next) {
			bool match = e->exact ? !strcmp(e->path, w->node)
					      : path_is_child(e->path, w->node);

			if (match)
				send_event(c, w, e->path);
		}
	}
}

/*
 * Account for a change to the tree a request works on.  Outside a transaction its watches
 * fire now; inside one they wait for the commit (merged per path, as xenstored does).
 */
static void changed(struct req *r, struct xsd_event *e)
{
	struct xsd_event **pp;

	if (!r->tx) {
		store_gen++;
		fire_event(e);
		event_free(e);
		return;
	}
	r->tx->dirty = true;
	for (pp = &r->tx->events; *pp; pp = &(*pp)->next) {
		struct xsd_event *q = *pp;

		if (q->exact == e->exact && !strcmp(q->path, e->path)) {
			for (unsigned int i = 0; i < e->nsnap; i++)
				event_snap(q, &e->snap[i]);
			event_free(e);
			return;
		}
	}
	*pp = e;
}

static void watch_free(struct xsd_watch *w)
{
	free(w->node);
	free(w->token);
	free(w);
}

static void conn_drop_watches(struct xsd_conn *c)
{
	while (c->watches) {
		struct xsd_watch *w = c->watches;

		c->watches = w->next;
		watch_free(w);
	}
	c->nwatches = 0;
}

/* ---- transactions ------------------------------------------------------------------- */

static void txn_free(struct xsd_txn *t)
{
	while (t->events) {
		struct xsd_event *e = t->events;

		t->events = e->next;
		event_free(e);
	}
	node_free(t->root);
	free(t);
}

static struct xsd_txn *txn_find(struct xsd_conn *c, uint32_t id)
{
	for (struct xsd_txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void txn_unlink(struct xsd_conn *c, struct xsd_txn *t)
{
	for (struct xsd_txn **pp = &c->txns; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			c->ntxns--;
			return;
		}
	}
}

static void conn_drop_txns(struct xsd_conn *c)
{
	while (c->txns) {
		struct xsd_txn *t = c->txns;

		c->txns = t->next;
		txn_free(t);
	}
	c->ntxns = 0;
}

/* ---- node access -------------------------------------------------------------------- */

/*
 * Find a node the connection may access with the 'need' bits.  As in xenstored, a missing
 * node reports ENOENT only if the nearest existing ancestor grants one of those bits;
 * otherwise EACCES, so that a domain cannot probe what it may not see.
 */
static struct xsd_node *get_node(struct req *r, const char *path, unsigned int need, int *err)
{
	bool found;
	struct xsd_node *n;

	if (!path_valid(path)) {
		*err = EINVAL;
		return NULL;
	}
	n = node_walk(r->root, path, &found);
	if (found) {
		if ((conn_perm(r->conn, &n->perms) & need) == need)
			return n;
		*err = EACCES;
		return NULL;
	}
	*err = (conn_perm(r->conn, &n->perms) & need) ? ENOENT : EACCES;
	return NULL;
}

/*
 * Create path and any missing parents.  New nodes inherit their parent's permissions, but
 * what an unprivileged domain creates it owns.  The caller has checked write access.
 */
static struct xsd_node *create_node(struct req *r, const char *path)
{
	bool found;
	struct xsd_node *n = node_walk(r->root, path, &found);
	const char *p = path + 1;

	/* Skip the components that exist. */
	for (struct xsd_node *a = n; a->parent; a = a->parent) {
		p = strchrnul(p, '/');
		if (*p)
			p++;
	}
	n->gen = ++node_gen;
	while (*p) {
		const char *end = strchrnul(p, '/');
		struct xsd_node *c = node_new(n, p, (size_t)(end - p), &n->perms);

		if (!privileged(r->conn))
			c->perms.p[0].id = r->conn->domid;
		c->gen = ++node_gen;
		n = c;
		p = *end ? end + 1 : end;
	}
	return n;
}

/* ---- handlers: each returns 0 after replying, or an errno value to reply with -------- */

static int op_read(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_node *n;
	char *path;
	int err;

	if (!arg)
		return EINVAL;
	path = canonicalize(r->conn, arg);
	r->what = xstrdup(path);
	n = get_node(r, path, XSD_PERM_READ, &err);
	free(path);
	if (!n)
		return err;
	reply(r, XS_READ, n->value, n->len);
	return 0;
}

/* "path = "value"" for the log, printable and cut short so that it stays one line. */
static char *describe_write(const char *path, const char *value, size_t len)
{
	char shown[67];
	size_t n = len > 64 ? 64 : len;

	for (size_t i = 0; i < n; i++)
		shown[i] = value[i] >= ' ' && value[i] <= '~' ? value[i] : '?';
	strcpy(shown + n, len > n ? ".." : "");
	return xasprintf("%s = \"%s\"", path, shown);
}

static int op_write(struct req *r)
{
	const char *nul = memchr(r->data, '\0', r->len);
	struct xsd_node *n;
	struct xsd_event *e;
	size_t vlen;
	char *path;
	int err;

	if (!nul)
		return EINVAL;
	vlen = r->len - (size_t)(nul + 1 - r->data);
	path = canonicalize(r->conn, r->data);
	r->what = describe_write(path, nul + 1, vlen);
	n = get_node(r, path, XSD_PERM_WRITE, &err);
	if (!n && err == ENOENT)
		n = create_node(r, path);
	if (!n) {
		free(path);
		return err;
	}
	node_set_value(n, nul + 1, vlen);
	n->gen = ++node_gen;
	e = event_new(path, false);
	free(path);
	changed(r, e);
	reply_ok(r);
	return 0;
}

static int op_mkdir(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_node *n;
	char *path;
	int err;

	if (!arg)
		return EINVAL;
	path = canonicalize(r->conn, arg);
	r->what = xstrdup(path);
	n = get_node(r, path, XSD_PERM_WRITE, &err);
	if (!n) {
		if (err != ENOENT) {
			free(path);
			return err;
		}
		create_node(r, path);
		changed(r, event_new(path, false));
	}
	free(path);
	reply_ok(r);
	return 0;
}

/*
 * Remove n and everything below it.  Children go first and only fire watches set exactly
 * on them; the node asked for fires watches on itself and on its ancestors, like xenstored.
 */
static void delete_tree(struct req *r, struct xsd_node *n, const char *path, bool exact)
{
	struct xsd_event *e;

	while (n->nchild) {
		struct xsd_node *c = n->child[0];
		char *cpath = xasprintf("%s/%s", strcmp(path, "/") ? path : "", c->name);

		delete_tree(r, c, cpath, true);
		free(cpath);
	}
	e = event_new(path, exact);
	event_snap(e, &n->perms);
	if (n->parent) {
		event_snap(e, &n->parent->perms);
		n->parent->gen = ++node_gen;
	}
	node_unlink(n);
	node_free(n);
	changed(r, e);
}

static int op_rm(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_node *n;
	char *path;
	int err;

	if (!arg)
		return EINVAL;
	path = canonicalize(r->conn, arg);
	r->what = xstrdup(path);
	n = get_node(r, path, XSD_PERM_WRITE, &err);
	if (!n) {
		/* Already gone is fine, as long as the parent exists. */
		if (err == ENOENT) {
			char *parent = path_parent(path);

			if (node_lookup(r->root, parent))
				err = 0;
			free(parent);
		}
		free(path);
		if (!err)
			reply_ok(r);
		return err;
	}
	if (!n->parent) {
		free(path);
		return EINVAL;
	}
	delete_tree(r, n, path, false);
	free(path);
	reply_ok(r);
	return 0;
}

static char *child_list(const struct xsd_node *n, size_t *len)
{
	size_t total = 0;
	char *buf, *p;

	for (unsigned int i = 0; i < n->nchild; i++)
		total += strlen(n->child[i]->name) + 1;
	p = buf = xmalloc(total);
	for (unsigned int i = 0; i < n->nchild; i++) {
		size_t l = strlen(n->child[i]->name) + 1;

		memcpy(p, n->child[i]->name, l);
		p += l;
	}
	*len = total;
	return buf;
}

static int op_directory(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_node *n;
	size_t len;
	char *path, *list;
	int err;

	if (!arg)
		return EINVAL;
	path = canonicalize(r->conn, arg);
	r->what = xstrdup(path);
	n = get_node(r, path, XSD_PERM_READ, &err);
	free(path);
	if (!n)
		return err;
	list = child_list(n, &len);
	/* Too long for one message: libxenstore then retries with DIRECTORY_PART. */
	if (len > XENSTORE_PAYLOAD_MAX) {
		free(list);
		return E2BIG;
	}
	reply(r, XS_DIRECTORY, list, len);
	free(list);
	return 0;
}

/*
 * DIRECTORY_PART: <path>|<offset>| -> <gen>|<names from byte offset>..., with an extra
 * empty string once the list is complete.  The generation lets the client restart if
 * the directory changes between parts.
 */
static int op_directory_part(struct req *r)
{
	const char *vec[2];
	char gen[24], *path, *list, *buf;
	struct xsd_node *n;
	size_t len, genlen, off, end, used;
	unsigned long long o;
	char *endp;
	int err;

	if (get_strings(r, vec, 2) != 2)
		return EINVAL;
	errno = 0;
	o = strtoull(vec[1], &endp, 10);
	if (errno || *endp || vec[1][0] < '0' || vec[1][0] > '9')
		return EINVAL;
	path = canonicalize(r->conn, vec[0]);
	r->what = xasprintf("%s @%llu", path, o);
	n = get_node(r, path, XSD_PERM_READ, &err);
	free(path);
	if (!n)
		return err;
	genlen = (size_t)snprintf(gen, sizeof(gen), "%" PRIu64, n->gen) + 1;
	list = child_list(n, &len);
	off = o < len ? (size_t)o : len;
	for (end = off; end < len;) {
		size_t l = strlen(list + end) + 1;

		if (genlen + (end - off) + l + 1 > XENSTORE_PAYLOAD_MAX)
			break;
		end += l;
	}
	buf = xmalloc(genlen + (end - off) + 1);
	memcpy(buf, gen, genlen);
	memcpy(buf + genlen, list + off, end - off);
	used = genlen + (end - off);
	if (end == len)
		buf[used++] = '\0';
	reply(r, XS_DIRECTORY_PART, buf, used);
	free(buf);
	free(list);
	return 0;
}

static void reply_perms(struct req *r, const struct xsd_perms *p)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = perms_format(p, buf, sizeof(buf));

	if (!len) {
		reply(r, XS_ERROR, "E2BIG", 6);
		return;
	}
	reply(r, XS_GET_PERMS, buf, len);
}

static int op_get_perms(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_node *n;
	char *path;
	int err;

	if (!arg)
		return EINVAL;
	path = canonicalize(r->conn, arg);
	r->what = xstrdup(path);
	if (path[0] == '@') {
		struct special *s = special_find(path);

		free(path);
		if (!s)
			return ENOENT;
		if (!(conn_perm(r->conn, &s->perms) & XSD_PERM_READ))
			return EACCES;
		reply_perms(r, &s->perms);
		return 0;
	}
	n = get_node(r, path, XSD_PERM_READ, &err);
	free(path);
	if (!n)
		return err;
	reply_perms(r, &n->perms);
	return 0;
}

static int op_set_perms(struct req *r)
{
	const char *nul = memchr(r->data, '\0', r->len);
	struct xsd_perms perms, old;
	struct xsd_node *n;
	struct xsd_event *e;
	char *path, *desc;
	int err;

	if (!nul || nul + 1 >= r->data + r->len)
		return EINVAL;
	if (perms_parse(nul + 1, r->len - (size_t)(nul + 1 - r->data), &perms) < 1)
		return EINVAL;
	path = canonicalize(r->conn, r->data);
	desc = perms_describe(&perms);
	r->what = xasprintf("%s %s", path, desc);
	free(desc);
	if (path[0] == '@') {
		struct special *s = special_find(path);

		err = !s ? ENOENT : (conn_perm(r->conn, &s->perms) & XSD_PERM_OWNER) ? 0 : EACCES;
		if (!err) {
			perms_free(&s->perms);
			s->perms = perms;
			reply_ok(r);
		} else {
			perms_free(&perms);
		}
		free(path);
		return err;
	}
	/* Only the owner (or dom0) may change permissions... */
	n = get_node(r, path, XSD_PERM_WRITE | XSD_PERM_OWNER, &err);
	/* ...and an unprivileged owner may not give the node away. */
	if (n && !privileged(r->conn) && perms.p[0].id != n->perms.p[0].id) {
		n = NULL;
		err = EPERM;
	}
	if (!n) {
		perms_free(&perms);
		free(path);
		return err;
	}
	old = n->perms;
	n->perms = perms;
	n->gen = ++node_gen;
	e = event_new(path, false);
	event_snap(e, &old);
	perms_free(&old);
	free(path);
	changed(r, e);
	reply_ok(r);
	return 0;
}

static int op_watch(struct req *r)
{
	const char *vec[2];
	struct xsd_watch *w, **pp;
	bool relative;
	char *path;

	if (get_strings(r, vec, 2) != 2)
		return EINVAL;
	path = canonicalize(r->conn, vec[0]);
	r->what = xasprintf("%s token %s", path, vec[1]);
	if (path[0] == '@') {
		relative = false;
		if (strlen(path) > XENSTORE_REL_PATH_MAX) {
			free(path);
			return EINVAL;
		}
	} else {
		relative = vec[0][0] != '/';
		if (!path_valid(path)) {
			free(path);
			return EINVAL;
		}
	}
	for (pp = &r->conn->watches; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->node, path) && !strcmp((*pp)->token, vec[1])) {
			free(path);
			return EEXIST;
		}
	}
	if (!privileged(r->conn) && r->conn->nwatches >= XSD_MAX_WATCHES) {
		free(path);
		return E2BIG;
	}
	w = xmalloc(sizeof(*w));
	w->next = NULL;
	w->node = path;
	w->token = xstrdup(vec[1]);
	w->relative = relative;
	*pp = w;
	r->conn->nwatches++;
	reply_ok(r);
	/* Every new watch fires once straight away, so clients need not read first. */
	send_event(r->conn, w, w->node);
	return 0;
}

static int op_unwatch(struct req *r)
{
	const char *vec[2];
	char *path;

	if (get_strings(r, vec, 2) != 2)
		return EINVAL;
	path = canonicalize(r->conn, vec[0]);
	r->what = xasprintf("%s token %s", path, vec[1]);
	for (struct xsd_watch **pp = &r->conn->watches; *pp; pp = &(*pp)->next) {
		struct xsd_watch *w = *pp;

		if (strcmp(w->node, path) || strcmp(w->token, vec[1]))
			continue;
		*pp = w->next;
		watch_free(w);
		r->conn->nwatches--;
		free(path);
		reply_ok(r);
		return 0;
	}
	free(path);
	return ENOENT;
}

static int op_reset_watches(struct req *r)
{
	conn_drop_watches(r->conn);
	conn_drop_txns(r->conn);
	reply_ok(r);
	return 0;
}

static int op_transaction_start(struct req *r)
{
	struct xsd_txn *t;
	char id[16];

	if (r->tx)
		return EBUSY;
	if (!privileged(r->conn) && r->conn->ntxns >= XSD_MAX_TXNS)
		return ENOSPC;
	t = xmalloc(sizeof(*t));
	/* Ids are unique across all connections; 0 means "no transaction" on the wire. */
	do {
		t->id = next_txid++;
	} while (!t->id);
	t->root = node_copy(root, NULL);
	t->start_gen = store_gen;
	t->dirty = false;
	t->events = NULL;
	t->next = r->conn->txns;
	r->conn->txns = t;
	r->conn->ntxns++;
	snprintf(id, sizeof(id), "%" PRIu32, t->id);
	r->what = xasprintf("-> %s", id);
	reply_str(r, id);
	return 0;
}

static int op_transaction_end(struct req *r)
{
	const char *arg = onearg(r);
	struct xsd_txn *t = r->tx;
	bool commit;

	if (!t)
		return ENOENT;
	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return EINVAL;
	commit = arg[0] == 'T';
	r->what = xasprintf("%u %s", t->id, commit ? "commit" : "abort");
	txn_unlink(r->conn, t);
	if (!commit || !t->dirty) {
		/* A read-only transaction saw a consistent snapshot: nothing can conflict. */
		txn_free(t);
		reply_ok(r);
		return 0;
	}
	if (t->start_gen != store_gen) {
		txn_free(t);
		return EAGAIN;
	}
	/* Nothing changed since the copy was taken, so the copy is the new store. */
	node_free(root);
	root = t->root;
	t->root = NULL;
	store_gen++;
	for (struct xsd_event *e = t->events; e; e = e->next)
		fire_event(e);
	txn_free(t);
	reply_ok(r);
	return 0;
}

static int op_get_domain_path(struct req *r)
{
	const char *arg = onearg(r);
	unsigned int domid;
	char path[32];

	if (!arg || parse_domid(arg, &domid))
		return EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	r->what = xstrdup(arg);
	reply_str(r, path);
	return 0;
}

/*
 * Every domain that can talk to us is as good as introduced; only an explicit RELEASE
 * (without a later INTRODUCE) makes a domain count as gone.
 */
static int op_is_domain_introduced(struct req *r)
{
	const char *arg = onearg(r);
	struct domain *d;
	unsigned int domid;

	if (!arg || parse_domid(arg, &domid))
		return EINVAL;
	r->what = xstrdup(arg);
	d = domain_get(domid, false);
	reply_str(r, d && d->released ? "F" : "T");
	return 0;
}

static void fire_special(const char *name)
{
	struct xsd_event *e = event_new(name, false);

	fire_event(e);
	event_free(e);
}

static int op_introduce(struct req *r)
{
	const char *vec[3];
	unsigned int domid;
	struct domain *d;

	if (!privileged(r->conn))
		return EACCES;
	if (get_strings(r, vec, 3) != 3 || parse_domid(vec[0], &domid) || !domid)
		return EINVAL;
	r->what = xasprintf("%u mfn %s evtchn %s", domid, vec[1], vec[2]);
	d = domain_get(domid, true);
	if (!d->introduced || d->released) {
		d->introduced = true;
		d->released = false;
		fire_special("@introduceDomain");
	}
	reply_ok(r);
	return 0;
}

static int op_release(struct req *r)
{
	const char *arg = onearg(r);
	unsigned int domid;
	struct domain *d;

	if (!privileged(r->conn))
		return EACCES;
	if (!arg || parse_domid(arg, &domid) || !domid)
		return EINVAL;
	r->what = xstrdup(arg);
	d = domain_get(domid, true);
	d->introduced = false;
	d->released = true;
	d->target = -1;
	fire_special("@releaseDomain");
	reply_ok(r);
	return 0;
}

static int op_resume(struct req *r)
{
	const char *arg = onearg(r);
	unsigned int domid;

	if (!privileged(r->conn))
		return EACCES;
	if (!arg || parse_domid(arg, &domid))
		return EINVAL;
	r->what = xstrdup(arg);
	reply_ok(r);
	return 0;
}

/* <domid>|<target>|: domid (a device model) gets target's rights from now on. */
static int op_set_target(struct req *r)
{
	const char *vec[2];
	unsigned int domid, target;

	if (!privileged(r->conn))
		return EACCES;
	if (get_strings(r, vec, 2) != 2 || parse_domid(vec[0], &domid) ||
	    parse_domid(vec[1], &target))
		return EINVAL;
	r->what = xasprintf("%u -> %u", domid, target);
	domain_get(domid, true)->target = (int)target;
	reply_ok(r);
	return 0;
}

/* Just enough of CONTROL for a client probing it. */
static int op_control(struct req *r)
{
	const char *vec[1];

	if (!privileged(r->conn))
		return EACCES;
	if (get_strings(r, vec, 1) != 1)
		return EINVAL;
	r->what = xstrdup(vec[0]);
	if (!strcmp(vec[0], "help")) {
		reply_str(r, "check\nhelp\nprint\n");
	} else if (!strcmp(vec[0], "check") || !strcmp(vec[0], "print")) {
		reply_ok(r);
	} else {
		return EINVAL;
	}
	return 0;
}

typedef int (*handler_fn)(struct req *r);

static const handler_fn handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = op_control,
	[XS_DIRECTORY] = op_directory,
	[XS_READ] = op_read,
	[XS_GET_PERMS] = op_get_perms,
	[XS_WATCH] = op_watch,
	[XS_UNWATCH] = op_unwatch,
	[XS_TRANSACTION_START] = op_transaction_start,
	[XS_TRANSACTION_END] = op_transaction_end,
	[XS_INTRODUCE] = op_introduce,
	[XS_RELEASE] = op_release,
	[XS_GET_DOMAIN_PATH] = op_get_domain_path,
	[XS_WRITE] = op_write,
	[XS_MKDIR] = op_mkdir,
	[XS_RM] = op_rm,
	[XS_SET_PERMS] = op_set_perms,
	[XS_IS_DOMAIN_INTRODUCED] = op_is_domain_introduced,
	[XS_RESUME] = op_resume,
	[XS_SET_TARGET] = op_set_target,
	[XS_RESET_WATCHES] = op_reset_watches,
	[XS_DIRECTORY_PART] = op_directory_part,
};

/* Requests that work on the store, and so on the tree of the transaction in tx_id. */
static bool uses_transaction(uint32_t type)
{
	switch (type) {
	case XS_READ:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_SET_PERMS:
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
		return true;
	default:
		return false;
	}
}

void ops_handle(struct xsd_conn *c, const struct xsd_sockmsg *hdr, const char *payload)
{
	struct req r = {
		.conn = c,
		.hdr = hdr,
		.data = payload,
		.len = hdr->len,
		.root = root,
	};
	const char *name = hdr->type < XS_TYPE_COUNT && op_names[hdr->type] ?
			   op_names[hdr->type] : "UNKNOWN";
	handler_fn fn = hdr->type < XS_TYPE_COUNT ? handlers[hdr->type] : NULL;
	int err;

	if (!fn) {
		err = EINVAL;
	} else if (uses_transaction(hdr->type) && hdr->tx_id &&
		   !(r.tx = txn_find(c, hdr->tx_id))) {
		err = ENOENT;
	} else {
		if (r.tx)
			r.root = r.tx->root;
		err = fn(&r);
	}
	if (err)
		reply(&r, XS_ERROR, errno_name(err), strlen(errno_name(err)) + 1);
	if (xsd_logging()) {
		char tx[24] = "";

		if (hdr->tx_id)
			snprintf(tx, sizeof(tx), " [tx %" PRIu32 "]", hdr->tx_id);
		xsd_log("conn %u dom%u %s(%" PRIu32 ") %s%s -> %s", c->serial, c->domid, name,
			hdr->type, r.what ? r.what : "", tx, err ? errno_name(err) : "OK");
	}
	free(r.what);
}

void ops_conn_gone(struct xsd_conn *c)
{
	conn_drop_watches(c);
	conn_drop_txns(c);
}

/* The tree of a freshly started xenstored: /, /local, /local/domain and /tool, dom0's. */
void ops_init(void)
{
	struct xsd_perms dom0 = { 1, (struct xsd_perm[]){ { 0, XSD_PERM_NONE } } };
	struct xsd_node *local;

	root = node_new(NULL, "", 0, &dom0);
	local = node_new(root, "local", 5, &dom0);
	node_new(local, "domain", 6, &dom0);
	node_new(root, "tool", 4, &dom0);
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		perms_copy(&specials[i].perms, &dom0);
}

void ops_fini(void)
{
	node_free(root);
	root = NULL;
	while (domains) {
		struct domain *d = domains;

		domains = d->next;
		free(d);
	}
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		perms_free(&specials[i].perms);
}
