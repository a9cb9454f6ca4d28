/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log: the agent's only writer to its log output (stderr; hvc0 in a stubdomain, which dom0 keeps as
 * /var/log/xen/qemu-dm-<guest>.log).
 *
 * One line per event: a monotonic timestamp, a level and the message. Logging never blocks: lines
 * go into a bounded buffer that is written with non-blocking writes as the output accepts them.
 * dom0's console backend may never drain a stubdomain's console, so when the buffer is full new
 * lines are dropped and counted, and the count is logged once the output has drained again.
 *
 * Lines whose text comes from QEMU (its output, its events) are "foreign": they may fill only
 * LOG_FOREIGN_SHARE of the buffer, so a QEMU that floods its output can never push stubinit's own
 * lines out. Repeated events go through a rate limit (struct log_ratelimit) that counts what it
 * held back and says so once the burst is over.
 */
#ifndef STUBINIT_LOG_H
#define STUBINIT_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LV_ERROR,
	LV_WARN,
	LV_INFO,
	LV_DEBUG
};

/* Lines longer than this are cut and end in "...". */
#define LOG_LINE_MAX 1024

/* Default and bounds of the buffer that holds lines the output has not yet taken. */
#define LOG_BUFFER_DEFAULT (64 * 1024)
#define LOG_BUFFER_MIN	   4096

/*
 * Starts logging into the buffer. Lines are kept until log_attach() names an output, so the first
 * lines of boot are not lost when stderr is not usable yet.
 */
void log_init(void);

/*
 * Makes @fd the output. The log writes to its own non-blocking open file description of @fd
 * where the kernel allows one (so a shared terminal is not switched to non-blocking), else to @fd
 * made non-blocking. Once the event loop exists, log_watch() lets it wait for a stalled output.
 */
int log_attach(int fd);
void log_watch(void);

/* Resizes the buffer (at least LOG_BUFFER_MIN); lines that no longer fit are dropped and counted.
 */
int log_set_capacity(size_t bytes);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line carrying QEMU's words: it takes at most LOG_FOREIGN_SHARE of the buffer. */
void log_foreign(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_FOREIGN_SHARE_NUM 3
#define LOG_FOREIGN_SHARE_DEN 4
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends ": <strerror(err)>" to the message. */
void log_errno(enum log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LV_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LV_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LV_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LV_DEBUG, __VA_ARGS__)

/*
 * Writes as much of the buffer as the output takes now, without blocking; with @wait, blocks up to
 * @wait_ms for a stalled output (used only on the way to power-off, where nothing else is left to
 * serve). Returns the bytes still buffered.
 */
size_t log_flush(int wait_ms);

/* Lines dropped since start (for status and tests). */
uint64_t log_dropped_total(void);

/*
 * A rate limit for one kind of repeated event: at most @burst lines per @window_ms; beyond that
 * log_ratelimit() says no and counts, and the first line allowed after a window with suppressed
 * ones is preceded by "<what>: N more suppressed". Zero-initialise with the two limits set.
 */
struct log_ratelimit {
	const char *what;
	unsigned burst;
	unsigned window_ms;
	uint64_t start_ms;
	unsigned n;
	uint64_t suppressed, suppressed_total;
};
#define LOG_RATELIMIT(what_, burst_, window_ms_)                                                   \
	{                                                                                          \
		.what = (what_), .burst = (burst_), .window_ms = (window_ms_)                      \
	}
/* Whether one more line of this kind may be logged now. */
int log_ratelimit(struct log_ratelimit *rl);

/* Releases the buffer (tests and sanitizer runs). */
void log_fini(void);

#endif
