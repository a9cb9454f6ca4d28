/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * boot: what a PID 1 owes the system before anything else, and the very end.
 *
 * As PID 1: /proc, /sys, devtmpfs on /dev, /dev/pts and a tmpfs /run, each where absent; stdin,
 * stdout and stderr on the console when the kernel left them closed. Not PID 1 (tests, debugging):
 * the agent becomes a child subreaper instead and touches no mount. At the end: sync and power off
 * (PID 1) or exit.
 */
#ifndef STUBINIT_BOOT_H
#define STUBINIT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool boot_is_pid1(void);

/* Mounts and console (PID 1) or subreaper (otherwise). Problems are logged, never fatal. */
void boot_early(void);

/* Whether this is a Xen domain (/sys/hypervisor/type): kernel-wide settings only then. */
bool boot_on_xen(void);

/*
 * A stubdomain's hygiene, as PID 1 on Xen only (these settings are the kernel's, not a
 * namespace's): overcommit on (QEMU maps far more than it touches), kernel addresses and the kernel
 * log hidden from QEMU, the root read-only (@readonly_root), and the kernel's messages drained from
 * /proc/kmsg into the log, where an OOM kill shows.
 */
void boot_hygiene(bool readonly_root);

/*
 * Raises the kernel's gntalloc limit (/sys/module/xen_gntalloc/parameters/limit) to @limit, as
 * Qubes' stubdomain does for its GUI's framebuffer; 0 leaves it. No gntalloc: noted at debug.
 */
void boot_gntalloc_limit(uint64_t limit);

/*
 * Once boot is done, PID 1 keeps only the rights it still needs (reboot, netlink, mounts are done
 * but namespaces and chown for QEMU's devices are not, kill, setuid for QEMU's drop): everything
 * else leaves its effective, permitted and bounding sets, module loading first of all.
 */
void boot_drop_rights(void);

/*
 * Where stubinit keeps what it shares with QEMU: @dir, root's, 0711 (QEMU may pass through to
 * what is given to it, nothing else). Returns 0 or a negative errno (logged).
 */
int boot_run_dir(const char *dir);

/*
 * Direct kernel boot: mounts the block device @disk read-only, nosuid, nodev, noexec at @dir
 * (created 0755), as ext4 (which reads ext2 and ext3 too when the kernel allows), ext3, ext2,
 * iso9660 or vfat, the first that takes it; once (a later call finds it mounted). Returns 0, or a
 * negative errno with @why (@len bytes) saying what failed and naming @disk. The one mount made
 * outside PID 1's boot: the toolstack's arguments ask for it.
 */
int boot_kernel_disk(const char *disk, const char *dir, char *why, size_t len);

/*
 * Syncs and powers off (PID 1: reboot(RB_POWER_OFF), which in a PID namespace ends the namespace's
 * init with SIGINT) or exits with @code. Returns only if PID 1 could not power off; the caller then
 * keeps serving, since PID 1 must not exit.
 */
void boot_poweroff(int code);

#endif
