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
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char *nb;

	if (s->f)
		return fwrite(data, 1, n, s->f);
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

static int get(const struct uplink_cfg *cfg, const char *url, struct sink *s, char *why, size_t cap)
{
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	CURL *h = curl_easy_init();
	long code = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	int ret;

	if (h && hdrs && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write) == CURLE_OK &&
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, s) == CURLE_OK && !tls_apply(h, &cfg->tls) &&
	    !uplink__auth_apply(cfg, h))
		rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	if (rc == CURLE_OK && code >= 200 && code < 300)
		return 0;
	if (rc == CURLE_FAILED_INIT)
		ret = -EINVAL;
	else if (s->over)
		ret = -ENOMEM;
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
	if (rc != CURLE_OK)
		snprintf(why, cap, "%s: %s", url, err[0] ? err : curl_easy_strerror(rc));
	else
		snprintf(why, cap, "%s: HTTP %ld%s", url, code,
			 code == 404 ? " (not at central)" : "");
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
	struct sink s = { 0 };
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
