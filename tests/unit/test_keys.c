// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the stubinit.* keys: defaults, both sources, bad input, renames, the README table.
 */
#include "unit.h"
#include "agent/keys.h"

#include <stdlib.h>

static const char *const colours[] = {"red", "green", NULL};

/* A table of its own, so the rename mechanism is tested whatever stubinit's own table holds. */
static const struct key_def defs[] = {
	{.name = "colour",
	 .type = KT_CHOICE,
	 .def = "red",
	 .since = "0.1",
	 .help = "h",
	 .choices = colours},
	{.name = "name", .type = KT_STRING, .def = "x", .since = "0.1", .help = "h"},
	{.name = "count",
	 .type = KT_UINT,
	 .def = "3",
	 .since = "0.1",
	 .help = "h",
	 .min = 1,
	 .max = 10},
	{.name = "flag", .type = KT_BOOL, .def = "no", .since = "0.2", .help = "h"},
	{.name = "wait", .type = KT_DURATION, .def = "2s", .since = "0.2", .help = "h"},
	{.name = "room", .type = KT_SIZE, .def = "1k", .since = "0.2", .help = "h"},
};
static const struct key_alias aliases[] = {{"color", "colour", "0.3"}};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static struct keyset ks;
static struct key_val vals[NDEFS];

static int setup(void)
{
	keys_fini(&ks);
	capture_start();
	return keys_init(&ks, defs, NDEFS, aliases, 1, vals);
}

TEST(keys_defaults)
{
	CHECK_INT(setup(), 0);
	CHECK_STR(vals[0].str, "red");
	CHECK_INT(vals[0].num, 0);
	CHECK_INT(vals[2].num, 3);
	CHECK_INT(vals[4].num, 2000);
	CHECK_INT(vals[5].num, 1024);
	CHECK_STR(vals[0].origin, "default");
	/* stubinit's own table: every entry complete, and its defaults parse. */
	for (unsigned i = 0; i < K__COUNT; i++) {
		const struct key_def *d = &keys_stubinit()->defs[i];

		CHECK(d->name && d->def && d->since && d->help);
	}
	CHECK_INT(key(K_LOG_LEVEL)->num, 2);
	CHECK_INT(key(K_LOG_BUFFER)->num, 65536);
	CHECK_INT(key(K_SHUTDOWN_TIMEOUT)->num, 1000);
	CHECK_INT(key(K_XENSTORE_TIMEOUT)->num, 30000);
}

TEST(keys_cmdline_words)
{
	setup();
	CHECK_INT(keys_parse_cmdline(&ks, "console=hvc0 stubinit.colour=green quiet "
					  "stubinit.name=\"two words\" stubinit.count=7\n"),
		  0);
	CHECK_INT(vals[0].num, 1);
	CHECK_STR(vals[1].str, "two words");
	CHECK_INT(vals[2].num, 7);
	CHECK_STR(vals[2].origin, "kernel command line");
	/* Words that are not ours are not reported. */
	CHECK(!strstr(capture_text(), "console"));
}

TEST(keys_unknown_reported_by_name)
{
	setup();
	CHECK_INT(keys_parse_cmdline(&ks, "stubinit.nosuch=1 stubinit.count"), 2);
	CHECK_CONTAINS(capture_text(),
		       "key stubinit.nosuch (kernel command line): unknown key, ignored");
	CHECK_CONTAINS(capture_text(), "stubinit.count (kernel command line): malformed");
}

TEST(keys_bad_value_keeps_previous)
{
	setup();
	CHECK_INT(keys_set(&ks, "count", "5", "option"), 0);
	CHECK_INT(keys_set(&ks, "count", "11", "option"), -1);
	CHECK_INT(vals[2].num, 5);
	CHECK_CONTAINS(capture_text(),
		       "key --count=11 (option): invalid value, out of range: 1..10");
	CHECK_CONTAINS(capture_text(), "keeping 5");
	CHECK_INT(keys_set(&ks, "colour", "blue", "kernel command line"), -1);
	CHECK_CONTAINS(capture_text(), "stubinit.colour=blue (kernel command line): invalid value, "
				       "expected one of: red green");
	CHECK_INT(keys_set(&ks, "flag", "maybe", "option"), -1);
	CHECK_INT(keys_set(&ks, "flag", "on", "option"), 0);
	CHECK_INT(vals[3].num, 1);
}

TEST(keys_units)
{
	setup();
	CHECK_INT(keys_set(&ks, "wait", "500ms", "option"), 0);
	CHECK_INT(vals[4].num, 500);
	CHECK_INT(keys_set(&ks, "wait", "3", "option"), 0);
	CHECK_INT(vals[4].num, 3000);
	CHECK_INT(keys_set(&ks, "wait", "4s", "option"), 0);
	CHECK_INT(vals[4].num, 4000);
	CHECK_INT(keys_set(&ks, "wait", "5x", "option"), -1);
	CHECK_INT(keys_set(&ks, "wait", "-1", "option"), -1);
	CHECK_INT(keys_set(&ks, "room", "64k", "option"), 0);
	CHECK_INT(vals[5].num, 65536);
	CHECK_INT(keys_set(&ks, "room", "2M", "option"), 0);
	CHECK_INT(vals[5].num, 2 << 20);
	CHECK_INT(keys_set(&ks, "room", "99999999999999999999", "option"), -1);
	CHECK_INT(keys_set(&ks, "count", "", "option"), -1);
	CHECK_INT(vals[5].num, 2 << 20);
}

TEST(keys_argv_forms)
{
	char *argv[] = {"stubinit", "--colour=green", "--count",   "9", "stray", "--kernel-cmdline",
			"/x",	    "--help",	      "--bogus=1", NULL};
	const char *const own[] = {"--help", "--kernel-cmdline=", NULL};

	setup();
	CHECK_INT(keys_parse_argv(&ks, 9, argv, own), 2);
	CHECK_INT(vals[0].num, 1);
	CHECK_INT(vals[2].num, 9);
	CHECK_STR(vals[2].origin, "option");
	CHECK_CONTAINS(capture_text(), "argument 'stray' (option): not an option of stubinit");
	CHECK_CONTAINS(capture_text(), "key --bogus (option): unknown key");
	CHECK(!strstr(capture_text(), "/x"));
}

TEST(keys_renamed_key_still_works)
{
	setup();
	CHECK_INT(keys_parse_cmdline(&ks, "stubinit.color=green"), 1);
	CHECK_INT(vals[0].num, 1);
	CHECK_CONTAINS(capture_text(), "key stubinit.color (kernel command line) is deprecated: "
				       "renamed to stubinit.colour in 0.3");
	setup();
	keys_parse_argv(&ks, 2, (char *[]){"stubinit", "--color=green", NULL}, NULL);
	CHECK_INT(vals[0].num, 1);
	CHECK_CONTAINS(capture_text(), "renamed to --colour in 0.3");
}

TEST(keys_markdown_lists_every_key)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	setup();
	keys_print_markdown(keys_stubinit(), f);
	keys_print_markdown(&ks, f);
	fclose(f);
	for (unsigned i = 0; i < K__COUNT; i++) {
		char want[128];

		snprintf(want, sizeof(want), "| `stubinit.%s` | `%s` | %s |",
			 keys_stubinit()->defs[i].name, keys_stubinit()->defs[i].def,
			 keys_stubinit()->defs[i].since);
		CHECK_CONTAINS(text, want);
	}
	CHECK_CONTAINS(text, "| `stubinit.color` | | | renamed to `stubinit.colour` in 0.3");
	free(text);
	keys_fini(&ks);
}
