// SPDX-License-Identifier: GPL-2.0-only
/*
 * status: the device-model/<target>/stubinit keys. See status.h.
 */
#include "status.h"
#include "store.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	int bound;
	unsigned target;
	enum status_state state;
	char error[256];
	uint64_t interval_ms;
	pid_t qemu;
	struct loop_timer *stats;
} ss;

static const char *const names[] = {
	[ST_BOOTING] = "booting",
	[ST_STARTING_QEMU] = "starting-qemu",
	[ST_RUNNING] = "running",
	[ST_QEMU_DIED] = "qemu-died",
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

static void start_stats(void);

void status_set(enum status_state s)
{
	ss.state = s;
	log_info("status: %s", names[s]);
	put("state", names[s]);
	if (s == ST_RUNNING)
		start_stats();
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

/* ---- stats ----------------------------------------------------------------------------------- */

static long field_kb(const char *path, const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

static long qemu_cpu_ms(void)
{
	long hz = sysconf(_SC_CLK_TCK), t[2]; /* user and system time */

	if (child_stat_fields(ss.qemu, 14, t, 2) < 0)
		return -1;
	return (t[0] + t[1]) * 1000 / (hz > 0 ? hz : 100);
}

/* stubinit's open fds (a leak per session or per device shows here), or -1. */
static long own_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own fd */
}

static void on_stats(void *arg)
{
	char path[64], line[256], buf[64];
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	(void)arg;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			up = strtod(buf, NULL);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", ss.qemu);
	snprintf(line, sizeof(line),
		 "qemu-rss-kb=%ld qemu-cpu-ms=%ld stubinit-rss-kb=%ld stubinit-fds=%ld "
		 "mem-free-kb=%ld mem-available-kb=%ld uptime-s=%.0f",
		 ss.qemu ? field_kb(path, "VmRSS:") : -1, ss.qemu ? qemu_cpu_ms() : -1,
		 field_kb("/proc/self/status", "VmRSS:"), own_fds(),
		 field_kb("/proc/meminfo", "MemFree:"), field_kb("/proc/meminfo", "MemAvailable:"),
		 up);
	put("stats", line);
}

void status_stats_interval(uint64_t interval_ms)
{
	ss.interval_ms = interval_ms;
}

void status_watch_qemu(pid_t pid)
{
	ss.qemu = pid;
}

/* From QEMU's running on: before it has greeted, its RSS says nothing yet (16-420 kB measured). */
static void start_stats(void)
{
	if (!ss.qemu || !ss.interval_ms || ss.stats)
		return;
	ss.stats = loop_timer_new(on_stats, NULL);
	if (!ss.stats)
		log_errno(LV_ERROR, errno, "status: no stats refresh");
	else
		loop_timer_arm(ss.stats, 1, ss.interval_ms);
}
