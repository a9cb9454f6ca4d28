// SPDX-License-Identifier: GPL-2.0-only
/*
 * xtl-nostdio: the stdio logger of the static build's libxentoollog, which has none.
 *
 * Xen's libraries make a stdio logger on stderr when they are opened without a logger of the
 * caller's. stubinit opens every handle with its own (core/xenlog.h), so Xen's xtl_logger_stdio.c
 * is left out of libxentoollog.a and, with it, musl's time zone code (tzset, localtime_r) that its
 * time stamps pull in: 8 KB of stubinit.static (bench/README.md, P1). This stands in for it: an
 * open without a logger fails, as if the logger could not be allocated, and the caller reports
 * that open's failure.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <xentoollog.h>

xentoollog_logger_stdiostream *xtl_createlogger_stdiostream(FILE *f, xentoollog_level min_level,
							    unsigned flags)
{
	(void)f;
	(void)min_level;
	(void)flags;
	errno = ENOSYS;
	return NULL;
}
