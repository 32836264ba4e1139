// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_pool - interrogate many cameras at once, starting while discovery
 * is still listening. Each camera is a few round trips of milliseconds,
 * but one slow or unreachable camera costs a whole timeout: workers keep
 * the rest moving. Each worker owns the struct onvif_dev it opens; the
 * shared state is the queue, under one mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

struct pool_item {
	struct onvif_camera *cam;
	int *retp;
};

struct onvif_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pool_item q[ONVIF_PROBE_DEVICES_MAX];
	size_t head, tail; /* under lock; tail - head items queued */
	bool closing;	   /* under lock */
	pthread_t th[ONVIF_JOBS_MAX];
	int nth;
	char user[ONVIF_USER_MAX], pass[ONVIF_PASS_MAX];
	int timeout_ms;
};

static int one(struct onvif_pool *p, struct onvif_camera *cam)
{
	struct onvif_dev *dev;
	int ret;

	if (!cam->found.xaddr[0]) {
		onvif__copy(cam->error, sizeof(cam->error), "no usable device service address");
		return -ENOENT;
	}
	ret = onvif_dev_open(cam->found.xaddr, cam->found.peer[0] ? cam->found.peer : NULL, &dev);
	if (ret) {
		onvif__copy(cam->error, sizeof(cam->error), "bad device service address");
		return ret;
	}
	ret = onvif_dev_set_credentials(dev, p->user, p->pass);
	if (!ret) {
		onvif_dev_set_timeout(dev, p->timeout_ms);
		ret = onvif_interrogate(dev, cam);
	}
	onvif_dev_close(dev);
	return ret;
}

/* Next item, or false once closing and empty. */
static bool take(struct onvif_pool *p, struct pool_item *it)
{
	bool got;

	pthread_mutex_lock(&p->lock);
	while (p->head == p->tail && !p->closing)
		pthread_cond_wait(&p->cond, &p->lock);
	got = p->head != p->tail;
	if (got)
		*it = p->q[p->head++ % ONVIF_PROBE_DEVICES_MAX];
	pthread_mutex_unlock(&p->lock);
	return got;
}

static void *worker(void *arg)
{
	struct onvif_pool *p = arg;
	struct pool_item it;

	while (take(p, &it))
		*it.retp = one(p, it.cam);
	return NULL;
}

int onvif_pool_start(const char *user, const char *pass, int timeout_ms, int jobs,
		     struct onvif_pool **pp)
{
	struct onvif_pool *p;

	if ((user && strlen(user) >= ONVIF_USER_MAX) || (pass && strlen(pass) >= ONVIF_PASS_MAX))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	onvif__copy(p->user, sizeof(p->user), user);
	onvif__copy(p->pass, sizeof(p->pass), user ? pass : "");
	p->timeout_ms = timeout_ms;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	jobs = jobs < 1 ? 1 : jobs > ONVIF_JOBS_MAX ? ONVIF_JOBS_MAX : jobs;
	for (; p->nth < jobs; p->nth++) {
		int ret = pthread_create(&p->th[p->nth], NULL, worker, p);

		if (ret) {
			log_warn("onvif: worker thread: %s", strerror(ret));
			break;
		}
	}
	*pp = p;
	return 0;
}

int onvif_pool_add(struct onvif_pool *p, struct onvif_camera *cam, int *retp)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->tail - p->head >= ONVIF_PROBE_DEVICES_MAX) {
		ret = -ENOBUFS;
	} else {
		p->q[p->tail++ % ONVIF_PROBE_DEVICES_MAX] = (struct pool_item){ cam, retp };
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void onvif_pool_finish(struct onvif_pool *p)
{
	struct pool_item it;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	/* No thread could start: do the work here. */
	while (!p->nth && take(p, &it))
		*it.retp = one(p, it.cam);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	explicit_bzero(p->pass, sizeof(p->pass));
	free(p);
}
