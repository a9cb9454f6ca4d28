/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * child: reaping. Owns SIGCHLD and every waitpid() of the agent: the children it starts and the
 * orphans the kernel hands to PID 1 (or to a subreaper) are all waited for here, so no zombie is
 * left. A module that starts a process registers interest in its pid; every other exit is logged as
 * an orphan's.
 */
#ifndef STUBINIT_CHILD_H
#define STUBINIT_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef void (*child_exit_fn)(pid_t pid, int status, void *arg);

int child_init(void);

/* Calls @fn once @pid has been reaped. @name is used in the log line. */
int child_watch(pid_t pid, const char *name, child_exit_fn fn, void *arg);

/* Called after every round of reaping (shutdown waits for the last child this way). */
void child_on_reaped(void (*fn)(void *arg), void *arg);

/* Reaps everything that has exited, without blocking. */
void child_reap(void);

/* No child left to wait for. */
bool child_none_left(void);

/*
 * Sends @sig to every process we are responsible for: as PID 1 all processes of the PID namespace,
 * otherwise our direct children. Returns how many were signalled (as PID 1: 1 if any).
 */
unsigned child_signal_all(int sig);

/*
 * Fields @first to @first + @n - 1 of a /proc/PID/stat line, in proc(5)'s numbering (4: the
 * parent's pid, 14 and 15: user and system time in clock ticks), the numbers after the command's
 * name, into @v. The name is the process's own to set (QEMU's too): spaces and parentheses in it
 * are skipped. 0, or -1 when the line has no such numbers.
 */
int child_parse_stat(const char *line, int first, long *v, int n);

/* The same fields of /proc/@pid/stat, read once; -1 if it cannot be read or parsed. */
int child_stat_fields(pid_t pid, int first, long *v, int n);

/* "exited with status 3", "killed by signal 9 (Killed)", "killed by ... (core dumped)". */
const char *child_describe(int status, char *buf, size_t len);

void child_fini(void);

#endif
