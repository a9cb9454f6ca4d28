/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * keys: the stubinit.* configuration keys, a stable interface for toolstacks.
 *
 * Owns the key table (name, type, default, since-version, help), the table of renamed keys, and
 * the parsing of both sources: `stubinit.<key>=<value>` words of the kernel command line (libxl
 * passes xl.cfg's stubdomain_cmdline there) and `--<key>=<value>` options. Problems are logged by
 * name and never stop boot: an unknown key is reported and ignored, a malformed value is reported
 * and the key keeps its previous value, a renamed key works with a warning naming its replacement.
 *
 * The parser works on any table, so tests can exercise the rename mechanism with a table of their
 * own; stubinit's own table is keys_stubinit().
 */
#ifndef STUBINIT_KEYS_H
#define STUBINIT_KEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KEY_PREFIX "stubinit."

enum key_type {
	KT_STRING,
	KT_CHOICE,   /* one of a list of words; value is the index */
	KT_UINT,     /* decimal, within [min, max] */
	KT_SIZE,     /* bytes, optional k/m suffix (1024-based), within [min, max] */
	KT_DURATION, /* milliseconds; "<n>ms" or "<n>s" or "<n>" (seconds), within [min, max] */
	KT_BOOL,     /* 1/0, yes/no, on/off, true/false */
};

struct key_def {
	const char *name;
	enum key_type type;
	const char *def;	    /* default, as it would be written on the command line */
	const char *since;	    /* first stubinit version with this key */
	const char *help;	    /* one line for README and --help */
	const char *const *choices; /* KT_CHOICE: NULL-terminated */
	uint64_t min, max;	    /* numeric types; max 0 means no upper bound */
};

struct key_alias {
	const char *old_name;
	const char *new_name;
	const char *since; /* version that renamed it */
};

struct key_val {
	const char *str;    /* the text as given (or the default) */
	uint64_t num;	    /* numeric types, KT_BOOL, and the index of a KT_CHOICE */
	const char *origin; /* "default", "kernel command line", "option" */
};

struct keyset {
	const struct key_def *defs;
	unsigned ndefs;
	const struct key_alias *aliases;
	unsigned naliases;
	struct key_val *vals; /* ndefs entries */
	unsigned problems;    /* reports made so far */
};

/* Sets every key to its default. @vals has @ndefs entries. Returns -EINVAL if a default is bad. */
int keys_init(struct keyset *ks, const struct key_def *defs, unsigned ndefs,
	      const struct key_alias *aliases, unsigned naliases, struct key_val *vals);
void keys_fini(struct keyset *ks);

/* One key by its bare name (without "stubinit."). Returns 0, or -1 after logging the problem. */
int keys_set(struct keyset *ks, const char *name, const char *value, const char *origin);

/*
 * All `stubinit.<key>=<value>` words of a kernel command line (double quotes as the kernel
 * allows them). Other words are not ours and are left alone. Returns the number of problems.
 */
unsigned keys_parse_cmdline(struct keyset *ks, const char *cmdline);
/* The same words from another source (@origin, a static string, names it in reports). */
unsigned keys_parse_words(struct keyset *ks, const char *text, const char *origin);

/*
 * Options: `--<key>=<value>` or `--<key> <value>` for every key. @argv[0] is skipped. Words that
 * are not options of ours are reported and ignored; `--help` and `--version` are handled by the
 * caller before. Returns the number of problems.
 */
/* @handled: the caller's own options ("--help"; "--file=" takes a value), skipped here. */
unsigned keys_parse_argv(struct keyset *ks, int argc, char *const argv[],
			 const char *const *handled);

/* Index of @name in the table, or -1. */
int keys_find(const struct keyset *ks, const char *name);

/* The table as README's markdown table, or as --help text. */
void keys_print_markdown(const struct keyset *ks, FILE *out);
void keys_print_help(const struct keyset *ks, FILE *out);
/* The same table as roff .TP paragraphs, for the man page (stubinit.8). */
void keys_print_man(const struct keyset *ks, FILE *out);

/* stubinit's own keys, in table order. */
enum stubinit_key {
	K_LOG_LEVEL,
	K_LOG_BUFFER,
	K_SHUTDOWN_TIMEOUT,
	K_XENSTORE_TIMEOUT,
	K_QEMU,
	K_QEMU_DATADIR,
	K_QEMU_DEVICES,
	K_QEMU_EXTRA,
	K_QEMU_DROP,
	K_QEMU_REPLACE,
	K_QEMU_APPEND,
	K_QEMU_GREETING_TIMEOUT,
	K_ON_QEMU_EXIT,
	K_STATS_INTERVAL,
	K_CONSOLE_PREFIX,
	K_QMP_TRANSPORT,
	K_QMP_SOCKET,
	K_QMP_PEER,
	K_QMP_MAX_MESSAGE,
	K_QMP_ALLOW,
	K_SAVE_DRAIN_TIMEOUT,
	K_MODULES,
	K_TEST_KILL_QEMU,
	K_TEST_VCHAN_LAG,
	K_NETWORK,
	K_NETWORK_FILE,
	K_UNPLUG_PV_NIC,
	K_KERNEL_DISK,
	K_PCI_DRIVER,
	K_COMMAND_TIMEOUT,
	K_READONLY_ROOT,
	K_QEMU_USER,
	K_QEMU_SANDBOX,
	K_VNC,
	K_VNC_SOCKET,
	K_XENSTORE_FILTER,
	K_GNTALLOC_LIMIT,
	K_AUDIO_HELPER,
	K_AUDIO_WAIT,
	K__COUNT
};

/* The keyset of the running agent (defaults until configured). */
struct keyset *keys_stubinit(void);
const struct key_val *key(enum stubinit_key k);

#endif
