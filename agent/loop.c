/*
 * loop: epoll + signalfd + timerfd. See loop.h.
 */
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct handler {
	int fd;
	loop_fd_fn fn;
	void *arg;
	struct handler *next; /* registry list */
	int dead;
};

struct loop_timer {
	struct handler *h;
	loop_timer_fn fn;
	void *arg;
};

struct sighandler {
	loop_signal_fn fn;
	void *arg;
};

static struct {
	int epfd;
	int sigfd;
	struct handler *handlers; /* live and dead, dead ones freed after each dispatch */
	struct sighandler sig[_NSIG];
} lp = { .epfd = -1, .sigfd = -1 };

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS };

static struct handler *find(int fd)
{
	for (struct handler *h = lp.handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int loop_add(int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events };
	struct handler *h;

	if (find(fd))
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->arg = arg;
	ev.data.ptr = h;
	if (epoll_ctl(lp.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;

		free(h);
		return -err;
	}
	h->next = lp.handlers;
	lp.handlers = h;
	return 0;
}

int loop_modify(int fd, uint32_t events)
{
	struct handler *h = find(fd);
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	return epoll_ctl(lp.epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_remove(int fd)
{
	struct handler *h = find(fd);

	if (!h)
		return;
	epoll_ctl(lp.epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Events for it may still be queued in this dispatch round: free it afterwards. */
	h->dead = 1;
}

static void sweep(void)
{
	struct handler **pp = &lp.handlers;

	while (*pp) {
		struct handler *h = *pp;

		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

static void on_timer(int fd, uint32_t events, void *arg)
{
	struct loop_timer *t = arg;
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* disarmed or re-armed since the event was queued */
	t->fn(t->arg);
}

struct loop_timer *loop_timer_new(loop_timer_fn fn, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	int fd;

	if (!t)
		return NULL;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || loop_add(fd, EPOLLIN, on_timer, t) < 0) {
		log_errno(LV_ERROR, errno, "loop: cannot create a timer");
		if (fd >= 0)
			close(fd);
		free(t);
		return NULL;
	}
	t->h = find(fd);
	t->fn = fn;
	t->arg = arg;
	return t;
}

static struct timespec ms_to_ts(uint64_t ms)
{
	return (struct timespec){ .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
}

int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t period_ms)
{
	struct itimerspec its = { .it_value = ms_to_ts(ms), .it_interval = ms_to_ts(period_ms) };

	return timerfd_settime(t->h->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	loop_remove(t->h->fd);
	close(t->h->fd);
	free(t);
}

int loop_on_signal(int signo, loop_signal_fn fn, void *arg)
{
	if (signo <= 0 || signo >= _NSIG)
		return -EINVAL;
	lp.sig[signo] = (struct sighandler){ fn, arg };
	return 0;
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events, (void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		struct sighandler *sh = si.ssi_signo < _NSIG ? &lp.sig[si.ssi_signo] : NULL;

		if (sh && sh->fn)
			sh->fn(&si, sh->arg);
		else
			log_debug("signal %s from pid %u ignored", strsignal((int)si.ssi_signo),
				  si.ssi_pid);
	}
}

int loop_init(void)
{
	sigset_t all;
	int err;

	sigfillset(&all);
	for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		sigdelset(&all, fault_signals[i]);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
		return -errno;
	lp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp.epfd < 0)
		return -errno;
	lp.sigfd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
	if (lp.sigfd < 0)
		return -errno;
	err = loop_add(lp.sigfd, EPOLLIN, on_signal, NULL);
	return err;
}

void loop_run_once(int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	n = epoll_wait(lp.epfd, evs, 16, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			log_errno(LV_ERROR, errno, "loop: epoll_wait");
		return;
	}
	for (int i = 0; i < n; i++) {
		struct handler *h = evs[i].data.ptr;

		if (!h->dead)
			h->fn(h->fd, evs[i].events, h->arg);
	}
	sweep();
}

void loop_fini(void)
{
	for (struct handler *h = lp.handlers; h; h = h->next)
		h->dead = 1;
	sweep();
	if (lp.sigfd >= 0)
		close(lp.sigfd);
	if (lp.epfd >= 0)
		close(lp.epfd);
	lp.sigfd = lp.epfd = -1;
}
