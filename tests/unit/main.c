// SPDX-License-Identifier: GPL-2.0-only
/*
 * unit: the runner and the shared log capture. See unit.h.
 */
#include "unit.h"
#include "core/log.h"
#include "core/loop.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static struct unit_test *tests;
static int failed_current;
static char failure[1024];

void unit_register(struct unit_test *t)
{
	struct unit_test **pp = &tests;

	while (*pp)
		pp = &(*pp)->next;
	*pp = t;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	int n;

	failed_current = 1;
	n = snprintf(failure, sizeof(failure), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(failure + n, sizeof(failure) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One event, one line: the verdict line must not break. */
	for (char *c = failure; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

static int cap_rd = -1;
static char cap_buf[1 << 20];

void capture_start(void)
{
	int p[2];

	if (cap_rd >= 0)
		close(cap_rd);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	log_attach(p[1]);
	close(p[1]);
	cap_rd = p[0];
	cap_buf[0] = 0;
}

const char *capture_text(void)
{
	size_t len = strlen(cap_buf);
	ssize_t n;

	log_flush(0);
	while ((n = read(cap_rd, cap_buf + len, sizeof(cap_buf) - 1 - len)) > 0)
		len += (size_t)n;
	cap_buf[len] = 0;
	return cap_buf;
}

int main(int argc, char **argv)
{
	int failed = 0;

	log_init();
	if (loop_init() < 0) {
		printf("FAIL unit/loop_init: cannot start the event loop\n");
		return 1;
	}
	for (struct unit_test *t = tests; t; t = t->next) {
		if (argc > 1 && strcmp(argv[1], t->name))
			continue;
		failed_current = 0;
		t->fn();
		log_set_level(LV_INFO);
		if (failed_current)
			printf("FAIL unit/%s: %s\n", t->name, failure);
		else
			printf("PASS unit/%s\n", t->name);
		fflush(stdout);
		failed |= failed_current;
	}
	log_fini();
	loop_fini();
	if (cap_rd >= 0)
		close(cap_rd);
	return failed;
}
