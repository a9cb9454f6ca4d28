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
};

/*
 * Opens @path with @flags (O_NOCTTY and O_CLOEXEC are added) and makes it raw: no echo, no
 * canonical mode, no signals, no input or output processing, 8-bit clean. Returns 0 or a negative
 * errno; on error nothing stays open.
 */
int console_open_raw(const char *path, int flags, struct console_open *out);

/* Makes an open tty raw; returns 0, or a negative errno. Sets *@was_cooked. */
int console_make_raw(int fd, bool *was_cooked);

#endif
