// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the permanent monitor as QEMU drives it, with the real handlers attached: the
 * monitor's own (greeting, qmp_capabilities, add-fd, events), hotplug's and network's
 * DEVICE_DELETED subscriptions, and query-pci's reading. The input is QEMU's side of the socket,
 * delivered in uneven chunks with the loop running between them. Properties: stubinit's log stays
 * whole lines of printable text, the monitor never has more commands waiting than its cap, and
 * query-pci's answer is either none or a vdevfn in 0..255.
 */
#include "fuzz.h"
#include "agent/hotplug.h"
#include "agent/monitor.h"
#include "agent/network.h"
#include "core/log.h"
#include "core/loop.h"
#include "qmp/framer.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int log_rd = -1;

static void setup(void)
{
	static const struct hotplug_opts hp = {"xen-pci-passthrough", 1000, "1s"};
	static const struct network_opts net = {.spec = "", .spec_file = "/nonexistent/network"};
	struct dm_config cfg;
	int p[2];

	log_init();
	if (loop_init() < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	log_attach(p[1]);
	close(p[1]);
	log_rd = p[0];
	memset(&cfg, 0, sizeof(cfg));
	hotplug_start(5, 7, &hp);
	network_setup(&cfg, &net);
}

/* Every log line: printable, ends in '\n'. */
static void check_log(void)
{
	static char buf[1 << 16];
	static size_t have;
	ssize_t n;

	log_flush(0);
	while ((n = read(log_rd, buf + have, sizeof(buf) - have)) > 0) {
		char *nl;

		have += (size_t)n;
		while ((nl = memchr(buf, '\n', have))) {
			for (char *c = buf; c < nl; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					abort();
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (have == sizeof(buf))
			abort(); /* a line longer than the log ever writes */
	}
}

static void vdevfn(struct json_object *obj, void *arg)
{
	int v = obj ? hotplug_vdevfn(obj, "pci-pt-00_03.0") : -1;

	(void)arg;
	if (v < -1 || v > 255)
		abort();
}

static void turn(int peer)
{
	char junk[4096];

	for (int i = 0; i < 4; i++)
		loop_run_once(0);
	while (read(peer, junk, sizeof(junk)) > 0)
		;
	check_log();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_framer *f;
	size_t off = 0;
	int sp[2];

	if (log_rd < 0)
		setup();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		return 0;
	if (monitor_adopt(sp[0]) < 0) {
		close(sp[1]);
		return 0;
	}
	while (off < size) {
		size_t n = 1 + data[off] % 97;

		if (n > size - off)
			n = size - off;
		if (write(sp[1], data + off, n) < 0)
			break;
		off += n;
		turn(sp[1]);
	}
	close(sp[1]);
	turn(-1);
	f = qmp_framer_new(MONITOR_MAX_MESSAGE, MONITOR_MAX_ALLOC);
	if (f)
		qmp_framer_feed(f, (const char *)data, size, vdevfn, NULL);
	qmp_framer_free(f);
	return 0;
}
