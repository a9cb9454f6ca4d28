/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loop: the one place stubinit blocks. Owns the epoll instance, the signalfd that receives every
 * signal, the timerfds behind timers, and the queue of deferred work. Other modules register an fd
 * with a callback, a timer, a signal handler or a piece of deferred work here and are called back
 * from loop_run_once(); nobody else waits.
 *
 * It uses no other module: errors are returned, never logged (core/log sits above it).
 *
 * Fairness: a reader that has handled its budget for one wake-up returns to the loop. With a
 * level-triggered fd that is enough (epoll reports it again next turn); a source that does not
 * report again by itself (a vchan's event channel, libxenstore's queue, a flag) queues its own
 * deferred work, which runs in the next turn, after every fd that is ready then.
 */
#ifndef STUBINIT_LOOP_H
#define STUBINIT_LOOP_H

#include <stdint.h>
#include <sys/signalfd.h>

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_fn)(void *arg);
typedef void (*loop_signal_fn)(const struct signalfd_siginfo *si, void *arg);

struct loop_timer;
struct loop_work;

/*
 * Blocks every signal but the kernel's fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
 * SIGTRAP, SIGSYS) and opens the epoll instance, the signalfd and the work queue's eventfd. Call
 * first thing in main. Returns 0 or a negative errno.
 */
int loop_init(void);

/* @events are EPOLLIN/EPOLLOUT/...; EPOLLERR and EPOLLHUP are always reported. */
int loop_add(int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_modify(int fd, uint32_t events);
/* Safe from inside any callback, including the fd's own. */
void loop_remove(int fd);

/* NULL with errno set when no timerfd can be had. */
struct loop_timer *loop_timer_new(loop_fn fn, void *arg);
/* One-shot after @ms (0 disarms); with @period_ms, repeats. A NULL timer (one that could not be
 * had) is -EINVAL, so its owner's failure to get it costs its bound, not PID 1. */
int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t period_ms);
void loop_timer_free(struct loop_timer *t);

/* Deferred work: @fn runs once in the next turn of the loop for every loop_work_queue() made
 * before that turn (queuing twice before it runs runs it once). */
struct loop_work *loop_work_new(loop_fn fn, void *arg);
void loop_work_queue(struct loop_work *w);
/* Safe from inside any callback, including its own. */
void loop_work_free(struct loop_work *w);

/* One handler per signal; signals without one are ignored. */
int loop_on_signal(int signo, loop_signal_fn fn, void *arg);

/* Waits up to @timeout_ms (-1: no bound) and dispatches what is ready. Returns 0, or a negative
 * errno when waiting failed (nothing was dispatched). */
int loop_run_once(int timeout_ms);

/* Closes everything (tests and sanitizer runs). */
void loop_fini(void);

#endif
