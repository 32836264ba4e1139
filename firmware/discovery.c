// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/discovery.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif.h"
#include "lib/log.h"
#include "lib/parse.h"

#define DISCOVERY_LIST_MAX 16  /* interfaces, and CIDRs */
#define DISCOVERY_CAMS_MAX 256 /* interrogated per round */
#define DISCOVERY_JOBS	   8

struct discovery {
	struct discovery_cfg cfg; /* strings below */
	char *user, *pass;
	char *ifbuf, *cidrbuf; /* split in place */
	const char *ifaces[DISCOVERY_LIST_MAX];
	size_t nifaces;
	const char *cidrs[DISCOVERY_LIST_MAX];
	size_t ncidrs;
	struct registry *reg;
	discovery_changed_fn fn;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop, kick;
	int wake[2];			 /* kick/stop wake the poll */
	struct onvif_listener *listener; /* Hello/Bye between rounds; may be NULL */
	struct onvif_camera *cams;	 /* DISCOVERY_CAMS_MAX, reused each round */
	int rets[DISCOVERY_CAMS_MAX];
	size_t n;
	struct onvif_pool *pool;
};

/* "a, b,c" -> {"a", "b", "c"} inside @buf. */
static int split_list(char *buf, const char **out, size_t *np)
{
	size_t n = 0;

	for (char *p = buf; p && *p;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		p += strspn(p, " \t");
		if (*p) {
			if (n == DISCOVERY_LIST_MAX)
				return -EINVAL;
			out[n++] = p;
		}
		p = comma ? comma + 1 : NULL;
	}
	*np = n;
	return 0;
}

static int on_found(void *arg, const struct onvif_found *f)
{
	struct discovery *d = arg;

	if (d->n == DISCOVERY_CAMS_MAX)
		return 1;
	memset(&d->cams[d->n], 0, sizeof(d->cams[d->n]));
	d->cams[d->n].found = *f;
	d->rets[d->n] = -EINPROGRESS;
	/* Interrogate at once, while the probe still listens for others. */
	if (onvif_pool_add(d->pool, &d->cams[d->n], &d->rets[d->n]) == 0)
		d->n++;
	return 0;
}

static void discovery_observe(struct discovery *d, int64_t now)
{
	for (size_t i = 0; i < d->n; i++) {
		struct onvif_camera *c = &d->cams[i];
		struct registry_camera seen;
		enum registry_event ev;
		char name[REGISTRY_NAME_MAX];

		if (d->rets[i]) {
			log_warn("discovery: %s at %s not interrogated: %s%s", c->found.endpoint,
				 c->found.peer, c->error[0] ? c->error : strerror(-d->rets[i]),
				 d->cfg.username && *d->cfg.username
					 ? ""
					 : " (no [onvif] username set)");
			continue;
		}
		registry_from_onvif(c, &seen);
		if (registry_observe(d->reg, &seen, now, &ev, name))
			continue;
		if (ev != REGISTRY_UNCHANGED) {
			log_notice("discovery: camera %s %s (%s %s at %s)", name,
				   registry_event_name(ev), c->info.manufacturer, c->info.model,
				   c->found.peer);
			d->fn(d->arg, name, ev);
		}
	}
}

static void discovery_round(struct discovery *d)
{
	struct onvif_sweep_stats sw = { 0 };
	struct onvif_probe_opts po = {
		.window_ms = (int)d->cfg.probe_window_ms,
		.ifaces = d->nifaces ? d->ifaces : NULL,
		.nifaces = d->nifaces,
		.cidrs = d->cidrs,
		.ncidrs = d->ncidrs,
		.sweep = &sw,
	};
	int64_t start = time_now_ms();
	int gone = 0, ret;

	d->n = 0;
	ret = onvif_pool_start(d->user, d->pass, (int)d->cfg.call_timeout_ms, DISCOVERY_JOBS,
			       &d->pool);
	if (ret) {
		log_err("discovery: cannot start interrogation: %s", strerror(-ret));
		return;
	}
	ret = onvif_probe(&po, on_found, d);
	onvif_pool_finish(d->pool);
	d->pool = NULL;
	if (ret && ret != -ENOBUFS)
		log_warn("discovery: probe failed: %s", strerror(-ret));
	discovery_observe(d, time_now_ms());
	/* Only after a probe that ran may silence mean "gone": not when
	 * some hosts of the sweep were never asked. */
	if (!ret && !sw.failed && !registry_mark_missing(d->reg, start, time_now_ms(), &gone) &&
	    gone > 0)
		d->fn(d->arg, NULL, REGISTRY_GONE);
	if (d->ncidrs)
		log_info("discovery: round done in %lld ms, %zu cameras answered, %d gone; "
			 "%llu addresses probed, %llu probes failed%s",
			 (long long)(time_now_ms() - start), d->n, gone,
			 (unsigned long long)sw.probed, (unsigned long long)sw.failed,
			 sw.failed ? " (none marked gone)" : "");
	else
		log_info("discovery: round done in %lld ms, %zu cameras answered, %d gone",
			 (long long)(time_now_ms() - start), d->n, gone);
}

/* Hello: run a round now (the camera is new or back). Bye: gone at once. */
static bool discovery_announce(struct discovery *d)
{
	struct onvif_announce ev;
	bool round = false;
	int ret;

	while ((ret = onvif_listener_read(d->listener, &ev)) != -EAGAIN) {
		if (ret)
			continue;
		if (ev.kind == ONVIF_HELLO) {
			log_info("discovery: Hello from %s", ev.dev.endpoint);
			round = true;
		} else if (registry_mark_gone(d->reg, ev.dev.endpoint, time_now_ms()) == 0) {
			log_notice("discovery: Bye from %s: camera gone", ev.dev.endpoint);
			d->fn(d->arg, NULL, REGISTRY_GONE);
		}
	}
	return round;
}

/* Sleeps until the next round is due, listening for Hello/Bye meanwhile.
 * Returns false when the thread must end. */
static bool discovery_wait(struct discovery *d)
{
	int64_t due = time_mono_ms() + d->cfg.interval_ms;

	for (;;) {
		struct pollfd p[2] = { { d->wake[0], POLLIN, 0 },
				       { d->listener ? onvif_listener_fd(d->listener) : -1, POLLIN,
					 0 } };
		int64_t left = due - time_mono_ms();
		char buf[16];
		bool stop, kick;

		if (left <= 0)
			return true;
		if (poll(p, 2, (int)(left > 60000 ? 60000 : left)) < 0 && errno != EINTR)
			return true;
		if (p[0].revents & POLLIN)
			while (read(d->wake[0], buf, sizeof(buf)) > 0)
				;
		pthread_mutex_lock(&d->lock);
		stop = d->stop;
		kick = d->kick;
		d->kick = false;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			return false;
		if (kick || ((p[1].revents & POLLIN) && discovery_announce(d)))
			return true;
	}
}

static void *discovery_main(void *arg)
{
	struct discovery *d = arg;

	do
		discovery_round(d);
	while (discovery_wait(d));
	return NULL;
}

static void discovery_free(struct discovery *d)
{
	free(d->user);
	free(d->pass);
	free(d->ifbuf);
	free(d->cidrbuf);
	free(d->cams);
	onvif_listener_close(d->listener);
	if (d->wake[0] >= 0) {
		close(d->wake[0]);
		close(d->wake[1]);
	}
	free(d);
}

int discovery_start(const struct discovery_cfg *cfg, struct registry *reg, discovery_changed_fn fn,
		    void *arg, struct discovery **dp)
{
	struct discovery *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->wake[0] = d->wake[1] = -1;
	d->cfg = *cfg;
	d->reg = reg;
	d->fn = fn;
	d->arg = arg;
	d->user = strdup(cfg->username ? cfg->username : "");
	d->pass = strdup(cfg->password ? cfg->password : "");
	d->ifbuf = strdup(cfg->interfaces ? cfg->interfaces : "");
	d->cidrbuf = strdup(cfg->cidrs ? cfg->cidrs : "");
	d->cams = calloc(DISCOVERY_CAMS_MAX, sizeof(*d->cams));
	if (!d->user || !d->pass || !d->ifbuf || !d->cidrbuf || !d->cams) {
		discovery_free(d);
		return -ENOMEM;
	}
	d->cfg.username = *d->user ? d->user : NULL;
	d->cfg.password = d->pass;
	if (split_list(d->ifbuf, d->ifaces, &d->nifaces) ||
	    split_list(d->cidrbuf, d->cidrs, &d->ncidrs)) {
		log_err("discovery: more than %d interfaces or CIDRs", DISCOVERY_LIST_MAX);
		discovery_free(d);
		return -EINVAL;
	}
	pthread_mutex_init(&d->lock, NULL);
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK)) {
		d->wake[0] = d->wake[1] = -1;
		discovery_free(d);
		return -errno;
	}
	/* Without a listener the rounds alone keep the registry true. */
	if (onvif_listener_open(d->nifaces ? d->ifaces : NULL, d->nifaces, &d->listener))
		log_warn("discovery: no Hello/Bye listener; periodic rounds only");
	ret = pthread_create(&d->thread, NULL, discovery_main, d);
	if (ret) {
		log_err("discovery: cannot start its thread: %s", strerror(ret));
		discovery_free(d);
		return -ret;
	}
	*dp = d;
	return 0;
}

void discovery_kick(struct discovery *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->kick = true;
	pthread_mutex_unlock(&d->lock);
	if (write(d->wake[1], "k", 1) < 0)
		log_debug("discovery: wake pipe full");
}

void discovery_stop(struct discovery *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_mutex_unlock(&d->lock);
	if (write(d->wake[1], "s", 1) < 0)
		log_debug("discovery: wake pipe full");
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->lock);
	discovery_free(d);
}
