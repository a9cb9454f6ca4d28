// SPDX-License-Identifier: GPL-2.0-only
/*
 * hotplug: the device-model command protocol. See hotplug.h.
 */
#include "hotplug.h"
#include "monitor.h"
#include "store.h"
#include "core/log.h"
#include "core/loop.h"
#include "qmp/json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE 8

struct command {
	char name[16];
	char param[128];
};

static struct {
	struct hotplug_opts o;
	unsigned target, domid;
	char dir[64];		 /* device-model/<guest> */
	struct command q[QUEUE]; /* waiting commands, in order */
	unsigned head, n;
	bool busy;
	unsigned long gen; /* of the running command: late replies of older ones are ignored */
	struct command cur;
	struct pci_param pci;
	char id[32]; /* QEMU device id of the running command */
	struct loop_timer *timer;
	struct loop_work *changed; /* the command key changed: read it once, next turn */
	struct log_ratelimit refused;
	bool started;
} hp;

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

	*p = (struct pci_param){.vdevfn = -1};
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

/* ---- the command queue ----------------------------------------------------------------------- */

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
	     "no answer within %s (stubinit.command-timeout)", hp.o.timeout_text);
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

int hotplug_vdevfn(struct json_object *msg, const char *id)
{
	size_t nbus, ndev;
	struct json_object *buses = qmp_get_arr(msg, "return", &nbus);

	for (size_t b = 0; b < nbus; b++) {
		struct json_object *devs = qmp_get_arr(qmp_arr_obj(buses, b), "devices", &ndev);

		for (size_t d = 0; d < ndev; d++) {
			struct json_object *dev = qmp_arr_obj(devs, d);
			const char *q = qmp_get_str(dev, "qdev_id");
			int64_t slot, fn;

			if (q && !strcmp(q, id) && qmp_get_int(dev, "slot", 0, 31, &slot) &&
			    qmp_get_int(dev, "function", 0, 7, &fn))
				return (int)(slot << 3 | fn);
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
	vdevfn = msg ? hotplug_vdevfn(msg, hp.id) : -1;
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
	const char *err = qmp_reply_error(msg);

	if (STALE(arg))
		return;
	if (err) {
		fail("pci-insert-failed", "device_add: %s", err);
		return;
	}
	if (monitor_command("query-pci", NULL, -1, on_query_pci_ins, GEN_ARG(hp.gen)) < 0)
		fail("pci-insert-failed", "query-pci: QEMU's monitor is gone");
}

static void pci_ins(void)
{
	const struct pci_param *p = &hp.pci;
	const char *drv = hp.o.pci_driver;
	struct json_object *args = json_object_new_object();
	char buf[32];

	/* libxl's names: the id "pci-pt-BB_DD.F", the host address, the guest slot from @VV. */
	snprintf(hp.id, sizeof(hp.id), "pci-pt-%02x_%02x.%01x", p->bus, p->dev, p->func);
	json_object_object_add(args, "driver", json_object_new_string(drv));
	json_object_object_add(args, "id", json_object_new_string(hp.id));
	if (!strcmp(drv, "xen-pci-passthrough")) {
		snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%01x", p->domain, p->bus, p->dev,
			 p->func);
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
	if (monitor_command("device_add", args, -1, on_device_add, GEN_ARG(hp.gen)) < 0)
		fail("pci-insert-failed", "QEMU's monitor is gone");
}

static void on_device_del(struct json_object *msg, void *arg)
{
	const char *err = qmp_reply_error(msg);

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
	if (monitor_command("device_del", args, -1, on_device_del, GEN_ARG(hp.gen)) < 0)
		fail("pci-remove-failed", "QEMU's monitor is gone");
}

/* DEVICE_DELETED ends a pci-rem. */
static void on_device_deleted(struct json_object *ev, void *arg)
{
	const char *dev = qmp_get_str(qmp_get_obj(ev, "data"), "device");

	(void)arg;
	if (!hp.busy || strcmp(hp.cur.name, "pci-rem") || !dev || strcmp(dev, hp.id))
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
	loop_timer_arm(hp.timer, hp.o.timeout_ms, 0);
	ins = !strcmp(hp.cur.name, "pci-ins");
	if (!ins && strcmp(hp.cur.name, "pci-rem")) {
		/* save/continue belong to qemu-traditional; nothing here speaks them. */
		fail("error", "unknown command (this device model knows pci-ins and pci-rem)");
		return;
	}
	/* A malformed parameter is refused before anything is touched. */
	why = hotplug_parse_pci(hp.cur.param, ins, &hp.pci);
	if (why) {
		fail(ins ? "pci-insert-failed" : "pci-remove-failed", "malformed parameter: %s",
		     why);
		return;
	}
	if (ins)
		pci_ins();
	else
		pci_rem();
}

/* The command key, read once per turn of the loop however often it changed. */
static void take_command(void *arg)
{
	char p[96], *cmd, *param;

	(void)arg;
	snprintf(p, sizeof(p), "%s/command", hp.dir);
	cmd = store_read(p);
	if (!cmd || !*cmd) {
		/* Empty (stubinit's own write, or nothing new): nothing to take, nothing to write.
		 */
		free(cmd);
		return;
	}
	snprintf(p, sizeof(p), "%s/parameter", hp.dir);
	param = store_read(p);
	if (hp.n == QUEUE) {
		if (log_ratelimit(&hp.refused))
			log_error("command: %.32s: %u commands already wait; refused", cmd, QUEUE);
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

static void on_command(const char *path, void *arg)
{
	(void)path, (void)arg;
	loop_work_queue(hp.changed);
}

void hotplug_start(unsigned domid, unsigned target, const struct hotplug_opts *o)
{
	char path[96];
	int err;

	if (hp.started)
		return;
	hp.started = true;
	hp.o = *o;
	hp.target = target;
	hp.domid = domid;
	hp.refused = (struct log_ratelimit)LOG_RATELIMIT("command: refusals", 5, 1000);
	snprintf(hp.dir, sizeof(hp.dir), "device-model/%u", target);
	hp.timer = loop_timer_new(on_timeout, NULL);
	hp.changed = loop_work_new(take_command, NULL);
	if (!hp.timer || !hp.changed) {
		log_error("command: cannot serve the command protocol");
		return;
	}
	monitor_subscribe("DEVICE_DELETED", on_device_deleted, NULL);
	snprintf(path, sizeof(path), "%s/command", hp.dir);
	err = store_watch(path, on_command, NULL);
	if (err)
		log_errno(LV_ERROR, err, "command: cannot watch %s", path);
}
