// SPDX-License-Identifier: GPL-2.0-only
/*
 * xenlog: Xen's libraries into stubinit's log. See xenlog.h.
 */
#include "xenlog.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xentoollog.h>

static void vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
		     const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));
static void vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
		     const char *context, const char *format, va_list al)
{
	char msg[LOG_LINE_MAX];

	(void)l;
	vsnprintf(msg, sizeof(msg), format, al);
	log_msg(level >= XTL_ERROR  ? LV_ERROR
		: level >= XTL_WARN ? LV_WARN
				    : LV_DEBUG,
		"%s: %s%s%s", context ? context : "xen", msg, errnoval >= 0 ? ": " : "",
		errnoval >= 0 ? strerror(errnoval) : "");
}

static void destroy(struct xentoollog_logger *l)
{
	(void)l;
}

static struct xentoollog_logger logger = {.vmessage = vmessage, .destroy = destroy};

struct xentoollog_logger *xenlog_logger(void)
{
	return &logger;
}
