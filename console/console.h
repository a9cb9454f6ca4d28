/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * console: the stubdomain's hvc consoles as raw byte streams.
 *
 * Owns opening a console so that nothing the tty layer does (echo, line editing, CR/LF mapping,
 * signal characters) touches the bytes, and recording whether the kernel handed it over cooked.
 * Later work hands these fds to QEMU (save/restore streams, serial ports).
 */
#ifndef STUBINIT_CONSOLE_H
#define STUBINIT_CONSOLE_H

#include <stdbool.h>

struct console_open {
	int fd;
	bool was_cooked; /* ICANON or ECHO was set when opened */
	bool is_tty;	 /* false for a plain file or pipe: nothing to make raw */
	bool fifo;	 /* opened under SCHED_FIFO (console_open_raw_first) */
	int fifo_err;	 /* why SCHED_FIFO was refused, or 0 */
};

/*
 * Opens @path with @flags (O_NOCTTY and O_CLOEXEC are added) and makes it raw: no echo, no
 * canonical mode, no signals, no input or output processing, 8-bit clean. Returns 0 or a negative
 * errno; on error nothing stays open.
 */
int console_open_raw(const char *path, int flags, struct console_open *out);

/*
 * For a console whose bytes may already be waiting when it is opened (hvc2 carrying the restore
 * stream): a stock kernel's hvc starts cooked, and on open its ldisc worker processes the waiting
 * bytes with that cooked termios before a plain open() + tcsetattr() can make it raw (measured:
 * lost 5 of 5 times). Doing both under SCHED_FIFO 99 with memory locked, on the stubdomain's single
 * vCPU, keeps the worker off the CPU until the tty is raw (won 9 of 9); the agent then returns to
 * SCHED_OTHER. If real-time priority is refused, it opens the plain way and says so in fifo_err.
 */
int console_open_raw_first(const char *path, int flags, struct console_open *out);

/*
 * The consoles the agent holds: hvc2, the incoming state stream on restore (read-only, opened raw
 * first of all), and hvc1, where saved state goes out (write-only, raw). A console that does not
 * exist has fd -1. Each open is logged with how it went: cooked or raw when opened, SCHED_FIFO or
 * not. hvc3 and up are QEMU's serial ports; QEMU opens those itself.
 */
struct console_set {
	struct console_open in;	 /* <prefix>2 */
	struct console_open out; /* <prefix>1 */
};

void console_setup(const char *prefix, struct console_set *cs);

/*
 * Moves a saved device state to console 1 with a guarantee: a child process copies the file at
 * @path in full to @out_fd and waits until the console has taken every byte (tcdrain), so the
 * agent never blocks on a slow console. @done gets NULL, or the reason it failed (a missing
 * console, an I/O error, or @timeout_ms passing, after which the copy is killed).
 */
typedef void (*console_drain_fn)(const char *error, void *arg);
int console_drain_start(const char *path, int out_fd, unsigned long timeout_ms,
			console_drain_fn done, void *arg);

/* Makes an open tty raw; returns 0, or a negative errno. Sets *@was_cooked. */
int console_make_raw(int fd, bool *was_cooked);

#endif
