// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/discovery.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	pthread_cond_t cond;
	bool stop, kick;
	struct onvif_camera *cams; /* DISCOVERY_CAMS_MAX, reused each round */
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
	struct onvif_probe_opts po = {
		.window_ms = (int)d->cfg.probe_window_ms,
		.ifaces = d->nifaces ? d->ifaces : NULL,
		.nifaces = d->nifaces,
		.cidrs = d->cidrs,
		.ncidrs = d->ncidrs,
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
	/* Only after a probe that ran may silence mean "gone". */
	if (!ret && !registry_mark_missing(d->reg, start, time_now_ms(), &gone) && gone > 0)
		d->fn(d->arg, NULL, REGISTRY_GONE);
	log_info("discovery: round done in %lld ms, %zu cameras answered, %d gone",
		 (long long)(time_now_ms() - start), d->n, gone);
}

static void *discovery_main(void *arg)
{
	struct discovery *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct timespec until;

		pthread_mutex_unlock(&d->lock);
		discovery_round(d);
		pthread_mutex_lock(&d->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += d->cfg.interval_ms / 1000;
		until.tv_nsec += (d->cfg.interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!d->stop && !d->kick &&
		       pthread_cond_timedwait(&d->cond, &d->lock, &until) != ETIMEDOUT)
			;
		d->kick = false;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void discovery_free(struct discovery *d)
{
	free(d->user);
	free(d->pass);
	free(d->ifbuf);
	free(d->cidrbuf);
	free(d->cams);
	free(d);
}

int discovery_start(const struct discovery_cfg *cfg, struct registry *reg, discovery_changed_fn fn,
		    void *arg, struct discovery **dp)
{
	struct discovery *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;
	int ret;

	if (!d)
		return -ENOMEM;
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
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
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
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void discovery_stop(struct discovery *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	discovery_free(d);
}
