// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_update - updates in `camgate run` (docs/operations.md, "Update"):
 * central's `update` command (a row of daemon_policy.c's table), the trial
 * boot after an update (firmware/update_health.h), and the status object's
 * "update" member.
 *
 * Threads: gw_cmd_update() runs on the uplink thread and only starts the
 * job: the download, `rauc info` and `rauc install` take minutes, on a
 * thread of their own, one at a time (the command is refused while one
 * runs). The trial runs on a second thread: it asks rauc, watches the
 * health the main thread measures each status tick (gw_update_tick(), an
 * atomic flag) and runs `rauc status mark-good` or `mark-bad` and the
 * reboot; the main and uplink threads never wait for rauc. What the
 * status object shows is under u->lock (any thread).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware/audit.h"
#include "firmware/config.h"
#include "firmware/config_uplink.h"
#include "firmware/daemon_int.h"
#include "firmware/liveness.h"
#include "firmware/update.h"
#include "firmware/update_health.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "net/tls.h"
#include "net/uplink.h"
#include "drivers/stream/stream.h"
#include "version.h"

#define TRIAL_POLL_MS 500

struct gw_update {
	struct gw *gw;
	pthread_mutex_t lock; /* the fields below it */
	enum update_state state;
	char detail[512], source[1024], actor[64], version[128];
	uint64_t got, total;
	int64_t time_ms;
	/* The job (central's command). */
	atomic_bool busy;
	bool job_started; /* a thread to join */
	pthread_t job;
	char *config_path; /* owned copies for the job */
	char *url, *sha256;
	bool force;
	/* The trial. */
	bool trial_started;
	pthread_t trial;
	atomic_bool stop;
	pthread_cond_t wake; /* with lock: the trial's poll, cut short by a stop */
	/* Copies: a reload frees gw->cfg. */
	char state_dir[256], reboot[256];
	int64_t healthy_after_ms, trial_timeout_ms;
	atomic_bool healthy;	       /* main thread: gw_update_tick() */
	_Atomic int64_t trial_wall_ms; /* when the trial began (UTC ms); 0: none */
	char health_why[256];	       /* under lock */
};

/* The status object's view of one step; pushed at once on a change of
 * state (progress waits for the next tick). */
static void show(struct gw_update *u, enum update_state st, const char *detail, uint64_t got,
		 uint64_t total)
{
	bool changed;
	struct gw *gw = u->gw;

	pthread_mutex_lock(&u->lock);
	changed = u->state != st;
	u->state = st;
	if (detail && (*detail || changed))
		snprintf(u->detail, sizeof(u->detail), "%s", detail);
	if (st == UPDATE_DOWNLOADING) {
		u->got = got;
		u->total = total;
	}
	u->time_ms = time_now_ms();
	pthread_mutex_unlock(&u->lock);
	if (changed && gw_up_tryrdlock(gw)) {
		if (gw->up)
			uplink_status_now(gw->up);
		gw_up_unlock(gw);
	}
}

static void job_step(void *arg, enum update_state st, const char *detail, uint64_t got,
		     uint64_t total)
{
	struct gw_update *u = arg;

	if (st == UPDATE_INSTALLING) { /* its detail is the bundle's version */
		pthread_mutex_lock(&u->lock);
		snprintf(u->version, sizeof(u->version), "%s", detail);
		pthread_mutex_unlock(&u->lock);
	}
	show(u, st, detail, got, total);
}

static void *job_main(void *arg)
{
	struct gw_update *u = arg;
	struct gw *gw = u->gw;
	struct config *cfg = NULL;
	struct uplink_cfg ucfg;
	char why[1024];
	int ret;

	/* The job's own copy of the settings: a reload frees gw->cfg. */
	ret = u->config_path ? config_load(u->config_path, &cfg) : config_defaults(&cfg);
	if (ret) {
		snprintf(why, sizeof(why), "the configuration could not be read: %s",
			 strerror(-ret));
		audit_record(gw->sdb, 0, "central", "update-failed", u->url, why);
		show(u, UPDATE_FAILED, why, 0, 0);
	} else {
		struct update_req rq = {
			.sdb = gw->sdb,
			.actor = "central",
			.source = u->url,
			.keyring = cfg->update.keyring,
			.sha256 = u->sha256,
			.state_dir = cfg->state_dir,
			.ucfg = &ucfg,
			.max_bytes = cfg->update.max_size,
			.force = u->force,
			.step = job_step,
			.arg = u,
			.cancel = &u->stop,
		};

		config_uplink_fill(cfg, &ucfg);
		ret = update_run(&rq, why, sizeof(why));
		if (!ret)
			log_notice("update from %s: %s", u->url, why);
	}
	config_free(cfg);
	atomic_store(&u->busy, false);
	return NULL;
}

static void job_free(struct gw_update *u)
{
	if (u->job_started)
		pthread_join(u->job, NULL);
	u->job_started = false;
	free(u->config_path);
	free(u->url);
	free(u->sha256);
	u->config_path = u->url = u->sha256 = NULL;
}

/* Central's `update` {"url", "sha256"?, "force"?}: starts the job and
 * says so; its steps go to the status object and the audit log.
 * Uplink thread. */
int gw_cmd_update(struct gw *gw, const cJSON *args, char *msg, size_t cap)
{
	struct gw_update *u = gw->upd;
	const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "url"));
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(args, "sha256");
	const cJSON *force = cJSON_GetObjectItemCaseSensitive(args, "force");
	uint8_t digest[32];
	bool expected = false;

	if (!u)
		return -ENODEV;
	if (!url || !tls_url_ok(url) ||
	    (sha && (!cJSON_IsString(sha) || strlen(sha->valuestring) != 64 ||
		     hex_decode(sha->valuestring, digest, 32))) ||
	    (force && !cJSON_IsBool(force))) {
		snprintf(msg, cap,
			 "args must hold \"url\" (https:// URL of the bundle), optionally "
			 "\"sha256\" (64 hex digits) and \"force\" (true or false)");
		return -EINVAL;
	}
	if (!atomic_compare_exchange_strong(&u->busy, &expected, true)) {
		pthread_mutex_lock(&u->lock);
		snprintf(msg, cap, "an update is running (%s %s): one at a time",
			 update_state_name(u->state), u->source);
		pthread_mutex_unlock(&u->lock);
		return -EBUSY;
	}
	job_free(u); /* the previous job's thread has ended (busy was false) */
	u->config_path = gw->cfg->path ? strdup(gw->cfg->path) : NULL;
	u->url = strdup(url);
	u->sha256 = sha ? strdup(sha->valuestring) : NULL;
	u->force = cJSON_IsTrue(force);
	pthread_mutex_lock(&u->lock);
	snprintf(u->source, sizeof(u->source), "%s", url);
	snprintf(u->actor, sizeof(u->actor), "central");
	u->version[0] = 0;
	u->got = u->total = 0;
	pthread_mutex_unlock(&u->lock);
	if (!u->url || (sha && !u->sha256) || (gw->cfg->path && !u->config_path) ||
	    pthread_create(&u->job, NULL, job_main, u)) {
		atomic_store(&u->busy, false);
		snprintf(msg, cap, "the update could not be started");
		return -ENOMEM;
	}
	u->job_started = true;
	snprintf(msg, cap,
		 "update from %s started%s: its steps are in the status object (update) and "
		 "the audit log",
		 url, u->force ? " (a downgrade allowed)" : "");
	return 0;
}

/* `rauc status mark-good` or `mark-bad booted`: 0, or -EIO with @why. */
static int rauc_mark(bool good, char *why, size_t cap)
{
	char *argv[] = { (char *)update_rauc(), "status", good ? "mark-good" : "mark-bad",
			 good ? NULL : "booted", NULL };
	char out[1024];
	int st = update_spawn(argv, out, sizeof(out));

	if (!st)
		return 0;
	out[strcspn(out, "\n")] = 0;
	snprintf(why, cap, "rauc status %s: %.200s", good ? "mark-good" : "mark-bad",
		 *out ? out : "failed");
	return -EIO;
}

static void record(struct gw_update *u, struct update_record *rec, enum update_state st,
		   const char *detail)
{
	snprintf(rec->state, sizeof(rec->state), "%s", update_state_name(st));
	snprintf(rec->detail, sizeof(rec->detail), "%s", detail);
	rec->time_ms = 0;
	if (update_record_write(u->state_dir, rec))
		log_warn("update: the update record could not be written");
}

/* The decision taken: audited, recorded, shown. */
static void decide(struct gw_update *u, struct update_record *rec, bool good, int64_t secs)
{
	struct gw *gw = u->gw;
	char detail[512], why[300], health[256];
	int ret = rauc_mark(good, why, sizeof(why));

	pthread_mutex_lock(&u->lock);
	snprintf(health, sizeof(health), "%s", u->health_why);
	pthread_mutex_unlock(&u->lock);
	if (good && ret) { /* tried again at the next look, until the timeout */
		log_err("update: %s", why);
		return;
	}
	if (good) {
		snprintf(detail, sizeof(detail), "%s healthy for %lld s: slot marked good",
			 CAMGATE_VERSION, (long long)secs);
		audit_record(gw->sdb, 0, "system", "update-good", CAMGATE_VERSION, detail);
		record(u, rec, UPDATE_GOOD, detail);
		show(u, UPDATE_GOOD, detail, 0, 0);
		log_notice("update: %s", detail);
		return;
	}
	snprintf(detail, sizeof(detail),
		 "%s not healthy within %lld s (%.150s): slot marked bad%s%.150s; rebooting into "
		 "the "
		 "previous slot",
		 CAMGATE_VERSION, (long long)secs, *health ? health : "never healthy",
		 ret ? ", but " : "", ret ? why : "");
	audit_record(gw->sdb, 0, "system", "update-rolled-back", CAMGATE_VERSION, detail);
	record(u, rec, UPDATE_ROLLED_BACK, detail);
	show(u, UPDATE_ROLLED_BACK, detail, 0, 0);
	log_err("update: %s", detail);
	{
		char *argv[] = { "/bin/sh", "-c", u->reboot, NULL };
		char out[512];
		int st = update_spawn(argv, out, sizeof(out));

		out[strcspn(out, "\n")] = 0;
		audit_record(gw->sdb, 0, "system", "update-reboot", u->reboot,
			     st ? (*out ? out : "the reboot command failed") : "reboot asked for");
	}
}

/* TRIAL_POLL_MS, or less when the daemon stops. */
static void trial_wait(struct gw_update *u, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&u->lock);
	if (!atomic_load(&u->stop))
		pthread_cond_timedwait(&u->wake, &u->lock, &ts);
	pthread_mutex_unlock(&u->lock);
}

static void *trial_main(void *arg)
{
	struct gw_update *u = arg;
	struct gw *gw = u->gw;
	struct update_record rec;
	struct update_trial t;
	char booted[32], why[256], detail[512];
	bool good = false, have = !update_record_read(u->state_dir, &rec);
	bool known = !update_slot_booted(&good, booted, sizeof(booted), why, sizeof(why));
	int64_t now = time_now_ms(), elapsed = 0;
	enum update_boot kind;

	if (!known)
		log_info("update: rauc cannot say which slot booted (%s): a trial is decided by "
			 "the update record alone",
			 why);
	kind = update_boot_kind(have ? &rec : NULL, CAMGATE_VERSION, known, good);
	if (kind == UPDATE_BOOT_FELL_BACK) {
		snprintf(detail, sizeof(detail),
			 "the trial of %s did not end good: the bootloader booted %s again",
			 rec.version, CAMGATE_VERSION);
		audit_record(gw->sdb, 0, "system", "update-rolled-back", rec.version, detail);
		record(u, &rec, UPDATE_ROLLED_BACK, detail);
		show(u, UPDATE_ROLLED_BACK, detail, 0, 0);
	}
	if (kind != UPDATE_BOOT_TRIAL)
		return NULL;
	if (!have) { /* rauc's word alone */
		memset(&rec, 0, sizeof(rec));
		snprintf(rec.version, sizeof(rec.version), "%s", CAMGATE_VERSION);
		snprintf(rec.actor, sizeof(rec.actor), "system");
	}
	if (strcmp(rec.state, update_state_name(UPDATE_TRIAL))) {
		snprintf(detail, sizeof(detail),
			 "trial boot of %s (slot %s): healthy for %lld s marks it good, not "
			 "good within %lld s rolls back",
			 CAMGATE_VERSION, known ? booted : "?",
			 (long long)(u->healthy_after_ms / 1000),
			 (long long)(u->trial_timeout_ms / 1000));
		audit_record(gw->sdb, 0, "system", "update-trial", CAMGATE_VERSION, detail);
		record(u, &rec, UPDATE_TRIAL, detail); /* its time_ms: when it began */
		rec.time_ms = now;
	} else {
		elapsed = now - rec.time_ms; /* a restart within the trial */
		snprintf(detail, sizeof(detail), "trial boot of %s continues", CAMGATE_VERSION);
	}
	atomic_store(&u->trial_wall_ms, now - (elapsed > 0 ? elapsed : 0));
	show(u, UPDATE_TRIAL, detail, 0, 0);
	update_trial_init(&t, time_mono_ms(), elapsed, u->healthy_after_ms, u->trial_timeout_ms);
	while (!atomic_load(&u->stop)) {
		int64_t mono = time_mono_ms();
		enum update_verdict v = update_trial_step(&t, mono, atomic_load(&u->healthy));

		if (v != UPDATE_WAIT) {
			decide(u, &rec, v == UPDATE_MARK_GOOD, (mono - t.start_ms) / 1000);
			pthread_mutex_lock(&u->lock);
			v = u->state == UPDATE_TRIAL ? UPDATE_WAIT : v;
			pthread_mutex_unlock(&u->lock);
			if (v != UPDATE_WAIT)
				break;
		}
		trial_wait(u, TRIAL_POLL_MS);
	}
	return NULL;
}

void gw_update_start(struct gw *gw)
{
	struct gw_update *u = calloc(1, sizeof(*u));
	struct update_record rec;

	if (!u) {
		log_err("update: out of memory: no updates from central, no trial boot");
		return;
	}
	u->gw = gw;
	pthread_mutex_init(&u->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&u->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	snprintf(u->state_dir, sizeof(u->state_dir), "%s", gw->cfg->state_dir);
	snprintf(u->reboot, sizeof(u->reboot), "%s", gw->cfg->update.reboot_command);
	u->healthy_after_ms = gw->cfg->update.healthy_after_ms;
	u->trial_timeout_ms = gw->cfg->update.trial_timeout_ms;
	if (!update_record_read(gw->cfg->state_dir, &rec)) {
		int st = update_state_parse(rec.state);

		u->state = st > 0 ? (enum update_state)st : UPDATE_IDLE;
		snprintf(u->detail, sizeof(u->detail), "%s", rec.detail);
		snprintf(u->version, sizeof(u->version), "%s", rec.version);
		snprintf(u->actor, sizeof(u->actor), "%s", rec.actor);
		u->time_ms = rec.time_ms;
	}
	gw->upd = u;
	u->trial_started = !pthread_create(&u->trial, NULL, trial_main, u);
	if (!u->trial_started)
		log_err("update: the trial thread could not start");
}

void gw_update_stop(struct gw *gw)
{
	struct gw_update *u = gw->upd;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	atomic_store(&u->stop, true);
	pthread_cond_broadcast(&u->wake);
	pthread_mutex_unlock(&u->lock);
	if (u->trial_started)
		pthread_join(u->trial, NULL);
	job_free(u); /* a download stops; an install in progress is waited for */
	pthread_cond_destroy(&u->wake);
	pthread_mutex_destroy(&u->lock);
	gw->upd = NULL;
	free(u);
}

/* The health of this moment for a trial (update_health.h); main thread,
 * each status tick, after gw_watch_cameras(). */
void gw_update_tick(struct gw *gw)
{
	struct gw_update *u = gw->upd;
	int64_t since = u ? atomic_load(&u->trial_wall_ms) : 0;
	char live_why[128] = "", why[256];
	struct update_signals s = { .live_why = live_why };
	struct uplink_stat us;
	bool ok;

	if (!since)
		return; /* no trial */
	s.live_ok = liveness_ok(gw->live, live_why, sizeof(live_why));
	s.uplink = gw->up != NULL;
	s.central_reached = s.uplink && !uplink_stat(gw->up, &us) && us.last_success_ms >= since;
	s.cameras = gw->ncams;
	for (size_t i = 0; i < gw->ncams; i++) {
		struct stream_stats st;

		stream_get_stats(gw->cams[i]->stream, &st);
		s.recording += gw->cams[i]->recorded && !st.down_since_utc_ms;
	}
	ok = update_healthy(&s, why, sizeof(why));
	pthread_mutex_lock(&u->lock);
	snprintf(u->health_why, sizeof(u->health_why), "%s", ok ? "" : why);
	pthread_mutex_unlock(&u->lock);
	atomic_store(&u->healthy, ok);
}

/* status.update (docs/schema/status.schema.json). Uplink thread. */
void gw_update_status(struct gw *gw, cJSON *status)
{
	struct gw_update *u = gw->upd;
	cJSON *o;

	if (!u || !(o = cJSON_AddObjectToObject(status, "update")))
		return;
	pthread_mutex_lock(&u->lock);
	cJSON_AddStringToObject(o, "state", update_state_name(u->state));
	cJSON_AddStringToObject(o, "running", CAMGATE_VERSION);
	if (*u->detail)
		cJSON_AddStringToObject(o, "detail", u->detail);
	if (*u->source)
		cJSON_AddStringToObject(o, "source", u->source);
	if (*u->version)
		cJSON_AddStringToObject(o, "version", u->version);
	if (*u->actor)
		cJSON_AddStringToObject(o, "actor", u->actor);
	if (u->state == UPDATE_DOWNLOADING || u->got) {
		cJSON_AddNumberToObject(o, "bytes", (double)u->got);
		if (u->total)
			cJSON_AddNumberToObject(o, "total_bytes", (double)u->total);
	}
	if (u->state == UPDATE_TRIAL && *u->health_why)
		cJSON_AddStringToObject(o, "health", u->health_why);
	if (u->time_ms)
		cJSON_AddNumberToObject(o, "time_ms", (double)u->time_ms);
	pthread_mutex_unlock(&u->lock);
}
