/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * unit: a small test runner. Each TEST() registers itself; the runner prints one line per test,
 * `PASS unit/<name>` or `FAIL unit/<name>: <file>:<line>: <what>`, and exits non-zero on failure.
 */
#ifndef STUBINIT_UNIT_H
#define STUBINIT_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	static struct unit_test unit_##name = {#name, test_##name, NULL};                          \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		unit_register(&unit_##name);                                                       \
	}                                                                                          \
	static void test_##name(void)

/* On failure: records it and returns from the test. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			unit_fail(__FILE__, __LINE__, "%s", #cond);                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);                              \
		if (va_ != vb_) {                                                                  \
			unit_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, va_, vb_);  \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		if (!sa_ || strcmp(sa_, sb_)) {                                                    \
			unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,         \
				  sa_ ? sa_ : "(null)", sb_);                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *h_ = (hay), *n_ = (needle);                                            \
		if (!h_ || !strstr(h_, n_)) {                                                      \
			unit_fail(__FILE__, __LINE__, "\"%s\" not in: %s", n_,                     \
				  h_ ? h_ : "(null)");                                             \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Log capture: the agent's log goes to a pipe whose contents a test can read. */
void capture_start(void);
/* Everything logged since capture_start() (static buffer, valid until the next call). */
const char *capture_text(void);

#endif
