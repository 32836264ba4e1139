// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_listen - Hello and Bye: cameras announce themselves when they join
 * the network and say goodbye when they leave. One socket bound to the
 * group on port 3702 (shared with any other listener through SO_REUSEADDR),
 * joined on each interface; the daemon polls its descriptor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

#define LISTEN_DGRAM_MAX 65536

struct onvif_listener {
	int fd;
	struct soap *soap;
	char buf[LISTEN_DGRAM_MAX];
};

/* Join on every interface of @names (or every multicast one). */
static int join_all(int fd, const char *const *names, size_t n)
{
	struct ifaddrs *ifa, *i;
	int joined = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		struct ip_mreq mr;
		bool want = !names;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
			continue;
		for (size_t k = 0; names && k < n; k++)
			want |= !strcmp(names[k], i->ifa_name);
		if (!names && ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_MULTICAST)))
			want = false;
		if (!want)
			continue;
		mr.imr_interface = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		inet_pton(AF_INET, ONVIF_DISCOVERY_GROUP, &mr.imr_multiaddr);
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			log_warn("onvif: %s: cannot join %s: %m", i->ifa_name,
				 ONVIF_DISCOVERY_GROUP);
		else
			joined++;
	}
	freeifaddrs(ifa);
	return joined ? 0 : -ENODEV;
}

int onvif_listener_open(const char *const *ifaces, size_t nifaces, struct onvif_listener **lp)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ONVIF_DISCOVERY_PORT) };
	struct onvif_listener *l = calloc(1, sizeof(*l));
	int one = 1, ret;

	if (!l)
		return -ENOMEM;
	l->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	l->soap = onvif__soap_new();
	if (l->fd < 0 || !l->soap) {
		ret = l->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, ONVIF_DISCOVERY_GROUP, &a.sin_addr);
	if (bind(l->fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		log_err("onvif: bind %s:%d: %m", ONVIF_DISCOVERY_GROUP, ONVIF_DISCOVERY_PORT);
		goto fail;
	}
	setsockopt(l->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	ret = join_all(l->fd, ifaces, nifaces);
	if (ret) {
		log_err("onvif: no interface could join %s", ONVIF_DISCOVERY_GROUP);
		goto fail;
	}
	*lp = l;
	return 0;
fail:
	onvif_listener_close(l);
	return ret;
}

void onvif_listener_close(struct onvif_listener *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	onvif__soap_free(l->soap);
	free(l);
}

int onvif_listener_fd(const struct onvif_listener *l)
{
	return l->fd;
}

struct announce_rx {
	struct onvif_announce *ev;
	const char *peer;
	const char *iface;
	bool got;
};

static int on_announce(void *arg, const struct onvif__wsdd_msg *m, struct onvif_found *f)
{
	struct announce_rx *rx = arg;

	if (m->kind != ONVIF__HELLO && m->kind != ONVIF__BYE)
		return 0;
	rx->ev->kind = m->kind == ONVIF__HELLO ? ONVIF_HELLO : ONVIF_BYE;
	rx->ev->dev = *f;
	onvif__copy(rx->ev->dev.peer, sizeof(rx->ev->dev.peer), rx->peer);
	onvif__copy(rx->ev->dev.iface, sizeof(rx->ev->dev.iface), rx->iface);
	if (f->xaddrs_raw[0])
		onvif__pick_xaddr(f->xaddrs_raw, rx->peer, rx->ev->dev.xaddr,
				  sizeof(rx->ev->dev.xaddr), &rx->ev->dev.xaddr_rewritten);
	rx->got = true;
	return 1;
}

int onvif_listener_read(struct onvif_listener *l, struct onvif_announce *ev)
{
	struct sockaddr_in from;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	char peer[ONVIF_ADDR_MAX], iface[IF_NAMESIZE] = "";
	struct iovec iov = { .iov_base = l->buf, .iov_len = sizeof(l->buf) - 1 };
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct announce_rx rx = { .ev = ev, .peer = peer, .iface = iface };
	struct onvif__wsdd_msg m;
	ssize_t n = recvmsg(l->fd, &mh, MSG_DONTWAIT);
	int ret;

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	l->buf[n] = '\0';
	inet_ntop(AF_INET, &from.sin_addr, peer, sizeof(peer));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (!if_indextoname((unsigned int)pi.ipi_ifindex, iface))
				iface[0] = '\0';
		}
	memset(ev, 0, sizeof(*ev));
	ret = onvif__wsdd_parse(l->soap, l->buf, &m, on_announce, &rx);
	if (ret == -EBADMSG)
		log_debug("onvif: unreadable datagram from %s (%zd bytes)", peer, n);
	if (ret)
		return ret;
	return rx.got ? 0 : -ENOMSG;
}
