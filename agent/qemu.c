// SPDX-License-Identifier: GPL-2.0-only
/*
 * qemu: spawn, deprivilege, watch and report on QEMU. See qemu.h.
 */
#include "qemu.h"
#include "boot.h"
#include "paths.h"
#include "policy.h"
#include "shutdown.h"
#include "status.h"
#include "core/child.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/loop.h"
#include "netlink/net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* QEMU's lines kept for the report when it dies. */
#define LAST_LINES 12
/* QEMU's output read per wake-up. */
#define OUTPUT_BUDGET (64 * 1024)
#define MAX_EXIT_FNS  4

static struct {
	pid_t pid;
	bool privileged;
	int out_fd, exec_fd;
	const char *binary;
	long oom_kills; /* the kernel's count when QEMU started */
	struct {
		void (*fn)(void *arg);
		void *arg;
	} on_exit[MAX_EXIT_FNS];
	unsigned non_exit;
} q = {.out_fd = -1, .exec_fd = -1};
/* What starts as zeros, apart from q: it costs the static binary no file size (.bss, not .data). */
static struct {
	struct lines out;
	char last[LAST_LINES][LINES_MAX];
	unsigned nlast;
	/* why it is going down, when stubinit knows better than the exit status */
	char reason[256];
} qz;

pid_t qemu_pid(void)
{
	return q.pid;
}

bool qemu_privileged(void)
{
	return q.privileged;
}

bool qemu_is_peer(int fd, pid_t *peer)
{
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	*peer = cred.pid;
	return q.pid && cred.pid == q.pid;
}

void qemu_on_exit(void (*fn)(void *arg), void *arg)
{
	if (q.non_exit < MAX_EXIT_FNS)
		q.on_exit[q.non_exit++].fn = fn, q.on_exit[q.non_exit - 1].arg = arg;
}

void qemu_kill(const char *reason)
{
	if (!q.pid)
		return;
	if (reason && !qz.reason[0])
		snprintf(qz.reason, sizeof(qz.reason), "%s", reason);
	if (reason)
		log_error("%s; killing it (pid %d)", reason, q.pid);
	kill(q.pid, SIGKILL);
}

/* ---- QEMU's output --------------------------------------------------------------------------- */

static void output_line(const char *line, void *arg)
{
	(void)arg;
	snprintf(qz.last[qz.nlast % LAST_LINES], LINES_MAX, "%s", line);
	qz.nlast++;
	log_foreign(LV_INFO, "qemu: %s", line);
}

/* Reads at most @budget bytes; returns 0 at EOF or error, 1 while the pipe stays open. */
static int read_output(size_t budget)
{
	char buf[4096];
	ssize_t n = 0;

	while (budget && (n = read(q.out_fd, buf, sizeof(buf))) > 0) {
		budget -= (size_t)n < budget ? (size_t)n : budget;
		lines_feed(&qz.out, buf, (size_t)n, output_line, NULL);
	}
	if (!budget || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return 1;
	lines_flush(&qz.out, output_line, NULL);
	return 0;
}

static void close_output(void)
{
	if (q.out_fd < 0)
		return;
	loop_remove(q.out_fd);
	close(q.out_fd);
	q.out_fd = -1;
}

static void on_output(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events, (void)arg;
	if (!read_output(OUTPUT_BUDGET))
		close_output();
}

/* ---- QEMU's exit ----------------------------------------------------------------------------- */

/* The kernel's count of OOM kills (/proc/vmstat oom_kill), or -1. */
static long oom_kills(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "oom_kill ", 9))
			v = strtol(line + 9, NULL, 10);
	fclose(f);
	return v;
}

static void on_exec_result(int fd, uint32_t events, void *arg)
{
	int err = 0;
	ssize_t n = read(fd, &err, sizeof(err));

	(void)events, (void)arg;
	if (n == sizeof(err)) {
		snprintf(qz.reason, sizeof(qz.reason), "cannot execute %s: %s", q.binary,
			 strerror(err));
		log_error("%s", qz.reason);
	} else if (n == 0) {
		log_info("QEMU is running (pid %d)", q.pid);
	} else if (n < 0 && errno == EAGAIN) {
		return;
	}
	loop_remove(fd);
	close(fd);
	q.exec_fd = -1;
}

static void report_death(const char *why)
{
	unsigned first = qz.nlast > LAST_LINES ? qz.nlast - LAST_LINES : 0;

	log_error("device model died: %s", why);
	if (qz.nlast == 0)
		log_error("QEMU printed nothing");
	for (unsigned i = first; i < qz.nlast; i++)
		log_foreign(LV_ERROR, "QEMU's last words: %s", qz.last[i % LAST_LINES]);
}

static void on_qemu_exit(pid_t pid, int status, void *arg)
{
	char how[96], why[384];

	(void)arg, (void)pid;
	/* An exec failure's errno is waiting in its pipe: read it before judging. */
	if (q.exec_fd >= 0)
		on_exec_result(q.exec_fd, EPOLLIN, NULL);
	/* Whatever it printed last is in the pipe still: it goes in the log before the verdict. */
	if (q.out_fd >= 0) {
		read_output(SIZE_MAX);
		close_output();
	}
	for (unsigned i = 0; i < q.non_exit; i++)
		q.on_exit[i].fn(q.on_exit[i].arg);
	status_watch_qemu(0);
	child_describe(status, how, sizeof(how));
	/* A SIGKILL nobody here sent, while the kernel's OOM count went up: say so, since the cure
	 * (more stubdomain_memory) is not obvious from "killed by signal 9". */
	if (!qz.reason[0] && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    q.oom_kills >= 0 && oom_kills() > q.oom_kills)
		snprintf(qz.reason, sizeof(qz.reason),
			 "the kernel's OOM killer ended QEMU: the stubdomain is short of memory "
			 "(raise stubdomain_memory)");
	if (qz.reason[0])
		snprintf(why, sizeof(why), "%s (QEMU %s)", qz.reason, how);
	else
		snprintf(why, sizeof(why), "QEMU %s", how);
	q.pid = 0;
	if (shutdown_in_progress()) {
		log_info("QEMU ended during shutdown: %s", how);
		return;
	}
	report_death(why);
	/* Error first: whoever sees qemu-died finds the reason already there. */
	status_error("%s", why);
	status_set(ST_QEMU_DIED);
	policy_qemu_died(why);
}

/* ---- deprivileging
 * -------------------------------------------------------------------------------- */

#define SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/*
 * Whether @qemu can take -sandbox: QEMU built with seccomp links libseccomp, and one without
 * refuses the option and exits (Debian's qemu-system-xen is such a build). Read, not mapped: a
 * fault on a mapped page PID 1 cannot have (a file cut short under it, memory pressure in a small
 * stubdomain) is a SIGBUS that kills it, and the kernel with it.
 */
static bool has_seccomp(const char *qemu)
{
	static const char *const needles[] = {"libseccomp.so", "seccomp_rule_add"};
	enum {
		CHUNK = 64 * 1024,
		KEEP = 15 /* the longest needle less one */
	};
	char *buf = malloc(CHUNK + KEEP);
	int fd = open(qemu, O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	bool yes = false;
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return false;
	}
	/* each chunk after the last one's tail, so a needle across the boundary is found */
	while (!yes && (r = read(fd, buf + have, CHUNK)) > 0) {
		size_t len = have + (size_t)r;

		for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]) && !yes; i++)
			yes = memmem(buf, len, needles[i], strlen(needles[i])) != NULL;
		have = len < KEEP ? len : KEEP;
		memmove(buf, buf + len - have, have);
	}
	close(fd);
	free(buf);
	return yes;
}

static const char *sandbox(const struct qemu_opts *o)
{
	switch (o->sandbox) {
	case SANDBOX_ON:
		return SANDBOX;
	case SANDBOX_OFF:
		return NULL;
	default:
		if (has_seccomp(o->binary))
			return SANDBOX;
		log_warn("QEMU %s has no seccomp support: it runs without -sandbox (deprivileged "
			 "all the same)",
			 o->binary);
		return NULL;
	}
}

/* "uid:gid" -> 1, "root" or "" -> 0, garbage -> -1. */
static int parse_user(const char *s, uid_t *uid, gid_t *gid)
{
	char *end;
	unsigned long u, g;

	if (!*s || !strcmp(s, "root") || !strcmp(s, "0:0"))
		return 0;
	u = strtoul(s, &end, 10);
	if (end == s || *end != ':')
		return -1;
	g = strtoul(end + 1, &end, 10);
	if (*end || !u || !g)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

static void give(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) < 0 && errno != ENOENT)
		log_errno(LV_WARN, errno, "deprivilege: chown %s", path);
}

/* QEMU's Xen devices when xenstore reaches it only through stubinit: hypercalls and foreign
 * memory (privcmd, hypercall), event channels, grant mapping; not xenbus, not gntalloc. */
static const char *const xen_devices[] = {"privcmd", "hypercall", "evtchn", "gntdev", NULL};

static bool listed(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(name, *list))
			return true;
	return !list;
}

/* The entries of @dir whose names start with @prefix (and are in @only, unless NULL). */
static void give_dir(const char *dir, const char *prefix, const char *const *only, uid_t uid,
		     gid_t gid)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		char path[300];

		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)) ||
		    !listed(de->d_name, only))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		give(path, uid, gid);
	}
	if (d)
		closedir(d);
}

/*
 * What QEMU must open by itself, given to its user first: its directory, the monitors' and
 * xenstore's sockets, its serial consoles, and on Xen the Xen devices it uses and the disks.
 */
static void hand_over(const struct dm_config *cfg, const struct qemu_opts *o, uid_t uid, gid_t gid)
{
	give(QEMU_DIR, uid, gid);
	give(AGENT_SOCK, uid, gid);
	give(SESSION_SOCK, uid, gid);
	if (o->xenstore_filter)
		give(XENSTORE_SOCK, uid, gid);
	for (size_t i = 0; i + 1 < cfg->args.n; i++) {
		char path[256];

		if (strcmp(cfg->args.v[i], "-serial") || strncmp(cfg->args.v[i + 1], "/dev/hvc", 8))
			continue;
		snprintf(path, sizeof(path), "%s%s", o->console_prefix, cfg->args.v[i + 1] + 8);
		give(path, uid, gid);
	}
	if (!boot_on_xen())
		return;
	give_dir("/dev/xen", "", o->xenstore_filter ? xen_devices : NULL, uid, gid);
	give_dir("/dev", "xvd", NULL, uid, gid);
}

/* ---- spawning
 * ------------------------------------------------------------------------------------- */

/* Everything a start holds until QEMU has it; whatever is left is closed on the way out. */
struct spawn {
	struct argv_list argv;
	struct argv_list env; /* QEMU's environment */
	int out[2], ex[2];
	int in_fd; /* the restore stream, or -1 */
	int taps[MAX_TAPS], ntaps;
	struct dm_tapfd tapfds[MAX_TAPS];
	int deprivilege;
	uid_t uid;
	gid_t gid;
};

static void close_from(int first)
{
#ifdef SYS_close_range
	/* CLOSE_RANGE_CLOEXEC (kernel 5.11): the exec-error pipe must survive until exec. */
	if (syscall(SYS_close_range, (unsigned)first, ~0U, 4U) == 0)
		return;
#endif
	/* Older kernels: every fd stubinit opens is O_CLOEXEC already; this is belt and braces. */
	for (int fd = first; fd < 1024; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child: only plain system calls (libxenstore may run a thread in the parent). */
static void exec_qemu(const struct spawn *sp)
{
	int srcs[MAX_TAPS + 1], n = 0, e;
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(sp->out[1], 1) < 0 || dup2(sp->out[1], 2) < 0)
		goto fail;
	/* Out of the way first, so no dup2 below overwrites a source still to be moved. */
	if (sp->in_fd >= 0 && (srcs[n++] = fcntl(sp->in_fd, F_DUPFD, 64)) < 0)
		goto fail;
	for (int i = 0; i < sp->ntaps; i++)
		if ((srcs[n++] = fcntl(sp->taps[i], F_DUPFD, 64)) < 0)
			goto fail;
	n = 0;
	if (sp->in_fd >= 0 && dup2(srcs[n++], INCOMING_FD) < 0)
		goto fail;
	for (int i = 0; i < sp->ntaps; i++)
		if (dup2(srcs[n++], TAP_FD0 + i) < 0)
			goto fail;
	close_from(TAP_FD0 + sp->ntaps);
	if (sp->deprivilege) {
		/* The hostile side of the stubdomain: no root, no capabilities, no way back up. */
		if (setgroups(0, NULL) < 0 || setgid(sp->gid) < 0 || setuid(sp->uid) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			goto fail;
	}
	execve(sp->argv.v[0], sp->argv.v, sp->env.v);
fail:
	e = errno;
	if (write(sp->ex[1], &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* One log line; a command line longer than that says how many arguments it left out. */
static void log_argv(char **v)
{
	char line[LOG_LINE_MAX - 64];
	size_t len = 0, left = 0;

	line[0] = 0;
	for (; *v; v++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s", len ? " " : "", *v);

		if (n < 0 || (size_t)n >= sizeof(line) - len) {
			line[len] = 0;
			while (v[left])
				left++;
			break;
		}
		len += (size_t)n;
	}
	if (left)
		log_info("QEMU command line: %s ... (%zu more arguments)", line, left);
	else
		log_info("QEMU command line: %s", line);
}

/* QEMU gets its taps as fds: it never needs /dev/net/tun or CAP_NET_ADMIN. */
static void open_taps(struct spawn *sp, const struct dm_config *cfg)
{
	struct dm_nic nics[MAX_TAPS];
	int n = dmargs_nics(cfg->args.v, cfg->args.n, nics, MAX_TAPS);

	for (int i = 0; i < n; i++) {
		int fd = net_tap_open(nics[i].tap);

		if (fd < 0)
			continue;
		snprintf(sp->tapfds[sp->ntaps].name, sizeof(sp->tapfds[0].name), "%s", nics[i].tap);
		sp->tapfds[sp->ntaps].fd = TAP_FD0 + sp->ntaps;
		sp->taps[sp->ntaps++] = fd;
	}
}

/* stubinit's own, but that libxenstore in QEMU finds xenstore at stubinit's filter only. */
static int environment(struct spawn *sp, const struct qemu_opts *o)
{
	int err = 0;

	for (char **e = environ; *e; e++)
		if (!o->xenstore_filter || strncmp(*e, "XENSTORED_PATH=", 15))
			err |= argv_push(&sp->env, *e);
	if (o->xenstore_filter)
		err |= argv_push(&sp->env, "XENSTORED_PATH=" XENSTORE_SOCK);
	return err ? -1 : 0;
}

/* Direct kernel boot (dm-argv has -append and no -kernel): the kernel disk mounted, its vmlinuz
 * (and initramfs) for QEMU. NULL, or why not (naming the key and the disk). */
static const char *kernel_boot(const struct dm_config *cfg, const struct qemu_opts *o,
			       struct dm_launch *l)
{
	static char why[320];
	struct stat st;

	if (!dmargs_wants_kernel(cfg->args.v, cfg->args.n))
		return NULL;
	if (boot_kernel_disk(o->kernel_disk, KERNEL_DIR, why, sizeof(why)) < 0) {
		log_error("%s", why);
		return why;
	}
	if (stat(KERNEL_DIR "/vmlinuz", &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why),
			 "direct kernel boot: no file vmlinuz on stubinit.kernel-disk=%s (%s)",
			 o->kernel_disk, KERNEL_DIR);
		log_error("%s", why);
		return why;
	}
	l->kernel = KERNEL_DIR "/vmlinuz";
	if (stat(KERNEL_DIR "/initramfs", &st) == 0 && S_ISREG(st.st_mode))
		l->initrd = KERNEL_DIR "/initramfs";
	log_info("direct kernel boot: -kernel %s%s%s from %s", l->kernel,
		 l->initrd ? " -initrd " : "", l->initrd ? l->initrd : " (no initramfs there)",
		 o->kernel_disk);
	return NULL;
}

/* The image's device list (at most this much; it is the image's own file, not QEMU's). */
#define DEVICES_MAX (256 * 1024)

/*
 * Every -device of @argv against the image's list of its QEMU's device drivers (stubinit.qemu-
 * devices): NULL, or why QEMU is not started, naming the driver and the xl.cfg setting behind it.
 * A QEMU without the driver would only exit at start, its last words in the log.
 */
static const char *check_devices(const struct qemu_opts *o, char *const *argv, size_t n)
{
	static char why[320];
	char *known, driver[64];
	const char *setting;
	ssize_t len;
	int fd;

	if (!o->devices || !*o->devices)
		return NULL;
	fd = open(o->devices, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_info("stubinit.qemu-devices=%s: %s; QEMU's -device drivers are not checked",
			 o->devices, strerror(errno));
		return NULL;
	}
	known = malloc(DEVICES_MAX + 1);
	if (!known) {
		close(fd);
		return "out of memory";
	}
	len = read(fd, known, DEVICES_MAX);
	close(fd);
	if (len < 0) {
		log_errno(LV_WARN, errno,
			  "stubinit.qemu-devices=%s: cannot read it; QEMU's -device "
			  "drivers are not checked",
			  o->devices);
		free(known);
		return NULL;
	}
	known[len] = '\0';
	setting = dmargs_missing_device(argv, n, known, driver, sizeof(driver));
	free(known);
	if (!setting)
		return NULL;
	snprintf(why, sizeof(why),
		 "xl.cfg: %s needs QEMU device '%s', which this stubdomain's QEMU does not have "
		 "(stubinit.qemu-devices=%s); QEMU not started",
		 setting, driver, o->devices);
	log_error("%s", why);
	return why;
}

/*
 * libxl's arguments against what only dom0 has (dmargs_dom0_only): NULL, or why QEMU is not
 * started, naming the xl.cfg setting. QEMU would exit at its start on the missing file, or run
 * with a channel nobody in dom0 can reach.
 */
static const char *check_dom0_only(const struct dm_config *cfg)
{
	static char why[400];
	char what[200];
	const char *names;
	const char *setting =
		dmargs_dom0_only(cfg->args.v, cfg->args.n, what, sizeof(what), &names);

	if (!setting)
		return NULL;
	snprintf(why, sizeof(why),
		 "xl.cfg: %s is not served by a stubdomain: '%s' names %s; QEMU not started",
		 setting, what, names);
	log_error("%s", why);
	return why;
}

/* The command line, the taps, the pipes and the environment; NULL or why not. */
static const char *prepare(struct spawn *sp, const struct dm_config *cfg,
			   const struct console_set *cons, const struct qemu_opts *o)
{
	struct dm_launch l = {
		.qemu = o->binary,
		.datadir = o->datadir,
		.sandbox = sandbox(o),
		.extra = o->extra,
		.drop = o->drop,
		.replace = o->replace,
		.append = o->append,
		.console_prefix = o->console_prefix,
		.agent_sock = AGENT_SOCK,
		.qmp_sock = SESSION_SOCK,
		.vnc = o->vnc,
		.incoming_fd = cfg->restore && cons->in.fd >= 0 ? INCOMING_FD : -1,
		.audio_socket = o->audio_socket,
	};
	const char *why;

	bool automatic = !strcmp(o->user, "auto");

	if (automatic && cfg->npci) {
		log_info(
			"QEMU keeps root (stubinit.qemu-user=auto): the stubdomain has %u PCI "
			"frontend(s) at boot, and passing a device through reads config space that "
			"Linux shows only to CAP_SYS_ADMIN",
			cfg->npci);
		sp->deprivilege = 0;
	} else {
		sp->deprivilege =
			parse_user(automatic ? QEMU_USER_AUTO : o->user, &sp->uid, &sp->gid);
	}
	if (sp->deprivilege < 0) {
		log_error("key stubinit.qemu-user=%s: expected uid:gid (not 0), root or auto",
			  o->user);
		return "stubinit.qemu-user is malformed";
	}
	/* QEMU's own directory (0700, given to its user below). */
	if (mkdir(QEMU_DIR, 0700) < 0 && errno != EEXIST) {
		log_errno(LV_ERROR, errno, "mkdir %s", QEMU_DIR);
		return "cannot create " QEMU_DIR;
	}
	why = check_dom0_only(cfg);
	if (why)
		return why;
	why = kernel_boot(cfg, o, &l);
	if (why)
		return why;
	open_taps(sp, cfg);
	l.tapfds = sp->tapfds;
	l.ntapfds = sp->ntaps;
	if (dmargs_build(&l, cfg->args.v, cfg->args.n, &sp->argv) < 0)
		return "cannot build QEMU's command line";
	log_argv(sp->argv.v);
	why = check_devices(o, sp->argv.v, sp->argv.n);
	if (why)
		return why;
	if (pipe2(sp->out, O_CLOEXEC) < 0 || pipe2(sp->ex, O_CLOEXEC) < 0) {
		log_errno(LV_ERROR, errno, "cannot prepare QEMU's pipes");
		return "cannot prepare QEMU's pipes";
	}
	sp->in_fd = cfg->restore ? cons->in.fd : -1;
	return environment(sp, o) < 0 ? "out of memory" : NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* What the start still holds: QEMU has its own copies of the taps now (they are persistent). */
static void release(struct spawn *sp)
{
	argv_free(&sp->argv);
	argv_free(&sp->env);
	for (int i = 0; i < 2; i++)
		close_fd(&sp->out[i]), close_fd(&sp->ex[i]);
	for (int i = 0; i < sp->ntaps; i++)
		close_fd(&sp->taps[i]);
}

/* The parent's half of a started QEMU: its pipes into the loop, its exit watched. */
static void adopt(struct spawn *sp, pid_t pid)
{
	q.pid = pid;
	child_watch(pid, "QEMU", on_qemu_exit, NULL);
	q.out_fd = sp->out[0];
	sp->out[0] = -1;
	fcntl(q.out_fd, F_SETFL, O_NONBLOCK);
	loop_add(q.out_fd, EPOLLIN, on_output, NULL);
	q.exec_fd = sp->ex[0];
	sp->ex[0] = -1;
	fcntl(q.exec_fd, F_SETFL, O_NONBLOCK);
	loop_add(q.exec_fd, EPOLLIN, on_exec_result, NULL);
	status_watch_qemu(pid);
}

const char *qemu_start(const struct dm_config *cfg, struct console_set *cons,
		       const struct qemu_opts *o)
{
	struct spawn sp = {.out = {-1, -1}, .ex = {-1, -1}, .in_fd = -1};
	const char *why;
	pid_t pid;

	q.binary = o->binary;
	why = prepare(&sp, cfg, cons, o);
	if (why)
		goto out;
	q.privileged = sp.deprivilege == 0;
	if (sp.deprivilege) {
		hand_over(cfg, o, sp.uid, sp.gid);
		log_info("QEMU runs as %u:%u with no capabilities and no new privileges",
			 (unsigned)sp.uid, (unsigned)sp.gid);
	}
	status_set(ST_STARTING_QEMU);
	q.oom_kills = oom_kills();
	pid = fork();
	if (pid == 0)
		exec_qemu(&sp);
	if (pid < 0) {
		log_errno(LV_ERROR, errno, "fork");
		why = "cannot fork QEMU";
		goto out;
	}
	adopt(&sp, pid);
	/* QEMU has its copy of the restore stream; stubinit's is of no more use. */
	close_fd(&cons->in.fd);
out:
	release(&sp);
	return why;
}
