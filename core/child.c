// SPDX-License-Identifier: GPL-2.0-only
/*
 * child: reaping and signalling children. See child.h.
 */
#include "child.h"
#include "log.h"
#include "loop.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct watch {
	pid_t pid;
	char name[32];
	child_exit_fn fn;
	void *arg;
	struct watch *next;
};

static struct {
	struct watch *watches;
	void (*on_reaped)(void *);
	void *on_reaped_arg;
} cs;

const char *child_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
	return buf;
}

int child_watch(pid_t pid, const char *name, child_exit_fn fn, void *arg)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->pid = pid;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->fn = fn;
	w->arg = arg;
	w->next = cs.watches;
	cs.watches = w;
	return 0;
}

void child_on_reaped(void (*fn)(void *arg), void *arg)
{
	cs.on_reaped = fn;
	cs.on_reaped_arg = arg;
}

static void reaped(pid_t pid, int status)
{
	char how[96];

	for (struct watch **pp = &cs.watches; *pp; pp = &(*pp)->next) {
		struct watch *w = *pp;

		if (w->pid != pid)
			continue;
		*pp = w->next;
		log_info("%s (pid %d) %s", w->name, pid, child_describe(status, how, sizeof(how)));
		if (w->fn)
			w->fn(pid, status, w->arg);
		free(w);
		return;
	}
	log_info("reaped orphan pid %d: %s", pid, child_describe(status, how, sizeof(how)));
}

void child_reap(void)
{
	int status, any = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		reaped(pid, status);
		any = 1;
	}
	if (pid < 0 && errno != ECHILD)
		log_errno(LV_WARN, errno, "waitpid");
	if (any && cs.on_reaped)
		cs.on_reaped(cs.on_reaped_arg);
}

static void on_sigchld(const struct signalfd_siginfo *si, void *arg)
{
	(void)si, (void)arg;
	/* SIGCHLDs coalesce: one signal may stand for many exits, so reap until nothing is left. */
	child_reap();
}

int child_init(void)
{
	return loop_on_signal(SIGCHLD, on_sigchld, NULL);
}

bool child_none_left(void)
{
	siginfo_t si = {0};

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
}

int child_parse_stat(const char *line, int first, long *v, int n)
{
	/* The name may hold spaces and parentheses: the fields start after its last ')'. */
	const char *p = strrchr(line, ')');
	char *end;

	if (first < 4 || n < 1)
		return -1;
	/* p is at the ')' that ends field 2; turn i moves it to the space before field i + 1 */
	for (int i = 2; p && i < first; i++)
		p = strchr(p + 1, ' ');
	for (int k = 0; k < n; k++) {
		unsigned long u;

		if (!p || p[1] < '0' || p[1] > '9')
			return -1;
		errno = 0;
		u = strtoul(p + 1, &end, 10);
		if ((*end != ' ' && *end != '\n' && *end) || errno || u > LONG_MAX)
			return -1;
		v[k] = (long)u;
		p = *end == ' ' ? end : NULL;
	}
	return 0;
}

int child_stat_fields(pid_t pid, int first, long *v, int n)
{
	char path[64], buf[1024];
	bool got;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	got = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	return got ? child_parse_stat(buf, first, v, n) : -1;
}

/* Not PID 1: our children are the processes whose parent we are, found in /proc. */
static unsigned signal_children(int sig)
{
	pid_t self = getpid();
	unsigned n = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d) {
		log_errno(LV_WARN, errno, "cannot list /proc to find children");
		return 0;
	}
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		long ppid;

		if (pid > 0 && child_stat_fields(pid, 4, &ppid, 1) == 0 && ppid == self &&
		    kill(pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

unsigned child_signal_all(int sig)
{
	if (getpid() == 1)
		return kill(-1, sig) == 0;
	return signal_children(sig);
}

void child_fini(void)
{
	while (cs.watches) {
		struct watch *w = cs.watches;

		cs.watches = w->next;
		free(w);
	}
}
