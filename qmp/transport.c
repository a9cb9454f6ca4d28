/*
 * qmp transport: the plumbing of dom0's channels (vchan or a unix socket) that the QMP server and
 * the relay share. See qmp.h.
 */
#include "qmp.h"
#include "agent/log.h"

#include <errno.h>
#include <libxenvchan.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

ssize_t qmp_transport_read(int fd, struct libxenvchan *vc, char *buf, size_t n)
{
	int got;

	if (!vc) {
		ssize_t k = read(fd, buf, n);

		return k < 0 ? -errno : k;
	}
	if (libxenvchan_is_open(vc) != 1)
		return 0;
	if (libxenvchan_data_ready(vc) <= 0)
		return -EAGAIN;
	got = libxenvchan_read(vc, buf, n);
	return got < 0 ? -EIO : got == 0 ? -EAGAIN : got;
}

ssize_t qmp_transport_write(int fd, struct libxenvchan *vc, const char *buf, size_t n)
{
	int space, put;

	if (!vc) {
		ssize_t k = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		return k < 0 ? -errno : k;
	}
	if (libxenvchan_is_open(vc) != 1)
		return -EPIPE;
	space = libxenvchan_buffer_space(vc);
	if (space <= 0)
		return -EAGAIN;
	put = libxenvchan_write(vc, buf, n < (size_t)space ? n : (size_t)space);
	return put < 0 ? -EIO : put == 0 ? -EAGAIN : put;
}

int qmp_transport_listen(const char *path, const char *who)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		log_errno(LV_ERROR, errno, "%s: cannot listen on %s", who, path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int qmp_transport_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

struct libxenvchan *qmp_transport_vchan(unsigned peer, const char *path, const char *who)
{
	struct libxenvchan *vc = libxenvchan_server_init(NULL, (int)peer, path, 0, 0);

	if (!vc) {
		log_errno(LV_ERROR, errno, "%s: libxenvchan_server_init(peer %u, %s)", who, peer,
			  path);
		return NULL;
	}
	vc->blocking = 0;
	return vc;
}

void qmp_transport_vchan_drop(struct libxenvchan *vc)
{
	char junk[1024];

	while (libxenvchan_data_ready(vc) > 0 && libxenvchan_read(vc, junk, sizeof(junk)) > 0)
		;
}
