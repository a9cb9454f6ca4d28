// SPDX-License-Identifier: GPL-2.0-only
/*
 * uevent: pcifront and CD-ROM devices, from the kernel's uevents. See uevent.h.
 */
#include "uevent.h"
#include "monitor.h"
#include "store.h"
#include "core/log.h"
#include "core/loop.h"
#include "qmp/json.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Messages handled per wake-up. */
#define UEVENT_BUDGET 64

static struct {
	bool qemu_privileged;
	const char *qemu_user;
	int fd;
	struct loop_work *more;
	struct log_ratelimit strangers;
} ue = {.fd = -1};

const char *uevent_get(const char *buf, size_t len, const char *key)
{
	size_t k = strlen(key);

	for (size_t off = 0; off < len; off += strnlen(buf + off, len - off) + 1)
		if (len - off > k && !strncmp(buf + off, key, k) && buf[off + k] == '=' &&
		    memchr(buf + off + k, 0, len - off - k))
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
	const char *err = qmp_reply_error(msg);

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
	if (monitor_command("add-fd", args, fd, on_cd_added, (void *)(intptr_t)fd) < 0) {
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
	/* xen-pci-passthrough reads the device's capabilities from sysfs, past the first 64 bytes
	 * of its config space, which Linux shows only to CAP_SYS_ADMIN. */
	if (!ue.qemu_privileged)
		log_error(
			"pci: %s: QEMU runs deprivileged (key stubinit.qemu-user=%s%s), and "
			"Linux shows a process without CAP_SYS_ADMIN only the first 64 bytes of a "
			"PCI device's config space: QEMU's xen-pci-passthrough will fail on its "
			"capabilities; a guest with PCI devices needs stubinit.qemu-user=root",
			slot, ue.qemu_user,
			strcmp(ue.qemu_user, "auto") ? ""
						     : ": no PCI frontend at boot, as upstream "
						       "libxl attaches PCI devices after QEMU "
						       "started");
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

/* One message from the kernel: what it says of block, PCI and xen devices. */
static void handle(const char *buf, size_t n)
{
	const char *action = uevent_get(buf, n, "ACTION");
	const char *subsystem = uevent_get(buf, n, "SUBSYSTEM");
	const char *devname = uevent_get(buf, n, "DEVNAME");
	const char *xenbus = uevent_get(buf, n, "XENBUS_PATH");

	if (!action || !subsystem)
		return;
	log_debug("uevent: %s %s", action, subsystem);
	if (!strcmp(subsystem, "block") && !strcmp(action, "add") && devname)
		cd_appeared(devname);
	else if (!strcmp(subsystem, "pci") && (!strcmp(action, "add") || !strcmp(action, "bind")))
		pci_appeared(uevent_get(buf, n, "PCI_SLOT_NAME") ?: "?",
			     uevent_get(buf, n, "DRIVER"));
	else if (!strcmp(subsystem, "xen") && xenbus && !strncmp(xenbus, "device/pci", 10) &&
		 !strcmp(action, "remove"))
		log_error("pci: pcifront %s went away (a pcifront failure, e.g. SWIOTLB "
			  "exhaustion?); its devices are gone from the stubdomain",
			  xenbus);
}

static void read_uevents(void)
{
	char buf[8192];

	for (unsigned i = 0; i < UEVENT_BUDGET; i++) {
		struct sockaddr_nl from = {0};
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1};
		ssize_t n = recvmsg(ue.fd, &mh, MSG_DONTWAIT);

		if (n <= 0)
			return;
		/* Only the kernel speaks here: a process's message (nl_pid != 0) is not one. */
		if (from.nl_pid != 0 || mh.msg_namelen != sizeof(from) ||
		    (mh.msg_flags & MSG_TRUNC)) {
			if (log_ratelimit(&ue.strangers))
				log_warn("uevent: a message not from the kernel (port %u) ignored",
					 from.nl_pid);
			continue;
		}
		buf[n] = 0;
		handle(buf, (size_t)n);
	}
	loop_work_queue(ue.more);
}

static void on_uevent(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events, (void)arg;
	read_uevents();
}

static void on_more(void *arg)
{
	(void)arg;
	read_uevents();
}

static void open_uevents(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
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
	ue.fd = fd;
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

void uevent_start(bool qemu_privileged, const char *qemu_user)
{
	if (ue.fd >= 0)
		return;
	ue.qemu_privileged = qemu_privileged;
	ue.qemu_user = qemu_user;
	ue.strangers = (struct log_ratelimit)LOG_RATELIMIT("uevent: strangers", 5, 1000);
	ue.more = loop_work_new(on_more, NULL);
	open_uevents();
}
