/*
 * status: what dom0 tooling can read about stubinit, without a shell in the stubdomain:
 * device-model/<target>/stubinit/{state,error,pid,version,stats} under the stubdomain's home path.
 *
 * Owns those keys. Until the target is known they are kept in memory and written on status_bind().
 * QEMU's own device-model/<target>/state is QEMU's: stubinit never writes it.
 */
#ifndef STUBINIT_STATUS_H
#define STUBINIT_STATUS_H

enum status_state { ST_BOOTING, ST_STARTING_QEMU, ST_RUNNING, ST_QEMU_DIED, ST_SHUTTING_DOWN };

const char *status_name(enum status_state s);

/* Binds to the target's device-model directory and writes everything known so far. */
void status_bind(unsigned target);

void status_set(enum status_state s);

/* stubinit/stats: one line of figures for dom0 ("ps/top/vmstat from dom0", without a shell). */
void status_stats(const char *line);

/* One line; also logged as an error. */
void status_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
