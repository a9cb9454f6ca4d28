// SPDX-License-Identifier: GPL-2.0-only
/*
 * shutdown: SIGTERM -> children terminated within a bound -> sync -> power off. See shutdown.h.
 */
#include "shutdown.h"
#include "boot.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "status.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* After SIGKILL, how long to wait for the kernel to let the last children go. */
#define KILL_GRACE_MS 1000

static struct {
	uint64_t timeout_ms;
	int started;
	int code;
	int killed; /* SIGKILL sent */
	struct loop_timer *timer;
} sd;

bool shutdown_in_progress(void)
{
	return sd.started;
}

static void finish(void)
{
	loop_timer_free(sd.timer);
	sd.timer = NULL;
	boot_poweroff(sd.code);
	/* Still here: PID 1 that could not power off keeps reaping and logging. */
}

static void on_reaped(void *arg)
{
	(void)arg;
	if (sd.started && sd.timer && child_none_left()) {
		log_info("shutdown: all children have exited");
		finish();
	}
}

static void on_timeout(void *arg)
{
	(void)arg;
	if (child_none_left()) {
		finish();
		return;
	}
	if (sd.killed) {
		log_warn("shutdown: children still present %d ms after SIGKILL; going on",
			 KILL_GRACE_MS);
		finish();
		return;
	}
	log_warn("shutdown: children still running after %llu ms; sending SIGKILL",
		 (unsigned long long)sd.timeout_ms);
	sd.killed = 1;
	child_signal_all(SIGKILL);
	loop_timer_arm(sd.timer, KILL_GRACE_MS, 0);
}

void shutdown_begin(int code, const char *why)
{
	unsigned n;

	if (sd.started) {
		log_info("shutdown: already in progress (%s)", why);
		return;
	}
	sd.started = 1;
	sd.code = code;
	log_info("shutdown: %s", why);
	status_set(ST_SHUTTING_DOWN);
	child_reap();
	n = child_signal_all(SIGTERM);
	sd.timer = loop_timer_new(on_timeout, NULL);
	if (!n || child_none_left() || !sd.timer) {
		finish();
		return;
	}
	log_info("shutdown: SIGTERM sent to children; waiting up to %llu ms",
		 (unsigned long long)sd.timeout_ms);
	/* A zero bound still goes through the timer, so the kill happens in the loop like any
	 * event. */
	loop_timer_arm(sd.timer, sd.timeout_ms ? sd.timeout_ms : 1, 0);
}

static void on_signal(const struct signalfd_siginfo *si, void *arg)
{
	char why[96];

	(void)arg;
	snprintf(why, sizeof(why), "%s from pid %u",
		 si->ssi_signo == SIGTERM  ? "SIGTERM"
		 : si->ssi_signo == SIGINT ? "SIGINT"
					   : "SIGPWR",
		 si->ssi_pid);
	shutdown_begin(0, why);
}

int shutdown_init(uint64_t timeout_ms)
{
	sd.timeout_ms = timeout_ms;
	child_on_reaped(on_reaped, NULL);
	loop_on_signal(SIGTERM, on_signal, NULL);
	loop_on_signal(SIGINT, on_signal, NULL);
	return loop_on_signal(SIGPWR, on_signal, NULL);
}
