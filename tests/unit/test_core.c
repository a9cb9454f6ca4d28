// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the log, the event loop and reaping, against the real kernel (pipes, timerfd,
 * signalfd, fork).
 */
#include "unit.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TEST(log_line_format)
{
	char big[3000];
	const char *t;

	capture_start();
	log_info("hello %d", 42);
	log_warn("two\nlines\x1b[31m");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	log_error("%s", big);
	t = capture_text();
	/* "[    12.345678] stubinit info: hello 42" */
	CHECK(t[0] == '[' && strchr(t, ']') && strchr(t, '.') < strchr(t, ']'));
	CHECK_CONTAINS(t, "] stubinit info: hello 42\n");
	CHECK_CONTAINS(t, "] stubinit warn: two?lines?[31m\n");
	CHECK_CONTAINS(t, "xxx...\n");
	/* Three events, three lines. */
	int lines = 0;
	for (const char *c = t; *c; c++)
		lines += *c == '\n';
	CHECK_INT(lines, 3);
}

TEST(log_level_filter)
{
	capture_start();
	log_set_level(LV_WARN);
	log_info("not shown");
	log_debug("not shown either");
	log_warn("shown");
	log_errno(LV_ERROR, ENOENT, "open %s", "/x");
	CHECK(!strstr(capture_text(), "not shown"));
	CHECK_CONTAINS(capture_text(), "warn: shown");
	CHECK_CONTAINS(capture_text(), "error: open /x: No such file or directory");
}

/*
 * The output stalls (nobody reads the pipe): logging must neither block nor grow without bound;
 * lines are dropped and counted, and the count is logged once the output drains.
 */
TEST(log_stalled_output_never_blocks)
{
	int p[2];
	char buf[65536];
	struct timespec a, b;
	ssize_t n;
	size_t got = 0;
	char *all = malloc(1 << 20);

	CHECK(all);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(fcntl(p[0], F_SETPIPE_SZ, 4096) >= 0);
	log_attach(p[1]);
	log_watch();
	CHECK_INT(log_set_capacity(4096), 0);
	uint64_t before = log_dropped_total();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 2000; i++)
		log_info("line %d of a flood that nobody reads", i);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* Not a timing test: a blocked write would never return at all. */
	CHECK(log_dropped_total() - before > 1000);
	/* The reader drains; the loop reports the writable output and the count is logged. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (int round = 0; round < 50; round++) {
		while ((n = read(p[0], buf, sizeof(buf))) > 0) {
			memcpy(all + got, buf, (size_t)n);
			got += (size_t)n;
		}
		all[got] = 0;
		if (strstr(all, "lines dropped while the log output was not draining"))
			break;
		loop_run_once(100);
	}
	CHECK_CONTAINS(all, "line 0 of a flood");
	CHECK_CONTAINS(all, "lines dropped while the log output was not draining");
	CHECK(!strstr(all, "line 1999 of a flood"));
	log_set_capacity(LOG_BUFFER_DEFAULT);
	close(p[0]);
	close(p[1]);
	free(all);
	(void)b;
}

static int timer_hits;
static void on_timer(void *arg)
{
	(void)arg;
	timer_hits++;
}

TEST(loop_timer_and_fd)
{
	struct loop_timer *t = loop_timer_new(on_timer, NULL);

	timer_hits = 0;
	CHECK(t);
	CHECK_INT(loop_timer_arm(t, 10, 0), 0);
	for (int i = 0; i < 20 && !timer_hits; i++)
		loop_run_once(100);
	CHECK_INT(timer_hits, 1);
	/* Disarmed: nothing more fires. */
	loop_run_once(50);
	CHECK_INT(timer_hits, 1);
	CHECK_INT(loop_timer_arm(t, 5, 5), 0);
	for (int i = 0; i < 50 && timer_hits < 4; i++)
		loop_run_once(100);
	CHECK(timer_hits >= 4);
	loop_timer_free(t);
}

static int fd_calls;
static void on_fd_remove_self(int fd, uint32_t events, void *arg)
{
	(void)events, (void)arg;
	fd_calls++;
	loop_remove(fd);
}

TEST(loop_remove_inside_callback)
{
	int p[2];

	fd_calls = 0;
	CHECK(pipe(p) == 0);
	CHECK_INT(loop_add(p[0], EPOLLIN, on_fd_remove_self, NULL), 0);
	CHECK_INT(loop_add(p[0], EPOLLIN, on_fd_remove_self, NULL), -EEXIST);
	CHECK(write(p[1], "x", 1) == 1);
	loop_run_once(100);
	loop_run_once(50);
	CHECK_INT(fd_calls, 1);
	close(p[0]);
	close(p[1]);
}

static uint32_t seen_events;
static void on_fd_events(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)arg;
	seen_events |= events;
}

/* What one turn of the loop reports for the fd. */
static uint32_t one_turn(void)
{
	seen_events = 0;
	loop_run_once(20);
	return seen_events;
}

/* loop_modify() skips epoll when the interest is what it was: each change must still reach epoll,
 * and a fd added again after its removal starts from what it was added with. */
TEST(loop_modify_follows_interest)
{
	int p[2];

	CHECK(pipe(p) == 0);
	/* the write end: always writable, never readable */
	CHECK_INT(loop_add(p[1], EPOLLIN, on_fd_events, NULL), 0);
	CHECK_INT(one_turn(), 0);
	CHECK_INT(loop_modify(p[1], EPOLLOUT), 0);
	CHECK(one_turn() & EPOLLOUT);
	CHECK_INT(loop_modify(p[1], EPOLLOUT), 0);
	CHECK(one_turn() & EPOLLOUT);
	CHECK_INT(loop_modify(p[1], 0), 0);
	CHECK_INT(one_turn(), 0);
	CHECK_INT(loop_modify(p[1], 0), 0);
	CHECK_INT(one_turn(), 0);
	CHECK_INT(loop_modify(p[1], EPOLLOUT), 0);
	CHECK(one_turn() & EPOLLOUT);
	loop_remove(p[1]);
	CHECK_INT(one_turn(), 0);
	CHECK_INT(loop_add(p[1], EPOLLIN, on_fd_events, NULL), 0);
	CHECK_INT(one_turn(), 0);
	CHECK_INT(loop_modify(p[1], EPOLLOUT), 0);
	CHECK(one_turn() & EPOLLOUT);
	loop_remove(p[1]);
	CHECK_INT(loop_modify(p[1], EPOLLOUT), -ENOENT);
	one_turn();
	close(p[0]);
	close(p[1]);
}

static int usr1;
static void on_usr1(const struct signalfd_siginfo *si, void *arg)
{
	(void)arg;
	usr1 = (int)si->ssi_signo;
}

TEST(loop_signals_through_signalfd)
{
	usr1 = 0;
	CHECK_INT(loop_on_signal(SIGUSR1, on_usr1, NULL), 0);
	CHECK(kill(getpid(), SIGUSR1) == 0);
	for (int i = 0; i < 10 && !usr1; i++)
		loop_run_once(100);
	CHECK_INT(usr1, SIGUSR1);
}

static int exit_status = -1;
static pid_t exit_pid;
static void on_exit_cb(pid_t pid, int status, void *arg)
{
	(void)arg;
	exit_pid = pid;
	exit_status = status;
}

TEST(child_reaped_with_status)
{
	char how[96];
	pid_t pid, orphan;

	capture_start();
	child_init();
	pid = fork();
	if (pid == 0)
		_exit(3);
	CHECK(pid > 0);
	CHECK_INT(child_watch(pid, "worker", on_exit_cb, NULL), 0);
	orphan = fork();
	if (orphan == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	for (int i = 0; i < 20 && !child_none_left(); i++)
		loop_run_once(100);
	CHECK(child_none_left());
	CHECK_INT(exit_pid, pid);
	CHECK(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 3);
	CHECK_CONTAINS(capture_text(), "worker (pid");
	CHECK_CONTAINS(capture_text(), ") exited with status 3");
	CHECK_CONTAINS(capture_text(), "reaped orphan pid");
	CHECK_CONTAINS(capture_text(), "killed by signal 9");
	CHECK_STR(child_describe(0x8b, how, sizeof(how)),
		  "killed by signal 11 (Segmentation fault), core dumped");
	child_fini();
}

/* The fields after a command name that holds spaces and parentheses, as /proc/PID/stat has it. */
TEST(child_stat_fields_after_odd_names)
{
	int go[2], done[2];
	long v[2] = {-1, -1};
	char c = 0;
	pid_t pid;

	CHECK_INT(pipe(go), 0);
	CHECK_INT(pipe(done), 0);
	pid = fork();
	if (pid == 0) {
		/* it waits until the test closes done[1], or ends */
		close(done[1]);
		prctl(PR_SET_NAME, "a) 7 (b) ");
		(void)!write(go[1], "x", 1);
		(void)!read(done[0], &c, 1);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_INT(read(go[0], &c, 1), 1);
	CHECK_INT(child_stat_fields(pid, 4, v, 2), 0);
	CHECK_INT(v[0], getpid());			/* the parent's pid */
	CHECK_INT(v[1], getpgrp());			/* the process group, the parent's */
	CHECK_INT(child_stat_fields(pid, 14, v, 2), 0); /* user and system time */
	CHECK(v[0] >= 0 && v[1] >= 0);
	CHECK_INT(child_stat_fields(pid, 3, v, 1), -1);	   /* the state is a letter */
	CHECK_INT(child_stat_fields(pid, 1000, v, 1), -1); /* no such field */
	close(done[1]);
	CHECK_INT(waitpid(pid, NULL, 0), pid);
	CHECK_INT(child_stat_fields(pid, 4, v, 1), -1); /* gone */
	close(go[0]);
	close(go[1]);
	close(done[0]);
}

/* The parser alone, on lines a process could make of its name. */
TEST(child_parse_stat_lines)
{
	long v[3];

	CHECK_INT(child_parse_stat("7 (x) S 1 7 7 0", 4, v, 3), 0);
	CHECK_INT(v[0], 1);
	CHECK_INT(v[2], 7);
	CHECK_INT(child_parse_stat("7 (a) 9 (b) S 1 7\n", 4, v, 2), 0); /* ')' inside the name */
	CHECK_INT(v[0], 1);
	CHECK_INT(v[1], 7);
	CHECK_INT(child_parse_stat("7 (x) S 1", 4, v, 2), -1);	  /* a field short */
	CHECK_INT(child_parse_stat("7 (x) S -1 7", 4, v, 1), -1); /* not a number */
	CHECK_INT(child_parse_stat("7 (x) S  1", 4, v, 1), -1);	  /* two spaces */
	CHECK_INT(child_parse_stat("7 (x) S 1x", 4, v, 1), -1);
	CHECK_INT(child_parse_stat("7 (x) S 99999999999999999999", 4, v, 1), -1);
	CHECK_INT(child_parse_stat("7 x S 1", 4, v, 1), -1); /* no ')' */
	CHECK_INT(child_parse_stat("", 4, v, 1), -1);
}

TEST(buf_bounded)
{
	struct buf b;
	size_t got;
	char *at;

	buf_init(&b, 10);
	CHECK_INT(buf_add(&b, "hello", 5), 0);
	CHECK_INT(buf_add(&b, "world!", 6), -ENOBUFS);
	CHECK_INT(buf_pending(&b), 5);
	CHECK_INT(buf_add(&b, "world", 5), 0);
	CHECK_INT(buf_room(&b), 0);
	CHECK(!buf_space(&b, 1, &got) && got == 0);
	buf_consume(&b, 3);
	CHECK(!memcmp(buf_data(&b), "loworld", 7));
	/* The consumed front is reused: room again, never past the maximum. */
	at = buf_space(&b, 100, &got);
	CHECK(at && got == 3);
	memcpy(at, "xyz", 3);
	buf_commit(&b, 3);
	CHECK(!memcmp(buf_data(&b), "loworldxyz", 10));
	buf_consume(&b, 10);
	CHECK_INT(buf_pending(&b), 0);
	buf_free(&b);
}

static int work_runs, work_requeue;
static struct loop_work *work_item;
static void on_work(void *arg)
{
	(void)arg;
	work_runs++;
	if (work_requeue-- > 0)
		loop_work_queue(work_item);
}

TEST(loop_work_runs_next_turn)
{
	work_runs = 0;
	work_requeue = 2;
	work_item = loop_work_new(on_work, NULL);
	CHECK(work_item);
	/* Queued twice before its turn: runs once. */
	loop_work_queue(work_item);
	loop_work_queue(work_item);
	CHECK_INT(work_runs, 0);
	loop_run_once(100);
	CHECK_INT(work_runs, 1);
	/* Work that queues itself runs again in the next turn, not in the same one. */
	loop_run_once(100);
	CHECK_INT(work_runs, 2);
	loop_run_once(100);
	CHECK_INT(work_runs, 3);
	loop_run_once(20);
	CHECK_INT(work_runs, 3);
	loop_work_free(work_item);
}

TEST(log_foreign_lines_keep_a_share_free)
{
	char big[600];

	capture_start();
	log_set_capacity(LOG_BUFFER_MIN);
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	/* The capture pipe takes everything, so nothing is ever dropped here: the share is
	 * checked by log_stalled_output_never_blocks' kind of test in the local tier. */
	log_foreign(LV_INFO, "qemu: %s", big);
	CHECK_CONTAINS(capture_text(), "qemu: qqq");
}

TEST(log_ratelimit_counts)
{
	struct log_ratelimit rl = LOG_RATELIMIT("test: events", 3, 60000);
	int allowed = 0;

	for (int i = 0; i < 10; i++)
		allowed += log_ratelimit(&rl);
	CHECK_INT(allowed, 3);
	CHECK_INT(rl.suppressed, 7);
	CHECK_INT(rl.suppressed_total, 7);
}
