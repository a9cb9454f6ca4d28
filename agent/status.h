/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status: what dom0 tooling can read about stubinit, without a shell in the stubdomain:
 * device-model/<target>/stubinit/{state,error,pid,version,stats} under the stubdomain's home path.
 *
 * Owns those keys and the stats refresh (QEMU's RSS and CPU time, stubinit's RSS, free and
 * available memory, uptime; every stats-interval). Until the target is known they are kept in
 * memory and written on status_bind(). QEMU's own device-model/<target>/state is QEMU's:
 * stubinit never writes it.
 */
#ifndef STUBINIT_STATUS_H
#define STUBINIT_STATUS_H

#include <stdint.h>
#include <sys/types.h>

enum status_state {
	ST_BOOTING,
	ST_STARTING_QEMU,
	ST_RUNNING,
	ST_QEMU_DIED,
	ST_SHUTTING_DOWN
};

const char *status_name(enum status_state s);

/* Binds to the target's device-model directory and writes everything known so far. */
void status_bind(unsigned target);

void status_set(enum status_state s);

/* One line; also logged as an error. */
void status_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The stats refresh: every @interval_ms (0: never), from the first "running" of a watched QEMU. */
void status_stats_interval(uint64_t interval_ms);
/* QEMU's pid for the stats (0: QEMU is gone). */
void status_watch_qemu(pid_t pid);

#endif
