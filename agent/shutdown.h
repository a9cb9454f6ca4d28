/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shutdown: the orderly end of the stubdomain. Owns SIGTERM, SIGINT and SIGPWR. Children get
 * SIGTERM, then SIGKILL when the bound (stubinit.shutdown-timeout) passes, then the agent syncs and
 * powers off (boot_poweroff). Waiting happens in the event loop, so signals and the log keep being
 * served.
 */
#ifndef STUBINIT_SHUTDOWN_H
#define STUBINIT_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

/* @timeout_ms: how long children get after SIGTERM before SIGKILL. */
int shutdown_init(uint64_t timeout_ms);

/* Starts the shutdown once; later calls are logged and ignored. @code is the exit status when the
 * agent is not PID 1. */
void shutdown_begin(int code, const char *why);

bool shutdown_in_progress(void);

#endif
