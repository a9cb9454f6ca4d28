// SPDX-License-Identifier: GPL-2.0-only
/*
 * boot: mounts, console fds, subreaper, power-off. See boot.h.
 */
#include "boot.h"
#include "core/log.h"
#include "core/lines.h"
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/stat.h>

struct mountspec {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
};

static const struct mountspec mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	 "newinstance,ptmxmode=0666,mode=0620"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m"},
};

bool boot_is_pid1(void)
{
	return getpid() == 1;
}

/*
 * A mount point: the kernel says so (statx's mount-root attribute, which also sees a bind mount of
 * a directory of the same filesystem), else a directory whose device differs from its parent's.
 */
static int is_mountpoint(const char *path)
{
	char parent[PATH_MAX];
	struct stat a, b;
#if defined(SYS_statx) && defined(STATX_ATTR_MOUNT_ROOT)
	struct statx sx;

	if (syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, 0, &sx) ==
		    0 &&
	    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
#endif

	if (stat(path, &a) < 0)
		return 0;
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(parent, &b) < 0)
		return 0;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/*
 * /proc can be present but belong to another PID namespace (unshare --pid without --mount-proc):
 * then /proc/self is not "1". Mounting over it is right only in a mount namespace of our own,
 * which is the case when the init of that other namespace sees a different one.
 */
static int proc_needs_mount(int *shared_ns)
{
	char self[32] = "", mine[64] = "", theirs[64] = "";
	ssize_t n;

	*shared_ns = 0;
	if (!is_mountpoint("/proc"))
		return 1;
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n > 0 && !strcmp(self, "1"))
		return 0;
	if (readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 1) < 0 ||
	    readlink("/proc/1/ns/mnt", theirs, sizeof(theirs) - 1) < 0 || !strcmp(mine, theirs)) {
		*shared_ns = 1;
		return 0;
	}
	return 1;
}

static void do_mounts(void)
{
	int shared = 0;

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mountspec *m = &mounts[i];
		int need = i == 0 ? proc_needs_mount(&shared) : !is_mountpoint(m->target);

		if (shared) {
			log_warn("boot: /proc belongs to another PID namespace and the mount "
				 "namespace "
				 "is shared with it; leaving every mount alone");
			return;
		}
		if (!need) {
			log_debug("boot: %s already mounted", m->target);
			continue;
		}
		if (mkdir(m->target, 0755) < 0 && errno != EEXIST) {
			log_errno(LV_ERROR, errno, "boot: mkdir %s", m->target);
			continue;
		}
		if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
			log_errno(LV_ERROR, errno, "boot: mount %s on %s", m->fstype, m->target);
		else
			log_info("boot: mounted %s on %s", m->fstype, m->target);
	}
}

/* The kernel runs init with the console on 0, 1, 2, unless /dev/console was missing. */
static void console_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd < 0)
			nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

void boot_early(void)
{
	umask(022);
	if (chdir("/") < 0)
		log_errno(LV_WARN, errno, "boot: chdir /");
	if (!boot_is_pid1()) {
		/* Orphans of our children come back to us, as they would to PID 1. */
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			log_errno(LV_WARN, errno, "boot: PR_SET_CHILD_SUBREAPER");
		return;
	}
	setsid();
	do_mounts();
	console_fds();
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 0);
}

bool boot_on_xen(void)
{
	char buf[16] = "";
	int fd = open("/sys/hypervisor/type", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n >= 3 && !strncmp(buf, "xen", 3);
}

static void sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		log_errno(LV_WARN, errno, "boot: %s=%s", path, value);
	else
		log_info("boot: %s=%s", path + strlen("/proc/sys/"), value);
	if (fd >= 0)
		close(fd);
}

static struct lines kmsg;

static void kmsg_line(const char *line, void *arg)
{
	/* "<6>text": the priority prefix is the kernel's, not ours. */
	const char *text = line[0] == '<' && strchr(line, '>') ? strchr(line, '>') + 1 : line;

	(void)arg;
	/* The kernel prints to hvc0 itself: only what concerns QEMU's life is repeated at a level
	 * that shows. What QEMU makes the kernel say (its faults, its name) is QEMU's words: the
	 * log's foreign share. */
	log_foreign(strstr(text, "Out of memory") || strstr(text, "oom-kill") ||
				    strstr(text, "Killed process")
			    ? LV_WARN
			    : LV_DEBUG,
		    "kernel: %s", text);
}

static void on_kmsg(int fd, uint32_t events, void *arg)
{
	char buf[4096];
	ssize_t n;
	/* A bounded amount per wake-up: /proc/kmsg stays readable, the loop comes back. */
	unsigned reads = 4;

	(void)events, (void)arg;
	while (reads-- && (n = read(fd, buf, sizeof(buf))) > 0)
		lines_feed(&kmsg, buf, (size_t)n, kmsg_line, NULL);
}

int boot_kernel_disk(const char *disk, const char *dir, char *why, size_t len)
{
	static const char *const types[] = {"ext4", "ext3", "ext2", "iso9660", "vfat"};
	static bool mounted;
	struct stat st;
	int err = 0;

	if (mounted)
		return 0;
	if (stat(disk, &st) < 0) {
		err = -errno;
		snprintf(why, len, "direct kernel boot: stubinit.kernel-disk=%s: %s", disk,
			 strerror(errno));
		return err;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(why, len,
			 "direct kernel boot: stubinit.kernel-disk=%s is not a block device", disk);
		return -ENOTBLK;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, len, "direct kernel boot: mkdir %s: %s", dir, strerror(errno));
		return err;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (mount(disk, dir, types[i], MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) == 0) {
			mounted = true;
			log_info("boot: %s mounted read-only (%s) at %s for direct kernel boot",
				 disk, types[i], dir);
			return 0;
		}
		/* EINVAL: not this filesystem; ENODEV: the kernel has no such driver. */
		if (!err || (errno != EINVAL && errno != ENODEV))
			err = -errno;
	}
	snprintf(
		why, len,
		"direct kernel boot: stubinit.kernel-disk=%s: no ext4, ext3, ext2, iso9660 or vfat "
		"filesystem this kernel can mount (%s)",
		disk, strerror(-err));
	return err;
}

void boot_gntalloc_limit(uint64_t limit)
{
	const char *path = "/sys/module/xen_gntalloc/parameters/limit";
	char value[32];
	int fd;

	if (!limit)
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			log_debug("boot: no %s (no gntalloc): limit left", path);
		else
			log_errno(LV_WARN, errno, "boot: cannot open %s", path);
		return;
	}
	snprintf(value, sizeof(value), "%llu", (unsigned long long)limit);
	if (write(fd, value, strlen(value)) < 0)
		log_errno(LV_WARN, errno, "boot: gntalloc limit=%s (key stubinit.gntalloc-limit)",
			  value);
	else
		log_info("boot: gntalloc limit=%s", value);
	close(fd);
}

void boot_hygiene(bool readonly_root)
{
	int fd;

	if (!boot_is_pid1() || !boot_on_xen()) {
		log_debug("boot: not PID 1 on Xen: kernel-wide hygiene left alone");
		return;
	}
	sysctl("/proc/sys/vm/overcommit_memory", "1");
	sysctl("/proc/sys/kernel/kptr_restrict", "2");
	sysctl("/proc/sys/kernel/dmesg_restrict", "1");
	fd = open("/proc/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || loop_add(fd, EPOLLIN, on_kmsg, NULL) < 0) {
		log_errno(LV_WARN, errno, "boot: cannot drain /proc/kmsg");
		if (fd >= 0)
			close(fd);
	}
	if (readonly_root) {
		if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
			log_errno(LV_WARN, errno, "boot: cannot make / read-only");
		else
			log_info("boot: / is read-only");
	}
}

/* What the running agent still uses, and what it hands to QEMU's launch (setuid/setgid to drop). */
static const int kept_caps[] = {
	CAP_SYS_BOOT,				   /* power off */
	CAP_NET_ADMIN,				   /* bridges, taps, links */
	CAP_NET_RAW,				   /* netlink and uevent sockets */
	CAP_KILL,				   /* children of any user */
	CAP_CHOWN,				   /* QEMU's devices and sockets */
	CAP_FOWNER,				   /* chmod of its own directories */
	CAP_DAC_OVERRIDE,			   /* /sys and /proc writes, QEMU's directory */
	CAP_SETUID,	  CAP_SETGID, CAP_SETPCAP, /* QEMU's launch drops to its user */
	CAP_SYS_ADMIN,	  /* sysfs writes (unbind, bridge settings), sethostname-free mounts */
	CAP_SYS_RESOURCE, /* pipe and socket buffer sizes */
	CAP_IPC_LOCK,	  /* mlockall for a late hvc open */
	CAP_SYS_NICE,	  /* SCHED_FIFO for the same */
};

void boot_drop_rights(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}}, now[2] = {{0}};
	unsigned dropped = 0;

	if (!boot_is_pid1())
		return;
	/* Keeping is never adding: only what this process has may stay. */
	if (syscall(SYS_capget, &h, now) < 0) {
		log_errno(LV_WARN, errno, "boot: cannot read capabilities");
		return;
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		int keep = 0;

		for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
			keep |= kept_caps[i] == cap;
		if (keep) {
			d[cap / 32].effective |= 1u << (cap % 32);
			d[cap / 32].permitted |= 1u << (cap % 32);
		} else if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) {
			dropped++;
		}
	}
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= now[i].permitted;
		d[i].effective &= now[i].permitted;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		log_errno(LV_WARN, errno, "boot: cannot drop capabilities");
	else
		log_info("boot: kept %zu capabilities, dropped %u (module loading among them)",
			 sizeof(kept_caps) / sizeof(kept_caps[0]), dropped);
}

int boot_run_dir(const char *dir)
{
	if ((mkdir(dir, 0711) < 0 && errno != EEXIST) || chmod(dir, 0711) < 0) {
		int err = errno;

		log_errno(LV_ERROR, err, "mkdir %s", dir);
		return -err;
	}
	return 0;
}

void boot_poweroff(int code)
{
	sync();
	if (!boot_is_pid1()) {
		log_info("exit with status %d (not PID 1, so no power-off)", code);
		log_flush(1000);
		exit(code);
	}
	log_info("power off");
	log_flush(1000);
	reboot(RB_POWER_OFF);
	log_errno(LV_ERROR, errno, "power off failed; staying up");
}
