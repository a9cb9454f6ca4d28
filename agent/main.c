// SPDX-License-Identifier: GPL-2.0-only
/*
 * stubinit: PID 1 of a Xen Linux device-model stubdomain.
 *
 * The whole life of the stubdomain, in order: block signals and start the loop, boot (mounts,
 * console), configuration (stubinit.* keys, read once into options), the hvc consoles, kernel
 * modules, hygiene, the network's loopback, xenstore; then what the toolstack asked for: the
 * guest's network, dom0's QMP (and display), QEMU's monitors, QEMU itself, and once QEMU serves,
 * the device paths (command protocol, uevents); then serve events forever. Before QEMU starts, a
 * setup error is reported and the failure policy applies (crash-guest powers the stubdomain off
 * cleanly); once serving, nothing may end PID 1: every error is logged and survived.
 */
#include "audio.h"
#include "boot.h"
#include "config.h"
#include "dom0.h"
#include "hotplug.h"
#include "keys.h"
#include "kmod.h"
#include "monitor.h"
#include "network.h"
#include "options.h"
#include "paths.h"
#include "policy.h"
#include "qemu.h"
#include "shutdown.h"
#include "status.h"
#include "store.h"
#include "uevent.h"
#include "xsproxy.h"
#include "console/console.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "netlink/net.h"
#include "qmp/framer.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_CMDLINE "/proc/cmdline"

static const char *const own_options[] = {"--help",	"--version",	     "--keys-markdown",
					  "--keys-man", "--kernel-cmdline=", NULL};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: stubinit [--<key>=<value>...]\n"
		"PID 1 of a Xen Linux device-model stubdomain (version %s).\n\n"
		"Keys come from stubinit.<key>=<value> words of the kernel command line and from "
		"the\n"
		"options below; options win.\n\n",
		STUBINIT_VERSION);
	keys_print_help(keys_stubinit(), out);
	fprintf(out,
		"\nOther options:\n"
		"  --kernel-cmdline=<file>  read the kernel command line from <file> instead of "
		"%s (tests, debugging)\n"
		"  --keys-markdown          print the key table as README shows it\n"
		"  --keys-man               print the key table as roff, for stubinit(8)\n"
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

		if (!strcmp(a, "--help") || !strcmp(a, "--version") ||
		    !strcmp(a, "--keys-markdown") || !strcmp(a, "--keys-man")) {
			FILE *out = stdout;

			if (boot_is_pid1()) {
				log_info("option %s ignored as PID 1", a);
				continue;
			}
			if (a[2] == 'h')
				usage(out);
			else if (a[2] == 'v')
				fprintf(out, "stubinit %s\n", STUBINIT_VERSION);
			else if (!strcmp(a, "--keys-man"))
				keys_print_man(keys_stubinit(), out);
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

/*
 * The image's own keys: IMAGE_KEYS, the kernel command line's syntax over any number of lines,
 * '#' starting a comment line; what an image builder (Qubes', which passes no stubdomain_cmdline)
 * sets without a command line. Read first: the command line and options win. At most 64 KiB.
 */
static void image_keys(struct keyset *ks)
{
	char text[64 * 1024], *line, *save;
	FILE *f = fopen(IMAGE_KEYS, "re");
	size_t n;

	if (!f) {
		if (errno != ENOENT)
			log_errno(LV_WARN, errno, "configuration: cannot read %s", IMAGE_KEYS);
		return;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	if (!feof(f))
		log_warn("configuration: %s is over %zu bytes; the rest is ignored", IMAGE_KEYS,
			 sizeof(text) - 1);
	fclose(f);
	text[n] = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[strspn(line, " \t")] != '#')
			keys_parse_words(ks, line, IMAGE_KEYS);
}

static void configure(int argc, char **argv, const char *cmdline_path)
{
	struct keyset *ks = keys_stubinit();
	FILE *f = fopen(cmdline_path, "re");

	image_keys(ks);
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

/* The steps from /init to QEMU's exec, each timed in the log at debug level (bench P5); the
 * first call (@done NULL) starts the clock. */
static void boot_step(const char *done)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done)
		log_debug("boot step: %s in %lld ms", done,
			  (long long)(now.tv_sec - last.tv_sec) * 1000 +
				  (now.tv_nsec - last.tv_nsec) / 1000000);
	last = now;
}

static struct options opt;
static struct console_set consoles;
static struct dm_config cfg;

/* QEMU serves: the paths the toolstack drives while the guest lives. */
static void device_paths(void *arg)
{
	(void)arg;
	hotplug_start(cfg.domid, cfg.target, &opt.hotplug);
	uevent_start(qemu_privileged(), opt.qemu.user);
}

static void audio_ready(const char *socket, void *arg)
{
	const char *why;

	(void)arg;
	opt.qemu.audio_socket = socket;
	boot_step("the audio helper");
	if ((why = qemu_start(&cfg, &consoles, &opt.qemu)))
		policy_fail_early(why);
	else
		boot_step("QEMU's command line, consoles and fork");
}

/* What the toolstack asked for, in the order it must be ready: NULL, or why it failed. */
static const char *start_device_model(void)
{
	const char *why;

	/* Bridges and taps exist before QEMU opens them; netfronts join when they appear. */
	network_setup(&cfg, &opt.network);
	boot_step("bridges and taps");
	if (boot_run_dir(RUN_DIR) < 0)
		return "cannot create " RUN_DIR;
	/* Up before QEMU can reach the running state: libxl talks QMP right after "running". */
	if ((why = dom0_serve(cfg.target, &opt.dom0, &consoles)))
		return why;
	boot_step("dom0's QMP and save file");
	if ((why = monitor_listen(&opt.monitor, dom0_save_fd())))
		return why;
	if (opt.xenstore_filter != XSPROXY_OFF &&
	    (why = xsproxy_start(XENSTORE_SOCK, opt.xenstore_filter, cfg.domid, cfg.target)))
		return why;
	boot_step("QEMU's monitors and xenstore socket");
	monitor_on_running(device_paths, NULL);
	/* QEMU starts once the audio helper serves (at once when there is none) */
	audio_start(&cfg, &opt.audio, audio_ready, NULL);
	return NULL;
}

/* xenstore is there: what the toolstack wants, then QEMU. */
static void on_store(bool ok, void *arg)
{
	const char *why;

	(void)arg;
	if (!ok) {
		status_error("xenstore not reachable");
		shutdown_begin(EXIT_FAILURE, "boot failed: no xenstore");
		return;
	}
	boot_step("xenstore connected");
	if (config_read(&cfg) < 0) {
		if (cfg.have_target) {
			status_bind(cfg.target);
			policy_target(cfg.target);
		}
		policy_fail_early(cfg.error);
		return;
	}
	boot_step("the toolstack's configuration read");
	log_info("stubdomain %u serves guest %u", cfg.domid, cfg.target);
	if (qmp_framer_lenient())
		log_warn("qmp: json-c %s refuses non-ASCII strings in its strict mode (json-c "
			 "issues 875, 892): QMP is parsed without it, and what is not JSON still "
			 "refused",
			 json_c_version());
	status_bind(cfg.target); /* writes the state, booting */
	policy_target(cfg.target);
	boot_step("the status keys written");
	if ((why = start_device_model()))
		policy_fail_early(why);
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
	boot_step(NULL);
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
	options_read(&opt);
	child_init();
	shutdown_init(opt.shutdown_timeout_ms);
	policy_init(opt.on_qemu_exit);
	status_stats_interval(opt.stats_interval_ms);
	/* First, before anything else can be scheduled: a restore stream may be waiting in hvc2. */
	console_setup(opt.console_prefix, &consoles);
	/* Xen's devices (privcmd, evtchn, gntdev, ...) before xenstore, vchan and QEMU need them.
	 */
	kmod_load_list(opt.modules);
	boot_hygiene(opt.readonly_root);
	boot_gntalloc_limit(opt.gntalloc_limit);
	boot_drop_rights();

	if (net_link_up("lo") < 0)
		log_warn("boot: loopback is not up; going on");
	boot_step("boot");
	store_connect(opt.xenstore_timeout_ms, on_store, NULL);

	for (;;)
		if ((err = loop_run_once(-1)) < 0)
			log_errno(LV_ERROR, err, "loop: epoll_wait");
}
