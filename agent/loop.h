/*
 * loop: the one place stubinit blocks. Owns the epoll instance, the signalfd that receives every
 * signal, and the timerfds behind timers. Other modules register an fd with a callback, a timer or a
 * signal handler here and are called back from loop_run_once(); nobody else waits.
 */
#ifndef STUBINIT_LOOP_H
#define STUBINIT_LOOP_H

#include <stdint.h>
#include <sys/signalfd.h>

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(void *arg);
typedef void (*loop_signal_fn)(const struct signalfd_siginfo *si, void *arg);

struct loop_timer;

/*
 * Blocks every signal but the kernel's fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
 * SIGTRAP, SIGSYS) and opens the epoll instance and the signalfd. Call first thing in main.
 */
int loop_init(void);

/* @events are EPOLLIN/EPOLLOUT/...; EPOLLERR and EPOLLHUP are always reported. */
int loop_add(int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_modify(int fd, uint32_t events);
/* Safe from inside any callback, including the fd's own. */
void loop_remove(int fd);

struct loop_timer *loop_timer_new(loop_timer_fn fn, void *arg);
/* One-shot after @ms (0 disarms); with @period_ms, repeats. */
int loop_timer_arm(struct loop_timer *t, uint64_t ms, uint64_t period_ms);
void loop_timer_free(struct loop_timer *t);

/* One handler per signal; signals without one are logged at debug level and ignored. */
int loop_on_signal(int signo, loop_signal_fn fn, void *arg);

/* Waits up to @timeout_ms (-1: no bound) and dispatches what is ready. */
void loop_run_once(int timeout_ms);

/* Closes everything (tests and sanitizer runs). */
void loop_fini(void);

#endif
