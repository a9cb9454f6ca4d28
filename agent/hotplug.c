/*
 * hotplug: command protocol, PCI and CD uevents. See hotplug.h.
 */
#include "hotplug.h"
#include "keys.h"
#include "log.h"
#include "loop.h"
#include "store.h"
#include "supervise.h"
#include "qmp/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE 8

struct command {
	char name[16];
	char param[128];
};

static struct {
	unsigned target, domid;
	char dir[64];		  /* device-model/<guest> */
	struct command q[QUEUE];  /* waiting commands, in order */
	unsigned head, n;
	bool busy;
	unsigned long gen;	  /* of the running command: late replies of older ones are ignored */
	struct command cur;
	struct pci_param pci;
	char id[32];		  /* QEMU device id of the running command */
	struct loop_timer *timer;
	int uevent_fd;
	bool started;
} hp = { .uevent_fd = -1 };

/* ---- parameters ------------------------------------------------------------------------------ */

static const char *parse_uint(const char **s, unsigned max_digits, unsigned base, unsigned max,
			      unsigned *out)
{
	unsigned long v = 0;
	unsigned n = 0;

	while (n < max_digits) {
		int c = (*s)[0], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v * base + (unsigned)d;
		(*s)++;
		n++;
	}
	if (!n)
		return "a number is missing";
	if (v > max)
		return "a number is out of range";
	*out = (unsigned)v;
	return NULL;
}

static const char *expect(const char **s, char c)
{
	if (**s != c) {
		static char why[40];

		snprintf(why, sizeof(why), "'%c' expected", c);
		return why;
	}
	(*s)++;
	return NULL;
}

/* "<name>0" or "<name>1" at *@s. */
static const char *parse_flag(const char **s, const char *name, const char *missing, int *out)
{
	const char *why;
	unsigned v;

	if (strncmp(*s, name, strlen(name)))
		return missing;
	*s += strlen(name);
	if ((why = parse_uint(s, 1, 10, 1, &v)))
		return why;
	*out = (int)v;
	return NULL;
}

const char *hotplug_parse_pci(const char *s, bool with_opts, struct pci_param *p)
{
	const char *why;
	unsigned v;

	*p = (struct pci_param){ .vdevfn = -1 };
	if ((why = parse_uint(&s, 4, 16, 0xffff, &p->domain)) || (why = expect(&s, ':')) ||
	    (why = parse_uint(&s, 2, 16, 0xff, &p->bus)) || (why = expect(&s, ':')) ||
	    (why = parse_uint(&s, 2, 16, 0x1f, &p->dev)) || (why = expect(&s, '.')) ||
	    (why = parse_uint(&s, 1, 16, 7, &p->func)))
		return why;
	if (!with_opts)
		return *s ? "trailing characters after the address" : NULL;
	if (*s == '@') {
		s++;
		if ((why = parse_uint(&s, 2, 16, 0xff, &v)))
			return why;
		p->vdevfn = (int)v;
	}
	if ((why = parse_flag(&s, ",msitranslate=", "',msitranslate=' expected",
			      &p->msitranslate)) ||
	    (why = parse_flag(&s, ",power_mgmt=", "',power_mgmt=' expected", &p->power_mgmt)))
		return why;
	return *s ? "trailing characters after power_mgmt" : NULL;
}

/* ---- the command queue ------------------------------------------------------------------------ */

static void pump(void);

static void put(const char *leaf, const char *value)
{
	char path[96];
	int err;

	snprintf(path, sizeof(path), "%s/%s", hp.dir, leaf);
	err = store_write(path, value);
	if (err)
		log_errno(LV_ERROR, err, "command: cannot write %s", path);
}

/* The answer the toolstack waits for: parameter first, then state. */
static void finish(const char *state, const char *param)
{
	if (!hp.busy)
		return;
	if (param)
		put("parameter", param);
	put("state", state);
	log_info("command: %s %s -> %s%s%s", hp.cur.name, hp.cur.param, state, param ? " " : "",
		 param ? param : "");
	hp.busy = false;
	hp.gen++;
	loop_timer_arm(hp.timer, 0, 0);
	pump();
}

static void fail(const char *state, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *state, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_error("command: %s '%s' failed: %s", hp.cur.name, hp.cur.param, why);
	finish(state, NULL);
}

/* Replies carry the generation they belong to. */
#define GEN_ARG(g) ((void *)(uintptr_t)(g))
#define STALE(arg) ((uintptr_t)(arg) != hp.gen || !hp.busy)

static void on_timeout(void *arg)
{
	(void)arg;
	fail(!strcmp(hp.cur.name, "pci-ins") ? "pci-insert-failed" : "pci-remove-failed",
	     "no answer within %s (stubinit.command-timeout)", key(K_COMMAND_TIMEOUT)->str);
}

/* Whether the backend's opts for this device ask for permissive mode (pciback drops config
 * writes otherwise). */
static bool permissive(const struct pci_param *p)
{
	char path[128], want[32];
	unsigned n = 0;
	bool yes = false;
	char **devs;

	snprintf(want, sizeof(want), "%04x:%02x:%02x.%01x", p->domain, p->bus, p->dev, p->func);
	/* /local/domain/0/backend/pci/<stubdom>/0/{dev-N,opts-N} */
	snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%u/0", hp.domid);
	devs = store_directory(path, &n);
	for (unsigned i = 0; devs && i < n; i++) {
		char p2[192], *dev;

		if (strncmp(devs[i], "dev-", 4))
			continue;
		snprintf(p2, sizeof(p2), "%s/%s", path, devs[i]);
		dev = store_read(p2);
		if (dev && !strcmp(dev, want)) {
			char *opts;

			snprintf(p2, sizeof(p2), "%s/opts-%s", path, devs[i] + 4);
			opts = store_read(p2);
			yes = opts && strstr(opts, "permissive=1");
			free(opts);
		}
		free(dev);
	}
	free(devs);
	return yes;
}

/* query-pci: the vdevfn of QEMU device @id, or -1. */
static int find_vdevfn(struct json_object *msg, const char *id)
{
	struct json_object *ret, *buses;

	if (!json_object_object_get_ex(msg, "return", &ret))
		return -1;
	buses = ret;
	for (size_t b = 0; b < json_object_array_length(buses); b++) {
		struct json_object *devs, *bus = json_object_array_get_idx(buses, b);

		if (!json_object_object_get_ex(bus, "devices", &devs))
			continue;
		for (size_t d = 0; d < json_object_array_length(devs); d++) {
			struct json_object *dev = json_object_array_get_idx(devs, d), *q, *slot, *fn;

			if (json_object_object_get_ex(dev, "qdev_id", &q) &&
			    !strcmp(json_object_get_string(q), id) &&
			    json_object_object_get_ex(dev, "slot", &slot) &&
			    json_object_object_get_ex(dev, "function", &fn))
				return json_object_get_int(slot) << 3 | json_object_get_int(fn);
		}
	}
	return -1;
}

static void on_query_pci_ins(struct json_object *msg, void *arg)
{
	char param[16];
	int vdevfn;

	if (STALE(arg))
		return;
	vdevfn = msg ? find_vdevfn(msg, hp.id) : -1;
	if (vdevfn < 0) {
		fail("pci-insert-failed", "query-pci does not list %s: %s", hp.id,
		     msg ? "not found" : "QEMU is gone");
		return;
	}
	snprintf(param, sizeof(param), "0x%x", vdevfn);
	finish("pci-inserted", param);
}

static void on_device_add(struct json_object *msg, void *arg)
{
	const char *err = qmp_error_desc(msg);

	if (STALE(arg))
		return;
	if (err) {
		fail("pci-insert-failed", "device_add: %s", err);
		return;
	}
	if (supervise_qmp("query-pci", NULL, -1, on_query_pci_ins, GEN_ARG(hp.gen)) < 0)
		fail("pci-insert-failed", "query-pci: QEMU's monitor is gone");
}

static void pci_ins(void)
{
	const struct pci_param *p = &hp.pci;
	const char *drv = key(K_PCI_DRIVER)->str;
	struct json_object *args = json_object_new_object();
	char buf[32];

	/* libxl's names: the id "pci-pt-BB_DD.F", the host address, the guest slot from @VV. */
	snprintf(hp.id, sizeof(hp.id), "pci-pt-%02x_%02x.%01x", p->bus, p->dev, p->func);
	json_object_object_add(args, "driver", json_object_new_string(drv));
	json_object_object_add(args, "id", json_object_new_string(hp.id));
	if (!strcmp(drv, "xen-pci-passthrough")) {
		snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%01x", p->domain, p->bus, p->dev, p->func);
		json_object_object_add(args, "hostaddr", json_object_new_string(buf));
		if (permissive(p))
			json_object_object_add(args, "permissive", json_object_new_boolean(1));
	}
	if (p->vdevfn >= 0) {
		snprintf(buf, sizeof(buf), "%x.%x", p->vdevfn >> 3, p->vdevfn & 7);
		json_object_object_add(args, "addr", json_object_new_string(buf));
	}
	log_info("command: pci-ins %s: device_add %s", hp.cur.param,
		 json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
	if (supervise_qmp("device_add", args, -1, on_device_add, GEN_ARG(hp.gen)) < 0)
		fail("pci-insert-failed", "QEMU's monitor is gone");
}

static void on_device_del(struct json_object *msg, void *arg)
{
	const char *err = qmp_error_desc(msg);

	if (STALE(arg))
		return;
	if (err)
		fail("pci-remove-failed", "device_del: %s", err);
	/* Otherwise DEVICE_DELETED finishes it. */
}

static void pci_rem(void)
{
	const struct pci_param *p = &hp.pci;
	struct json_object *args = json_object_new_object();

	snprintf(hp.id, sizeof(hp.id), "pci-pt-%02x_%02x.%01x", p->bus, p->dev, p->func);
	json_object_object_add(args, "id", json_object_new_string(hp.id));
	if (supervise_qmp("device_del", args, -1, on_device_del, GEN_ARG(hp.gen)) < 0)
		fail("pci-remove-failed", "QEMU's monitor is gone");
}

void hotplug_qemu_event(struct json_object *ev)
{
	struct json_object *name, *data, *dev;

	if (!hp.busy || strcmp(hp.cur.name, "pci-rem") ||
	    !json_object_object_get_ex(ev, "event", &name) ||
	    strcmp(json_object_get_string(name), "DEVICE_DELETED") ||
	    !json_object_object_get_ex(ev, "data", &data) ||
	    !json_object_object_get_ex(data, "device", &dev) ||
	    strcmp(json_object_get_string(dev), hp.id))
		return;
	finish("pci-removed", NULL);
}

static void pump(void)
{
	const char *why;
	bool ins;

	if (hp.busy || !hp.n)
		return;
	hp.cur = hp.q[hp.head];
	hp.head = (hp.head + 1) % QUEUE;
	hp.n--;
	hp.busy = true;
	hp.gen++;
	loop_timer_arm(hp.timer, key(K_COMMAND_TIMEOUT)->num, 0);
	ins = !strcmp(hp.cur.name, "pci-ins");
	if (!ins && strcmp(hp.cur.name, "pci-rem")) {
		/* save/continue belong to qemu-traditional; nothing here speaks them. */
		fail("error", "unknown command (this device model knows pci-ins and pci-rem)");
		return;
	}
	/* A malformed parameter is refused before anything is touched. */
	why = hotplug_parse_pci(hp.cur.param, ins, &hp.pci);
	if (why) {
		fail(ins ? "pci-insert-failed" : "pci-remove-failed", "malformed parameter: %s", why);
		return;
	}
	if (ins)
		pci_ins();
	else
		pci_rem();
}

static void on_command(const char *path, void *arg)
{
	char p[96], *cmd, *param;

	(void)path, (void)arg;
	snprintf(p, sizeof(p), "%s/command", hp.dir);
	cmd = store_read(p);
	if (!cmd || !*cmd) {
		free(cmd);
		return;
	}
	snprintf(p, sizeof(p), "%s/parameter", hp.dir);
	param = store_read(p);
	if (hp.n == QUEUE) {
		log_error("command: %s: %u commands already wait; refused", cmd, QUEUE);
	} else {
		struct command *c = &hp.q[(hp.head + hp.n) % QUEUE];

		snprintf(c->name, sizeof(c->name), "%s", cmd);
		snprintf(c->param, sizeof(c->param), "%s", param ? param : "");
		hp.n++;
	}
	/* Taken: a later write of the same command is a new one. */
	put("command", "");
	free(cmd);
	free(param);
	pump();
}

/* ---- uevents: PCI devices and CD-ROM vbds ------------------------------------------------------ */

static const char *uev(const char *buf, size_t len, const char *keyname)
{
	size_t k = strlen(keyname);

	for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
		if (!strncmp(buf + off, keyname, k) && buf[off + k] == '=')
			return buf + off + k + 1;
	return NULL;
}

static int read_sys(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static void on_cd_added(struct json_object *msg, void *arg)
{
	int fd = (int)(intptr_t)arg;
	const char *err = qmp_error_desc(msg);

	/* QEMU holds its own copy now; ours would keep blkfront from detaching it later. */
	close(fd);
	if (err)
		log_error("cdrom: add-fd failed: %s", err);
	else
		log_info("cdrom: handed to QEMU (add-fd)");
}

static void cd_appeared(const char *devname)
{
	char path[128], node[64], type_path[96], *type, opaque[48];
	unsigned long devid;
	struct json_object *args;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/device/nodename", devname);
	if (read_sys(path, node, sizeof(node)) < 0 || strncmp(node, "device/vbd/", 11))
		return;
	devid = strtoul(node + 11, NULL, 10);
	snprintf(type_path, sizeof(type_path), "device/vbd/%lu/device-type", devid);
	type = store_read(type_path);
	if (!type || strcmp(type, "cdrom")) {
		log_info("block: %s is %s (vbd %lu), not a CD-ROM: left to QEMU's command line",
			 devname, type ? type : "of unknown type", devid);
		free(type);
		return;
	}
	free(type);
	snprintf(path, sizeof(path), "/dev/%s", devname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_errno(LV_ERROR, errno, "cdrom: vbd %lu: cannot open %s", devid, path);
		return;
	}
	/* libxl's cd-insert looks the fdset up by this opaque (Xen 4.20 and later). */
	snprintf(opaque, sizeof(opaque), "stub-devid:%lu", devid);
	args = json_object_new_object();
	json_object_object_add(args, "opaque", json_object_new_string(opaque));
	log_info("cdrom: vbd %lu appeared as %s; add-fd with opaque %s", devid, path, opaque);
	if (supervise_qmp("add-fd", args, fd, on_cd_added, (void *)(intptr_t)fd) < 0) {
		log_error("cdrom: vbd %lu: QEMU's monitor is gone", devid);
		close(fd);
	}
}

static void pci_appeared(const char *slot, const char *driver)
{
	char path[160];
	int fd;

	log_info("pci: %s hot-plugged into the stubdomain%s%s", slot, driver ? "; driver " : "",
		 driver ? driver : "");
	/* xen-pci-passthrough reads the device's capabilities from sysfs, past the first 64 bytes of
	 * its config space, which Linux shows only to CAP_SYS_ADMIN. */
	if (!supervise_qemu_privileged())
		log_error("pci: %s: QEMU runs deprivileged (key stubinit.qemu-user=%s), and Linux "
			  "shows a process without CAP_SYS_ADMIN only the first 64 bytes of a PCI "
			  "device's config space: QEMU's xen-pci-passthrough will fail on its "
			  "capabilities; a guest with PCI devices needs stubinit.qemu-user=root",
			  slot, key(K_QEMU_USER)->str);
	if (!driver)
		return;
	/* QEMU passes it through; a stubdomain driver on it would fight QEMU. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", slot);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, slot, strlen(slot)) < 0)
		log_errno(LV_ERROR, errno, "pci: %s: cannot unbind %s", slot, driver);
	else
		log_info("pci: %s: unbound from %s", slot, driver);
	if (fd >= 0)
		close(fd);
}

static void on_uevent(int fd, uint32_t events, void *arg)
{
	char buf[8192];
	ssize_t n;

	(void)events, (void)arg;
	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		const char *action, *subsystem;

		buf[n] = 0;
		action = uev(buf, (size_t)n, "ACTION");
		subsystem = uev(buf, (size_t)n, "SUBSYSTEM");
		if (!action || !subsystem)
			continue;
		log_debug("uevent: %s %s %s", action, subsystem, buf);
		if (!strcmp(subsystem, "block") && !strcmp(action, "add") &&
		    uev(buf, (size_t)n, "DEVNAME"))
			cd_appeared(uev(buf, (size_t)n, "DEVNAME"));
		else if (!strcmp(subsystem, "pci") && (!strcmp(action, "add") || !strcmp(action, "bind")))
			pci_appeared(uev(buf, (size_t)n, "PCI_SLOT_NAME") ?: "?",
				     uev(buf, (size_t)n, "DRIVER"));
		else if (!strcmp(subsystem, "xen") && uev(buf, (size_t)n, "XENBUS_PATH") &&
			 !strncmp(uev(buf, (size_t)n, "XENBUS_PATH"), "device/pci", 10) &&
			 !strcmp(action, "remove"))
			log_error("pci: pcifront %s went away (a pcifront failure, e.g. SWIOTLB "
				  "exhaustion?); its devices are gone from the stubdomain",
				  uev(buf, (size_t)n, "XENBUS_PATH"));
	}
}

static void open_uevents(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char type[16];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_KOBJECT_UEVENT);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    loop_add(fd, EPOLLIN, on_uevent, NULL) < 0) {
		log_errno(LV_ERROR, errno, "hotplug: no uevents");
		if (fd >= 0)
			close(fd);
		return;
	}
	hp.uevent_fd = fd;
	/* Devices pcifront brings are QEMU's: keep the stubdomain's drivers from probing them. The
	 * setting is the kernel's, not a namespace's, so only ever on Xen. */
	if (read_sys("/sys/hypervisor/type", type, sizeof(type)) == 0 && !strcmp(type, "xen")) {
		int a = open("/sys/bus/pci/drivers_autoprobe", O_WRONLY | O_CLOEXEC);

		if (a < 0 || write(a, "0", 1) < 0)
			log_errno(LV_WARN, errno, "pci: drivers_autoprobe=0");
		if (a >= 0)
			close(a);
	}
}

void hotplug_start(unsigned domid, unsigned target)
{
	char path[96];
	int err;

	if (hp.started)
		return;
	hp.started = true;
	hp.target = target;
	hp.domid = domid;
	snprintf(hp.dir, sizeof(hp.dir), "device-model/%u", target);
	hp.timer = loop_timer_new(on_timeout, NULL);
	snprintf(path, sizeof(path), "%s/command", hp.dir);
	err = store_watch(path, on_command, NULL);
	if (err)
		log_errno(LV_ERROR, err, "command: cannot watch %s", path);
	open_uevents();
}
