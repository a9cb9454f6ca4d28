/*
 * status: the device-model/<target>/stubinit keys. See status.h.
 */
#include "status.h"
#include "log.h"
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
	int bound;
	unsigned target;
	enum status_state state;
	char error[256];
} ss;

static const char *const names[] = {
	[ST_BOOTING] = "booting",	      [ST_STARTING_QEMU] = "starting-qemu",
	[ST_RUNNING] = "running",	      [ST_QEMU_DIED] = "qemu-died",
	[ST_SHUTTING_DOWN] = "shutting-down",
};

const char *status_name(enum status_state s)
{
	return names[s];
}

static void put(const char *leaf, const char *value)
{
	char path[96];
	int err;

	if (!ss.bound)
		return;
	snprintf(path, sizeof(path), "device-model/%u/stubinit/%s", ss.target, leaf);
	err = store_write(path, value);
	if (err)
		log_errno(LV_WARN, err, "status: cannot write %s", path);
}

void status_bind(unsigned target)
{
	char pid[16];

	ss.bound = 1;
	ss.target = target;
	snprintf(pid, sizeof(pid), "%d", getpid());
	put("version", STUBINIT_VERSION);
	put("pid", pid);
	put("error", ss.error);
	put("state", names[ss.state]);
}

void status_set(enum status_state s)
{
	ss.state = s;
	log_info("status: %s", names[s]);
	put("state", names[s]);
}

void status_stats(const char *line)
{
	put("stats", line);
}

void status_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ss.error, sizeof(ss.error), fmt, ap);
	va_end(ap);
	log_error("%s", ss.error);
	put("error", ss.error);
}
