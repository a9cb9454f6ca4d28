// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop: epoll + signalfd + timerfd + deferred work. See loop.h.
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct handler {
	int fd;
	loop_fd_fn fn;
	void *arg;
	struct handler *next; /* registry list */
	int dead;
	uint32_t events; /* what epoll watches for now */
};

struct loop_timer {
	struct handler *h;
	loop_fn fn;
	void *arg;
};

struct loop_work {
	loop_fn fn;
	void *arg;
	int queued; /* 0, QUEUED, or DUE: queued before this turn began */
	bool dead;
	struct loop_work *next; /* every work item, live and dead */
};

enum {
	QUEUED = 1,
	DUE = 2
};

struct sighandler {
	loop_signal_fn fn;
	void *arg;
};

static struct {
	int epfd;
	int sigfd;
	int workfd;		  /* eventfd: readable while work is queued */
	struct handler *handlers; /* live and dead, dead ones freed after each dispatch */
	struct loop_work *work;
	bool work_pending;
} lp = {.epfd = -1, .sigfd = -1, .workfd = -1};
/* Apart from lp: zeros cost the static binary no file size. */
static struct sighandler sig_handlers[_NSIG];

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

static struct handler *find(int fd)
{
	for (struct handler *h = lp.handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int loop_add(int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events};
	struct handler *h;

	if (find(fd))
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->arg = arg;
	h->events = events;
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
	struct epoll_event ev = {.events = events};

	if (!h)
		return -ENOENT;
	/* Owners restate their interest at every turn; most turns change nothing. */
	if (h->events == events)
		return 0;
	ev.data.ptr = h;
	if (epoll_ctl(lp.epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	h->events = events;
	return 0;
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
	struct loop_work **wp = &lp.work;

	while (*pp) {
		struct handler *h = *pp;

		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
	while (*wp) {
		struct loop_work *w = *wp;

		if (w->dead) {
			*wp = w->next;
			free(w);
		} else {
			wp = &w->next;
		}
	}
}

/* ---- timers ---------------------------------------------------------------------------------- */

static void on_timer(int fd, uint32_t events, void *arg)
{
	struct loop_timer *t = arg;
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return; /* disarmed or re-armed since the event was queued */
	t->fn(t->arg);
}

struct loop_timer *loop_timer_new(loop_fn fn, void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	int fd, err;

	if (!t)
		return NULL;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || (err = loop_add(fd, EPOLLIN, on_timer, t)) < 0) {
		err = fd < 0 ? errno : -err;
		if (fd >= 0)
			close(fd);
		free(t);
		errno = err;
		return NULL;
	}
	t->h = find(fd);
	t->fn = fn;
	t->arg = arg;
	return t;
}

static struct timespec ms_to_ts(uint64_t ms)
{
	return (struct timespec){.tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000};
}

int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t period_ms)
{
	struct itimerspec its = {.it_value = ms_to_ts(ms), .it_interval = ms_to_ts(period_ms)};

	if (!t)
		return -EINVAL;
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

/* ---- deferred work --------------------------------------------------------------------------- */

static void on_work(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events, (void)arg;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	lp.work_pending = false;
	/* Only what was queued before this turn: work queued by work runs in the next one. */
	for (struct loop_work *w = lp.work; w; w = w->next)
		if (!w->dead && w->queued)
			w->queued = DUE;
	for (struct loop_work *w = lp.work; w; w = w->next) {
		if (w->dead || w->queued != DUE)
			continue;
		w->queued = 0;
		w->fn(w->arg);
	}
}

struct loop_work *loop_work_new(loop_fn fn, void *arg)
{
	struct loop_work *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fn = fn;
	w->arg = arg;
	w->next = lp.work;
	lp.work = w;
	return w;
}

void loop_work_queue(struct loop_work *w)
{
	uint64_t one = 1;

	if (!w || w->dead || w->queued == QUEUED)
		return;
	w->queued = QUEUED;
	if (!lp.work_pending && write(lp.workfd, &one, sizeof(one)) == sizeof(one))
		lp.work_pending = true;
}

void loop_work_free(struct loop_work *w)
{
	if (w)
		w->dead = true;
}

/* ---- signals --------------------------------------------------------------------------------- */

int loop_on_signal(int signo, loop_signal_fn fn, void *arg)
{
	if (signo <= 0 || signo >= _NSIG)
		return -EINVAL;
	sig_handlers[signo] = (struct sighandler){fn, arg};
	return 0;
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events, (void)arg;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		struct sighandler *sh = si.ssi_signo < _NSIG ? &sig_handlers[si.ssi_signo] : NULL;

		if (sh && sh->fn)
			sh->fn(&si, sh->arg);
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
	lp.workfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lp.workfd < 0)
		return -errno;
	err = loop_add(lp.sigfd, EPOLLIN, on_signal, NULL);
	return err ? err : loop_add(lp.workfd, EPOLLIN, on_work, NULL);
}

int loop_run_once(int timeout_ms)
{
	struct epoll_event evs[16];
	int n;

	n = epoll_wait(lp.epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct handler *h = evs[i].data.ptr;

		if (!h->dead)
			h->fn(h->fd, evs[i].events, h->arg);
	}
	sweep();
	return 0;
}

void loop_fini(void)
{
	for (struct handler *h = lp.handlers; h; h = h->next)
		h->dead = 1;
	for (struct loop_work *w = lp.work; w; w = w->next)
		w->dead = true;
	sweep();
	if (lp.sigfd >= 0)
		close(lp.sigfd);
	if (lp.workfd >= 0)
		close(lp.workfd);
	if (lp.epfd >= 0)
		close(lp.epfd);
	lp.sigfd = lp.epfd = lp.workfd = -1;
	lp.work_pending = false;
}
