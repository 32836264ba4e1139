// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_discovery - WS-Discovery on the wire: multicast Probe on every
 * interface, unicast Probe sweep of CIDR ranges, collection of
 * ProbeMatches with de-duplication (onvif.h G2), and the Hello/Bye
 * listener.
 *
 * One UDP socket per interface, bound to the interface's address and
 * pinned with IP_MULTICAST_IF, so the probe leaves by that interface and
 * the answers come back to it; a kernel that refuses the pinning (qemu-user
 * does) still sends by the route. All sockets are polled together; the
 * sweep is paced between polls so answers are read while it runs.
 *
 * Why the sweep is paced: a probe to an address without a host sits in
 * the neighbour entry's queue while ARP asks (about 3 s), charged to the
 * sweep socket's send buffer. A few hundred of them fill it, and sendto()
 * on the non-blocking socket fails with EAGAIN until ARP gives up and
 * frees them; every probe then sent would be lost. So the sweep sends at
 * most ONVIF_SWEEP_RATE a second by default (which also keeps the unresolved
 * neighbour entries, ~3 s each, well under the kernel's default table
 * limit of 1024), and a refused probe waits for POLLOUT and is retried.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"
#include "lib/parse.h"

#define IFACES_MAX	32
#define DGRAM_MAX	65536
#define SWEEP_BURST	32	  /* unicast probes between two polls */
#define PROBE_REPEAT_MS 200	  /* second multicast probe, as WS-Discovery repeats */
#define SWEEP_SNDBUF	(1 << 20) /* asked for the sweep socket (wmem_max caps it) */
#define SWEEP_NOBUFS_MS 20	  /* ENOBUFS gives no POLLOUT to wait for */
#define SWEEP_FAIL_RUN	3	  /* probes failed in a row: one try each after */

struct iface {
	char name[IF_NAMESIZE];
	struct in_addr addr;
};

struct probe {
	const struct onvif_probe_opts *opts;
	onvif_found_fn fn;
	void *arg;
	struct soap *soap;
	char msgid[64];
	const char *xml;
	size_t xml_len;
	struct pollfd pfd[IFACES_MAX + 1];
	int nfd;
	char (*seen)[ONVIF_URI_MAX];
	size_t nseen;
	bool overflow, stopped;
	char *buf;
	struct onvif_sweep_stats sw;
	int sweep_fd; /* -1: no sweep */
	int fail_run; /* probes failed in a row */
	int last_err; /* errno of the last failed probe */
	char last_to[INET_ADDRSTRLEN];
};

/* Interfaces to use: @names, or every up, multicast, non-loopback one. */
static int list_ifaces(const char *const *names, size_t n, struct iface *out, int *np)
{
	struct ifaddrs *ifa, *i;
	int cnt = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && cnt < IFACES_MAX; i = i->ifa_next) {
		bool want = !names;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
			continue;
		for (size_t k = 0; names && k < n; k++)
			want |= !strcmp(names[k], i->ifa_name);
		if (!names && ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_MULTICAST)))
			want = false;
		if (!want)
			continue;
		onvif__copy(out[cnt].name, sizeof(out[cnt].name), i->ifa_name);
		out[cnt++].addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
	}
	freeifaddrs(ifa);
	for (size_t k = 0; names && k < n; k++) {
		bool found = false;

		for (int j = 0; j < cnt; j++)
			found |= !strcmp(out[j].name, names[k]);
		if (!found)
			log_warn("onvif: interface %s is not up or has no IPv4 address", names[k]);
	}
	*np = cnt;
	return 0;
}

static int udp_open(struct in_addr bind_addr, const struct iface *pin)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = bind_addr };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (pin && setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &pin->addr, sizeof(pin->addr)))
		log_debug("onvif: %s: IP_MULTICAST_IF: %m (sending by the route)", pin->name);
	return fd;
}

/* Parse "a.b.c.d/len" into first host and count. */
static int cidr_parse(const char *s, uint32_t *firstp, uint32_t *countp)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	int64_t len = 32;
	uint32_t base, mask;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1 || parse_i64(slash + 1, 0, 32, &len))
		return -EINVAL;
	mask = len ? 0xffffffffu << (32 - len) : 0;
	base = ntohl(a.s_addr) & mask;
	if (len >= 31) {
		*firstp = base;
		*countp = len == 32 ? 1 : 2;
	} else {
		*firstp = base + 1; /* no network, no broadcast address */
		*countp = (uint32_t)((1ull << (32 - len)) - 2);
	}
	return 0;
}

static bool seen(struct probe *p, const char *endpoint)
{
	for (size_t i = 0; i < p->nseen; i++)
		if (!strcmp(p->seen[i], endpoint))
			return true;
	if (p->nseen >= ONVIF_PROBE_DEVICES_MAX) {
		if (!p->overflow)
			log_warn("onvif: more than %d devices answered; the rest are ignored",
				 ONVIF_PROBE_DEVICES_MAX);
		p->overflow = true;
		return true;
	}
	onvif__copy(p->seen[p->nseen++], ONVIF_URI_MAX, endpoint);
	return false;
}

struct rx {
	struct probe *p;
	char peer[ONVIF_ADDR_MAX];
	char iface[IF_NAMESIZE];
};

static int on_match(void *arg, const struct onvif__wsdd_msg *m, struct onvif_found *f)
{
	struct rx *rx = arg;
	struct probe *p = rx->p;

	if (m->kind != ONVIF__PROBE_MATCH || (m->relates_to[0] && strcmp(m->relates_to, p->msgid)))
		return 0;
	if (!f->endpoint[0] || seen(p, f->endpoint))
		return 0;
	onvif__copy(f->peer, sizeof(f->peer), rx->peer);
	onvif__copy(f->iface, sizeof(f->iface), rx->iface);
	if (onvif__pick_xaddr(f->xaddrs_raw, f->peer, f->xaddr, sizeof(f->xaddr),
			      &f->xaddr_rewritten))
		log_info("onvif: %s at %s advertises no usable http XAddr (%s)", f->endpoint,
			 f->peer, f->xaddrs_raw);
	if (p->fn(p->arg, f))
		p->stopped = true;
	return p->stopped ? 1 : 0;
}

/* recvmsg() with the receiving interface; 0, -EAGAIN or -errno. */
static int recv_dgram(int fd, char *buf, size_t cap, size_t *lenp, char *peer, char *iface)
{
	struct sockaddr_in from;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec iov = { .iov_base = buf, .iov_len = cap - 1 };
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	buf[n] = '\0';
	*lenp = (size_t)n;
	inet_ntop(AF_INET, &from.sin_addr, peer, ONVIF_ADDR_MAX);
	iface[0] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (!if_indextoname((unsigned int)pi.ipi_ifindex, iface))
				iface[0] = '\0';
		}
	return 0;
}

static void drain(struct probe *p, int fd)
{
	struct rx rx = { .p = p };
	struct onvif__wsdd_msg m;
	size_t len = 0;

	while (!p->stopped && !recv_dgram(fd, p->buf, DGRAM_MAX, &len, rx.peer, rx.iface)) {
		int ret = onvif__wsdd_parse(p->soap, p->buf, &m, on_match, &rx);

		if (ret && ret != -ENOMSG)
			log_debug("onvif: unreadable datagram from %s (%zu bytes)", rx.peer, len);
	}
}

/* Wait up to @ms for answers, reading all that arrive. */
static void collect(struct probe *p, int ms)
{
	int64_t end = time_mono_ms() + ms;

	while (!p->stopped) {
		int64_t left = end - time_mono_ms();

		if (left < 0)
			left = 0;
		if (poll(p->pfd, (nfds_t)p->nfd, (int)left) < 0 && errno != EINTR)
			return;
		for (int i = 0; i < p->nfd; i++)
			if (p->pfd[i].revents & POLLIN)
				drain(p, p->pfd[i].fd);
		if (left == 0)
			return;
	}
}

/* 0, or the errno of a failed sendto(). */
static int send_to(struct probe *p, int fd, uint32_t host_be)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(ONVIF_DISCOVERY_PORT),
				  .sin_addr.s_addr = host_be };

	if (sendto(fd, p->xml, p->xml_len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
		return 0;
	return errno;
}

/* Until @fd may take a datagram or @ms pass, reading answers meanwhile. */
static void wait_writable(struct probe *p, int fd, int ms)
{
	int64_t end = time_mono_ms() + ms;

	for (int i = 0; i < p->nfd; i++)
		if (p->pfd[i].fd == fd)
			p->pfd[i].events = POLLIN | POLLOUT;
	while (!p->stopped) {
		int64_t left = end - time_mono_ms();
		bool out = false;

		if (left < 0)
			left = 0;
		if (poll(p->pfd, (nfds_t)p->nfd, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < p->nfd; i++) {
			if (p->pfd[i].revents & POLLIN)
				drain(p, p->pfd[i].fd);
			out |= p->pfd[i].fd == fd && (p->pfd[i].revents & (POLLOUT | POLLERR));
		}
		if (out || left == 0)
			break;
	}
	for (int i = 0; i < p->nfd; i++)
		p->pfd[i].events = POLLIN;
}

static bool send_retryable(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

/* One unicast probe, retried while the kernel lacks buffer for it. */
static void sweep_one(struct probe *p, int fd, uint32_t host)
{
	/* Probes kept failing for the whole retry time: one try each for
	 * the hosts left, not a wait for every one (G1). */
	int64_t deadline =
		time_mono_ms() + (p->fail_run < SWEEP_FAIL_RUN ? ONVIF_SWEEP_RETRY_MS : 0);
	int err;

	for (;;) {
		int64_t left;

		err = send_to(p, fd, htonl(host));
		if (!err || !send_retryable(err) || p->stopped)
			break;
		left = deadline - time_mono_ms();
		if (left <= 0)
			break;
		if (err == ENOBUFS)
			collect(p, (int)(left < SWEEP_NOBUFS_MS ? left : SWEEP_NOBUFS_MS));
		else
			wait_writable(p, fd, (int)left);
	}
	if (!err) {
		p->sw.probed++;
		p->fail_run = 0;
		return;
	}
	p->sw.failed++;
	p->fail_run++;
	p->last_err = err;
	inet_ntop(AF_INET, &(struct in_addr){ htonl(host) }, p->last_to, sizeof(p->last_to));
	log_debug("onvif: probe to %s: %s", p->last_to, strerror(err));
}

static void multicast(struct probe *p, int nmc)
{
	for (int i = 0; i < nmc; i++) {
		struct in_addr g = { inet_addr(ONVIF_DISCOVERY_GROUP) };
		int err = send_to(p, p->pfd[i].fd, g.s_addr);

		if (err)
			log_debug("onvif: probe to %s: %s", ONVIF_DISCOVERY_GROUP, strerror(err));
	}
}

/* At most ONVIF_SWEEP_RATE probes a second: each burst's share of time
 * is spent reading answers. */
static int sweep(struct probe *p, int fd)
{
	const int rate = p->opts->sweep_rate ? p->opts->sweep_rate : ONVIF_SWEEP_RATE;
	const int burst_ms = SWEEP_BURST * 1000 / rate;
	int64_t burst_end = time_mono_ms() + burst_ms;
	unsigned int sent = 0;

	for (size_t c = 0; c < p->opts->ncidrs && !p->stopped; c++) {
		uint32_t first, count;

		if (cidr_parse(p->opts->cidrs[c], &first, &count))
			return -EINVAL;
		for (uint32_t h = 0; h < count && !p->stopped; h++) {
			sweep_one(p, fd, first + h);
			if (++sent % SWEEP_BURST)
				continue;
			collect(p,
				(int)(burst_end > time_mono_ms() ? burst_end - time_mono_ms() : 1));
			burst_end = time_mono_ms() + burst_ms;
		}
	}
	if (p->sw.failed)
		log_warn("onvif: sweep: %llu of %llu probes could not be sent (last: %s, %s)",
			 (unsigned long long)p->sw.failed, (unsigned long long)p->sw.addresses,
			 p->last_to, strerror(p->last_err));
	return 0;
}

static int sweep_size(const struct onvif_probe_opts *o, uint64_t *np)
{
	uint64_t total = 0;

	for (size_t c = 0; c < o->ncidrs; c++) {
		uint32_t first, count;

		if (cidr_parse(o->cidrs[c], &first, &count)) {
			log_err("onvif: bad CIDR '%s' (want a.b.c.d/len)", o->cidrs[c]);
			return -EINVAL;
		}
		total += count;
	}
	*np = total;
	return 0;
}

/* Sockets for every interface, then one for the sweep. */
static int open_sockets(struct probe *p, int *nmcp)
{
	const struct onvif_probe_opts *o = p->opts;
	struct iface ifs[IFACES_MAX];
	int nifs = 0, ret = 0;

	if (!o->no_multicast)
		ret = list_ifaces(o->ifaces, o->nifaces, ifs, &nifs);
	for (int i = 0; !ret && i < nifs; i++) {
		int fd = udp_open(ifs[i].addr, &ifs[i]);

		if (fd < 0) {
			log_warn("onvif: %s: cannot probe: %s", ifs[i].name, strerror(-fd));
			continue;
		}
		p->pfd[p->nfd++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	*nmcp = p->nfd;
	if (!ret && o->ncidrs) {
		int fd = udp_open((struct in_addr){ .s_addr = htonl(INADDR_ANY) }, NULL);
		int sndbuf = SWEEP_SNDBUF;

		if (fd < 0)
			return fd;
		/* More probes in flight while ARP waits; best effort. */
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		p->pfd[p->nfd++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		p->sweep_fd = fd;
	}
	return ret;
}

int onvif_probe(const struct onvif_probe_opts *opts, onvif_found_fn fn, void *arg)
{
	struct probe p = { .opts = opts, .fn = fn, .arg = arg, .sweep_fd = -1 };
	struct onvif__wsdd_msg m = { .kind = ONVIF__PROBE };
	int window = opts->window_ms > 0 ? opts->window_ms : ONVIF_PROBE_WINDOW_MS;
	int64_t start = time_mono_ms(), sent;
	uint64_t hosts = 0;
	int nmc = 0, ret;

	if (opts->sweep)
		*opts->sweep = (struct onvif_sweep_stats){ 0 };
	if (opts->sweep_rate < 0 || opts->sweep_rate > ONVIF_SWEEP_RATE_MAX) {
		log_err("onvif: sweep rate %d out of 1..%d", opts->sweep_rate,
			ONVIF_SWEEP_RATE_MAX);
		return -EINVAL;
	}
	ret = sweep_size(opts, &hosts);
	if (ret)
		return ret;
	p.sw.addresses = hosts;
	if (hosts > ONVIF_SWEEP_HOSTS_MAX) {
		log_err("onvif: the CIDR ranges hold %llu hosts, more than %d",
			(unsigned long long)hosts, ONVIF_SWEEP_HOSTS_MAX);
		return -E2BIG;
	}
	p.soap = onvif__soap_new();
	p.seen = calloc(ONVIF_PROBE_DEVICES_MAX, ONVIF_URI_MAX);
	p.buf = malloc(DGRAM_MAX);
	ret = !p.soap || !p.seen || !p.buf ? -ENOMEM : onvif__uuid(p.msgid, sizeof(p.msgid));
	if (!ret)
		ret = open_sockets(&p, &nmc);
	if (!ret && !p.nfd) {
		log_err("onvif: no interface to probe on and no CIDR to sweep");
		ret = -ENODEV;
	}
	if (ret)
		goto out;
	onvif__copy(m.msgid, sizeof(m.msgid), p.msgid);
	/* The wsdd context builds once; parsing uses p.soap afterwards. */
	ret = onvif__wsdd_build(p.soap, &m, NULL, &p.xml, &p.xml_len);
	if (ret)
		goto out;
	p.xml = strdup(p.xml);
	if (!p.xml) {
		ret = -ENOMEM;
		goto out;
	}
	multicast(&p, nmc);
	if (p.sweep_fd >= 0)
		ret = sweep(&p, p.sweep_fd);
	/* The window is for answers to the last probe, however long the
	 * sweep took. */
	sent = time_mono_ms();
	collect(&p, window < PROBE_REPEAT_MS ? window / 2 : PROBE_REPEAT_MS);
	multicast(&p, nmc);
	collect(&p, (int)(window - (time_mono_ms() - sent)));
	if (!ret && p.overflow)
		ret = -ENOBUFS;
	log_debug("onvif: probe found %zu devices in %lld ms; %llu of %llu addresses probed",
		  p.nseen, (long long)(time_mono_ms() - start), (unsigned long long)p.sw.probed,
		  (unsigned long long)p.sw.addresses);
out:
	if (opts->sweep)
		*opts->sweep = p.sw;
	for (int i = 0; i < p.nfd; i++)
		close(p.pfd[i].fd);
	free((char *)p.xml);
	free(p.buf);
	free(p.seen);
	onvif__soap_free(p.soap);
	return ret;
}
