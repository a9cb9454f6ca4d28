/*
 * netlink: link changes with libnl-route. See net.h.
 */
#include "net.h"
#include "agent/log.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

static struct nl_sock *sk;

int net_open(void)
{
	int err;

	if (sk)
		return 0;
	sk = nl_socket_alloc();
	if (!sk) {
		log_error("netlink: cannot allocate a socket");
		return -ENOMEM;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		log_error("netlink: connect: %s", nl_geterror(err));
		nl_socket_free(sk);
		sk = NULL;
		return -EIO;
	}
	return 0;
}

int net_link_up(const char *ifname)
{
	struct rtnl_link *link = NULL, *change;
	int err;

	if (!sk && net_open() < 0)
		return -EIO;
	err = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (err < 0) {
		log_error("netlink: link %s: %s", ifname, nl_geterror(err));
		return -ENODEV;
	}
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (err < 0) {
		log_error("netlink: link %s up: %s", ifname, nl_geterror(err));
		return -EIO;
	}
	log_info("netlink: link %s up", ifname);
	return 0;
}

void net_close(void)
{
	if (sk)
		nl_socket_free(sk);
	sk = NULL;
}
