// SPDX-License-Identifier: GPL-2.0-only
/*
 * audio: the image's audio helper for Qubes' -qubes-audio. See audio.h.
 */
#include "audio.h"
#include "dmargs.h"
#include "paths.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RETRY_CONNECT_MS 20    /* the socket exists but is not listening yet (bind, then listen) */
#define RESTART_MIN_MS	 1000  /* a helper that exits is restarted after this, doubling */
#define RESTART_MAX_MS	 60000 /* up to this */

static struct {
	const char *helper;
	char xid[16];
	pid_t pid;
	int inotify;
	struct loop_timer *wait, *retry, *restart;
	uint64_t wait_ms, backoff_ms;
	audio_ready_fn ready;
	void *arg;
	bool answered, gave_up;
} au = {.pid = -1, .inotify = -1};

static void answer(const char *socket)
{
	if (au.answered)
		return;
	au.answered = true;
	loop_timer_arm(au.wait, 0, 0);
	loop_timer_arm(au.retry, 0, 0);
	if (au.inotify >= 0) {
		loop_remove(au.inotify);
		close(au.inotify);
		au.inotify = -1;
	}
	au.ready(socket, au.arg);
}

/* Whether the helper's socket takes a connection now; retried shortly while it is not listening. */
static void try_connect(void *arg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = AUDIO_SOCK};
	int fd, r, err;

	(void)arg;
	if (au.answered)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = errno;
	close(fd);
	if (r == 0 || err == EAGAIN) {
		/* QEMU runs as its own user: the socket is in root's directory, made reachable */
		if (chmod(AUDIO_SOCK, 0666) < 0)
			log_errno(LV_WARN, errno, "audio: chmod %s", AUDIO_SOCK);
		log_info("audio: the helper serves %s; QEMU plays into it", AUDIO_SOCK);
		answer(AUDIO_SOCK);
	} else if (err == ECONNREFUSED) {
		loop_timer_arm(au.retry, RETRY_CONNECT_MS, 0);
	}
}

static void on_dir_event(int fd, uint32_t events, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events, (void)arg;
	/* one read per wake-up; only root writes in AUDIO_DIR, whatever the events say is looked
	 * at through the socket itself */
	n = read(fd, buf, sizeof(buf));
	if (n > 0)
		try_connect(NULL);
}

static void on_wait_over(void *arg)
{
	(void)arg;
	log_error("audio: the helper's socket %s took no connection within %llu ms "
		  "(stubinit.audio-wait); QEMU starts without audio and the helper is stopped",
		  AUDIO_SOCK, (unsigned long long)au.wait_ms);
	au.gave_up = true;
	if (au.pid > 0)
		kill(au.pid, SIGTERM);
	answer(NULL);
}

static void spawn(void *arg);

static void on_helper_exit(pid_t pid, int status, void *arg)
{
	char how[96];

	(void)pid, (void)arg;
	au.pid = -1;
	child_describe(status, how, sizeof(how));
	if (au.gave_up) {
		log_info("audio: the helper %s", how);
		return;
	}
	log_error("audio: the helper %s %s; restarting it in %llu ms", au.helper, how,
		  (unsigned long long)au.backoff_ms);
	loop_timer_arm(au.restart, au.backoff_ms, 0);
	au.backoff_ms = au.backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : au.backoff_ms * 2;
}

/* In the child: plain system calls only, then the helper. */
static void exec_helper(void)
{
	char *argv[] = {(char *)au.helper, au.xid, AUDIO_SOCK, NULL};
	sigset_t none;
	int null = open("/dev/null", O_RDONLY), out = open("/dev/console", O_WRONLY | O_NOCTTY);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (out < 0)
		out = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 0);
	if (out >= 0)
		dup2(out, 1), dup2(out, 2);
	execv(au.helper, argv);
	_exit(127);
}

static void spawn(void *arg)
{
	pid_t pid;

	(void)arg;
	unlink(AUDIO_SOCK); /* a dead helper's; the new one binds afresh */
	pid = fork();
	if (pid < 0) {
		log_errno(LV_ERROR, errno, "audio: cannot start the helper %s", au.helper);
		loop_timer_arm(au.restart, au.backoff_ms, 0);
		return;
	}
	if (pid == 0)
		exec_helper();
	au.pid = pid;
	child_watch(pid, "audio helper", on_helper_exit, NULL);
	log_info("audio: started %s %s %s (pid %d)", au.helper, au.xid, AUDIO_SOCK, (int)pid);
}

void audio_start(const struct dm_config *cfg, const struct audio_opts *o, audio_ready_fn ready,
		 void *arg)
{
	const char *card = dmargs_sound_card(cfg->args.v, cfg->args.n);
	unsigned xid = 0;
	int asked = dmargs_qubes_audio(cfg->args.v, cfg->args.n, &xid);

	au.ready = ready;
	au.arg = arg;
	if (asked == 0) {
		answer(NULL);
		return;
	}
	if (asked < 0) {
		log_error(
			"audio: -qubes-audio: no audiovm_xid=<domid> in it; the guest goes without "
			"sound");
	} else if (!card) {
		log_info("audio: -qubes-audio:audiovm_xid=%u, and the guest has no sound card: no "
			 "helper started",
			 xid);
	} else if (!*o->helper) {
		log_warn(
			"audio: the guest's %s plays nowhere: -qubes-audio:audiovm_xid=%u asks for "
			"audio, and stubinit.audio-helper names no helper in this image",
			card, xid);
	} else if (access(o->helper, X_OK) < 0) {
		log_errno(LV_ERROR, errno,
			  "audio: stubinit.audio-helper=%s cannot be run; the guest's %s goes "
			  "without sound",
			  o->helper, card);
	} else if (mkdir(AUDIO_DIR, 0711) < 0 && errno != EEXIST) {
		log_errno(LV_ERROR, errno, "audio: cannot create %s; the guest goes without sound",
			  AUDIO_DIR);
	} else {
		au.helper = o->helper;
		au.wait_ms = o->wait_ms;
		au.backoff_ms = RESTART_MIN_MS;
		snprintf(au.xid, sizeof(au.xid), "%u", xid);
		au.wait = loop_timer_new(on_wait_over, NULL);
		au.retry = loop_timer_new(try_connect, NULL);
		au.restart = loop_timer_new(spawn, NULL);
		au.inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (!au.wait || !au.retry || !au.restart || au.inotify < 0 ||
		    inotify_add_watch(au.inotify, AUDIO_DIR, IN_CREATE | IN_MOVED_TO) < 0 ||
		    loop_add(au.inotify, EPOLLIN, on_dir_event, NULL) < 0) {
			log_errno(LV_ERROR, errno,
				  "audio: cannot watch %s for the helper's socket; the guest goes "
				  "without sound",
				  AUDIO_DIR);
			if (au.inotify >= 0)
				close(au.inotify);
			au.inotify = -1;
			answer(NULL);
			return;
		}
		loop_timer_arm(au.wait, au.wait_ms, 0);
		spawn(NULL);
		return;
	}
	answer(NULL);
}
