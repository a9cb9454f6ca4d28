// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy: the failure policy for the device model. See policy.h.
 */
#include "policy.h"
#include "shutdown.h"
#include "status.h"
#include "core/log.h"
#include "core/xenlog.h"

#include <errno.h>
#include <stdlib.h>
#include <xen/sched.h>
#include <xendevicemodel.h>

static struct {
	enum policy policy;
	unsigned target;
	bool have_target;
} pl;

void policy_init(enum policy p)
{
	pl.policy = p;
}

void policy_target(unsigned target)
{
	pl.target = target;
	pl.have_target = true;
}

/* The guest's vCPUs would stall on unanswered I/O for ever: crash it, so xl applies on_crash. */
static void crash_guest(unsigned target)
{
	xendevicemodel_handle *dm = xendevicemodel_open(xenlog_logger(), 0);

	if (!dm) {
		log_errno(LV_ERROR, errno, "policy crash-guest: guest %u: xendevicemodel_open",
			  target);
		return;
	}
	if (xendevicemodel_shutdown(dm, (domid_t)target, SHUTDOWN_crash) < 0)
		log_errno(LV_ERROR, errno, "policy crash-guest: guest %u: shutdown(crash)", target);
	else
		log_info("policy crash-guest: guest %u shut down as crashed; xl applies its "
			 "on_crash",
			 target);
	xendevicemodel_close(dm);
}

static void apply(const char *why, bool early)
{
	switch (pl.policy) {
	case POLICY_CRASH_GUEST:
		if (pl.have_target)
			crash_guest(pl.target);
		if (early || !pl.have_target)
			shutdown_begin(EXIT_FAILURE, why);
		else
			log_info("policy crash-guest: the stubdomain stays up until the toolstack "
				 "destroys it");
		break;
	case POLICY_POWEROFF:
		shutdown_begin(EXIT_FAILURE, why);
		break;
	default:
		log_warn("policy stay: the stubdomain stays up (%s)", why);
		break;
	}
}

void policy_qemu_died(const char *why)
{
	apply(why, false);
}

void policy_fail_early(const char *why)
{
	status_error("%s", why);
	apply(why, true);
}
