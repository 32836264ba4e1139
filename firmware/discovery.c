// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/discovery.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif.h"
#include "lib/log.h"
#include "lib/parse.h"

#define DISCOVERY_LIST_MAX 16  /* interfaces, and CIDRs */
#define DISCOVERY_CAMS_MAX 256 /* interrogated per round */
#define DISCOVERY_JOBS	   8

/* A known camera refusing the [onvif] credentials, rounds in a row. */
struct discovery_refused {
	char name[REGISTRY_NAME_MAX];
	unsigned int rounds;
};

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
	bool stop;
	int wake[2];			 /* stop wakes the poll */
	struct onvif_listener *listener; /* Hello/Bye between rounds; may be NULL */
	struct onvif_camera *cams;	 /* DISCOVERY_CAMS_MAX, reused each round */
	int rets[DISCOVERY_CAMS_MAX];
	char (*bases)[REGISTRY_NAME_MAX];   /* DISCOVERY_CAMS_MAX; plain names this round */
	char (*missing)[REGISTRY_NAME_MAX]; /* DISCOVERY_CAMS_MAX; gone candidates */
	size_t n;
	struct onvif_pool *pool;
	struct discovery_refused *refused; /* DISCOVERY_CAMS_MAX */
	size_t nrefused;
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

/* R11 health: camera @name refused the credentials this round (or took
 * them: @refused false); tells the daemon how many rounds in a row. */
static void discovery_auth(struct discovery *d, const char *name, bool refused)
{
	unsigned int rounds = 0;
	size_t i;

	for (i = 0; i < d->nrefused && strcmp(d->refused[i].name, name); i++)
		;
	if (refused && i == d->nrefused && i < DISCOVERY_CAMS_MAX) {
		snprintf(d->refused[i].name, sizeof(d->refused[i].name), "%s", name);
		d->refused[i].rounds = 0;
		d->nrefused++;
	}
	if (i < d->nrefused) {
		if (refused)
			rounds = ++d->refused[i].rounds;
		else
			d->refused[i] = d->refused[--d->nrefused];
	}
	if (d->cfg.auth_refused)
		d->cfg.auth_refused(d->arg, name, rounds);
}

/* How many answers of this round would get the plain name @base. */
static size_t discovery_same_base(const struct discovery *d, const char *base)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n; i++)
		if (!d->rets[i] && !strcmp(d->bases[i], base))
			k++;
	return k;
}

static void discovery_observe(struct discovery *d, int64_t now)
{
	struct registry_camera *seen = malloc(sizeof(*seen));

	if (!seen) {
		log_err("discovery: out of memory");
		return;
	}
	/* Names must not depend on the answers' order: first every plain
	 * name, then cameras sharing one get the suffixed names. */
	for (size_t i = 0; i < d->n; i++) {
		if (d->rets[i])
			continue;
		registry_from_onvif(&d->cams[i], seen);
		registry_new_name(seen, false, d->bases[i]);
	}
	for (size_t i = 0; i < d->n; i++) {
		struct onvif_camera *c = &d->cams[i];
		enum registry_event ev;
		char name[REGISTRY_NAME_MAX];

		if (d->rets[i]) {
			if (d->rets[i] == -EACCES &&
			    !registry_endpoint_name(d->reg, c->found.endpoint, name))
				discovery_auth(d, name, true);
			log_warn("discovery: %s at %s not interrogated: %s%s", c->found.endpoint,
				 c->found.peer, c->error[0] ? c->error : strerror(-d->rets[i]),
				 d->cfg.username && *d->cfg.username
					 ? ""
					 : " (no [onvif] username set)");
			continue;
		}
		registry_from_onvif(c, seen);
		if (discovery_same_base(d, d->bases[i]) > 1)
			registry_new_name(seen, true, seen->name);
		if (registry_observe(d->reg, seen, now, &ev, name))
			continue;
		discovery_auth(d, name, false);
		if (ev != REGISTRY_UNCHANGED) {
			log_notice("discovery: camera %s %s (%s %s at %s)", name,
				   registry_event_name(ev), c->info.manufacturer, c->info.model,
				   c->found.peer);
			d->fn(d->arg, name, ev, "");
		}
	}
	free(seen);
}

/* Does the camera's device service still answer, asked directly? */
static bool discovery_endpoint_answers(struct discovery *d, const struct registry_camera *c)
{
	struct onvif_dev *dev;
	int ret;

	if (!c->xaddr[0] || onvif_dev_open(c->xaddr, c->ip[0] ? c->ip : NULL, &dev))
		return false;
	onvif_dev_set_credentials(dev, d->user, d->pass);
	onvif_dev_set_timeout(dev, (int)d->cfg.call_timeout_ms);
	ret = onvif_sync_clock(dev, NULL);
	onvif_dev_close(dev);
	return ret == 0;
}

/* Camera @name is silent (@rounds missed, or 0 after its Bye): gone only
 * when neither its ONVIF endpoint nor its stream answers. */
static void discovery_judge(struct discovery *d, const char *name, int64_t rounds)
{
	struct registry_camera *c = malloc(sizeof(*c));
	char why[REGISTRY_TEXT_MAX], since[40] = "", when[32];
	int64_t down = 0;
	int sd = -ENOENT;

	if (!c) {
		log_err("discovery: out of memory");
		return;
	}
	if (registry_get(d->reg, name, c) || c->gone)
		goto out;
	/* After its own Bye the camera's word is the ONVIF evidence. */
	if (rounds && discovery_endpoint_answers(d, c)) {
		log_info("discovery: %s missed %lld rounds but its ONVIF endpoint answers: present",
			 name, (long long)rounds);
		goto out;
	}
	if (d->cfg.stream_down)
		sd = d->cfg.stream_down(d->arg, name, &down);
	if (sd == 0) {
		log_info("discovery: %s is silent but its stream delivers: present", name);
		goto out;
	}
	if (sd == 1 && down > 0) {
		format_time_ms(down, when, sizeof(when));
		snprintf(since, sizeof(since), " since %s", when);
	}
	if (rounds)
		snprintf(why, sizeof(why),
			 "no answer to %lld discovery rounds and %s unreachable%s",
			 (long long)c->missed_rounds, sd == 1 ? "RTSP" : "ONVIF", since);
	else if (sd == 1)
		snprintf(why, sizeof(why), "said Bye and RTSP unreachable%s", since);
	else
		snprintf(why, sizeof(why), "said Bye");
	if (registry_set_gone(d->reg, name, why, time_now_ms()))
		goto out;
	log_notice("discovery: camera %s gone: %s", name, why);
	d->fn(d->arg, name, REGISTRY_GONE, why);
out:
	free(c);
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
	size_t nmissing = 0;
	int ret;

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
	/* Only after a probe that ran, and asked every host of its sweep,
	 * may silence count (a host never asked is not absent); and silence
	 * alone never makes a camera gone (discovery_judge). */
	if (!ret && !sw.failed &&
	    !registry_count_missed(d->reg, start, time_now_ms(), DISCOVERY_GONE_ROUNDS, d->missing,
				   DISCOVERY_CAMS_MAX, &nmissing))
		for (size_t i = 0; i < nmissing; i++)
			discovery_judge(d, d->missing[i], DISCOVERY_GONE_ROUNDS);
	if (d->ncidrs)
		log_info(
			"discovery: round done in %lld ms, %zu cameras answered, %zu silent for %d "
			"rounds; %llu addresses probed, %llu probes failed%s",
			(long long)(time_now_ms() - start), d->n, nmissing, DISCOVERY_GONE_ROUNDS,
			(unsigned long long)sw.probed, (unsigned long long)sw.failed,
			sw.failed ? " (silence not counted)" : "");
	else
		log_info(
			"discovery: round done in %lld ms, %zu cameras answered, %zu silent for %d "
			"rounds",
			(long long)(time_now_ms() - start), d->n, nmissing, DISCOVERY_GONE_ROUNDS);
}

/* Hello: run a round now (the camera is new or back). Bye: gone at once. */
static bool discovery_announce(struct discovery *d)
{
	struct onvif_announce ev;
	char name[REGISTRY_NAME_MAX];
	bool round = false;
	int ret;

	while ((ret = onvif_listener_read(d->listener, &ev)) != -EAGAIN) {
		if (ret)
			continue;
		if (ev.kind == ONVIF_HELLO) {
			log_info("discovery: Hello from %s", ev.dev.endpoint);
			round = true;
		} else if (!registry_endpoint_name(d->reg, ev.dev.endpoint, name)) {
			log_notice("discovery: Bye from %s (%s)", ev.dev.endpoint, name);
			discovery_judge(d, name, 0);
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
		bool stop;

		if (left <= 0)
			return true;
		if (poll(p, 2, (int)(left > 60000 ? 60000 : left)) < 0 && errno != EINTR)
			return true;
		if (p[0].revents & POLLIN)
			while (read(d->wake[0], buf, sizeof(buf)) > 0)
				;
		pthread_mutex_lock(&d->lock);
		stop = d->stop;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			return false;
		if ((p[1].revents & POLLIN) && discovery_announce(d))
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
	free(d->bases);
	free(d->missing);
	free(d->refused);
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
	d->bases = calloc(DISCOVERY_CAMS_MAX, sizeof(*d->bases));
	d->missing = calloc(DISCOVERY_CAMS_MAX, sizeof(*d->missing));
	d->refused = calloc(DISCOVERY_CAMS_MAX, sizeof(*d->refused));
	if (!d->user || !d->pass || !d->ifbuf || !d->cidrbuf || !d->cams || !d->bases ||
	    !d->missing || !d->refused) {
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
