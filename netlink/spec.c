// SPDX-License-Identifier: GPL-2.0-only
/*
 * netlink spec: the topology model and its text form. See net.h.
 */
#include "net.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, unsigned char mac[6])
{
	/* six groups of one or two hex digits, ':' between them and nothing after */
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(*s), lo;

		if (hi < 0)
			return -1;
		s++;
		lo = hex_digit(*s);
		if (lo >= 0) {
			hi = hi * 16 + lo;
			s++;
		}
		mac[i] = (unsigned char)hi;
		if (*s++ != (i < 5 ? ':' : '\0'))
			return -1;
	}
	return 0;
}

int net_topology_add(struct net_topology *t, const struct net_item *it)
{
	struct net_item *nv = realloc(t->v, (t->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	t->v = nv;
	t->v[t->n++] = *it;
	return 0;
}

void net_topology_free(struct net_topology *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* An interface name, or vif:<devid>. */
static int valid_link(const char *s)
{
	if (!strncmp(s, "vif:", 4))
		return s[4] && strspn(s + 4, "0123456789") == strlen(s + 4) && strlen(s + 4) < 6;
	if (!*s || strlen(s) >= NET_NAME || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return 0;
	return 1;
}

/* One "key=value" option; returns NULL or why it is wrong. */
static const char *option(struct net_item *it, const char *w)
{
	const char *eq = strchr(w, '=');
	char *end;

	if (!eq)
		return "expected key=value";
	if (!strncmp(w, "mac=", 4) && it->kind != NI_BRIDGE) {
		if (net_parse_mac(eq + 1, it->mac) < 0)
			return "not a MAC address (aa:bb:cc:dd:ee:ff)";
		if (it->mac[0] & 1)
			return "a multicast MAC cannot be a link's address";
		it->has_mac = true;
		return NULL;
	}
	if (!strncmp(w, "mtu=", 4) && it->kind != NI_ATTACH) {
		unsigned long v = strtoul(eq + 1, &end, 10);

		if (!eq[1] || *end || v < 68 || v > 65535)
			return "mtu must be a number from 68 to 65535";
		it->mtu = (unsigned)v;
		return NULL;
	}
	if (!strncmp(w, "mtu-from=", 9) && (it->kind == NI_BRIDGE || it->kind == NI_TAP)) {
		if (!valid_link(eq + 1))
			return "not an interface name or vif:<devid>";
		snprintf(it->mtu_from, sizeof(it->mtu_from), "%s", eq + 1);
		return NULL;
	}
	return "unknown option here";
}

static const char *parse_line(char *line, struct net_item *it)
{
	static const char *const kinds[] = {[NI_BRIDGE] = "bridge",
					    [NI_TAP] = "tap",
					    [NI_LINK] = "link",
					    [NI_ATTACH] = "attach"};
	char *save = NULL, *w = strtok_r(line, " \t", &save);
	int k = -1;

	for (int i = 0; i < 4; i++)
		if (!strcmp(w, kinds[i]))
			k = i;
	if (k < 0)
		return "unknown item (bridge, tap, link or attach)";
	it->kind = (enum net_kind)k;
	w = strtok_r(NULL, " \t", &save);
	if (!w)
		return "a name is missing";
	if (!valid_link(w) || (k != NI_LINK && !strncmp(w, "vif:", 4)))
		return "not a valid interface name";
	snprintf(it->name, sizeof(it->name), "%s", w);
	if (k == NI_ATTACH) {
		w = strtok_r(NULL, " \t", &save);
		if (!w)
			return "attach needs a bridge and a link";
		if (!valid_link(w))
			return "not a valid interface name";
		snprintf(it->member, sizeof(it->member), "%s", w);
	}
	while ((w = strtok_r(NULL, " \t", &save))) {
		const char *why = option(it, w);

		if (why)
			return why;
	}
	return NULL;
}

unsigned net_spec_parse(struct net_topology *t, const char *text, const char *origin)
{
	unsigned bad = 0, lineno = 0;
	const char *p = text;

	while (p && *p) {
		size_t len = strcspn(p, "\n");
		char *line = strndup(p, len), *hash, *s;
		struct net_item it = {0};
		const char *why;

		lineno++;
		p += len + (p[len] == '\n');
		if (!line)
			return bad + 1;
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (!*s) {
			free(line);
			continue;
		}
		{
			char copy[256];

			snprintf(copy, sizeof(copy), "%s", s);
			copy[strcspn(copy, "\r")] = 0;
			why = parse_line(s, &it);
			if (why) {
				log_error("network: %s line %u: '%s': %s; skipped", origin, lineno,
					  copy, why);
				bad++;
			} else {
				snprintf(it.origin, sizeof(it.origin), "%s line %u", origin,
					 lineno);
				net_topology_add(t, &it);
			}
		}
		free(line);
	}
	return bad;
}

void net_default_bridge(unsigned devid, char name[NET_NAME])
{
	snprintf(name, NET_NAME, "br%u", devid % 100000);
}

int net_default_nic(struct net_topology *t, unsigned devid, const char *tap)
{
	char vif[NET_NAME], br[NET_NAME];
	struct net_item items[5] = {0};

	snprintf(vif, sizeof(vif), "vif:%u", devid % 100000);
	net_default_bridge(devid, br);
	/* The bridge must not own the guest's MAC, or it keeps the guest's frames for itself:
	 * both ports get locally administered addresses of their own. */
	items[0] = (struct net_item){.kind = NI_BRIDGE};
	snprintf(items[0].name, sizeof(items[0].name), "%s", br);
	items[1] = (struct net_item){.kind = NI_TAP,
				     .has_mac = true,
				     .mac = {0xfe, 0xff, 0xff, 0xff, (unsigned char)devid, 0xfd}};
	snprintf(items[1].name, sizeof(items[1].name), "%s", tap);
	snprintf(items[1].mtu_from, sizeof(items[1].mtu_from), "%s", vif);
	items[2] = (struct net_item){.kind = NI_LINK,
				     .has_mac = true,
				     .mac = {0xfe, 0xff, 0xff, 0xff, (unsigned char)devid, 0xfe}};
	snprintf(items[2].name, sizeof(items[2].name), "%s", vif);
	items[3] = (struct net_item){.kind = NI_ATTACH};
	snprintf(items[3].name, sizeof(items[3].name), "%s", br);
	snprintf(items[3].member, sizeof(items[3].member), "%s", tap);
	items[4] = (struct net_item){.kind = NI_ATTACH};
	snprintf(items[4].name, sizeof(items[4].name), "%s", br);
	snprintf(items[4].member, sizeof(items[4].member), "%s", vif);
	for (int i = 0; i < 5; i++) {
		snprintf(items[i].origin, sizeof(items[i].origin), "NIC %u", devid);
		if (net_topology_add(t, &items[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}
