// SPDX-License-Identifier: MIT
/*
 * store.c - the test xenstored's in-memory node tree: allocation helpers, path syntax,
 * node lookup/creation/copy/removal, and the permission model (parsing "r5"-style strings
 * and deciding what a domain may do with a node).
 *
 * Nothing here knows about connections or the wire; ops.c applies the protocol rules.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsd.h"

/*
 * A test daemon has no sensible way to limp on without memory, and a half-applied request
 * would only make test failures harder to read, so allocation failure ends the process.
 */
static void __attribute__((noreturn)) out_of_memory(void)
{
	fputs("test-xenstored: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		out_of_memory();
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		out_of_memory();
	return s;
}

static bool path_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '/' || ch == '_' || ch == '@';
}

/*
 * The node name rules of docs/misc/xenstore.txt: absolute, no empty components, no
 * trailing slash except for the root, a restricted character set.  Like xenstored, the
 * part below /local/domain/N/ may be as long as a relative path may be.
 */
bool path_valid(const char *path)
{
	size_t len = strlen(path);
	unsigned int domid;
	int off = 0;

	if (path[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	for (const char *p = path; *p; p++)
		if (!path_char_ok(*p))
			return false;
	if (sscanf(path, "/local/domain/%5u/%n", &domid, &off) != 1)
		off = 0;
	return len <= (size_t)off + XENSTORE_REL_PATH_MAX;
}

/* Is child equal to parent or below it?  Everything is below "/". */
bool path_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}

/* Parent of a valid, non-root path. */
char *path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
	char *p = xmalloc(len + 1);

	memcpy(p, path, len);
	p[len] = '\0';
	return p;
}

void perms_copy(struct xsd_perms *dst, const struct xsd_perms *src)
{
	dst->num = src->num;
	dst->p = xmalloc(src->num * sizeof(*src->p));
	if (src->num)
		memcpy(dst->p, src->p, src->num * sizeof(*src->p));
}

void perms_free(struct xsd_perms *p)
{
	free(p->p);
	p->p = NULL;
	p->num = 0;
}

static int parse_domid(const char *s, unsigned int *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

/*
 * Parse the NUL-terminated permission strings packed in s[0..len), which must end in a
 * NUL.  Returns the number of entries, or -1 if any entry is malformed.
 */
int perms_parse(const char *s, size_t len, struct xsd_perms *out)
{
	unsigned int n = 0, i = 0;
	const char *p;

	out->num = 0;
	out->p = NULL;
	if (!len || s[len - 1] != '\0')
		return -1;
	for (p = s; p < s + len; p += strlen(p) + 1)
		n++;
	out->p = xmalloc(n * sizeof(*out->p));
	for (p = s; p < s + len; p += strlen(p) + 1, i++) {
		switch (p[0]) {
		case 'n':
			out->p[i].mode = XSD_PERM_NONE;
			break;
		case 'r':
			out->p[i].mode = XSD_PERM_READ;
			break;
		case 'w':
			out->p[i].mode = XSD_PERM_WRITE;
			break;
		case 'b':
			out->p[i].mode = XSD_PERM_READ | XSD_PERM_WRITE;
			break;
		default:
			goto bad;
		}
		if (parse_domid(p + 1, &out->p[i].id))
			goto bad;
	}
	out->num = n;
	return (int)n;
bad:
	perms_free(out);
	return -1;
}

static char perm_letter(unsigned int mode)
{
	switch (mode & (XSD_PERM_READ | XSD_PERM_WRITE)) {
	case XSD_PERM_READ:
		return 'r';
	case XSD_PERM_WRITE:
		return 'w';
	case XSD_PERM_READ | XSD_PERM_WRITE:
		return 'b';
	default:
		return 'n';
	}
}

/* Wire form, "r5\0w3\0..."; returns the length used, or 0 if cap is too small. */
size_t perms_format(const struct xsd_perms *p, char *buf, size_t cap)
{
	size_t used = 0;

	for (unsigned int i = 0; i < p->num; i++) {
		int n = snprintf(buf + used, cap - used, "%c%u", perm_letter(p->p[i].mode),
				 p->p[i].id);

		if (n < 0 || (size_t)n + 1 > cap - used)
			return 0;
		used += (size_t)n + 1;
	}
	return used;
}

/* Human form for the log, "n0,r5". */
char *perms_describe(const struct xsd_perms *p)
{
	char *s = xmalloc(p->num * 8 + 1);
	size_t used = 0;

	s[0] = '\0';
	for (unsigned int i = 0; i < p->num; i++)
		used += (size_t)sprintf(s + used, "%s%c%u", i ? "," : "",
					perm_letter(p->p[i].mode), p->p[i].id);
	return s;
}

/*
 * What may domid do with a node carrying perms?  The rules of xenstored: dom0 and the owner
 * may do everything; a domain with a target (a device model stubdomain) is treated as its
 * target for both the owner test and the per-domain entries; otherwise the first entry
 * naming the domain decides, and entry 0 gives everybody else's access.
 */
unsigned int perm_for(unsigned int domid, int target, const struct xsd_perms *p)
{
	const unsigned int all = XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER;

	if (domid == 0 || !p->num)
		return domid == 0 ? all : XSD_PERM_NONE;
	if (p->p[0].id == domid || (target >= 0 && p->p[0].id == (unsigned int)target))
		return all;
	for (unsigned int i = 1; i < p->num; i++)
		if (p->p[i].id == domid || (target >= 0 && p->p[i].id == (unsigned int)target))
			return p->p[i].mode;
	return p->p[0].mode;
}

struct xsd_node *node_new(struct xsd_node *parent, const char *name, size_t namelen,
			  const struct xsd_perms *perms)
{
	struct xsd_node *n = xmalloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->name = xmalloc(namelen + 1);
	memcpy(n->name, name, namelen);
	n->name[namelen] = '\0';
	perms_copy(&n->perms, perms);
	n->parent = parent;
	if (parent) {
		if (parent->nchild == parent->cap) {
			parent->cap = parent->cap ? parent->cap * 2 : 4;
			parent->child = xrealloc(parent->child,
						 parent->cap * sizeof(*parent->child));
		}
		parent->child[parent->nchild++] = n;
	}
	return n;
}

static struct xsd_node *find_child(const struct xsd_node *n, const char *name, size_t len)
{
	for (unsigned int i = 0; i < n->nchild; i++)
		if (strlen(n->child[i]->name) == len && !memcmp(n->child[i]->name, name, len))
			return n->child[i];
	return NULL;
}

/*
 * Walk a valid absolute path as far as it exists.  Returns the deepest existing node on
 * it: the node itself when *found, otherwise its nearest existing ancestor.
 */
struct xsd_node *node_walk(struct xsd_node *root, const char *path, bool *found)
{
	struct xsd_node *n = root;
	const char *p = path + 1;

	while (*p) {
		const char *end = strchrnul(p, '/');
		struct xsd_node *c = find_child(n, p, (size_t)(end - p));

		if (!c) {
			*found = false;
			return n;
		}
		n = c;
		p = *end ? end + 1 : end;
	}
	*found = true;
	return n;
}

struct xsd_node *node_lookup(struct xsd_node *root, const char *path)
{
	bool found;
	struct xsd_node *n = node_walk(root, path, &found);

	return found ? n : NULL;
}

/* Deep copy, for the snapshot a transaction works on. */
struct xsd_node *node_copy(const struct xsd_node *src, struct xsd_node *parent)
{
	struct xsd_node *n = node_new(parent, src->name, strlen(src->name), &src->perms);

	n->gen = src->gen;
	node_set_value(n, src->value, src->len);
	for (unsigned int i = 0; i < src->nchild; i++)
		node_copy(src->child[i], n);
	return n;
}

void node_unlink(struct xsd_node *n)
{
	struct xsd_node *p = n->parent;

	if (!p)
		return;
	for (unsigned int i = 0; i < p->nchild; i++) {
		if (p->child[i] != n)
			continue;
		memmove(&p->child[i], &p->child[i + 1], (p->nchild - i - 1) * sizeof(*p->child));
		p->nchild--;
		break;
	}
	n->parent = NULL;
}

void node_free(struct xsd_node *n)
{
	if (!n)
		return;
	for (unsigned int i = 0; i < n->nchild; i++)
		node_free(n->child[i]);
	free(n->child);
	free(n->name);
	free(n->value);
	perms_free(&n->perms);
	free(n);
}

void node_set_value(struct xsd_node *n, const void *value, size_t len)
{
	free(n->value);
	n->value = NULL;
	n->len = (unsigned int)len;
	if (len) {
		n->value = xmalloc(len);
		memcpy(n->value, value, len);
	}
}
