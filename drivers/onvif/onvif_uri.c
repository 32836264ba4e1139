// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_uri - which host in a camera's URLs the gateway can actually reach
 * (onvif.h G3), and ONVIF scope lists.
 *
 * Cameras report XAddrs and stream URIs with the address they believe they
 * have: 127.0.0.1, a link-local 169.254.x.y, 0.0.0.0, or their side of a
 * NAT. A host is kept when it is the address that answered, or a plain
 * unicast address inside the local subnet the answer came from; anything
 * else is replaced by the answering address, port and path kept. Host
 * names other than localhost are kept (DNS may know them).
 *
 * URLs are split by libavformat's av_url_split(), which camgate links for
 * RTSP anyway; no URL parser of our own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libavformat/avformat.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/hex.h"

struct url_parts {
	char proto[16];
	char auth[ONVIF_TEXT_MAX];
	char host[ONVIF_TEXT_MAX];
	int port;
	char path[ONVIF_URI_MAX];
};

static int url_split(const char *uri, struct url_parts *u)
{
	if (!uri || !strstr(uri, "://"))
		return -EINVAL;
	av_url_split(u->proto, sizeof(u->proto), u->auth, sizeof(u->auth), u->host, sizeof(u->host),
		     &u->port, u->path, sizeof(u->path), uri);
	return u->proto[0] && u->host[0] ? 0 : -EINVAL;
}

int onvif__uri_host(const char *uri, char *out, size_t cap)
{
	struct url_parts u;
	int ret = url_split(uri, &u);

	if (!ret)
		onvif__copy(out, cap, u.host);
	return ret;
}

int onvif__uri_path(const char *uri, char *out, size_t cap)
{
	struct url_parts u;
	int ret = url_split(uri, &u);

	onvif__copy(out, cap, !ret && u.path[0] ? u.path : "/");
	return ret;
}

static bool v4_bad(uint32_t a)
{
	return (a >> 24) == 127 || a == 0 || (a >> 28) == 14 || a == 0xffffffff;
}

static bool v4_linklocal(uint32_t a)
{
	return (a >> 16) == 0xa9fe;
}

/* The prefix of the local IPv4 subnet holding @peer; false if none. */
static bool local_subnet(uint32_t peer, uint32_t *netp, uint32_t *maskp)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		uint32_t a, m;

		if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		if ((a & m) == (peer & m)) {
			*netp = a & m;
			*maskp = m;
			found = true;
		}
	}
	freeifaddrs(ifa);
	return found;
}

static bool host_usable_v4(uint32_t h, const char *peer)
{
	struct in_addr pa;
	uint32_t p, net, mask;

	if (inet_pton(AF_INET, peer, &pa) != 1)
		return !v4_bad(h) && !v4_linklocal(h); /* peer is IPv6 */
	p = ntohl(pa.s_addr);
	/* A camera answering from loopback is on this host: so is its 127.x. */
	if (h == p || ((h >> 24) == 127 && (p >> 24) == 127))
		return true;
	if (v4_bad(h) || (v4_linklocal(h) && !v4_linklocal(p)))
		return false;
	return local_subnet(p, &net, &mask) && (h & mask) == net;
}

static bool host_usable_v6(const struct in6_addr *h, const char *peer)
{
	struct in6_addr pa;

	if (inet_pton(AF_INET6, peer, &pa) != 1)
		return false; /* peer answered over IPv4: use that */
	if (!memcmp(h, &pa, sizeof(pa)))
		return true;
	if (IN6_IS_ADDR_LOOPBACK(h) || IN6_IS_ADDR_UNSPECIFIED(h) || IN6_IS_ADDR_MULTICAST(h))
		return false;
	return !IN6_IS_ADDR_LINKLOCAL(h) || IN6_IS_ADDR_LINKLOCAL(&pa);
}

static bool host_usable(const char *host, const char *peer)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!peer || !*peer)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return host_usable_v4(ntohl(a4.s_addr), peer);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return host_usable_v6(&a6, peer);
	return strcasecmp(host, "localhost") && strncasecmp(host, "localhost.", 10);
}

int onvif__rewrite_uri(const char *uri, const char *peer, char *out, size_t cap, bool *rewrittenp)
{
	struct url_parts u;
	char port[16] = "";
	bool v6 = peer && strchr(peer, ':');
	int n;

	*rewrittenp = false;
	if (url_split(uri, &u) || host_usable(u.host, peer)) {
		n = snprintf(out, cap, "%s", uri ? uri : "");
		return n < 0 || (size_t)n >= cap ? -E2BIG : 0;
	}
	if (u.port > 0)
		snprintf(port, sizeof(port), ":%d", u.port);
	n = snprintf(out, cap, "%s://%s%s%s%s%s%s%s", u.proto, u.auth, u.auth[0] ? "@" : "",
		     v6 ? "[" : "", peer, v6 ? "]" : "", port, u.path);
	if (n < 0 || (size_t)n >= cap)
		return -E2BIG;
	*rewrittenp = true;
	return 0;
}

int onvif__pick_xaddr(const char *xaddrs, const char *peer, char *out, size_t cap, bool *rewrittenp)
{
	char best[ONVIF_URI_MAX] = "", first[ONVIF_URI_MAX] = "", one[ONVIF_URI_MAX];
	const char *p = xaddrs;

	while (p && *p) {
		struct url_parts u;
		size_t n;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (!n)
			break;
		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (!url_split(one, &u) && !strcasecmp(u.proto, "http")) {
				if (!first[0])
					onvif__copy(first, sizeof(first), one);
				if (peer && !strcmp(u.host, peer)) {
					onvif__copy(best, sizeof(best), one);
					break;
				}
				if (!best[0] && host_usable(u.host, peer))
					onvif__copy(best, sizeof(best), one);
			}
		}
		p += n;
	}
	if (!best[0] && !first[0])
		return -ENOENT;
	return onvif__rewrite_uri(best[0] ? best : first, peer, out, cap, rewrittenp);
}

/* Percent-decode @n bytes of @s into @out. */
static void pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
		int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;

		if (s[i] == '%' && lo >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static void append_csv(char *dst, size_t cap, const char *v)
{
	size_t len = strlen(dst);

	if (len)
		snprintf(dst + len, cap - len, ",%s", v);
	else
		snprintf(dst, cap, "%s", v);
}

void onvif_scopes_parse(const char *list, struct onvif_scopes *out)
{
	static const char pfx[] = "onvif://www.onvif.org/";
	const char *p = list;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		char val[ONVIF_TEXT_MAX];
		const char *s, *slash;
		size_t n;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		s = p;
		p += n;
		if (n <= sizeof(pfx) - 1 || strncasecmp(s, pfx, sizeof(pfx) - 1))
			continue;
		s += sizeof(pfx) - 1;
		n -= sizeof(pfx) - 1;
		slash = memchr(s, '/', n);
		if (!slash || slash + 1 >= s + n)
			continue;
		pct_decode(slash + 1, (size_t)(s + n - slash - 1), val, sizeof(val));
		if (!strncasecmp(s, "name/", 5))
			onvif__copy(out->name, sizeof(out->name), val);
		else if (!strncasecmp(s, "hardware/", 9))
			onvif__copy(out->hardware, sizeof(out->hardware), val);
		else if (!strncasecmp(s, "location/", 9))
			onvif__copy(out->location, sizeof(out->location), val);
		else if (!strncasecmp(s, "Profile/", 8))
			append_csv(out->profiles, sizeof(out->profiles), val);
	}
}
