// SPDX-License-Identifier: GPL-2.0-only
/*
 * monitor: the permanent monitor and QEMU's sockets. See monitor.h.
 */
#include "monitor.h"
#include "paths.h"
#include "qemu.h"
#include "status.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sock.h"
#include "qmp/json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HOOKS  8
#define MON_BUDGET (64 * 1024)

struct hook {
	const char *name; /* events only */
	union {
		void (*event)(struct json_object *ev, void *arg);
		void (*running)(void *arg);
		void (*session)(int fd, void *arg);
	} fn;
	void *arg;
};

static struct {
	struct monitor_opts o;
	int save_fd;
	int agent_fd, session_fd; /* listening */
	struct qmp_conn *mon;
	struct loop_timer *greet_timer, *test_kill;
	struct loop_work *more;
	struct hook events[MAX_HOOKS], running[MAX_HOOKS], session;
	unsigned nevents, nrunning;
	struct log_ratelimit event_log, refused_log, stranger_log;
} mn = {
	.agent_fd = -1,
	.session_fd = -1,
	.save_fd = -1,
	.event_log = LOG_RATELIMIT("monitor: events", 20, 1000),
	.refused_log = LOG_RATELIMIT("monitor: refusals", 10, 1000),
	.stranger_log = LOG_RATELIMIT("monitor: strangers", 5, 1000),
};

void monitor_on_session(void (*fn)(int fd, void *arg), void *arg)
{
	mn.session.fn.session = fn;
	mn.session.arg = arg;
}

void monitor_on_running(void (*fn)(void *arg), void *arg)
{
	if (mn.nrunning < MAX_HOOKS)
		mn.running[mn.nrunning++] = (struct hook){.fn.running = fn, .arg = arg};
}

int monitor_subscribe(const char *name, void (*fn)(struct json_object *ev, void *arg), void *arg)
{
	if (mn.nevents == MAX_HOOKS)
		return -ENOSPC;
	mn.events[mn.nevents++] = (struct hook){.name = name, .fn.event = fn, .arg = arg};
	return 0;
}

/* ---- the connection -------------------------------------------------------------------------- */

static void update_events(void)
{
	if (mn.mon)
		loop_modify(qmp_conn_fd(mn.mon),
			    EPOLLIN | (qmp_conn_wants_write(mn.mon) ? EPOLLOUT : 0));
}

static void close_monitor(void)
{
	if (!mn.mon)
		return;
	loop_remove(qmp_conn_fd(mn.mon));
	qmp_conn_free(mn.mon);
	mn.mon = NULL;
}

static void close_listener(int *fd, const char *path)
{
	if (*fd < 0)
		return;
	loop_remove(*fd);
	close(*fd);
	*fd = -1;
	unlink(path);
}

int monitor_command(const char *cmd, struct json_object *args, int pass_fd, qmp_reply_fn fn,
		    void *arg)
{
	int err;

	if (!mn.mon) {
		json_object_put(args);
		return -ENOTCONN;
	}
	err = qmp_conn_command(mn.mon, cmd, args, pass_fd, fn, arg);
	update_events();
	return err;
}

static void on_add_fd(struct json_object *msg, void *arg)
{
	const char *err = qmp_reply_error(msg);

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
	for (unsigned i = 0; i < mn.nrunning; i++)
		mn.running[i].fn.running(mn.running[i].arg);
	status_set(ST_RUNNING);
}

static void on_capabilities(struct json_object *msg, void *arg)
{
	const char *err = qmp_reply_error(msg);
	struct json_object *args;

	(void)arg;
	if (!msg)
		return;
	if (err) {
		status_error("qmp_capabilities refused: %s", err);
		return;
	}
	args = json_object_new_object();
	json_object_object_add(args, "fdset-id", json_object_new_int(1));
	json_object_object_add(args, "opaque", json_object_new_string("stubinit:save-state"));
	if (monitor_command("add-fd", args, mn.save_fd, on_add_fd, NULL) < 0)
		status_error("add-fd: cannot send it to QEMU");
}

static void on_test_kill(void *arg)
{
	(void)arg;
	if (!qemu_pid())
		return;
	log_warn("test-kill-qemu-after: killing QEMU (pid %d) as the key asks", qemu_pid());
	qemu_kill(NULL);
}

static void on_greeting(struct json_object *greeting, void *arg)
{
	struct json_object *v =
		qmp_get_obj(qmp_get_obj(qmp_get_obj(greeting, "QMP"), "version"), "qemu");
	int64_t major = -1, minor = -1, micro = -1;

	(void)arg;
	qmp_get_int(v, "major", 0, 9999, &major);
	qmp_get_int(v, "minor", 0, 9999, &minor);
	qmp_get_int(v, "micro", 0, 9999, &micro);
	log_info("monitor: QEMU greeted (version %lld.%lld.%lld)", (long long)major,
		 (long long)minor, (long long)micro);
	loop_timer_arm(mn.greet_timer, 0, 0);
	if (mn.o.test_kill_ms && !mn.test_kill) {
		mn.test_kill = loop_timer_new(on_test_kill, NULL);
		if (mn.test_kill)
			loop_timer_arm(mn.test_kill, mn.o.test_kill_ms, 0);
	}
	if (monitor_command("qmp_capabilities", NULL, -1, on_capabilities, NULL) < 0)
		status_error("qmp_capabilities: cannot send it to QEMU");
}

static void on_event(struct json_object *ev, void *arg)
{
	const char *name = qmp_get_str(ev, "event");

	(void)arg;
	if (log_ratelimit(&mn.event_log))
		log_foreign(LV_INFO, "monitor: event %s",
			    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	for (unsigned i = 0; i < mn.nevents; i++)
		if (!strcmp(mn.events[i].name, name))
			mn.events[i].fn.event(ev, mn.events[i].arg);
}

static void on_refused(const char *why, void *arg)
{
	(void)arg;
	if (log_ratelimit(&mn.refused_log))
		log_warn("monitor: a message from QEMU refused: %s (skipped)", why);
}

static void on_closed(const char *why, void *arg)
{
	(void)arg;
	/* Normal when QEMU exits; otherwise fdsets may be dropped from now on (QEMU <= 9.0). */
	log_warn("monitor: permanent monitor closed: %s", why);
}

static const struct qmp_conn_ops mon_ops = {
	.greeting = on_greeting,
	.event = on_event,
	.refused = on_refused,
	.closed = on_closed,
};

static void read_monitor(void)
{
	int r = qmp_conn_read(mn.mon, MON_BUDGET);

	if (r < 0) {
		close_monitor();
		return;
	}
	if (r > 0)
		loop_work_queue(mn.more);
	update_events();
}

static void on_monitor_io(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)arg;
	if (events & EPOLLOUT && qmp_conn_flush(mn.mon) < 0) {
		close_monitor();
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_monitor();
	else
		update_events();
}

/* The budget ran out last turn: read on. */
static void on_more(void *arg)
{
	(void)arg;
	if (mn.mon)
		read_monitor();
}

/* ---- QEMU's sockets -------------------------------------------------------------------------- */

/* A connection on @lfd, only from QEMU itself; -1 for none. */
static int accept_qemu(int lfd, const char *which)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	pid_t peer;

	if (c < 0)
		return -1;
	if (!qemu_is_peer(c, &peer)) {
		if (log_ratelimit(&mn.stranger_log))
			log_warn("monitor: refused a connection to the %s from pid %d (QEMU is %d)",
				 which, (int)peer, qemu_pid());
		close(c);
		return -1;
	}
	return c;
}

int monitor_adopt(int fd)
{
	struct qmp_conn_limits lim = {
		.max_msg = MONITOR_MAX_MESSAGE,
		.max_alloc = MONITOR_MAX_ALLOC,
		.max_out = MONITOR_MAX_MESSAGE,
	};

	if (!mn.more)
		mn.more = loop_work_new(on_more, NULL);
	close_monitor();
	mn.mon = qmp_conn_new(fd, &lim, &mon_ops, NULL);
	if (!mn.mon || loop_add(fd, EPOLLIN, on_monitor_io, NULL) < 0) {
		status_error("monitor: cannot serve QEMU's connection");
		if (mn.mon)
			qmp_conn_free(mn.mon);
		else
			close(fd);
		mn.mon = NULL;
		return -1;
	}
	log_info("monitor: QEMU connected to the permanent monitor");
	return 0;
}

static void on_agent_accept(int fd, uint32_t events, void *arg)
{
	int c = accept_qemu(fd, "permanent monitor");

	(void)events, (void)arg;
	if (c >= 0 && monitor_adopt(c) == 0)
		close_listener(&mn.agent_fd, AGENT_SOCK);
}

static void on_session_accept(int fd, uint32_t events, void *arg)
{
	int c = accept_qemu(fd, "session monitor");

	(void)events, (void)arg;
	if (c < 0)
		return;
	close_listener(&mn.session_fd, SESSION_SOCK);
	if (mn.session.fn.session)
		mn.session.fn.session(c, mn.session.arg);
	else
		close(c);
}

static int listen_at(const char *path, loop_fd_fn fn)
{
	int fd = sock_listen(path, 4), err = fd < 0 ? fd : loop_add(fd, EPOLLIN, fn, NULL);

	if (err < 0) {
		log_errno(LV_ERROR, err, "monitor: cannot listen on %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void on_greeting_timeout(void *arg)
{
	char why[160];

	(void)arg;
	snprintf(why, sizeof(why), "QEMU did not greet on the permanent monitor within %s",
		 mn.o.greeting_timeout_text);
	qemu_kill(why);
}

static void on_qemu_exit(void *arg)
{
	(void)arg;
	close_monitor();
	close_listener(&mn.agent_fd, AGENT_SOCK);
	close_listener(&mn.session_fd, SESSION_SOCK);
	loop_timer_free(mn.greet_timer);
	mn.greet_timer = NULL;
}

const char *monitor_listen(const struct monitor_opts *o, int save_fd)
{
	mn.o = *o;
	mn.save_fd = save_fd;
	mn.more = loop_work_new(on_more, NULL);
	mn.agent_fd = listen_at(AGENT_SOCK, on_agent_accept);
	mn.session_fd = listen_at(SESSION_SOCK, on_session_accept);
	mn.greet_timer = loop_timer_new(on_greeting_timeout, NULL);
	if (!mn.more || mn.agent_fd < 0 || mn.session_fd < 0 || !mn.greet_timer)
		return "cannot listen for QEMU's monitors";
	loop_timer_arm(mn.greet_timer, o->greeting_timeout_ms, 0);
	qemu_on_exit(on_qemu_exit, NULL);
	return NULL;
}
