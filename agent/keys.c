// SPDX-License-Identifier: GPL-2.0-only
/*
 * keys: stubinit.* keys: table, parsing, renames. See keys.h.
 */
#include "keys.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const level_choices[] = {"error", "warn", "info", "debug", NULL};
static const char *const policy_choices[] = {"crash-guest", "poweroff", "stay", NULL};
static const char *const transport_choices[] = {"vchan", "unix", NULL};
static const char *const sandbox_choices[] = {"auto", "on", "off", NULL};
static const char *const filter_choices[] = {"on", "log", "off", NULL};

static const struct key_def stubinit_defs[K__COUNT] = {
	[K_LOG_LEVEL] = {.name = "log-level",
			 .type = KT_CHOICE,
			 .def = "info",
			 .since = "0.1",
			 .help = "least important level logged: error, warn, info or debug",
			 .choices = level_choices},
	[K_LOG_BUFFER] = {.name = "log-buffer",
			  .type = KT_SIZE,
			  .def = "64k",
			  .since = "0.1",
			  .help = "bytes of log kept while the console is not draining; beyond "
				  "that, lines are dropped and counted",
			  .min = 4096,
			  .max = 16 << 20},
	[K_SHUTDOWN_TIMEOUT] = {.name = "shutdown-timeout",
				.type = KT_DURATION,
				.def = "1s",
				.since = "0.1",
				.help = "on shutdown, how long children get after SIGTERM before "
					"SIGKILL",
				.max = 60000},
	[K_XENSTORE_TIMEOUT] = {.name = "xenstore-timeout",
				.type = KT_DURATION,
				.def = "30s",
				.since = "0.1",
				.help = "how long to wait at boot for xenstore to become reachable "
					"before giving up and powering off",
				.max = 3600000},
	[K_QEMU] = {.name = "qemu",
		    .type = KT_STRING,
		    .def = "/usr/libexec/xen-qemu-system-i386",
		    .since = "0.1",
		    .help = "the QEMU binary to run"},
	[K_QEMU_DATADIR] = {.name = "qemu-datadir",
			    .type = KT_STRING,
			    .def = "",
			    .since = "0.1",
			    .help = "QEMU's data directory (-L: BIOS, option ROMs, keymaps); empty "
				    "leaves QEMU's built-in default"},
	[K_QEMU_DEVICES] =
		{.name = "qemu-devices",
		 .type = KT_STRING,
		 .def = "/usr/share/stubinit/qemu-devices",
		 .since = "0.3",
		 .help = "the list of QEMU's device drivers (one per line, made with the "
			 "image): a -device whose driver is not in it is refused before "
			 "QEMU starts, naming the xl.cfg setting behind it; empty, or no "
			 "such file, checks nothing"},
	[K_QEMU_EXTRA] = {.name = "qemu-extra",
			  .type = KT_STRING,
			  .def = "",
			  .since = "0.1",
			  .help = "space-separated flags the image adds before the toolstack's "
				  "arguments"},
	[K_QEMU_DROP] = {.name = "qemu-drop",
			 .type = KT_STRING,
			 .def = "",
			 .since = "0.1",
			 .help = "override: remove arguments; space-separated -opt (every "
				 "occurrence, with its value), -opt=value, -opt=prefix*, a whole "
				 "argument, or -prefix* (every argument starting so, alone)"},
	[K_QEMU_REPLACE] = {.name = "qemu-replace",
			    .type = KT_STRING,
			    .def = "",
			    .since = "0.1",
			    .help = "override: set the value of every occurrence of an option; "
				    "space-separated -opt=value"},
	[K_QEMU_APPEND] = {.name = "qemu-append",
			   .type = KT_STRING,
			   .def = "",
			   .since = "0.1",
			   .help = "override: space-separated arguments appended at the end"},
	[K_QEMU_GREETING_TIMEOUT] = {.name = "qemu-greeting-timeout",
				     .type = KT_DURATION,
				     .def = "20s",
				     .since = "0.1",
				     .help = "how long QEMU may take to greet on the permanent "
					     "monitor (libxl gives up at 30 s)",
				     .min = 100,
				     .max = 600000},
	[K_ON_QEMU_EXIT] = {.name = "on-qemu-exit",
			    .type = KT_CHOICE,
			    .def = "crash-guest",
			    .since = "0.1",
			    .help = "when QEMU dies or never comes up: crash-guest (the guest's "
				    "on_crash applies instead of a hang), poweroff (the stubdomain "
				    "only) or stay (debugging)",
			    .choices = policy_choices},
	[K_STATS_INTERVAL] = {.name = "stats-interval",
			      .type = KT_DURATION,
			      .def = "10s",
			      .since = "0.1",
			      .help = "period of the stubinit/stats refresh for dom0; 0 turns it "
				      "off",
			      .max = 3600000},
	[K_CONSOLE_PREFIX] = {.name = "console-prefix",
			      .type = KT_STRING,
			      .def = "/dev/hvc",
			      .since = "0.1",
			      .help = "path prefix of the consoles (1: save, 2: restore, 3 and up: "
				      "serial ports); tests point it at ptys"},
	[K_QMP_TRANSPORT] =
		{.name = "qmp-transport",
		 .type = KT_CHOICE,
		 .def = "vchan",
		 .since = "0.1",
		 .help = "how dom0 reaches QMP: vchan at device-model/<guest>/qmp-vchan "
			 "(production) or unix (qmp-socket; tests, debugging without "
			 "Xen)",
		 .choices = transport_choices},
	[K_QMP_SOCKET] = {.name = "qmp-socket",
			  .type = KT_STRING,
			  .def = "/run/stubinit/dom0-qmp.sock",
			  .since = "0.1",
			  .help = "the unix transport's socket"},
	[K_QMP_PEER] = {.name = "qmp-peer",
			.type = KT_UINT,
			.def = "0",
			.since = "0.1",
			.help = "the toolstack's domain, the only one the vchan serves",
			.max = 0x7fef},
	[K_QMP_MAX_MESSAGE] =
		{.name = "qmp-max-message",
		 .type = KT_SIZE,
		 .def = "1m",
		 .since = "0.1",
		 .help = "largest QMP message passed either way; a larger one ends the "
			 "session",
		 .min = 4096,
		 .max = 64 << 20},
	[K_QMP_ALLOW] = {.name = "qmp-allow",
			 .type = KT_STRING,
			 .def = "",
			 .since = "0.1",
			 .help = "commands dom0 may send, space-separated; empty: what libxl "
				 "sends (protocol section 7); * allows everything"},
	[K_SAVE_DRAIN_TIMEOUT] =
		{.name = "save-drain-timeout",
		 .type = KT_DURATION,
		 .def = "9s",
		 .since = "0.1",
		 .help = "bound on moving a saved state to console 1 before the save "
			 "is answered with an error (libxl waits 10 s)",
		 .min = 100,
		 .max = 600000},
	[K_MODULES] = {.name = "modules",
		       .type = KT_STRING,
		       .def = "/etc/stubinit/modules",
		       .since = "0.1",
		       .help = "the image's kernel module list, loaded in order at boot"},
	[K_TEST_KILL_QEMU] =
		{.name = "test-kill-qemu-after",
		 .type = KT_DURATION,
		 .def = "0",
		 .since = "0.1",
		 .help = "tests only: SIGKILL QEMU this long after it greeted, to prove "
			 "the failure policy under real Xen; 0 is off",
		 .max = 3600000},
	[K_TEST_VCHAN_LAG] =
		{.name = "test-vchan-lag",
		 .type = KT_DURATION,
		 .def = "0",
		 .since = "0.3",
		 .help = "tests only: handle each wake-up of dom0's vchans this late, as a "
			 "busy stubdomain would, to prove that a client who reconnects at once "
			 "gets a session of its own; 0 is off",
		 .max = 10000},
	[K_NETWORK] = {.name = "network",
		       .type = KT_STRING,
		       .def = "",
		       .since = "0.1",
		       .help = "network spec items added to the default topology, ';' between "
			       "lines (see README: Networking)"},
	[K_NETWORK_FILE] = {.name = "network-file",
			    .type = KT_STRING,
			    .def = "/etc/stubinit/network",
			    .since = "0.1",
			    .help = "the image's network spec file; absent is fine"},
	[K_UNPLUG_PV_NIC] =
		{.name = "unplug-pv-nic",
		 .type = KT_BOOL,
		 .def = "1",
		 .since = "0.3",
		 .help = "when QEMU reports emulated NIC nic<N> unplugged (the guest's PV drivers "
			 "took over), the stubdomain's PV NIC <N> goes too: netfront unbound, "
			 "device/vif/<N> removed, so dom0 tears down that vif (as Qubes does)"},
	[K_KERNEL_DISK] =
		{.name = "kernel-disk",
		 .type = KT_STRING,
		 .def = "/dev/xvdd",
		 .since = "0.3",
		 .help = "direct kernel boot, as Qubes' toolstack asks for it (-append in "
			 "dm-argv, no -kernel): the block device holding the guest's "
			 "kernel, mounted read-only; its vmlinuz (and initramfs, if there) "
			 "become -kernel (and -initrd)"},
	[K_PCI_DRIVER] =
		{.name = "pci-driver",
		 .type = KT_STRING,
		 .def = "xen-pci-passthrough",
		 .since = "0.1",
		 .help = "QEMU device that pci-ins adds; another one (say pci-testdev) lets "
			 "the command protocol run without Xen, with no host address"},
	[K_COMMAND_TIMEOUT] =
		{.name = "command-timeout",
		 .type = KT_DURATION,
		 .def = "10s",
		 .since = "0.1",
		 .help = "bound on one device-model command (pci-ins, pci-rem) before it "
			 "is answered as failed",
		 .min = 100,
		 .max = 600000},
	[K_READONLY_ROOT] = {.name = "readonly-root",
			     .type = KT_BOOL,
			     .def = "1",
			     .since = "0.1",
			     .help = "on Xen, remount / read-only once booted (/run and /dev stay "
				     "writable)"},
	[K_QEMU_USER] =
		{.name = "qemu-user",
		 .type = KT_STRING,
		 .def =
			 "auto",
		 .since = "0.1",
		 .help = "uid:gid QEMU runs as, with no capabilities and no new privileges; "
			 "root keeps it privileged (for debugging, and for guests with PCI "
			 "passthrough: QEMU reads config space that Linux shows only to "
			 "CAP_SYS_ADMIN); auto (0.3): root when the stubdomain has a PCI "
			 "frontend at boot (Qubes' libxl attaches a guest's PCI devices before "
			 "the stubdomain runs), 65534:65534 otherwise"},
	[K_QEMU_SANDBOX] =
		{.name = "qemu-sandbox",
		 .type = KT_CHOICE,
		 .def =
			 "auto",
		 .since = "0.1",
		 .help = "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
			 "resourcecontrol=deny for QEMU: auto (when the binary has seccomp "
			 "support; Debian's qemu-system-xen has none), on or off",
		 .choices = sandbox_choices},
	[K_VNC] = {.name = "vnc",
		   .type = KT_BOOL,
		   .def = "0",
		   .since = "0.1",
		   .help = "the guest's display: QEMU's VNC server without a socket (-vnc none), "
			   "each "
			   "dom0 client handed to it as a connection of stubinit's (add_client), "
			   "one client at a time, over the qmp-transport: vchan at "
			   "device-model/<guest>/vnc-vchan, or unix at vnc-socket"},
	[K_VNC_SOCKET] = {.name = "vnc-socket",
			  .type = KT_STRING,
			  .def = "/run/stubinit/dom0-vnc.sock",
			  .since = "0.1",
			  .help = "the unix transport's socket for the display"},
	[K_XENSTORE_FILTER] =
		{.name = "xenstore-filter",
		 .type = KT_CHOICE,
		 .def =
			 "on",
		 .since = "0.1",
		 .help = "QEMU's xenstore: on (QEMU has no xenbus device and reaches "
			 "xenstore only through stubinit, which passes what QEMU needs "
			 "and refuses the rest, README: Containing QEMU), log (every "
			 "request passes and is logged with the verdict it would get) or "
			 "off (QEMU opens xenbus itself, as before; debugging)",
		 .choices = filter_choices},
	[K_GNTALLOC_LIMIT] = {.name = "gntalloc-limit",
			      .type = KT_UINT,
			      .def = "1073741823",
			      .since = "0.3",
			      .help = "grant pages the stubdomain may allocate through gntalloc, "
				      "written to xen_gntalloc's limit at boot (Qubes' GUI needs "
				      "more than the kernel's 1024); 0 leaves the kernel's"},
	[K_AUDIO_HELPER] = {.name = "audio-helper",
			    .type = KT_STRING,
			    .def = "",
			    .since = "0.3",
			    .help = "for Qubes' -qubes-audio:audiovm_xid=N with a sound card: a "
				    "program of the image, run as <helper> <N> <socket> before "
				    "QEMU and restarted when it exits, that serves PulseAudio's "
				    "protocol on <socket> toward audio VM N; QEMU gets -audiodev "
				    "pa on it. Empty: the sound card plays nowhere (logged)"},
	[K_AUDIO_WAIT] = {.name = "audio-wait",
			  .type = KT_DURATION,
			  .def = "10s",
			  .since = "0.3",
			  .help = "how long QEMU's start waits for the audio helper's socket; "
				  "then QEMU starts without audio",
			  .max = 120000},
};

/* Renamed keys: old name, new name, version of the rename. Old names keep working for a while. */
static const struct key_alias stubinit_aliases[] = {{NULL, NULL, NULL}};

static struct key_val stubinit_vals[K__COUNT];
static struct keyset stubinit_ks;

struct keyset *keys_stubinit(void)
{
	if (!stubinit_ks.defs)
		keys_init(&stubinit_ks, stubinit_defs, K__COUNT, stubinit_aliases, 0,
			  stubinit_vals);
	return &stubinit_ks;
}

const struct key_val *key(enum stubinit_key k)
{
	return &keys_stubinit()->vals[k];
}

int keys_find(const struct keyset *ks, const char *name)
{
	for (unsigned i = 0; i < ks->ndefs; i++)
		if (!strcmp(ks->defs[i].name, name))
			return (int)i;
	return -1;
}

/* Parses @s as an unsigned number with an optional unit; @units maps suffixes to multipliers. */
struct unit {
	const char *suffix;
	uint64_t mul;
};

static int parse_number(const char *s, const struct unit *units, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcmp(end, u->suffix))
			continue;
		if (u->mul && v > UINT64_MAX / u->mul)
			return -1;
		*out = v * u->mul;
		return 0;
	}
	return -1;
}

static const struct unit plain_units[] = {{"", 1}, {NULL, 0}};
static const struct unit size_units[] = {
	{"", 1}, {"k", 1024}, {"K", 1024}, {"m", 1024 * 1024}, {"M", 1024 * 1024}, {NULL, 0}};
static const struct unit duration_units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {NULL, 0}};

/* Converts @value for @d into @v; on failure fills @why and returns -1. */
static int convert(const struct key_def *d, const char *value, struct key_val *v, char *why,
		   size_t whylen)
{
	uint64_t n = 0;

	switch (d->type) {
	case KT_STRING:
		return 0;
	case KT_CHOICE:
		for (unsigned i = 0; d->choices[i]; i++) {
			if (!strcmp(d->choices[i], value)) {
				v->num = i;
				return 0;
			}
		}
		snprintf(why, whylen, "expected one of:");
		for (unsigned i = 0; d->choices[i]; i++)
			snprintf(why + strlen(why), whylen - strlen(why), " %s", d->choices[i]);
		return -1;
	case KT_BOOL:
		if (!strcasecmp(value, "1") || !strcasecmp(value, "yes") ||
		    !strcasecmp(value, "on") || !strcasecmp(value, "true")) {
			v->num = 1;
			return 0;
		}
		if (!strcasecmp(value, "0") || !strcasecmp(value, "no") ||
		    !strcasecmp(value, "off") || !strcasecmp(value, "false")) {
			v->num = 0;
			return 0;
		}
		snprintf(why, whylen, "expected 1/0, yes/no, on/off or true/false");
		return -1;
	case KT_UINT:
	case KT_SIZE:
	case KT_DURATION:
		if (parse_number(value,
				 d->type == KT_UINT   ? plain_units
				 : d->type == KT_SIZE ? size_units
						      : duration_units,
				 &n) < 0) {
			snprintf(why, whylen, "%s",
				 d->type == KT_UINT   ? "expected a whole number"
				 : d->type == KT_SIZE ? "expected a size like 65536, 64k or 1m"
						      : "expected a duration like 500ms, 2s or 2");
			return -1;
		}
		if (n < d->min || (d->max && n > d->max)) {
			snprintf(why, whylen, "out of range: %llu..%llu%s",
				 (unsigned long long)d->min, (unsigned long long)d->max,
				 d->type == KT_SIZE	  ? " bytes"
				 : d->type == KT_DURATION ? " ms"
							  : "");
			return -1;
		}
		v->num = n;
		return 0;
	}
	return -1;
}

int keys_init(struct keyset *ks, const struct key_def *defs, unsigned ndefs,
	      const struct key_alias *aliases, unsigned naliases, struct key_val *vals)
{
	int ret = 0;

	*ks = (struct keyset){defs, ndefs, aliases, naliases, vals, 0};
	for (unsigned i = 0; i < ndefs; i++) {
		char why[256];

		vals[i] = (struct key_val){.str = strdup(defs[i].def), .origin = "default"};
		if (!vals[i].str || convert(&defs[i], defs[i].def, &vals[i], why, sizeof(why)) < 0)
			ret = -EINVAL;
	}
	return ret;
}

void keys_fini(struct keyset *ks)
{
	for (unsigned i = 0; i < ks->ndefs; i++) {
		free((char *)ks->vals[i].str);
		ks->vals[i].str = NULL;
	}
}

static int is_option(const char *origin)
{
	return !strcmp(origin, "option");
}

/* How the user wrote the key: stubinit.x on the kernel command line, --x as an option. */
static const char *spelled(const char *name, const char *origin, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", is_option(origin) ? "--" : KEY_PREFIX, name);
	return buf;
}

int keys_set(struct keyset *ks, const char *name, const char *value, const char *origin)
{
	char as[160], why[256];
	struct key_val nv;
	int i = keys_find(ks, name);

	if (i < 0) {
		for (unsigned a = 0; a < ks->naliases; a++) {
			const struct key_alias *al = &ks->aliases[a];
			char as2[160];

			if (strcmp(al->old_name, name))
				continue;
			ks->problems++;
			log_warn("key %s (%s) is deprecated: renamed to %s in %s; the old name "
				 "still "
				 "works for now, use the new one",
				 spelled(name, origin, as, sizeof(as)), origin,
				 spelled(al->new_name, origin, as2, sizeof(as2)), al->since);
			return keys_set(ks, al->new_name, value, origin);
		}
		ks->problems++;
		log_warn("key %s (%s): unknown key, ignored", spelled(name, origin, as, sizeof(as)),
			 origin);
		return -1;
	}
	nv = (struct key_val){.origin = origin};
	why[0] = 0;
	if (convert(&ks->defs[i], value, &nv, why, sizeof(why)) < 0) {
		ks->problems++;
		log_warn("key %s=%s (%s): invalid value, %s; keeping %s",
			 spelled(name, origin, as, sizeof(as)), value, origin, why,
			 ks->vals[i].str);
		return -1;
	}
	nv.str = strdup(value);
	if (!nv.str) {
		ks->problems++;
		log_error("key %s: out of memory", name);
		return -1;
	}
	free((char *)ks->vals[i].str);
	ks->vals[i] = nv;
	log_debug("key %s=%s (%s)", spelled(name, origin, as, sizeof(as)), value, origin);
	return 0;
}

/* Sets "name=value" as written (the prefix already removed). */
static void set_word(struct keyset *ks, char *word, const char *origin)
{
	char *eq = strchr(word, '=');
	char as[160];

	if (!eq || eq == word) {
		ks->problems++;
		log_warn("key %s (%s): malformed, expected %s<key>=<value>; ignored",
			 spelled(word, origin, as, sizeof(as)), origin,
			 is_option(origin) ? "--" : KEY_PREFIX);
		return;
	}
	*eq = 0;
	keys_set(ks, word, eq + 1, origin);
}

unsigned keys_parse_cmdline(struct keyset *ks, const char *cmdline)
{
	return keys_parse_words(ks, cmdline, "kernel command line");
}

unsigned keys_parse_words(struct keyset *ks, const char *text, const char *origin)
{
	unsigned before = ks->problems;
	const char *p = text;
	size_t plen = strlen(KEY_PREFIX);

	while (*p) {
		char *word, *w;
		const char *start;
		int quoted = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++)
			if (*p == '"')
				quoted = !quoted;
		word = strndup(start, (size_t)(p - start));
		if (!word)
			break;
		/* The kernel strips the double quotes that protect spaces in a value. */
		w = word;
		for (char *r = word; *r; r++)
			if (*r != '"')
				*w++ = *r;
		*w = 0;
		if (!strncmp(word, KEY_PREFIX, plen))
			set_word(ks, word + plen, origin);
		free(word);
	}
	return ks->problems - before;
}

/* Whether @a is one of the caller's options; sets *@next when its value is the next word. */
static int is_handled(const char *a, const char *const *handled, int *next)
{
	for (const char *const *h = handled; h && *h; h++) {
		size_t n = strlen(*h);
		int takes = n && (*h)[n - 1] == '=';
		size_t base = takes ? n - 1 : n;

		if (strncmp(a, *h, base))
			continue;
		if (a[base] == 0) {
			*next = takes;
			return 1;
		}
		if (takes && a[base] == '=') {
			*next = 0;
			return 1;
		}
	}
	return 0;
}

unsigned keys_parse_argv(struct keyset *ks, int argc, char *const argv[],
			 const char *const *handled)
{
	unsigned before = ks->problems;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *word;
		int next = 0;

		if (is_handled(a, handled, &next)) {
			i += next;
			continue;
		}
		if (strncmp(a, "--", 2) || !a[2]) {
			ks->problems++;
			log_warn("argument '%s' (option): not an option of stubinit, ignored", a);
			continue;
		}
		if (!strchr(a, '=') && i + 1 < argc && keys_find(ks, a + 2) >= 0) {
			/* "--key value" */
			if (asprintf(&word, "%s=%s", a + 2, argv[++i]) < 0)
				word = NULL;
		} else {
			word = strdup(a + 2);
		}
		if (!word)
			break;
		set_word(ks, word, "option");
		free(word);
	}
	return ks->problems - before;
}

static const char *type_word(enum key_type t)
{
	static const char *const words[] = {
		[KT_STRING] = "string", [KT_CHOICE] = "word",	    [KT_UINT] = "number",
		[KT_SIZE] = "size",	[KT_DURATION] = "duration", [KT_BOOL] = "boolean"};
	return words[t];
}

void keys_print_markdown(const struct keyset *ks, FILE *out)
{
	fprintf(out, "| key | default | since | what it does |\n|---|---|---|---|\n");
	for (unsigned i = 0; i < ks->ndefs; i++) {
		const struct key_def *d = &ks->defs[i];

		fprintf(out, "| `%s%s` | `%s` | %s | %s (%s) |\n", KEY_PREFIX, d->name, d->def,
			d->since, d->help, type_word(d->type));
	}
	for (unsigned a = 0; a < ks->naliases; a++)
		fprintf(out,
			"| `%s%s` | | | renamed to `%s%s` in %s; still accepted, with a warning "
			"|\n",
			KEY_PREFIX, ks->aliases[a].old_name, KEY_PREFIX, ks->aliases[a].new_name,
			ks->aliases[a].since);
}

/* @s for roff running text: backslashes escaped, hyphens as the minus sign they are in keys. */
static void roff(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

void keys_print_man(const struct keyset *ks, FILE *out)
{
	for (unsigned i = 0; i < ks->ndefs; i++) {
		const struct key_def *d = &ks->defs[i];

		fputs(".TP\n.BI ", out);
		fprintf(out, "\"%s", KEY_PREFIX);
		roff(out, d->name);
		fprintf(out, "=\" %s\n", type_word(d->type));
		roff(out, d->help);
		fputs(".\nDefault: \\fB", out);
		roff(out, d->def[0] ? d->def : "(empty)");
		fprintf(out, "\\fR; since %s.\n", d->since);
	}
	for (unsigned a = 0; a < ks->naliases; a++) {
		fputs(".TP\n.B ", out);
		fprintf(out, "%s", KEY_PREFIX);
		roff(out, ks->aliases[a].old_name);
		fprintf(out, "\nRenamed to \\fB%s", KEY_PREFIX);
		roff(out, ks->aliases[a].new_name);
		fprintf(out, "\\fR in %s; still accepted, with a warning.\n", ks->aliases[a].since);
	}
}

void keys_print_help(const struct keyset *ks, FILE *out)
{
	for (unsigned i = 0; i < ks->ndefs; i++) {
		const struct key_def *d = &ks->defs[i];

		fprintf(out, "  --%s=<%s>  (stubinit.%s, default %s)\n      %s\n", d->name,
			type_word(d->type), d->name, d->def, d->help);
	}
}
