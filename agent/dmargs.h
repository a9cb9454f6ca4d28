/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmargs: QEMU's command line. Owns turning what the toolstack stored (dm-argv's numbered keys, or
 * the legacy MiniOS dmargs string) into the argv stubinit executes: stubinit's own monitors first,
 * the image's extra flags, the toolstack's arguments with the restore placeholder and console paths
 * substituted, then the sanctioned overrides from stubinit.* keys (drop, replace, append) so nobody
 * repacks an image to change one argument. Pure: no I/O; problems are logged by key name.
 */
#ifndef STUBINIT_DMARGS_H
#define STUBINIT_DMARGS_H

#include <stddef.h>

/* The placeholder libxl writes where the restore stream's fd belongs. */
#define DM_RESTORE_PLACEHOLDER "$STUBDOM_RESTORE_INCOMING_ARG"

/* A growable NULL-terminated argument vector. */
struct argv_list {
	char **v;
	size_t n, cap;
};

int argv_push(struct argv_list *a, const char *s);
int argv_pushf(struct argv_list *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void argv_free(struct argv_list *a);
/* Space-separated words (runs of spaces, tabs, newlines) appended to @a. */
int argv_push_words(struct argv_list *a, const char *words);

/*
 * dm-argv's children are "001", "002", ... and may grow past three digits: sorts @names by their
 * numeric value. Returns 0, or -1 with *@bad naming the first name that is not a decimal number or
 * that repeats another's number.
 */
int dmargs_sort_keys(char **names, unsigned n, const char **bad);

struct dm_launch {
	const char *qemu;    /* binary */
	const char *datadir; /* -L, or "" */
	const char *sandbox; /* the -sandbox value, or NULL for none */
	const char *extra;   /* image-level flags, space-separated, or "" */
	const char *drop; /* override: "-opt" or "-opt=value" or "-opt=prefix*", space-separated */
	const char *replace;	    /* override: "-opt=value", space-separated */
	const char *append;	    /* override: words appended at the end */
	const char *console_prefix; /* "/dev/hvc" unless tests point consoles elsewhere */
	const char *agent_sock;	    /* stubinit's permanent monitor; QEMU connects to it */
	const char *qmp_sock;	    /* the session monitor; QEMU connects to it too */
	int vnc;		    /* -vnc none: a display whose clients stubinit hands over */
	int incoming_fd;	    /* fd QEMU gets the restore stream on, or -1 */
	const char *kernel,
		*initrd; /* direct kernel boot: -kernel, -initrd after dm-argv, or NULL */
	/* the audio helper's socket: -audiodev pa,id=DM_AUDIODEV,server=unix:<it> and the sound
	 * cards' audiodev=; NULL: none */
	const char *audio_socket;
	/* Taps stubinit opened for QEMU: "-netdev type=tap,...,ifname=<name>" becomes fd=<fd>. */
	const struct dm_tapfd {
		char name[16];
		int fd;
	} * tapfds;
	int ntapfds;
};

/* An emulated NIC: QEMU opens the tap @tap for the guest NIC @devid. */
struct dm_nic {
	unsigned devid;
	char tap[16];
	char mac[18]; /* mac= of the -device on netdev=net<devid>, or "" */
};

/*
 * The emulated NICs of @args: every "-netdev type=tap,id=net<devid>,ifname=<tap>,...", with the
 * MAC of the "-device <model>,...,netdev=net<devid>,mac=<mac>" that uses it. Returns how many were
 * found (at most @max); a tap netdev without a usable id or ifname is logged and skipped.
 */
int dmargs_nics(char *const *args, size_t n, struct dm_nic *out, int max);

/* Whether @args asks for direct kernel boot without a kernel: "-append" and no "-kernel" (Qubes'
 * toolstack, whose kernel is on a disk of the stubdomain's). */
int dmargs_wants_kernel(char *const *args, size_t n);

/* The -audiodev id QEMU's sound cards play into when an audio helper serves. */
#define DM_AUDIODEV "stubinit-audio"

/* The first emulated sound card of @args ("-device intel-hda", "-device ac97", ...) or NULL. */
const char *dmargs_sound_card(char *const *args, size_t n);

/* The value of Qubes' first "-qubes-net:<value>" (client_ip=...,gw=...), or NULL. */
const char *dmargs_qubes_net(char *const *args, size_t n);

/* Qubes' "-qubes-audio:audiovm_xid=N": 1 with *@xid set, 0 when absent, -1 when malformed. */
int dmargs_qubes_audio(char *const *args, size_t n, unsigned *xid);

/*
 * The first "-device <driver>[,...]" of @args whose driver is not a line of @known (the image's
 * list of its QEMU's device drivers, one name per line, made when the image was built): copies the
 * driver into @driver (cut to @len - 1 bytes) and returns the xl.cfg setting that makes libxl ask
 * for it ("hdtype = \"ahci\"", ...), or "device_model_args or an xl.cfg setting" for a driver
 * none of libxl's settings emits. NULL when every driver is there.
 */
const char *dmargs_missing_device(char *const *args, size_t n, const char *known, char *driver,
				  size_t len);

/*
 * The first argument of libxl's @args that names something of dom0's, which QEMU in the
 * stubdomain cannot reach: "-kernel"/"-initrd" (a dom0 file: xl.cfg's kernel, ramdisk), a
 * "-chardev" of libxl's channels (libxl-channelN: its pty or socket would be the stubdomain's,
 * out of dom0's reach) or "-machine ...,igd-passthru=on" (gfx_passthru: the host's IGD bridge).
 * Returns the xl.cfg setting, writes what it read into @what ("-kernel /root/vmlinuz"), cut to
 * @len - 1 bytes, and what that names into *@names ("a file in dom0, ..."); NULL when there is
 * none.
 */
const char *dmargs_dom0_only(char *const *args, size_t n, char *what, size_t len,
			     const char **names);

/* Whether @args asks for a restore (holds the placeholder). */
int dmargs_wants_restore(char *const *args, size_t n);

/*
 * Builds the full argv into @out (argv[0] = the binary). Returns 0, or -1 after logging when the
 * command line cannot be built (restore asked for without an incoming fd). Malformed overrides are
 * logged by key and skipped.
 */
int dmargs_build(const struct dm_launch *l, char *const *args, size_t n, struct argv_list *out);

#endif
