// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uplink_fetch - folders copied from central (net/uplink_fetch.h).
 */
#include "net/uplink_fetch.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "net/tls.h"
#include "net/uplink.h"
#include "net/uplink_int.h"

#define FETCH_LIST_MAX	 (16u << 20) /* a listing's JSON */
#define FETCH_TIMEOUT_MS 120000
#define FETCH_DEPTH_MAX	 8

struct sink {
	FILE *f;   /* a file, or */
	char *buf; /* a listing in memory */
	size_t len;
	bool over;
	/* uplink_fetch_large() only: */
	uint64_t max, got; /* max 0: no cap */
	int werr;	   /* errno of a failed write */
	uplink_fetch_progress_fn progress;
	void *arg;
	int64_t said_ms; /* monotonic ms of the last progress call */
	const atomic_bool *cancel;
	bool cancelled;
	bool large; /* no total time bound, no credentials beyond base_url */
	bool auth;  /* the [uplink] credentials go with the request */
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, w;
	char *nb;

	if (s->f) {
		if (s->max && s->got + n > s->max) {
			s->over = true;
			return 0;
		}
		w = fwrite(data, 1, n, s->f);
		if (w < n)
			s->werr = ferror(s->f) ? errno : EIO;
		s->got += w;
		return w;
	}
	if (s->len + n > FETCH_LIST_MAX || !(nb = realloc(s->buf, s->len + n + 1))) {
		s->over = true;
		return 0;
	}
	s->buf = nb;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CURLOPT_XFERINFOFUNCTION: refuses an announced size over the cap before
 * a byte of it is stored, and reports progress about once a second. */
static int sink_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	struct sink *s = arg;
	int64_t now;

	(void)ultotal;
	(void)ulnow;
	if (s->cancel && atomic_load(s->cancel)) {
		s->cancelled = true;
		return 1;
	}
	if (s->max && dltotal > 0 && (uint64_t)dltotal > s->max) {
		s->over = true;
		return 1;
	}
	now = mono_ms();
	if (s->progress && dlnow > 0 && now - s->said_ms >= 1000) {
		s->said_ms = now;
		s->progress(s->arg, (uint64_t)dlnow, dltotal > 0 ? (uint64_t)dltotal : 0);
	}
	return 0;
}

/* The options of a large download: abort after stall_timeout without a
 * byte (no bound on the whole: a bundle over a slow link takes long), the
 * connect bound, and progress. True when libcurl took them all. */
static bool fetch_large_opts(const struct uplink_cfg *cfg, CURL *h, struct sink *s)
{
	long stall_s = (long)((cfg->stall_timeout_ms + 999) / 1000);

	return curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s > 0 ? stall_s : 30L) ==
		       CURLE_OK &&
	       (cfg->connect_timeout_ms <= 0 ||
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms) ==
			CURLE_OK) &&
	       curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, sink_progress) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_XFERINFODATA, s) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
}

static int get(const struct uplink_cfg *cfg, const char *url, struct sink *s, char *why, size_t cap)
{
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = curl_slist_append(
		NULL, s->large ? "Accept: application/octet-stream" : "Accept: application/json");
	CURL *h = curl_easy_init();
	long code = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	int ret;

	if (h && hdrs && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->large ? 0L : (long)FETCH_TIMEOUT_MS) ==
		    CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, s) == CURLE_OK && !tls_apply(h, &cfg->tls) &&
	    (!s->auth || !uplink__auth_apply(cfg, h)) && (!s->large || fetch_large_opts(cfg, h, s)))
		rc = curl_easy_perform(h);
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	if (rc == CURLE_OK && code >= 200 && code < 300)
		return 0;
	if (s->cancelled) {
		snprintf(why, cap, "%s: cancelled (camgate stops)", url);
		return -ECANCELED;
	}
	if (code >= 300 && !s->over && !s->werr)
		rc = CURLE_OK; /* a status refused: said as such below */
	if (rc == CURLE_FAILED_INIT)
		ret = -EINVAL;
	else if (s->over)
		ret = s->f ? -EFBIG : -ENOMEM;
	else if (s->werr)
		ret = s->werr == ENOSPC || s->werr == EDQUOT ? -ENOSPC : -EIO;
	else if (rc == CURLE_WRITE_ERROR)
		ret = -EIO;
	else if (rc != CURLE_OK)
		ret = -EHOSTUNREACH;
	else if (code == 404)
		ret = -ENOENT;
	else if (code == 401 || code == 403)
		ret = -EACCES;
	else
		ret = -EPROTO;
	if (ret == -EFBIG)
		snprintf(why, cap, "%s: larger than %llu bytes", url, (unsigned long long)s->max);
	else if (s->werr)
		snprintf(why, cap, "%s: writing the download: %s%s", url, strerror(s->werr),
			 ret == -ENOSPC ? " (disk full)" : "");
	else if (rc != CURLE_OK && s->large)
		snprintf(why, cap, "%s: %s (%s)", url, tls_explain(rc),
			 err[0] ? err : curl_easy_strerror(rc));
	else if (rc != CURLE_OK)
		snprintf(why, cap, "%s: %s", url, err[0] ? err : curl_easy_strerror(rc));
	else
		snprintf(why, cap, "%s: HTTP %ld%s", url, code,
			 code == 404 ? (s->large ? " (not found)" : " (not at central)") : "");
	return ret;
}

static bool below_base(const struct uplink_cfg *cfg, const char *url, char *why, size_t cap)
{
	size_t n = strlen(cfg->base_url ? cfg->base_url : "");

	while (n && cfg->base_url[n - 1] == '/')
		n--;
	if (n && !strncmp(url, cfg->base_url, n) && (url[n] == '/' || !url[n]))
		return true;
	snprintf(why, cap,
		 "%s is not below [uplink] base_url (%s): the uplink's credentials go "
		 "nowhere else",
		 url, cfg->base_url ? cfg->base_url : "not set");
	return false;
}

int uplink_fetch_file(const struct uplink_cfg *cfg, const char *url, const char *path, char *why,
		      size_t cap)
{
	struct sink s = { 0 };
	int ret;

	if (!below_base(cfg, url, why, cap))
		return -EINVAL;
	s.auth = true;
	s.f = fopen(path, "wb");
	if (!s.f) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	ret = get(cfg, url, &s, why, cap);
	if (fclose(s.f) && !ret) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		ret = -EIO;
	}
	return ret;
}

static int fetch_dir(const struct uplink_cfg *cfg, const char *url, const char *dest, int depth,
		     size_t *files, char *why, size_t cap)
{
	struct sink s = { .auth = true };
	const cJSON *e;
	cJSON *list;
	int ret = get(cfg, url, &s, why, cap);

	if (ret) {
		free(s.buf);
		return ret;
	}
	list = s.buf ? cJSON_Parse(s.buf) : NULL;
	free(s.buf);
	if (!cJSON_IsArray(list)) {
		snprintf(why, cap, "%s: not a folder listing (JSON autoindex)", url);
		cJSON_Delete(list);
		return -EPROTO;
	}
	cJSON_ArrayForEach (e, list) {
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
		const char *type =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
		char u[UPLINK_URL_MAX], p[4096];
		bool dir = type && !strcmp(type, "directory");

		/* Only names camgate writes: no '/', '..' or hidden ones. */
		if (!name || !uplink_id_ok(name) || (!dir && (!type || strcmp(type, "file"))))
			continue;
		if (snprintf(u, sizeof(u), "%s%s%s", url, name, dir ? "/" : "") >= (int)sizeof(u) ||
		    snprintf(p, sizeof(p), "%s/%s", dest, name) >= (int)sizeof(p)) {
			snprintf(why, cap, "%s%s: name too long", url, name);
			ret = -ENAMETOOLONG;
		} else if (dir && depth >= FETCH_DEPTH_MAX) {
			snprintf(why, cap, "%s: folders nested too deep", u);
			ret = -EPROTO;
		} else if (dir) {
			ret = fs_mkdir_p(p, 0750);
			if (ret)
				snprintf(why, cap, "%s: %s", p, strerror(-ret));
			else
				ret = fetch_dir(cfg, u, p, depth + 1, files, why, cap);
		} else {
			ret = uplink_fetch_file(cfg, u, p, why, cap);
			*files += !ret;
		}
		if (ret)
			break;
	}
	cJSON_Delete(list);
	return ret;
}

int uplink_fetch_tree(const struct uplink_cfg *cfg, const char *url, const char *dest,
		      size_t *files, char *why, size_t cap)
{
	size_t n = strlen(url);

	*files = 0;
	if (!below_base(cfg, url, why, cap))
		return -EINVAL;
	if (!n || url[n - 1] != '/') {
		snprintf(why, cap, "%s: a folder URL ends in '/'", url);
		return -EINVAL;
	}
	return fetch_dir(cfg, url, dest, 0, files, why, cap);
}

int uplink_fetch_large(const struct uplink_cfg *cfg, const char *url, const char *path,
		       uint64_t max_bytes, uplink_fetch_progress_fn progress, void *arg,
		       const atomic_bool *cancel, char *why, size_t cap)
{
	struct sink s = {
		.large = true, .max = max_bytes, .progress = progress, .arg = arg, .cancel = cancel
	};
	char ignored[8];
	int ret;

	if (!tls_url_ok(url)) {
		snprintf(why, cap, "%s: not an https:// URL", url);
		return -EINVAL;
	}
	/* The credentials only where they belong (T1-T6 hold everywhere). */
	s.auth = cfg->base_url && *cfg->base_url && below_base(cfg, url, ignored, sizeof(ignored));
	s.f = fopen(path, "wbe");
	if (!s.f) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return errno == ENOSPC ? -ENOSPC : -EIO;
	}
	ret = get(cfg, url, &s, why, cap);
	if (fflush(s.f) || fsync(fileno(s.f))) {
		if (!ret) {
			snprintf(why, cap, "%s: %s%s", path, strerror(errno),
				 errno == ENOSPC ? " (disk full)" : "");
			ret = errno == ENOSPC ? -ENOSPC : -EIO;
		}
	}
	if (fclose(s.f) && !ret) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		ret = -EIO;
	}
	if (!ret && progress)
		progress(arg, s.got, s.got);
	return ret;
}
