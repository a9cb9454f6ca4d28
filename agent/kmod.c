// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmod: finit_module() of the image's module list. See kmod.h.
 */
#include "kmod.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static int compressed(const char *path)
{
	static const char *const ext[] = {".xz", ".zst", ".gz"};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && !strcmp(path + n - e, ext[i]))
			return 1;
	}
	return 0;
}

/* "kernel/drivers/xen/xen-privcmd.ko.xz" -> "xen-privcmd" */
static void module_name(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/');
	char *dot;

	snprintf(out, len, "%s", base ? base + 1 : path);
	dot = strstr(out, ".ko");
	if (dot)
		*dot = 0;
}

static int load_one(const char *dir, char *line, unsigned lineno, const char *list)
{
	char path[PATH_MAX + 300], name[128];
	char *file = strtok(line, " \t"), *params = strtok(NULL, "");
	int fd, flags, err;

	if (!file || *file == '#')
		return 0;
	while (params && (*params == ' ' || *params == '\t'))
		params++;
	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	module_name(file, name, sizeof(name));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_errno(LV_ERROR, errno, "module %s (%s line %u): cannot open %s", name, list,
			  lineno, path);
		return -1;
	}
	flags = compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0;
	err = (int)syscall(SYS_finit_module, fd, params ? params : "", flags) < 0 ? errno : 0;
	close(fd);
	if (err == EEXIST) {
		log_debug("module %s: already loaded", name);
		return 0;
	}
	if (err) {
		log_errno(LV_ERROR, err, "module %s%s%s: finit_module%s", name, params ? " " : "",
			  params ? params : "",
			  flags && err == EINVAL ? " (a kernel without module decompression?)"
						 : "");
		return -1;
	}
	log_debug("module %s%s%s: loaded", name, params ? " " : "", params ? params : "");
	return 1;
}

unsigned kmod_load_list(const char *list)
{
	char dir[300], *line = NULL;
	unsigned failed = 0, loaded = 0, lineno = 0;
	size_t cap = 0;
	struct utsname u;
	FILE *f = fopen(list, "re");

	if (!f) {
		if (errno == ENOENT)
			log_info("modules: no list at %s; nothing to load", list);
		else
			log_errno(LV_ERROR, errno, "modules: cannot read %s", list);
		return errno == ENOENT ? 0 : 1;
	}
	uname(&u);
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	while (getline(&line, &cap, f) >= 0) {
		int r;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		r = load_one(dir, line, lineno, list);
		failed += r < 0;
		loaded += r > 0;
	}
	free(line);
	fclose(f);
	log_info("modules: %u loaded, %u failed (from %s)", loaded, failed, list);
	return failed;
}
