/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store: the agent's one connection to xenstore, through libxenstore.
 *
 * Owns the xs handle: connecting (and, at boot, waiting for xenstore to become reachable, woken by
 * inotify rather than by polling, within a bound), reads and writes. Paths without a leading '/'
 * are relative to the stubdomain's own /local/domain/<domid>/, as xenstored resolves them. Tests
 * point libxenstore at a test daemon with XENSTORED_PATH.
 */
#ifndef STUBINIT_STORE_H
#define STUBINIT_STORE_H

#include <stdbool.h>
#include <stdint.h>

/* Calls @fn(true) once connected, or @fn(false) after @timeout_ms without xenstore. */
typedef void (*store_ready_fn)(bool ok, void *arg);
void store_connect(uint64_t timeout_ms, store_ready_fn fn, void *arg);

bool store_connected(void);

/* The value (NUL-terminated, caller frees) or NULL with errno set. */
char *store_read(const char *path);

/*
 * A decimal domain id at @path. On any problem logs one line naming the path and the value
 * (or the error) and returns -1.
 */
int store_read_domid(const char *path, unsigned *out);

/* The children of @path (caller frees the array; one free() releases all), or NULL with errno. */
char **store_directory(const char *path, unsigned *n);

int store_write(const char *path, const char *value);
/* Removes @path and everything under it: 0 or a negative errno. */
int store_rm(const char *path);

/*
 * A connection of the stubdomain's own to xenstore besides the agent's, raw (the wire protocol is
 * the caller's), found where libxenstore would find it: the daemon's socket (XENSTORED_PATH, in
 * tests), else the xenbus device. Non-blocking, close-on-exec; -1 with errno set.
 */
int store_open_raw(void);

/*
 * Calls @fn with the path that changed whenever @path or anything below it changes (and once
 * when the watch is set, as xenstored does). Events arrive through the event loop.
 */
typedef void (*store_watch_fn)(const char *path, void *arg);
int store_watch(const char *path, store_watch_fn fn, void *arg);

void store_fini(void);

#endif
