// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `camgate discover`: find the ONVIF cameras on the LAN and show what each
 * is, how it authenticates, how far its clock is off and where its streams
 * are, so an installer never types an RTSP URL. Read-only: nothing is
 * recorded (the daemon's registry does that).
 *
 * Sends WS-Discovery multicast on the chosen interfaces: run it on the
 * camera network, never on a build machine's own.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/onvif/onvif.h"
#include "firmware/cmd.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/termsafe.h"
#include "lib/url.h"

#define DISCOVER_CAMERAS_MAX 256
#define DISCOVER_LIST_MAX    16 /* --iface and --cidr each */
#define DISCOVER_JOBS	     8

static const char discover_usage[] =
	"usage: camgate discover [--json] [--timeout S] [--iface X]... [--cidr A/B]...\n"
	"                        [--user U] [--password-file F] [--call-timeout S]\n"
	"                        [--jobs N] [--no-details] [--watch S]\n\n"
	"  --timeout S         probe window (2s; \"500ms\", \"3\" ...)\n"
	"  --iface X           multicast on X only (repeatable; default every up,\n"
	"                      non-loopback, multicast interface)\n"
	"  --cidr A/B          also probe every host of A/B by unicast (repeatable;\n"
	"                      networks that block multicast); at most 4096 hosts\n"
	"  --no-multicast      CIDR sweep only\n"
	"  --rate N            CIDR probes per second at most (200, up to 10000)\n"
	"  --user U            camera account; the password is read from the first\n"
	"  --password-file F   line of F, or $CAMGATE_ONVIF_PASSWORD\n"
	"  --call-timeout S    per ONVIF request (5s)\n"
	"  --jobs N            cameras interrogated at once (8)\n"
	"  --no-details        discovery only, no device calls\n"
	"  --watch S           then print Hello/Bye announcements for S seconds\n\n"
	"Prints per camera: identity, the auth method that worked, the clock offset\n"
	"and the stream URIs (rewritten where the camera reports an address the\n"
	"gateway cannot reach; the raw value follows).\n";

struct discover_opts {
	bool json, details, no_multicast;
	int64_t window_ms, call_ms, watch_ms;
	int64_t jobs, rate;
	const char *ifaces[DISCOVER_LIST_MAX];
	size_t nifaces;
	const char *cidrs[DISCOVER_LIST_MAX];
	size_t ncidrs;
	const char *user;
	char pass[128];
};

struct found_set {
	struct onvif_camera *cams;
	int *rets;
	size_t n;
	bool full;
	struct onvif_pool *pool; /* NULL with --no-details */
};

static int on_found(void *arg, const struct onvif_found *f)
{
	struct found_set *s = arg;

	if (s->n >= DISCOVER_CAMERAS_MAX) {
		s->full = true;
		return 1;
	}
	memset(&s->cams[s->n], 0, sizeof(s->cams[s->n]));
	s->cams[s->n].found = *f;
	/* Interrogate now, while the probe still listens for others. */
	if (s->pool)
		onvif_pool_add(s->pool, &s->cams[s->n], &s->rets[s->n]);
	s->n++;
	return 0;
}

static int read_password(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");

	if (!f) {
		log_err("discover: %s: %m", path);
		return -errno;
	}
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int add_list(const char **list, size_t *n, const char *v, const char *what)
{
	if (*n >= DISCOVER_LIST_MAX) {
		log_err("discover: at most %d %s", DISCOVER_LIST_MAX, what);
		return -E2BIG;
	}
	list[(*n)++] = v;
	return 0;
}

/* A bad option value: say which and what it wants (exit 2 follows). */
static int bad_value(const char *opt, const char *val, const char *want)
{
	log_err("discover: %s wants %s, not '%s'", opt, want, val);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct discover_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "iface", required_argument, NULL, 'i' },
		{ "cidr", required_argument, NULL, 'c' },
		{ "no-multicast", no_argument, NULL, 'M' },
		{ "rate", required_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "call-timeout", required_argument, NULL, 'T' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "no-details", no_argument, NULL, 'D' },
		{ "watch", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("CAMGATE_ONVIF_PASSWORD");
	int c, ret = 0;

	if (env)
		snprintf(o->pass, sizeof(o->pass), "%s", env);
	while (!ret && (c = cmd_getopt("discover", argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 't':
			if (parse_duration_ms(optarg, &o->window_ms) || o->window_ms < 100 ||
			    o->window_ms > 60000)
				ret = bad_value("--timeout", optarg, "a duration of 100ms to 60s");
			break;
		case 'T':
			if (parse_duration_ms(optarg, &o->call_ms) || o->call_ms < 100 ||
			    o->call_ms > 120000)
				ret = bad_value("--call-timeout", optarg,
						"a duration of 100ms to 120s");
			break;
		case 'J':
			if (parse_i64(optarg, 1, ONVIF_JOBS_MAX, &o->jobs)) {
				log_err("discover: --jobs wants 1 to %d cameras at once, not '%s'",
					ONVIF_JOBS_MAX, optarg);
				ret = -EINVAL;
			}
			break;
		case 'i':
			ret = add_list(o->ifaces, &o->nifaces, optarg, "--iface");
			break;
		case 'c':
			ret = add_list(o->cidrs, &o->ncidrs, optarg, "--cidr");
			break;
		case 'M':
			o->no_multicast = true;
			break;
		case 'R':
			ret = parse_i64(optarg, 1, ONVIF_SWEEP_RATE_MAX, &o->rate);
			if (ret)
				log_err("discover: --rate wants 1 to %d probes a second, not '%s'",
					ONVIF_SWEEP_RATE_MAX, optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'p':
			ret = read_password(optarg, o->pass, sizeof(o->pass));
			break;
		case 'D':
			o->details = false;
			break;
		case 'W':
			if (parse_duration_ms(optarg, &o->watch_ms) || o->watch_ms > 86400000)
				ret = bad_value("--watch", optarg, "a duration of at most 24h");
			break;
		case 'h':
			fputs(discover_usage, stdout);
			return 1;
		default:
			ret = -EINVAL;
		}
	}
	if (!ret && optind < argc) {
		log_err("discover: unexpected argument '%s'", argv[optind]);
		ret = -EINVAL;
	}
	return ret;
}

static cJSON *profile_json(const struct onvif_profile *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "token", p->token);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "encoding", p->encoding);
	cJSON_AddNumberToObject(o, "width", p->width);
	cJSON_AddNumberToObject(o, "height", p->height);
	cJSON_AddNumberToObject(o, "fps", p->fps);
	cJSON_AddNumberToObject(o, "bitrate_kbps", p->bitrate_kbps);
	cJSON_AddStringToObject(o, "stream_uri", p->stream_uri);
	cJSON_AddStringToObject(o, "stream_uri_raw", p->stream_uri_raw);
	if (p->ptz_node[0])
		cJSON_AddStringToObject(o, "ptz_node", p->ptz_node);
	return o;
}

static cJSON *camera_json(const struct onvif_camera *c, bool details)
{
	const struct onvif_found *f = &c->found;
	cJSON *o = cJSON_CreateObject(), *sc, *pr;

	cJSON_AddStringToObject(o, "endpoint", f->endpoint);
	cJSON_AddStringToObject(o, "xaddr", f->xaddr);
	cJSON_AddStringToObject(o, "xaddrs_raw", f->xaddrs_raw);
	cJSON_AddStringToObject(o, "peer", f->peer);
	cJSON_AddStringToObject(o, "iface", f->iface);
	sc = cJSON_AddObjectToObject(o, "scopes");
	cJSON_AddStringToObject(sc, "name", f->scopes.name);
	cJSON_AddStringToObject(sc, "location", f->scopes.location);
	cJSON_AddStringToObject(sc, "hardware", f->scopes.hardware);
	cJSON_AddStringToObject(sc, "profiles", f->scopes.profiles);
	if (!details)
		return o;
	cJSON_AddStringToObject(o, "manufacturer", c->info.manufacturer);
	cJSON_AddStringToObject(o, "model", c->info.model);
	cJSON_AddStringToObject(o, "firmware", c->info.firmware);
	cJSON_AddStringToObject(o, "serial", c->info.serial);
	cJSON_AddStringToObject(o, "hardware_id", c->info.hardware_id);
	cJSON_AddStringToObject(o, "mac", c->net.mac);
	cJSON_AddStringToObject(o, "hostname", c->net.hostname);
	cJSON_AddStringToObject(o, "auth", onvif_auth_name(c->auth));
	if (c->clock_known)
		cJSON_AddNumberToObject(o, "clock_offset_ms", (double)c->clock_offset_ms);
	else
		cJSON_AddNullToObject(o, "clock_offset_ms");
	cJSON_AddNumberToObject(o, "media_version", c->media_version);
	cJSON_AddBoolToObject(o, "ptz", c->has_ptz);
	pr = cJSON_AddArrayToObject(o, "profiles");
	for (size_t i = 0; i < c->nprofiles; i++)
		cJSON_AddItemToArray(pr, profile_json(&c->profiles[i]));
	cJSON_AddStringToObject(o, "snapshot_uri", c->snapshot_uri);
	if (c->error[0])
		cJSON_AddStringToObject(o, "error", c->error);
	else
		cJSON_AddNullToObject(o, "error");
	return o;
}

/* @sw: the CIDR sweep's counts, NULL without a sweep. */
static int print_json(const struct found_set *s, bool details, const struct onvif_sweep_stats *sw)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "cameras");
	char *text, *safe;

	for (size_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(arr, camera_json(&s->cams[i], details));
	if (sw) {
		cJSON *o = cJSON_AddObjectToObject(root, "sweep");

		cJSON_AddNumberToObject(o, "addresses", (double)sw->addresses);
		cJSON_AddNumberToObject(o, "probed", (double)sw->probed);
		cJSON_AddNumberToObject(o, "failed", (double)sw->failed);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	safe = text ? termsafe_json(text) : NULL;
	free(text);
	if (!safe)
		return -ENOMEM;
	puts(safe);
	free(safe);
	return 0;
}

/* Everything printed here came off the network: each string goes through
 * termsafe (lib/termsafe.h) so a device cannot drive the terminal. */
static void print_text(const struct onvif_camera *c, bool details)
{
	const struct onvif_found *f = &c->found;
	struct termsafe_buf tb = { 0 };

	printf("%s\n  address   %s (%s)%s\n  device    %s%s%s\n", termsafe_add(&tb, f->endpoint),
	       termsafe_add(&tb, f->peer), f->iface[0] ? termsafe_add(&tb, f->iface) : "unicast",
	       f->xaddr_rewritten ? ", XAddr rewritten" : "", termsafe_add(&tb, f->xaddr),
	       f->xaddr_rewritten ? "  raw: " : "",
	       f->xaddr_rewritten ? termsafe_add(&tb, f->xaddrs_raw) : "");
	tb.used = 0;
	if (f->scopes.name[0] || f->scopes.location[0])
		printf("  scopes    name \"%s\", location \"%s\"\n",
		       termsafe_add(&tb, f->scopes.name), termsafe_add(&tb, f->scopes.location));
	if (!details)
		return;
	tb.used = 0;
	if (c->info.manufacturer[0])
		printf("  identity  %s %s, firmware %s, serial %s, mac %s\n",
		       termsafe_add(&tb, c->info.manufacturer), termsafe_add(&tb, c->info.model),
		       termsafe_add(&tb, c->info.firmware), termsafe_add(&tb, c->info.serial),
		       c->net.mac[0] ? termsafe_add(&tb, c->net.mac) : "?");
	printf("  auth      %s", onvif_auth_name(c->auth));
	if (c->clock_known)
		printf(", clock offset %+.1f s", (double)c->clock_offset_ms / 1000);
	printf(", media%s%s\n",
	       c->media_version == 2   ? "2"
	       : c->media_version == 1 ? "1"
				       : " none",
	       c->has_ptz ? ", ptz" : "");
	for (size_t i = 0; i < c->nprofiles; i++) {
		const struct onvif_profile *p = &c->profiles[i];
		char ub[sizeof(p->stream_uri_raw) + 8];

		/* A camera may put its credentials in the URIs it reports:
		 * the terminal shows them hidden, the JSON keeps them whole. */
		tb.used = 0;
		printf("  profile   %s: %s %dx%d %.0ffps %s\n", termsafe_add(&tb, p->token),
		       termsafe_add(&tb, p->encoding), p->width, p->height, (double)p->fps,
		       p->stream_uri[0]
			       ? termsafe_add(&tb, url_redact(p->stream_uri, ub, sizeof(ub)))
			       : "(no URI)");
		if (strcmp(p->stream_uri, p->stream_uri_raw))
			printf("            raw: %s\n",
			       termsafe_add(&tb, url_redact(p->stream_uri_raw, ub, sizeof(ub))));
	}
	tb.used = 0;
	if (c->error[0])
		printf("  error     %s\n", termsafe_add(&tb, c->error));
}

static void print_event_json(const char *kind, const struct onvif_announce *ev)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *safe;

	cJSON_AddStringToObject(o, "event", kind);
	cJSON_AddStringToObject(o, "endpoint", ev->dev.endpoint);
	cJSON_AddStringToObject(o, "peer", ev->dev.peer);
	cJSON_AddStringToObject(o, "iface", ev->dev.iface);
	cJSON_AddStringToObject(o, "xaddr", ev->dev.xaddr);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	safe = text ? termsafe_json(text) : NULL;
	if (safe)
		puts(safe);
	free(safe);
	free(text);
}

static void print_event_text(const char *kind, const struct onvif_announce *ev)
{
	struct termsafe_buf tb = { 0 };

	printf("%-5s %s from %s %s\n", kind, termsafe_add(&tb, ev->dev.endpoint),
	       termsafe_add(&tb, ev->dev.peer), termsafe_add(&tb, ev->dev.xaddr));
}

/* Print Hello/Bye as they arrive, one line each (JSON lines with --json). */
static int watch(const struct discover_opts *o)
{
	struct onvif_listener *l;
	int64_t end = time_mono_ms() + o->watch_ms;
	int ret = onvif_listener_open(o->nifaces ? o->ifaces : NULL, o->nifaces, &l);

	if (ret)
		return ret;
	while (time_mono_ms() < end) {
		struct pollfd pfd = { .fd = onvif_listener_fd(l), .events = POLLIN };
		struct onvif_announce ev;
		const char *kind;

		if (poll(&pfd, 1, (int)(end - time_mono_ms())) <= 0)
			continue;
		while (!(ret = onvif_listener_read(l, &ev)) || ret == -ENOMSG || ret == -EBADMSG) {
			if (ret)
				continue;
			kind = ev.kind == ONVIF_HELLO ? "hello" : "bye";
			if (o->json)
				print_event_json(kind, &ev);
			else
				print_event_text(kind, &ev);
			fflush(stdout);
		}
	}
	onvif_listener_close(l);
	return 0;
}

int cmd_discover(const struct cmd_ctx *ctx, int argc, char **argv)
{
	struct discover_opts o = { .details = true, .jobs = DISCOVER_JOBS };
	struct found_set s = { .n = 0 };
	struct onvif_sweep_stats sw;
	struct onvif_probe_opts po;
	int ret;

	(void)ctx;
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret > 0 ? CMD_OK : CMD_USAGE;
	po = (struct onvif_probe_opts){ .window_ms = (int)o.window_ms,
					.ifaces = o.nifaces ? o.ifaces : NULL,
					.nifaces = o.nifaces,
					.cidrs = o.cidrs,
					.ncidrs = o.ncidrs,
					.no_multicast = o.no_multicast,
					.sweep_rate = (int)o.rate,
					.sweep = &sw };
	s.cams = calloc(DISCOVER_CAMERAS_MAX, sizeof(*s.cams));
	s.rets = calloc(DISCOVER_CAMERAS_MAX, sizeof(*s.rets));
	if (!s.cams || !s.rets) {
		ret = -ENOMEM;
		goto out;
	}
	if (o.details) {
		ret = onvif_pool_start(o.user, o.pass, (int)o.call_ms, (int)o.jobs, &s.pool);
		if (ret)
			goto out;
	}
	ret = onvif_probe(&po, on_found, &s);
	onvif_pool_finish(s.pool);
	s.pool = NULL;
	if (ret && ret != -ENOBUFS)
		goto out;
	if (s.full)
		log_warn("discover: more than %d cameras; the rest are not shown",
			 DISCOVER_CAMERAS_MAX);
	if (o.json) {
		ret = print_json(&s, o.details, o.ncidrs ? &sw : NULL);
	} else {
		for (size_t i = 0; i < s.n; i++)
			print_text(&s.cams[i], o.details);
		printf("%zu camera%s found", s.n, s.n == 1 ? "" : "s");
		if (o.ncidrs)
			printf(" (%llu addresses probed, %llu probe%s failed)",
			       (unsigned long long)sw.probed, (unsigned long long)sw.failed,
			       sw.failed == 1 ? "" : "s");
		printf("\n");
		ret = 0;
	}
	fflush(stdout);
	if (!ret && o.watch_ms > 0)
		ret = watch(&o);
out:
	explicit_bzero(o.pass, sizeof(o.pass));
	free(s.rets);
	free(s.cams);
	return ret ? CMD_FAIL : CMD_OK;
}
