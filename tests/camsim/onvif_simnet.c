// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_simnet - the simulated camera's sockets: HTTP listener, the two
 * WS-Discovery sockets, the poll loop and the in-process thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/parse.h"
#include "tests/camsim/onvif_sim_int.h"

static int udp_socket(const char *bind_ip, struct in_addr iface)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ONVIF_DISCOVERY_PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (inet_pton(AF_INET, bind_ip, &a.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int ret = -errno;

		log_err("camsim: bind %s:3702: %m", bind_ip);
		close(fd);
		return ret ? ret : -EINVAL;
	}
	/* Multicast we send (Hello/Bye) leaves by the camera's interface. */
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof(iface));
	return fd;
}

static int discovery_open(struct sim *sim)
{
	const char *ifip = sim->cfg.iface_ip[0] ? sim->cfg.iface_ip : sim->cfg.ip;
	struct ip_mreq mr;

	if (inet_pton(AF_INET, ifip, &mr.imr_interface) != 1 ||
	    inet_pton(AF_INET, ONVIF_DISCOVERY_GROUP, &mr.imr_multiaddr) != 1)
		return -EINVAL;
	sim->udp_fd = udp_socket(sim->cfg.ip, mr.imr_interface);
	if (sim->udp_fd < 0)
		return sim->udp_fd;
	sim->mc_fd = udp_socket(ONVIF_DISCOVERY_GROUP, mr.imr_interface);
	if (sim->mc_fd < 0)
		return sim->mc_fd;
	if (setsockopt(sim->mc_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		log_err("camsim: join %s on %s: %m", ONVIF_DISCOVERY_GROUP, ifip);
		return -errno;
	}
	return 0;
}

/* Scope values are URI path segments: percent-encode what is not. */
static void pct_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

void sim_found(struct sim *sim, struct onvif_found *d)
{
	char name[192], loc[192], hw[192];

	memset(d, 0, sizeof(*d));
	snprintf(d->endpoint, sizeof(d->endpoint), "%s", sim->uuid);
	snprintf(d->types, sizeof(d->types), "%s", "dn:NetworkVideoTransmitter tds:Device");
	snprintf(d->xaddrs_raw, sizeof(d->xaddrs_raw), "%s", sim->xaddr);
	pct_encode(sim->cfg.scope_name, name, sizeof(name));
	pct_encode(sim->cfg.scope_location, loc, sizeof(loc));
	pct_encode(sim->cfg.scope_hardware, hw, sizeof(hw));
	if (sim->cfg.scopes[0])
		snprintf(d->scopes_raw, sizeof(d->scopes_raw), "%s", sim->cfg.scopes);
	else
		snprintf(d->scopes_raw, sizeof(d->scopes_raw),
			 "onvif://www.onvif.org/type/video_encoder "
			 "onvif://www.onvif.org/Profile/Streaming "
			 "onvif://www.onvif.org/Profile/T onvif://www.onvif.org/name/%s "
			 "onvif://www.onvif.org/location/%s onvif://www.onvif.org/hardware/%s",
			 name, loc, hw);
	d->metadata_version = 1;
}

/* @soap: the sim thread's own context, or a private one from another
 * thread (sim_announce() is called by tests while the sim runs). */
static int send_msg(struct sim *sim, struct soap *soap, enum onvif__wsdd_kind kind,
		    const char *relates, const struct sockaddr *to, socklen_t tolen)
{
	struct onvif__wsdd_msg m = { .kind = kind };
	struct onvif_found d;
	const char *xml;
	size_t len;
	int ret;

	onvif__uuid(m.msgid, sizeof(m.msgid));
	snprintf(m.relates_to, sizeof(m.relates_to), "%s", relates ? relates : "");
	m.instance_id = sim->instance_id;
	m.message_number = __atomic_add_fetch(&sim->msg_number, 1, __ATOMIC_RELAXED);
	sim_found(sim, &d);
	ret = onvif__wsdd_build(soap, &m, &d, &xml, &len);
	if (ret)
		return ret;
	if (sendto(sim->udp_fd, xml, len, 0, to, tolen) < 0) {
		log_info("camsim: sendto: %m");
		return -errno;
	}
	return 0;
}

int sim_announce(struct sim *sim, bool hello)
{
	struct sockaddr_in g = { .sin_family = AF_INET, .sin_port = htons(ONVIF_DISCOVERY_PORT) };
	struct soap *soap;
	int ret;

	if (sim->udp_fd < 0)
		return -ENOTCONN;
	soap = onvif__soap_new();
	if (!soap)
		return -ENOMEM;
	inet_pton(AF_INET, ONVIF_DISCOVERY_GROUP, &g.sin_addr);
	ret = send_msg(sim, soap, hello ? ONVIF__HELLO : ONVIF__BYE, NULL, (struct sockaddr *)&g,
		       sizeof(g));
	onvif__soap_free(soap);
	return ret;
}

static void udp_read(struct sim *sim, int fd)
{
	char buf[8192];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct onvif__wsdd_msg m;
	struct sim_pending *p;
	ssize_t n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);
	unsigned int r = 0;

	if (n <= 0)
		return;
	buf[n] = '\0';
	if (onvif__wsdd_parse(sim->wsdd, buf, &m, NULL, NULL) || m.kind != ONVIF__PROBE)
		return;
	if (m.types[0] && !strstr(m.types, "NetworkVideoTransmitter") && !strstr(m.types, "Device"))
		return;
	if (sim->npend >= SIM_PENDING_MAX)
		return;
	/* Answer after a random delay, as devices do (APP_MAX_DELAY). */
	onvif__random(&r, sizeof(r));
	p = &sim->pend[sim->npend++];
	p->due_ms =
		time_mono_ms() + sim->cfg.probe_delay_min_ms +
		(sim->cfg.probe_delay_max_ms > 0 ? r % (unsigned)sim->cfg.probe_delay_max_ms : 0);
	memcpy(&p->to, &from, flen);
	p->tolen = flen;
	snprintf(p->relates_to, sizeof(p->relates_to), "%s", m.msgid);
}

static int pending_flush(struct sim *sim)
{
	int64_t now = time_mono_ms(), next = 100;

	for (int i = 0; i < sim->npend;) {
		struct sim_pending *p = &sim->pend[i];

		if (p->due_ms <= now) {
			send_msg(sim, sim->wsdd, ONVIF__PROBE_MATCH, p->relates_to,
				 (struct sockaddr *)&p->to, p->tolen);
			*p = sim->pend[--sim->npend];
			continue;
		}
		if (p->due_ms - now < next)
			next = p->due_ms - now;
		i++;
	}
	return (int)next;
}

static void http_serve(struct sim *sim)
{
	struct soap *soap = sim->soap;

	if (!soap_valid_socket(soap_accept(soap)))
		return;
	sim->authz[0] = '\0';
	sim->requests++;
	soap_serve(soap);
	soap_destroy(soap);
	soap_end(soap);
}

void sim_set_mute(struct sim *sim, bool on)
{
	sim->mute = on;
}

/* Muted: nothing is answered, nothing queued to answer later. */
static void mute_drain(struct sim *sim, const struct pollfd *pf)
{
	char buf[8192];

	if (pf[0].revents & POLLIN) {
		int fd = accept(sim->soap->master, NULL, NULL);

		if (fd >= 0)
			close(fd);
	}
	for (int i = 1; i < 3; i++)
		if (pf[i].fd >= 0 && (pf[i].revents & POLLIN))
			(void)recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
	sim->npend = 0;
}

int sim_run(struct sim *sim, volatile int *stop)
{
	while (!*stop && !sim->stop) {
		struct pollfd pf[3] = { { .fd = sim->soap->master, .events = POLLIN },
					{ .fd = sim->udp_fd, .events = POLLIN },
					{ .fd = sim->mc_fd, .events = POLLIN } };
		int timeout = pending_flush(sim);

		if (poll(pf, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (sim->mute) {
			mute_drain(sim, pf);
			continue;
		}
		if (pf[0].revents & POLLIN)
			http_serve(sim);
		if (pf[1].revents & POLLIN)
			udp_read(sim, sim->udp_fd);
		if (pf[2].revents & POLLIN)
			udp_read(sim, sim->mc_fd);
	}
	return 0;
}

static void *thread_main(void *arg)
{
	struct sim *sim = arg;

	sim_run(sim, &sim->stop);
	return NULL;
}

int sim_start(struct sim *sim)
{
	int ret = pthread_create(&sim->thread, NULL, thread_main, sim);

	if (ret)
		return -ret;
	sim->running = true;
	return 0;
}

void sim_stop(struct sim *sim)
{
	if (!sim->running)
		return;
	sim->stop = 1;
	pthread_join(sim->thread, NULL);
	sim->running = false;
}

static int http_open(struct sim *sim)
{
	struct soap *soap = soap_new1(SOAP_C_UTFSTRING | SOAP_XML_TREE);

	if (!soap)
		return -ENOMEM;
	sim->soap = soap;
	soap->user = sim;
	soap->bind_flags = SO_REUSEADDR;
	soap->recv_timeout = soap->send_timeout = 5;
	sim->parsehdr_next = soap->fparsehdr;
	soap->fparsehdr = sim_parsehdr;
	sim->posthdr_next = soap->fposthdr;
	soap->fposthdr = sim_posthdr;
	if (!soap_valid_socket(soap_bind(soap, sim->cfg.ip, sim->cfg.port, 16))) {
		log_err("camsim: bind %s:%d: %s", sim->cfg.ip, sim->cfg.port,
			soap_fault_string(soap) ? soap_fault_string(soap) : "failed");
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int sim_http_port(const struct sim *sim)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);

	if (getsockname(sim->soap->master, (struct sockaddr *)&a, &len))
		return -errno;
	return ntohs(((struct sockaddr_in *)&a)->sin_port);
}

int sim_create(const struct sim_cfg *cfg, bool discovery, struct sim **simp)
{
	struct sim *sim = calloc(1, sizeof(*sim));
	unsigned char r[8];
	int ret;

	if (!sim)
		return -ENOMEM;
	sim->cfg = *cfg;
	sim->udp_fd = sim->mc_fd = -1;
	sim->start_mono_ms = time_mono_ms();
	sim->instance_id = (unsigned int)(time_now_ms() / 1000);
	onvif__random(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(sim->nonce + 2 * i, 3, "%02x", r[i]);
	if (cfg->uuid[0])
		snprintf(sim->uuid, sizeof(sim->uuid), "%s", cfg->uuid);
	else
		onvif__uuid(sim->uuid, sizeof(sim->uuid));
	snprintf(sim->host, sizeof(sim->host), "%s",
		 cfg->advertise_host[0] ? cfg->advertise_host : cfg->ip);
	sim->wsdd = onvif__soap_new();
	ret = sim->wsdd ? http_open(sim) : -ENOMEM;
	if (!ret && discovery)
		ret = discovery_open(sim);
	if (ret) {
		sim_destroy(sim);
		return ret;
	}
	snprintf(sim->xaddr, sizeof(sim->xaddr), "http://%s:%d/onvif/device_service", sim->host,
		 sim_http_port(sim));
	if (!sim->cfg.mac[0]) {
		/* Locally administered, distinct per address and port. */
		struct in_addr a = { 0 };
		uint32_t h;

		inet_pton(AF_INET, sim->cfg.ip, &a);
		h = ntohl(a.s_addr);
		snprintf(sim->cfg.mac, sizeof(sim->cfg.mac), "02:%02x:%02x:%02x:%02x:%02x",
			 (h >> 8) & 0xff, h & 0xff, (unsigned int)sim_http_port(sim) >> 8 & 0xff,
			 (unsigned int)sim_http_port(sim) & 0xff, (h >> 16) & 0xff);
	}
	*simp = sim;
	return 0;
}

void sim_destroy(struct sim *sim)
{
	if (!sim)
		return;
	sim_stop(sim);
	if (sim->udp_fd >= 0)
		close(sim->udp_fd);
	if (sim->mc_fd >= 0)
		close(sim->mc_fd);
	if (sim->soap) {
		soap_destroy(sim->soap);
		soap_end(sim->soap);
		soap_free(sim->soap);
	}
	onvif__soap_free(sim->wsdd);
	free(sim);
}

const char *sim_xaddr(const struct sim *sim)
{
	return sim->xaddr;
}

const char *sim_uuid(const struct sim *sim)
{
	return sim->uuid;
}

unsigned int sim_requests(const struct sim *sim)
{
	return sim->requests;
}
