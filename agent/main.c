/*
 * stubinit: PID 1 of a Xen Linux device-model stubdomain.
 *
 * The whole life of the stubdomain, in order: block signals and start the loop, boot (mounts,
 * console), configuration (stubinit.* keys), the hvc consoles, kernel modules, the network's
 * loopback, xenstore, what the toolstack asked for, QEMU; then serve events forever. Before
 * serving, a setup error powers the stubdomain off cleanly; once serving, nothing may end PID 1:
 * every error is logged and survived.
 */
#include "boot.h"
#include "child.h"
#include "config.h"
#include "keys.h"
#include "kmod.h"
#include "log.h"
#include "loop.h"
#include "shutdown.h"
#include "status.h"
#include "store.h"
#include "supervise.h"
#include "console/console.h"
#include "netlink/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KERNEL_CMDLINE "/proc/cmdline"

static const char *const own_options[] = { "--help", "--version", "--keys-markdown",
					   "--kernel-cmdline=", NULL };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: stubinit [--<key>=<value>...]\n"
		"PID 1 of a Xen Linux device-model stubdomain (version %s).\n\n"
		"Keys come from stubinit.<key>=<value> words of the kernel command line and from the\n"
		"options below; options win.\n\n",
		STUBINIT_VERSION);
	keys_print_help(keys_stubinit(), out);
	fprintf(out, "\nOther options:\n"
		     "  --kernel-cmdline=<file>  read the kernel command line from <file> instead of "
		     "%s (tests, debugging)\n"
		     "  --keys-markdown          print the key table as README shows it\n"
		     "  --version                print the version\n"
		     "  --help                   this text\n",
		     KERNEL_CMDLINE);
}

/* --help/--version end a command run by hand; as PID 1 they must not stop boot. */
static const char *scan_own_options(int argc, char **argv)
{
	const char *cmdline = KERNEL_CMDLINE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "--version") || !strcmp(a, "--keys-markdown")) {
			FILE *out = stdout;

			if (boot_is_pid1()) {
				log_info("option %s ignored as PID 1", a);
				continue;
			}
			if (a[2] == 'h')
				usage(out);
			else if (a[2] == 'v')
				fprintf(out, "stubinit %s\n", STUBINIT_VERSION);
			else
				keys_print_markdown(keys_stubinit(), out);
			exit(0);
		}
		if (!strncmp(a, "--kernel-cmdline=", 17))
			cmdline = a + 17;
		else if (!strcmp(a, "--kernel-cmdline") && i + 1 < argc)
			cmdline = argv[++i];
	}
	return cmdline;
}

static void configure(int argc, char **argv, const char *cmdline_path)
{
	struct keyset *ks = keys_stubinit();
	FILE *f = fopen(cmdline_path, "re");

	if (f) {
		char *line = NULL;
		size_t cap = 0;

		if (getline(&line, &cap, f) >= 0)
			keys_parse_cmdline(ks, line);
		free(line);
		fclose(f);
	} else {
		log_errno(LV_WARN, errno, "cannot read the kernel command line %s", cmdline_path);
	}
	keys_parse_argv(ks, argc, argv, own_options);
	log_set_level((enum log_level)key(K_LOG_LEVEL)->num);
	if (log_set_capacity(key(K_LOG_BUFFER)->num) < 0)
		log_warn("log: cannot grow the buffer to %s", key(K_LOG_BUFFER)->str);
	for (unsigned i = 0; i < ks->ndefs; i++)
		if (strcmp(ks->vals[i].origin, "default"))
			log_info("configuration: %s=%s (%s)", ks->defs[i].name, ks->vals[i].str,
				 ks->vals[i].origin);
	if (ks->problems)
		log_warn("configuration: %u problem(s) reported above; booting on", ks->problems);
}

static struct console_set consoles;
static struct dm_config cfg;

/* xenstore is there: what the toolstack wants, then QEMU. */
static void on_store(bool ok, void *arg)
{
	(void)arg;
	if (!ok) {
		status_error("xenstore not reachable");
		shutdown_begin(EXIT_FAILURE, "boot failed: no xenstore");
		return;
	}
	if (config_read(&cfg) < 0) {
		if (cfg.have_target)
			status_bind(cfg.target);
		supervise_fail_early(&cfg, cfg.error);
		return;
	}
	log_info("stubdomain %u serves guest %u", cfg.domid, cfg.target);
	status_bind(cfg.target); /* writes the state, booting */
	supervise_start(&cfg, &consoles);
}

int main(int argc, char **argv)
{
	const char *cmdline;
	int err;

	log_init();
	err = loop_init();
	cmdline = scan_own_options(argc, argv);
	log_info("stubinit %s starting as %s", STUBINIT_VERSION,
		 boot_is_pid1() ? "PID 1" : "a child subreaper (not PID 1)");
	boot_early();
	log_attach(STDERR_FILENO);
	if (err) {
		/* Without the loop nothing can be served: the only clean way out is power-off. */
		log_errno(LV_ERROR, err, "event loop");
		boot_poweroff(EXIT_FAILURE);
		for (;;)
			pause();
	}
	log_watch();
	configure(argc, argv, cmdline);
	child_init();
	shutdown_init();
	/* First, before anything else can be scheduled: a restore stream may be waiting in hvc2. */
	console_setup(key(K_CONSOLE_PREFIX)->str, &consoles);
	/* Xen's devices (privcmd, evtchn, gntdev, ...) before xenstore, vchan and QEMU need them. */
	kmod_load_list(key(K_MODULES)->str);
	boot_hygiene(key(K_READONLY_ROOT)->num);
	boot_drop_rights();

	if (net_link_up("lo") < 0)
		log_warn("boot: loopback is not up; going on");
	store_connect(key(K_XENSTORE_TIMEOUT)->num, on_store, NULL);

	for (;;)
		loop_run_once(-1);
}
