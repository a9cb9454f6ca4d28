/*
 * supervise: spawn, watch and report on QEMU. See supervise.h.
 */
#include "supervise.h"
#include "child.h"
#include "keys.h"
#include "boot.h"
#include "hotplug.h"
#include "log.h"
#include "loop.h"
#include "network.h"
#include "shutdown.h"
#include "status.h"
#include "qmp/qmp.h"
#include "netlink/net.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/sched.h>
#include <xendevicemodel.h>
#include <xentoollog.h>

/* QEMU's lines kept for the report when it dies. */
#define LAST_LINES 12
#define LINE_MAX_Q 512
/* The fd number QEMU finds the restore stream on; its taps follow from TAP_FD0. */
#define INCOMING_FD 3
#define TAP_FD0	    4
#define MAX_TAPS    32
/* A QMP message from QEMU bigger than this is not one we need (query-qmp-schema is ~200 KiB). */
#define MON_MAX (1 << 20)

static struct {
	pid_t pid;
	unsigned target, domid;
	int listen_fd, out_fd, exec_fd, save_fd;
	struct qmp_conn *mon;
	struct loop_timer *greet_timer, *stats_timer, *test_kill;
	char line[LINE_MAX_Q];
	size_t linelen;
	char last[LAST_LINES][LINE_MAX_Q];
	unsigned nlast;
	char reason[256]; /* why it is going down, when stubinit knows better than the exit status */
	struct qmp_server *qmp;
	struct qmp_relay *vnc;
	struct console_set *cons;
	long oom_kills; /* the kernel's count when QEMU started */
	bool privileged; /* stubinit.qemu-user=root */
} sv = { .listen_fd = -1, .out_fd = -1, .exec_fd = -1, .save_fd = -1 };

pid_t supervise_qemu_pid(void)
{
	return sv.pid;
}

bool supervise_qemu_privileged(void)
{
	return sv.privileged;
}

/* ---- the failure policy -------------------------------------------------------------------- */

/* libxendevicemodel reports through a xentoollog logger: route it into our log. */
static void xtl_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			 const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));
static void xtl_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			 const char *context, const char *format, va_list al)
{
	char msg[LOG_LINE_MAX];

	(void)l;
	vsnprintf(msg, sizeof(msg), format, al);
	log_msg(level >= XTL_ERROR ? LV_ERROR : level >= XTL_WARN ? LV_WARN : LV_DEBUG, "%s: %s%s%s",
		context ? context : "xen", msg, errnoval >= 0 ? ": " : "",
		errnoval >= 0 ? strerror(errnoval) : "");
}

static void xtl_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

static struct xentoollog_logger xtl = { .vmessage = xtl_vmessage, .destroy = xtl_destroy };

/* The guest's vCPUs would stall on unanswered I/O for ever: crash it, so xl applies on_crash. */
static void crash_guest(unsigned target)
{
	xendevicemodel_handle *dm = xendevicemodel_open(&xtl, 0);

	if (!dm) {
		log_errno(LV_ERROR, errno, "policy crash-guest: guest %u: xendevicemodel_open",
			  target);
		return;
	}
	if (xendevicemodel_shutdown(dm, (domid_t)target, SHUTDOWN_crash) < 0)
		log_errno(LV_ERROR, errno, "policy crash-guest: guest %u: shutdown(crash)", target);
	else
		log_info("policy crash-guest: guest %u shut down as crashed; xl applies its on_crash",
			 target);
	xendevicemodel_close(dm);
}

static void apply_policy(unsigned target, bool have_target, const char *why, bool early)
{
	switch (key(K_ON_QEMU_EXIT)->num) {
	case POLICY_CRASH_GUEST:
		if (have_target)
			crash_guest(target);
		if (early || !have_target)
			shutdown_begin(EXIT_FAILURE, why);
		else
			log_info("policy crash-guest: the stubdomain stays up until the toolstack "
				 "destroys it");
		break;
	case POLICY_POWEROFF:
		shutdown_begin(EXIT_FAILURE, why);
		break;
	default:
		log_warn("policy stay: the stubdomain stays up (%s)", why);
		break;
	}
}

void supervise_fail_early(const struct dm_config *cfg, const char *why)
{
	status_error("%s", why);
	apply_policy(cfg->target, cfg->have_target, why, true);
}

/* ---- QEMU's output ------------------------------------------------------------------------- */

static void keep_line(const char *s)
{
	snprintf(sv.last[sv.nlast % LAST_LINES], LINE_MAX_Q, "%s", s);
	sv.nlast++;
	log_info("qemu: %s", s);
}

static void end_line(void)
{
	sv.line[sv.linelen] = 0;
	keep_line(sv.line);
	sv.linelen = 0;
}

/* Reads what is there; returns 0 at EOF or error, 1 while the pipe stays open. */
static int read_output(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(sv.out_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				end_line();
				continue;
			}
			sv.line[sv.linelen++] = buf[i];
			if (sv.linelen == LINE_MAX_Q - 1)
				end_line();
		}
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (sv.linelen)
		end_line();
	return 0;
}

static void close_output(void)
{
	if (sv.out_fd < 0)
		return;
	loop_remove(sv.out_fd);
	close(sv.out_fd);
	sv.out_fd = -1;
}

static void on_output(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events, (void)arg;
	if (!read_output())
		close_output();
}

/* ---- the permanent monitor ------------------------------------------------------------------ */

static void mon_update_events(void)
{
	if (sv.mon)
		loop_modify(qmp_conn_fd(sv.mon),
			    EPOLLIN | (qmp_conn_wants_write(sv.mon) ? EPOLLOUT : 0));
}

static void close_monitor(void)
{
	if (!sv.mon)
		return;
	loop_remove(qmp_conn_fd(sv.mon));
	qmp_conn_free(sv.mon);
	sv.mon = NULL;
}

static void close_listener(void)
{
	if (sv.listen_fd < 0)
		return;
	loop_remove(sv.listen_fd);
	close(sv.listen_fd);
	sv.listen_fd = -1;
	unlink(AGENT_SOCK);
}

static void on_add_fd(struct json_object *msg, void *arg)
{
	const char *err = qmp_error_desc(msg);

	(void)arg;
	if (!msg)
		return; /* the monitor closed: QEMU's exit tells the story */
	if (err) {
		status_error("add-fd of the save file into fdset 1 failed: %s", err);
		return;
	}
	log_info("monitor: save file %s is fdset 1 (QEMU saves state there; the QMP path moves it "
		 "to console 1)",
		 SAVE_FILE);
	/* Everything the running state promises is set up before it is announced. */
	hotplug_start(sv.domid, sv.target);
	status_set(ST_RUNNING);
}

static void on_capabilities(struct json_object *msg, void *arg)
{
	const char *err = qmp_error_desc(msg);
	struct json_object *args;

	(void)arg;
	if (!msg)
		return;
	if (err) {
		status_error("qmp_capabilities refused: %s", err);
		return;
	}
	/* QEMU ftruncate()s what it opens as /dev/fdset/1: a tty fails, a regular file works. */
	args = json_object_new_object();
	json_object_object_add(args, "fdset-id", json_object_new_int(1));
	json_object_object_add(args, "opaque", json_object_new_string("stubinit:save-state"));
	if (qmp_conn_command(sv.mon, "add-fd", args, sv.save_fd, on_add_fd, NULL) < 0)
		status_error("add-fd: cannot send it to QEMU");
	mon_update_events();
}

static void on_test_kill(void *arg)
{
	(void)arg;
	if (!sv.pid)
		return;
	log_warn("test-kill-qemu-after: killing QEMU (pid %d) as the key asks", sv.pid);
	kill(sv.pid, SIGKILL);
}

static void on_greeting(struct json_object *greeting, void *arg)
{
	struct json_object *v;
	const char *ver = "?";

	(void)arg;
	if (json_object_object_get_ex(greeting, "QMP", &v) &&
	    json_object_object_get_ex(v, "version", &v) && json_object_object_get_ex(v, "qemu", &v))
		ver = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	log_info("monitor: QEMU greeted (version %s)", ver);
	loop_timer_arm(sv.greet_timer, 0, 0);
	if (key(K_TEST_KILL_QEMU)->num && !sv.test_kill) {
		sv.test_kill = loop_timer_new(on_test_kill, NULL);
		if (sv.test_kill)
			loop_timer_arm(sv.test_kill, key(K_TEST_KILL_QEMU)->num, 0);
	}
	if (qmp_conn_command(sv.mon, "qmp_capabilities", NULL, -1, on_capabilities, NULL) < 0)
		status_error("qmp_capabilities: cannot send it to QEMU");
	mon_update_events();
}

static void on_event(struct json_object *ev, void *arg)
{
	(void)arg;
	log_info("monitor: event %s", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	network_qemu_event(ev);
	hotplug_qemu_event(ev);
}

int supervise_qmp(const char *cmd, struct json_object *args, int pass_fd, supervise_reply_fn fn,
		  void *arg)
{
	int err;

	if (!sv.mon) {
		json_object_put(args);
		return -ENOTCONN;
	}
	err = qmp_conn_command(sv.mon, cmd, args, pass_fd, fn, arg);
	mon_update_events();
	return err;
}

static void on_mon_closed(const char *why, void *arg)
{
	(void)arg;
	/* Normal when QEMU exits; otherwise fdsets may be dropped from now on (QEMU <= 9.0). */
	log_warn("monitor: permanent monitor closed: %s", why);
}

static const struct qmp_conn_ops mon_ops = {
	.greeting = on_greeting,
	.event = on_event,
	.closed = on_mon_closed,
};

static void on_monitor_io(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)arg;
	if (events & EPOLLOUT && qmp_conn_flush(sv.mon) < 0) {
		close_monitor();
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && qmp_conn_read(sv.mon) < 0) {
		close_monitor();
		return;
	}
	mon_update_events();
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int c;

	(void)events, (void)arg;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* Only QEMU itself may become the permanent monitor. */
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != sv.pid) {
		log_warn("monitor: refused a connection from pid %d (QEMU is %d)", (int)cred.pid,
			 sv.pid);
		close(c);
		return;
	}
	sv.mon = qmp_conn_new(c, MON_MAX, &mon_ops, NULL);
	if (!sv.mon || loop_add(c, EPOLLIN, on_monitor_io, NULL) < 0) {
		status_error("monitor: cannot serve QEMU's connection");
		if (sv.mon)
			qmp_conn_free(sv.mon);
		else
			close(c);
		sv.mon = NULL;
		return;
	}
	log_info("monitor: QEMU connected to the permanent monitor");
	close_listener();
}

static int listen_agent_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", AGENT_SOCK);
	unlink(AGENT_SOCK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    loop_add(fd, EPOLLIN, on_accept, NULL) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return -err;
	}
	sv.listen_fd = fd;
	return 0;
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void on_greeting_timeout(void *arg)
{
	(void)arg;
	snprintf(sv.reason, sizeof(sv.reason), "QEMU did not greet on the permanent monitor within %s",
		 key(K_QEMU_GREETING_TIMEOUT)->str);
	log_error("%s; killing it (pid %d)", sv.reason, sv.pid);
	kill(sv.pid, SIGKILL);
}

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
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", sv.pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "comm)": state and 10 more fields, then utime and stime. */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)((ut + st) * 1000 / (unsigned long)(hz > 0 ? hz : 100));
}

static void on_stats(void *arg)
{
	char path[64], line[256];
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	(void)arg;
	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", sv.pid);
	snprintf(line, sizeof(line),
		 "qemu-rss-kb=%ld qemu-cpu-ms=%ld stubinit-rss-kb=%ld mem-free-kb=%ld "
		 "mem-available-kb=%ld uptime-s=%.0f",
		 sv.pid ? field_kb(path, "VmRSS:") : -1, sv.pid ? qemu_cpu_ms() : -1,
		 field_kb("/proc/self/status", "VmRSS:"), field_kb("/proc/meminfo", "MemFree:"),
		 field_kb("/proc/meminfo", "MemAvailable:"), up);
	status_stats(line);
}

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

/* ---- QEMU's exit ------------------------------------------------------------------------------ */

static void on_exec_result(int fd, uint32_t events, void *arg)
{
	int err = 0;
	ssize_t n = read(fd, &err, sizeof(err));

	(void)events, (void)arg;
	if (n == sizeof(err)) {
		snprintf(sv.reason, sizeof(sv.reason), "cannot execute %s: %s", key(K_QEMU)->str,
			 strerror(err));
		log_error("%s", sv.reason);
	} else if (n == 0) {
		log_info("QEMU is running (pid %d)", sv.pid);
	} else if (n < 0 && errno == EAGAIN) {
		return;
	}
	loop_remove(fd);
	close(fd);
	sv.exec_fd = -1;
}

static void on_qemu_exit(pid_t pid, int status, void *arg)
{
	char how[96], why[384];
	unsigned first;

	(void)arg;
	(void)pid;
	/* An exec failure's errno is waiting in its pipe: read it before judging. */
	if (sv.exec_fd >= 0)
		on_exec_result(sv.exec_fd, EPOLLIN, NULL);
	/* Whatever it printed last is in the pipe still: it goes in the log before the verdict. */
	if (sv.out_fd >= 0) {
		read_output();
		close_output();
	}
	close_monitor();
	close_listener();
	loop_timer_free(sv.greet_timer);
	sv.greet_timer = NULL;
	child_describe(status, how, sizeof(how));
	/* A SIGKILL nobody here sent, while the kernel's OOM count went up: say so, since the cure
	 * (more stubdomain_memory) is not obvious from "killed by signal 9". */
	if (!sv.reason[0] && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && sv.oom_kills >= 0 &&
	    oom_kills() > sv.oom_kills)
		snprintf(sv.reason, sizeof(sv.reason),
			 "the kernel's OOM killer ended QEMU: the stubdomain is short of memory "
			 "(raise stubdomain_memory)");
	if (sv.reason[0])
		snprintf(why, sizeof(why), "%s (QEMU %s)", sv.reason, how);
	else
		snprintf(why, sizeof(why), "QEMU %s", how);
	sv.pid = 0;
	if (shutdown_in_progress()) {
		log_info("QEMU ended during shutdown: %s", how);
		return;
	}
	log_error("device model died: %s", why);
	first = sv.nlast > LAST_LINES ? sv.nlast - LAST_LINES : 0;
	if (sv.nlast == 0)
		log_error("QEMU printed nothing");
	for (unsigned i = first; i < sv.nlast; i++)
		log_error("QEMU's last words: %s", sv.last[i % LAST_LINES]);
	/* Error first: whoever sees qemu-died finds the reason already there. */
	status_error("%s", why);
	status_set(ST_QEMU_DIED);
	apply_policy(sv.target, true, why, false);
}

/* ---- the QMP path to dom0, and saves through console 1 ------------------------------------- */

static void on_drained(const char *error, void *arg)
{
	struct stat st;

	(void)arg;
	if (fstat(sv.save_fd, &st) == 0 && !error)
		log_info("save: %lld bytes of device state reached console 1", (long long)st.st_size);
	else if (error)
		log_error("save: %s", error);
	/* Empty for the next save. QEMU's dup shares our offset: rewind it too. */
	if (ftruncate(sv.save_fd, 0) < 0 || lseek(sv.save_fd, 0, SEEK_SET) < 0)
		log_errno(LV_WARN, errno, "save: cannot empty %s", SAVE_FILE);
	qmp_server_save_done(sv.qmp, error);
}

static void on_save(struct qmp_server *srv, void *arg)
{
	(void)srv, (void)arg;
	console_drain_start(SAVE_FILE, sv.cons->out.fd, key(K_SAVE_DRAIN_TIMEOUT)->num, on_drained,
			    NULL);
}

/* stubinit.qmp-transport, which dom0's display follows too. */
static enum qmp_transport dom0_transport(void)
{
	return key(K_QMP_TRANSPORT)->num == TRANSPORT_UNIX ? QMP_UNIX : QMP_VCHAN;
}

/* Up before QEMU can reach the running state: libxl talks QMP right after "running". */
static int serve_qmp(unsigned target)
{
	char vchan[64];
	struct qmp_server_config qc = {
		.transport = dom0_transport(),
		.unix_path = key(K_QMP_SOCKET)->str,
		.peer = (unsigned)key(K_QMP_PEER)->num,
		.vchan_path = vchan,
		.qemu_path = QMP_SOCK,
		.max_message = key(K_QMP_MAX_MESSAGE)->num,
		.allow = key(K_QMP_ALLOW)->str,
		.save = on_save,
	};

	snprintf(vchan, sizeof(vchan), "device-model/%u/qmp-vchan", target);
	sv.qmp = qmp_server_start(&qc);
	return sv.qmp ? 0 : -1;
}

/* stubinit.vnc: the guest's display, from QEMU's VNC socket to dom0 over the QMP path's transport
 * (vchan at device-model/<guest>/vnc-vchan). A failure costs the display, not the guest. */
static void serve_vnc(unsigned target)
{
	char vchan[64];
	struct qmp_relay_config rc = {
		.transport = dom0_transport(),
		.unix_path = key(K_VNC_SOCKET)->str,
		.peer = (unsigned)key(K_QMP_PEER)->num,
		.vchan_path = vchan,
		.target_path = VNC_SOCK,
		.name = "vnc",
	};

	snprintf(vchan, sizeof(vchan), "device-model/%u/vnc-vchan", target);
	sv.vnc = qmp_relay_start(&rc);
	if (!sv.vnc)
		log_error("vnc: cannot serve the guest's display to dom0 (the guest runs without it)");
}

/* ---- spawn -------------------------------------------------------------------------------------- */

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

struct child_plan {
	int out_w, in_fd, exec_w;
	int taps[MAX_TAPS], ntaps;
	int deprivilege;
	uid_t uid;
	gid_t gid;
};

/* In the child: only plain system calls (libxenstore may run a thread in the parent). */
static void exec_qemu(char **argv, const struct child_plan *p)
{
	int srcs[MAX_TAPS + 1], n = 0, e;
	sigset_t none;
	int null = open("/dev/null", O_RDONLY);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(p->out_w, 1) < 0 || dup2(p->out_w, 2) < 0)
		goto fail;
	/* Out of the way first, so no dup2 below overwrites a source still to be moved. */
	if (p->in_fd >= 0 && (srcs[n++] = fcntl(p->in_fd, F_DUPFD, 64)) < 0)
		goto fail;
	for (int i = 0; i < p->ntaps; i++)
		if ((srcs[n++] = fcntl(p->taps[i], F_DUPFD, 64)) < 0)
			goto fail;
	n = 0;
	if (p->in_fd >= 0 && dup2(srcs[n++], INCOMING_FD) < 0)
		goto fail;
	for (int i = 0; i < p->ntaps; i++)
		if (dup2(srcs[n++], TAP_FD0 + i) < 0)
			goto fail;
	close_from(TAP_FD0 + p->ntaps);
	if (p->deprivilege) {
		/* The hostile side of the stubdomain: no root, no capabilities, no way back up. */
		if (setgroups(0, NULL) < 0 || setgid(p->gid) < 0 || setuid(p->uid) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			goto fail;
	}
	execv(argv[0], argv);
fail:
	e = errno;
	if (write(p->exec_w, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

#define SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/*
 * Whether @qemu can take -sandbox: QEMU built with seccomp links libseccomp, and one without
 * refuses the option and exits (Debian's qemu-system-xen is such a build).
 */
static bool has_seccomp(const char *qemu)
{
	int fd = open(qemu, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *map;
	bool yes;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	yes = memmem(map, (size_t)st.st_size, "libseccomp.so", 13) ||
	      memmem(map, (size_t)st.st_size, "seccomp_rule_add", 16);
	munmap(map, (size_t)st.st_size);
	return yes;
}

static const char *sandbox(void)
{
	switch (key(K_QEMU_SANDBOX)->num) {
	case SANDBOX_ON:
		return SANDBOX;
	case SANDBOX_OFF:
		return NULL;
	default:
		if (has_seccomp(key(K_QEMU)->str))
			return SANDBOX;
		log_warn("QEMU %s has no seccomp support: it runs without -sandbox (deprivileged "
			 "all the same)",
			 key(K_QEMU)->str);
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

/*
 * What QEMU must open by itself, given to its user first: its directory, the permanent
 * monitor's socket, its serial consoles, and on Xen the Xen devices and the disks.
 */
static void hand_over(const struct dm_config *cfg, uid_t uid, gid_t gid)
{
	const char *prefix = key(K_CONSOLE_PREFIX)->str;
	struct dirent *de;
	DIR *d;

	give(QEMU_DIR, uid, gid);
	give(AGENT_SOCK, uid, gid);
	for (size_t i = 0; i + 1 < cfg->args.n; i++) {
		char path[256];

		if (strcmp(cfg->args.v[i], "-serial") || strncmp(cfg->args.v[i + 1], "/dev/hvc", 8))
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, cfg->args.v[i + 1] + 8);
		give(path, uid, gid);
	}
	if (!boot_on_xen())
		return;
	d = opendir("/dev/xen");
	while (d && (de = readdir(d))) {
		char path[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/xen/%s", de->d_name);
		give(path, uid, gid);
	}
	if (d)
		closedir(d);
	d = opendir("/dev");
	while (d && (de = readdir(d))) {
		char path[300];

		if (strncmp(de->d_name, "xvd", 3))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		give(path, uid, gid);
	}
	if (d)
		closedir(d);
}

static void log_argv(char **v)
{
	char line[LOG_LINE_MAX];
	size_t len = 0;

	line[0] = 0;
	for (; *v; v++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s", len ? " " : "", *v);

		if (n < 0 || (size_t)n >= sizeof(line) - len)
			break;
		len += (size_t)n;
	}
	log_info("QEMU command line: %s", line);
}

int supervise_start(const struct dm_config *cfg, struct console_set *cons)
{
	struct dm_launch l = {
		.qemu = key(K_QEMU)->str,
		.datadir = key(K_QEMU_DATADIR)->str,
		.sandbox = sandbox(),
		.extra = key(K_QEMU_EXTRA)->str,
		.drop = key(K_QEMU_DROP)->str,
		.replace = key(K_QEMU_REPLACE)->str,
		.append = key(K_QEMU_APPEND)->str,
		.console_prefix = key(K_CONSOLE_PREFIX)->str,
		.agent_sock = AGENT_SOCK,
		.qmp_sock = QMP_SOCK,
		.vnc_sock = key(K_VNC)->num ? VNC_SOCK : NULL,
		.incoming_fd = cfg->restore && cons->in.fd >= 0 ? INCOMING_FD : -1,
	};
	struct argv_list argv;
	struct dm_tapfd tapfds[MAX_TAPS];
	struct dm_nic nics[MAX_TAPS];
	struct child_plan plan = { .in_fd = -1 };
	int out[2] = { -1, -1 }, ex[2] = { -1, -1 }, err, nnics;
	pid_t pid;

	sv.target = cfg->target;
	sv.domid = cfg->domid;
	sv.cons = cons;
	plan.deprivilege = parse_user(key(K_QEMU_USER)->str, &plan.uid, &plan.gid);
	sv.privileged = plan.deprivilege == 0;
	if (plan.deprivilege < 0) {
		log_error("key stubinit.qemu-user=%s: expected uid:gid (not 0) or root",
			  key(K_QEMU_USER)->str);
		supervise_fail_early(cfg, "stubinit.qemu-user is malformed");
		return -1;
	}
	/* 0711: QEMU may pass through to its own directory and the socket given to it, nothing
	 * else here (the save file and dom0's socket stay root's). */
	if ((mkdir(RUN_DIR, 0711) < 0 && errno != EEXIST) || chmod(RUN_DIR, 0711) < 0 ||
	    (mkdir(QEMU_DIR, 0700) < 0 && errno != EEXIST)) {
		err = errno;
		log_errno(LV_ERROR, err, "mkdir %s", QEMU_DIR);
		supervise_fail_early(cfg, "cannot create " QEMU_DIR);
		return -1;
	}
	unlink(QMP_SOCK);
	unlink(VNC_SOCK);
	/* Taps exist before QEMU opens them by name; netfronts join when they appear. */
	network_setup(cfg);
	/* QEMU gets its taps as fds: it never needs /dev/net/tun or CAP_NET_ADMIN. */
	nnics = dmargs_nics(cfg->args.v, cfg->args.n, nics, MAX_TAPS);
	for (int i = 0; i < nnics; i++) {
		int fd = net_tap_open(nics[i].tap);

		if (fd < 0)
			continue;
		snprintf(tapfds[plan.ntaps].name, sizeof(tapfds[0].name), "%s", nics[i].tap);
		tapfds[plan.ntaps].fd = TAP_FD0 + plan.ntaps;
		plan.taps[plan.ntaps++] = fd;
	}
	l.tapfds = tapfds;
	l.ntapfds = plan.ntaps;
	if (dmargs_build(&l, cfg->args.v, cfg->args.n, &argv) < 0) {
		supervise_fail_early(cfg, "cannot build QEMU's command line");
		return -1;
	}
	log_argv(argv.v);
	sv.save_fd = open(SAVE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = listen_agent_socket();
	if (sv.save_fd < 0 || err < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		log_errno(LV_ERROR, err ? err : errno, "cannot prepare QEMU's fds");
		argv_free(&argv);
		supervise_fail_early(cfg, "cannot prepare QEMU's sockets, pipes or save file");
		return -1;
	}
	if (serve_qmp(cfg->target) < 0) {
		argv_free(&argv);
		close(out[0]), close(out[1]), close(ex[0]), close(ex[1]);
		supervise_fail_early(cfg, "cannot serve QMP to dom0");
		return -1;
	}
	if (key(K_VNC)->num)
		serve_vnc(cfg->target);
	if (plan.deprivilege) {
		hand_over(cfg, plan.uid, plan.gid);
		log_info("QEMU runs as %u:%u with no capabilities and no new privileges",
			 (unsigned)plan.uid, (unsigned)plan.gid);
	}
	plan.out_w = out[1];
	plan.exec_w = ex[1];
	plan.in_fd = cfg->restore ? cons->in.fd : -1;
	status_set(ST_STARTING_QEMU);
	sv.oom_kills = oom_kills();
	pid = fork();
	if (pid == 0)
		exec_qemu(argv.v, &plan);
	argv_free(&argv);
	close(out[1]);
	close(ex[1]);
	/* QEMU holds the taps now; they are persistent, so stubinit's copies can go. */
	for (int i = 0; i < plan.ntaps; i++)
		close(plan.taps[i]);
	if (pid < 0) {
		close(out[0]);
		close(ex[0]);
		log_errno(LV_ERROR, errno, "fork");
		supervise_fail_early(cfg, "cannot fork QEMU");
		return -1;
	}
	sv.pid = pid;
	child_watch(pid, "QEMU", on_qemu_exit, NULL);
	/* QEMU has its copy of the restore stream; stubinit's is of no more use. */
	if (cons->in.fd >= 0) {
		close(cons->in.fd);
		cons->in.fd = -1;
	}
	sv.out_fd = out[0];
	fcntl(sv.out_fd, F_SETFL, O_NONBLOCK);
	loop_add(sv.out_fd, EPOLLIN, on_output, NULL);
	sv.exec_fd = ex[0];
	fcntl(sv.exec_fd, F_SETFL, O_NONBLOCK);
	loop_add(sv.exec_fd, EPOLLIN, on_exec_result, NULL);
	sv.greet_timer = loop_timer_new(on_greeting_timeout, NULL);
	if (sv.greet_timer)
		loop_timer_arm(sv.greet_timer, key(K_QEMU_GREETING_TIMEOUT)->num, 0);
	if (key(K_STATS_INTERVAL)->num) {
		sv.stats_timer = loop_timer_new(on_stats, NULL);
		if (sv.stats_timer)
			loop_timer_arm(sv.stats_timer, 1, key(K_STATS_INTERVAL)->num);
	}
	return 0;
}
