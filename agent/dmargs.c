// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmargs: QEMU argv assembly and overrides. See dmargs.h.
 */
#include "dmargs.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int argv_push(struct argv_list *a, const char *s)
{
	char *copy;

	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	a->v[a->n++] = copy;
	a->v[a->n] = NULL;
	return 0;
}

int argv_pushf(struct argv_list *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	err = argv_push(a, s);
	free(s);
	return err;
}

void argv_free(struct argv_list *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (struct argv_list){0};
}

int argv_push_words(struct argv_list *a, const char *words)
{
	const char *p = words;

	while (p && *p) {
		size_t len;
		char *w;
		int err;

		while (isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\n");
		if (!len)
			break;
		w = strndup(p, len);
		if (!w)
			return -ENOMEM;
		err = argv_push(a, w);
		free(w);
		if (err)
			return err;
		p += len;
	}
	return 0;
}

static int key_value(const char *name, unsigned long *out)
{
	if (!*name || strspn(name, "0123456789") != strlen(name) || strlen(name) > 9)
		return -1;
	*out = strtoul(name, NULL, 10);
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(char *const *)b, NULL, 10);

	return (x > y) - (x < y);
}

int dmargs_sort_keys(char **names, unsigned n, const char **bad)
{
	unsigned long v;

	for (unsigned i = 0; i < n; i++) {
		if (key_value(names[i], &v) < 0) {
			*bad = names[i];
			return -1;
		}
	}
	qsort(names, n, sizeof(*names), cmp_keys);
	for (unsigned i = 1; i < n; i++) {
		if (strtoul(names[i], NULL, 10) == strtoul(names[i - 1], NULL, 10)) {
			*bad = names[i];
			return -1;
		}
	}
	return 0;
}

/* The value of "@key=" in a comma-separated option list, copied into @out. */
static int opt_value(const char *list, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, key, k) && p[k] == '=') {
			size_t n = strcspn(p + k + 1, ",");

			if (n >= len)
				return -1;
			memcpy(out, p + k + 1, n);
			out[n] = 0;
			return 0;
		}
	}
	return -1;
}

/* mac= of the -device whose netdev= is @netdev, into @mac (18 bytes), or "". */
static void device_mac(char *const *args, size_t n, const char *netdev, char *mac)
{
	char id[32];

	mac[0] = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (!strcmp(args[i], "-device") &&
		    opt_value(args[i + 1], "netdev", id, sizeof(id)) == 0 && !strcmp(id, netdev) &&
		    opt_value(args[i + 1], "mac", mac, 18) == 0)
			return;
	mac[0] = 0;
}

int dmargs_nics(char *const *args, size_t n, struct dm_nic *out, int max)
{
	int found = 0;

	for (size_t i = 0; i + 1 < n && found < max; i++) {
		const char *v = args[i + 1];
		char id[32], tap[32], type[16];
		unsigned long devid;
		char *end;

		if (strcmp(args[i], "-netdev"))
			continue;
		/* "-netdev tap,id=..." and "-netdev type=tap,id=..." */
		if (opt_value(v, "type", type, sizeof(type)) < 0) {
			size_t t = strcspn(v, ",");

			snprintf(type, sizeof(type), "%.*s", (int)(t < sizeof(type) ? t : 0), v);
		}
		if (strcmp(type, "tap"))
			continue;
		if (opt_value(v, "id", id, sizeof(id)) < 0 || strncmp(id, "net", 3) ||
		    (devid = strtoul(id + 3, &end, 10), !id[3] || *end) ||
		    opt_value(v, "ifname", tap, sizeof(tap)) < 0 ||
		    strlen(tap) >= sizeof(out->tap)) {
			log_warn("dm-argv: -netdev %s: no id=net<devid> or ifname=<tap>; that NIC "
				 "is "
				 "not joined to a PV NIC",
				 v);
			continue;
		}
		out[found].devid = (unsigned)devid;
		memcpy(out[found].tap, tap, strlen(tap) + 1); /* fits: checked above */
		device_mac(args, n, id, out[found].mac);
		found++;
	}
	return found;
}

int dmargs_wants_kernel(char *const *args, size_t n)
{
	int append = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(args[i], "-kernel"))
			return 0;
		append |= !strcmp(args[i], "-append");
	}
	return append;
}

int dmargs_wants_restore(char *const *args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(args[i], DM_RESTORE_PLACEHOLDER))
			return 1;
	return 0;
}

/* QEMU options that take no value: the rest take the next word. */
static const char *const flag_options[] = {"-no-shutdown",
					   "-nodefaults",
					   "-no-user-config",
					   "-nographic",
					   "-no-acpi",
					   "-no-hpet",
					   "-S",
					   "-no-reboot",
					   "-snapshot",
					   "-daemonize",
					   "-only-migratable",
					   "-enable-kvm",
					   "-xen-domid-restrict",
					   "-full-screen",
					   "-usb",
					   "-no-fd-bootchk",
					   "-preconfig",
					   NULL};

static int is_flag(const char *opt)
{
	for (const char *const *f = flag_options; *f; f++)
		if (!strcmp(*f, opt))
			return 1;
	return 0;
}

/* Splits an override word "-opt[=value]"; returns 0, or -1 when it does not name an option. */
static int split_item(const char *item, char **opt, const char **value)
{
	const char *eq = strchr(item, '=');

	if (item[0] != '-' || !item[1] || item[1] == '=')
		return -1;
	*opt = eq ? strndup(item, (size_t)(eq - item)) : strdup(item);
	*value = eq ? eq + 1 : NULL;
	return *opt ? 0 : -1;
}

static int value_matches(const char *pattern, const char *value)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return value && !strncmp(value, pattern, n - 1);
	return value && !strcmp(value, pattern);
}

/* Removes args[i] (and its value, if it takes one). */
static size_t remove_at(struct argv_list *a, size_t i, int with_value)
{
	size_t k = with_value && i + 1 < a->n ? 2 : 1;

	for (size_t j = i; j < i + k; j++)
		free(a->v[j]);
	memmove(&a->v[i], &a->v[i + k], (a->n - i - k + 1) * sizeof(char *));
	a->n -= k;
	return k;
}

/*
 * qemu-drop on whole arguments: "-prefix*" (no '=') drops every argument that starts with
 * "-prefix", alone (Qubes' -qubes-audio:audiovm_xid=N); an item with '=' equal to a whole
 * argument drops that argument alone (-qubes-net:client_ip=...,gw=...). Returns how many it
 * dropped, or -1 when @item is neither form (the -option forms then apply).
 */
static int drop_whole(struct argv_list *a, size_t from, const char *item)
{
	size_t n = strlen(item);
	bool prefix = n > 2 && item[0] == '-' && item[n - 1] == '*' && !strchr(item, '=');
	int hits = 0;

	if (prefix ? strchr(item, '*') != item + n - 1 : !strchr(item, '='))
		return -1;
	for (size_t i = from; i < a->n;) {
		if (prefix ? strncmp(a->v[i], item, n - 1) : strcmp(a->v[i], item)) {
			i++;
			continue;
		}
		log_info("override: dropped %s", a->v[i]);
		remove_at(a, i, 0);
		hits++;
	}
	return prefix || hits ? hits : -1;
}

/*
 * The -option forms of one item (-opt, -opt=value, -opt=prefix*; replace: -opt=value) applied to
 * a->v[from..]. Returns how many arguments it matched, or -1 for an item of neither form (logged
 * by @keyname).
 */
static int apply_option(struct argv_list *a, size_t from, const char *item, int replace,
			const char *keyname)
{
	const char *value;
	char *opt;
	int hits = 0;
	int ok = split_item(item, &opt, &value) == 0;

	if (ok && replace && (!value || is_flag(opt))) {
		free(opt);
		ok = 0;
	}
	if (!ok) {
		log_warn("key %s: '%s' is not %s; skipped", keyname, item,
			 replace ? "-option=value for an option that takes a value"
				 : "-option or -option=value");
		return -1;
	}
	for (size_t i = from; i < a->n;) {
		int takes = !is_flag(opt);

		if (strcmp(a->v[i], opt)) {
			i++;
			continue;
		}
		if (replace) {
			if (i + 1 < a->n) {
				log_info("override: %s %s -> %s %s", opt, a->v[i + 1], opt, value);
				free(a->v[i + 1]);
				a->v[i + 1] = strdup(value);
				if (!a->v[i + 1])
					a->v[i + 1] = strdup("");
			}
			hits++;
			i += 2;
		} else if (!value ||
			   (takes && value_matches(value, i + 1 < a->n ? a->v[i + 1] : NULL))) {
			log_info("override: dropped %s%s%s", opt, takes ? " " : "",
				 takes && i + 1 < a->n ? a->v[i + 1] : "");
			remove_at(a, i, takes);
			hits++;
		} else {
			i += takes ? 2 : 1;
		}
	}
	free(opt);
	return hits;
}

/* Applies "drop" or "replace" items to a->v[from..]. */
static void apply_items(struct argv_list *a, size_t from, const char *items, int replace)
{
	struct argv_list words = {0};
	const char *keyname = replace ? "stubinit.qemu-replace" : "stubinit.qemu-drop";

	if (argv_push_words(&words, items) < 0)
		return;
	for (size_t w = 0; w < words.n; w++) {
		int hits = replace ? -1 : drop_whole(a, from, words.v[w]);

		if (hits < 0)
			hits = apply_option(a, from, words.v[w], replace, keyname);
		if (!hits)
			log_warn("key %s: '%s' matches no argument of QEMU's command line", keyname,
				 words.v[w]);
	}
	argv_free(&words);
}

/*
 * Qubes' toolstack adds pseudo-arguments that Qubes' init consumes and no QEMU takes (QEMU exits
 * on them): -qubes-audio:audiovm_xid=N (pulseaudio toward the audio VM), -qubes-net:client_ip=...
 * (a DHCP server for the guest, which network/dhcp serve from the toolstack's arguments). Whatever
 * the overrides left of them is taken out here, each with a line, so a Qubes VM never dies of an
 * argument.
 */
static void take_qubes(struct argv_list *a, size_t from)
{
	for (size_t i = from; i < a->n;) {
		const char *arg = a->v[i];

		if (strncmp(arg, "-qubes-", 7)) {
			i++;
			continue;
		}
		if (!strncmp(arg, "-qubes-audio:", 13))
			log_info("dm-argv: %.200s taken out: the audio lines say what the guest's "
				 "sound gets",
				 arg);
		else if (!strncmp(arg, "-qubes-net:", 11))
			log_info("dm-argv: %.200s taken out: stubinit's DHCP server serves it",
				 arg);
		else
			log_error(
				"dm-argv: %.200s: a Qubes argument that no QEMU takes and stubinit "
				"does not know; taken out",
				arg);
		remove_at(a, i, 0);
	}
}

/* -serial /dev/hvc3 and friends follow the console prefix (tests point it at ptys). */
static const char *console_path(const struct dm_launch *l, const char *arg, char *buf, size_t len)
{
	const char *hvc = "/dev/hvc";
	size_t n = strlen(hvc);

	if (!l->console_prefix || !strcmp(l->console_prefix, hvc) || strncmp(arg, hvc, n) ||
	    !arg[n] || strspn(arg + n, "0123456789") != strlen(arg + n))
		return arg;
	snprintf(buf, len, "%s%s", l->console_prefix, arg + n);
	return buf;
}

/*
 * "-netdev type=tap,id=net0,ifname=vif7.0-emu,script=no,downscript=no" for a tap stubinit opened:
 * "type=tap,id=net0,fd=<fd>". QEMU refuses ifname, script, downscript, helper, br and vnet_hdr
 * beside fd, so those go; the rest stays.
 */
static int tap_fd_value(const struct dm_launch *l, const char *v, char *out, size_t len)
{
	static const char *const dropped[] = {
		"ifname=", "script=", "downscript=", "helper=", "br=", "vnet_hdr=", NULL};
	char ifname[32], type[16];
	size_t used = 0;
	int fd = -1;

	if (opt_value(v, "ifname", ifname, sizeof(ifname)) < 0)
		return -1;
	if (opt_value(v, "type", type, sizeof(type)) < 0) {
		size_t t = strcspn(v, ",");

		snprintf(type, sizeof(type), "%.*s", (int)(t < sizeof(type) ? t : 0), v);
	}
	if (strcmp(type, "tap"))
		return -1;
	for (int i = 0; i < l->ntapfds; i++)
		if (!strcmp(l->tapfds[i].name, ifname))
			fd = l->tapfds[i].fd;
	if (fd < 0)
		return -1;
	out[0] = 0;
	for (const char *p = v; p && *p;) {
		size_t k = strcspn(p, ",");
		int drop = 0;

		for (const char *const *d = dropped; *d; d++)
			drop |= !strncmp(p, *d, strlen(*d));
		if (!drop && used + k + 2 < len)
			used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? "," : "",
						 (int)k, p);
		p = p[k] ? p + k + 1 : NULL;
	}
	if (used + 16 >= len)
		return -1;
	snprintf(out + used, len - used, ",fd=%d", fd);
	return 0;
}

/* stubinit's own part of QEMU's command line: the binary, -L, both monitors, the display, the
 * sandbox. Returns non-zero when out of memory. */
static int push_own(const struct dm_launch *l, struct argv_list *out)
{
	int err = 0;

	err |= argv_push(out, l->qemu);
	if (l->datadir && *l->datadir) {
		err |= argv_push(out, "-L");
		err |= argv_push(out, l->datadir);
	}
	/* The permanent monitor: QEMU connects to stubinit, so there is nothing to wait or poll
	 * for. */
	err |= argv_push(out, "-chardev");
	err |= argv_pushf(out, "socket,id=stubinit-agent,path=%s,server=off", l->agent_sock);
	err |= argv_push(out, "-mon");
	err |= argv_push(out, "chardev=stubinit-agent,mode=control");
	/* The session monitor: QEMU connects to stubinit here too; dom0's QMP sessions share that
	 * one connection (qmp/server.h). */
	err |= argv_push(out, "-chardev");
	err |= argv_pushf(out, "socket,id=stubinit-qmp,path=%s,server=off", l->qmp_sock);
	err |= argv_push(out, "-mon");
	err |= argv_push(out, "chardev=stubinit-qmp,mode=control");
	/* The guest's display, relayed to dom0 (qmp/relay.h); libxl's other display options (-k,
	 * the VGA device) come with dm-argv as it wrote them. */
	if (l->vnc) {
		/* No socket of QEMU's: each client is a connection stubinit hands to QEMU
		 * (add_client), so stubinit never connects to a path QEMU could swap. */
		err |= argv_push(out, "-vnc");
		err |= argv_push(out, "none");
	}
	if (l->sandbox) {
		err |= argv_push(out, "-sandbox");
		err |= argv_push(out, l->sandbox);
	}
	return err;
}

/* The emulated sound cards QEMU's -device takes (the codecs of intel-hda among them). */
static const char *const sound_models[] = {
	"intel-hda", "ich9-intel-hda", "hda-duplex", "hda-micro", "hda-output", "ac97",
	"es1370",    "sb16",	       "adlib",	     "gus",	  "cs4231a",	NULL};

/*
 * The driver of "-device <driver>,..." (or "--device", or "driver=<driver>,...") at @i, its
 * length in *@len; NULL when @args[@i] is not such an option.
 */
static const char *device_driver_at(char *const *args, size_t n, size_t i, size_t *len)
{
	const char *d;

	if (i + 1 >= n || (strcmp(args[i], "-device") && strcmp(args[i], "--device")))
		return NULL;
	d = args[i + 1];
	if (!strncmp(d, "driver=", 7))
		d += 7;
	*len = strcspn(d, ",");
	return d;
}

/* The model of "-device <model>,..." at @i when it is a sound card, or NULL. */
static const char *sound_card_at(char *const *args, size_t n, size_t i)
{
	size_t len;
	const char *d = device_driver_at(args, n, i, &len);

	for (const char *const *m = sound_models; d && *m; m++)
		if (strlen(*m) == len && !strncmp(d, *m, len))
			return *m;
	return NULL;
}

const char *dmargs_sound_card(char *const *args, size_t n)
{
	const char *m = NULL;

	for (size_t i = 0; i < n && !m; i++)
		m = sound_card_at(args, n, i);
	return m;
}

/*
 * The xl.cfg settings behind the -device drivers libxl's device-model command line names
 * (tools/libs/light/libxl_dm.c, libxl__build_device_model_args_new, the same in 4.17 and 4.20):
 * what the error tells the user to change. (usbctrl and usbdev add their devices over QMP later,
 * not here.)
 */
static const struct {
	const char *driver, *setting;
} device_settings[] = {
	{"ahci", "hdtype = \"ahci\""},
	{"ich9-ahci", "hdtype = \"ahci\""},
	{"ide-hd", "hdtype = \"ahci\" (its disks)"},
	{"ide-cd", "a disk with devtype=cdrom"},
	{"lsi53c895a", "disk vdev=sd* (SCSI)"},
	{"scsi-hd", "disk vdev=sd* (SCSI)"},
	{"piix3-usb-uhci", "usb = 1 or usbversion = 1"},
	{"ich9-usb-ehci1", "usbversion = 2"},
	{"ich9-usb-uhci1", "usbversion = 2"},
	{"ich9-usb-uhci2", "usbversion = 2"},
	{"ich9-usb-uhci3", "usbversion = 2"},
	{"nec-usb-xhci", "usbversion = 3"},
	{"usb-tablet", "usbdevice = \"tablet\""},
	{"usb-mouse", "usbdevice = \"mouse\""},
	{"usb-kbd", "usbdevice = \"keyboard\""},
	{"usb-wacom-tablet", "usbdevice = \"wacom-tablet\""},
	{"usb-redir", "spiceusbredirection"},
	{"cirrus-vga", "vga = \"cirrus\""},
	{"VGA", "vga = \"stdvga\""},
	{"qxl-vga", "vga = \"qxl\""},
	{"intel-hda", "soundhw = \"hda\""},
	{"hda-duplex", "soundhw = \"hda\""},
	{"ac97", "soundhw = \"ac97\""},
	{"AC97", "soundhw = \"ac97\""},
	{"es1370", "soundhw = \"es1370\""},
	{"ES1370", "soundhw = \"es1370\""},
	{"sb16", "soundhw = \"sb16\""},
	{"adlib", "soundhw = \"adlib\""},
	{"gus", "soundhw = \"gus\""},
	{"cs4231a", "soundhw = \"cs4231a\""},
	{"xen-platform", "xen_platform_pci = 1"},
	{"xen-pci-passthrough", "pci = [...] (passthrough)"},
	{"xen-pvdevice", "vendor_device = \"xenserver\""},
};

const char *dmargs_dom0_only(char *const *args, size_t n, char *what, size_t len,
			     const char **names)
{
	for (size_t i = 0; i + 1 < n; i++) {
		const char *o = args[i], *v = args[i + 1], *setting = NULL;
		const char *named = "a file in dom0, which QEMU in the stubdomain cannot open";
		char on[4];

		if (!strcmp(o, "-kernel")) {
			setting = "kernel";
		} else if (!strcmp(o, "-initrd")) {
			setting = "ramdisk";
		} else if (!strcmp(o, "-chardev") && (!strncmp(v, "pty,id=libxl-channel", 20) ||
						      !strncmp(v, "socket,id=libxl-channel", 23))) {
			setting = "channel";
			named = "a channel end that would be the stubdomain's, out of dom0's reach";
		} else if (!strcmp(o, "-machine") &&
			   opt_value(v, "igd-passthru", on, sizeof(on)) == 0 && !strcmp(on, "on")) {
			setting = "gfx_passthru";
			named = "the host's IGD bridge, which the stubdomain does not have";
		}
		if (setting) {
			snprintf(what, len, "%s %s", o, v);
			*names = named;
			return setting;
		}
	}
	return NULL;
}

/* Whether the @len bytes at @name are a whole line of @known. */
static int known_line(const char *known, const char *name, size_t len)
{
	for (const char *l = known; *l;) {
		size_t ll = strcspn(l, "\n");

		if (ll == len && !memcmp(l, name, len))
			return 1;
		l += ll;
		l += *l == '\n';
	}
	return 0;
}

const char *dmargs_missing_device(char *const *args, size_t n, const char *known, char *driver,
				  size_t len)
{
	for (size_t i = 0; i + 1 < n; i++) {
		const char *v = args[i + 1], *d;
		size_t dl;

		if (!(d = device_driver_at(args, n, i, &dl)))
			continue;
		i++;
		if (!dl || known_line(known, d, dl))
			continue;
		snprintf(driver, len, "%.*s", (int)dl, d);
		for (size_t k = 0; k < sizeof(device_settings) / sizeof(device_settings[0]); k++)
			if (strlen(device_settings[k].driver) == dl &&
			    !memcmp(device_settings[k].driver, d, dl))
				return device_settings[k].setting;
		/* a NIC: libxl passes the vif's model= through as the driver */
		if (strstr(v, ",netdev="))
			return "model= of a vif";
		return "device_model_args or an xl.cfg setting";
	}
	return NULL;
}

const char *dmargs_qubes_net(char *const *args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(args[i], "-qubes-net:", 11))
			return args[i] + 11;
	return NULL;
}

int dmargs_qubes_audio(char *const *args, size_t n, unsigned *xid)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = args[i], *v;
		unsigned long x;
		char *end;

		if (strncmp(a, "-qubes-audio:", 13))
			continue;
		/* "-qubes-audio:audiovm_xid=N", the item anywhere in a comma-separated list */
		for (v = a + 12; v; v = strchr(v + 1, ','))
			if (!strncmp(v + 1, "audiovm_xid=", 12))
				break;
		if (!v)
			return -1;
		errno = 0;
		x = strtoul(v + 13, &end, 10);
		if (end == v + 13 || (*end && *end != ',') || errno || x >= 0x7ff0 || v[13] == '-')
			return -1;
		*xid = (unsigned)x;
		return 1;
	}
	return 0;
}

/* The audio helper serves: QEMU's sound cards play into its socket (PulseAudio's protocol), with
 * the buffer settings Qubes gives intel-hda. */
static void add_audio(struct argv_list *a, size_t from, const char *sock)
{
	bool hda = false;

	for (size_t i = from; i + 1 < a->n; i++) {
		const char *m = sound_card_at(a->v, a->n, i);
		char *v;

		if (!m)
			continue;
		hda |= !strcmp(m, "intel-hda") || !strcmp(m, "ich9-intel-hda");
		/* the controllers take no audiodev; their codecs and the other cards do */
		if (strstr(m, "intel-hda") || strstr(a->v[i + 1], "audiodev="))
			continue;
		if (asprintf(&v, "%s,audiodev=" DM_AUDIODEV, a->v[i + 1]) < 0)
			continue;
		free(a->v[i + 1]);
		a->v[i + 1] = v;
	}
	argv_push(a, "-audiodev");
	if (!sock) {
		/* QEMU 9.0 and later refuse a card without a backend */
		argv_push(a, "none,id=" DM_AUDIODEV);
		log_info("audio: the guest's sound card plays into nothing (-audiodev none): the "
			 "stubdomain has no sound output but an audio helper's "
			 "(stubinit.audio-helper)");
		return;
	}
	argv_pushf(a, "pa,id=" DM_AUDIODEV ",server=unix:%s%s", sock,
		   hda ? ",timer-period=1000,out.buffer-length=8000,in.latency=80000" : "");
	log_info("audio: QEMU plays into the audio helper's socket %s", sock);
}

int dmargs_build(const struct dm_launch *l, char *const *args, size_t n, struct argv_list *out)
{
	size_t from;
	int err = 0;

	*out = (struct argv_list){0};
	if (dmargs_wants_restore(args, n) && l->incoming_fd < 0) {
		log_error(
			"dm-argv: %s is asked for (a restore), but there is no incoming stream fd",
			DM_RESTORE_PLACEHOLDER);
		return -1;
	}
	err |= push_own(l, out);
	from = out->n;
	err |= argv_push_words(out, l->extra);
	for (size_t i = 0; i < n; i++) {
		char buf[512];

		if (!strcmp(args[i], "-chroot") && i + 1 < n) {
			/* dm_restrict's chroot, a directory libxl made in dom0 */
			log_info("dm-argv: -chroot %s taken out: a directory of dom0's (xl.cfg "
				 "dm_restrict); QEMU here runs confined by the stubdomain and as "
				 "stubinit.qemu-user",
				 args[++i]);
			continue;
		}
		if (!strcmp(args[i], "-no-acpi")) {
			/* xl.cfg acpi = 0: QEMU 8.0 made it a machine property, 9.0 removed it */
			log_info("dm-argv: -no-acpi given as -machine acpi=off (QEMU 9.0 has no "
				 "-no-acpi)");
			err |= argv_push(out, "-machine");
			err |= argv_push(out, "acpi=off");
			continue;
		}
		if (!strcmp(args[i], DM_RESTORE_PLACEHOLDER))
			err |= argv_pushf(out, "fd:%d", l->incoming_fd);
		else if (i > 0 && !strcmp(args[i - 1], "-netdev") &&
			 tap_fd_value(l, args[i], buf, sizeof(buf)) == 0)
			err |= argv_push(out, buf);
		else
			err |= argv_push(out, console_path(l, args[i], buf, sizeof(buf)));
	}
	if (l->kernel) {
		err |= argv_push(out, "-kernel");
		err |= argv_push(out, l->kernel);
	}
	if (l->initrd) {
		err |= argv_push(out, "-initrd");
		err |= argv_push(out, l->initrd);
	}
	if (err) {
		log_error("dm-argv: out of memory");
		argv_free(out);
		return -1;
	}
	if (l->drop && *l->drop)
		apply_items(out, from, l->drop, 0);
	if (l->replace && *l->replace)
		apply_items(out, from, l->replace, 1);
	take_qubes(out, from);
	if (l->audio_socket || dmargs_sound_card(out->v + from, out->n - from))
		add_audio(out, from, l->audio_socket);
	if (l->append && *l->append) {
		size_t before = out->n;

		argv_push_words(out, l->append);
		for (size_t i = before; i < out->n; i++)
			log_info("override: appended %s", out->v[i]);
	}
	return 0;
}
