/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * onvif - find ONVIF cameras on the LAN, ask them what they are and how to
 * pull their video, and drive their PTZ.
 *
 * Built on a gSOAP client generated at build time from onvif.gsoap.h; no
 * generated type appears here. Everything below is plain data the caller
 * owns, with named caps on every string.
 *
 * Guarantees (tests in tests/unit/onvif_*_test.c, tests/integration/onvif):
 *  G1  Every network operation ends within its timeout (probe window, or
 *      the device's per-call timeout, connect included).
 *  G2  onvif_probe() reports each device once per call, keyed by its
 *      WS-Discovery endpoint reference, whatever interface, repeat or
 *      unicast sweep brought it.
 *  G3  URLs handed out (device XAddr, stream and snapshot URIs) point at an
 *      address the gateway can reach: a host that is loopback, link-local
 *      (where the peer is not), unspecified, or outside the subnet the
 *      answer came from is replaced by the address that answered. The
 *      camera's own value is kept alongside (*_raw).
 *  G4  Credentials are tried once per method (WS-Security UsernameToken
 *      digest with the measured clock offset, then HTTP Digest); a refusal
 *      by every method is -EACCES, never a retry loop.
 *  G5  Replies are bounded (ONVIF_REPLY_MAX bytes, nesting, element counts)
 *      and anything malformed is -EBADMSG, with the reason in
 *      onvif_dev_error().
 *
 * Use (see docs/onvif.md, firmware/registry.h for the daemon's loop):
 *   onvif_probe(&opts, on_found, arg);          collect struct onvif_found
 *   onvif_pool_start(); onvif_pool_add() from the probe callback;
 *   onvif_pool_finish() once the probe returned;
 *   or per camera: onvif_dev_open(found.xaddr, found.peer, &dev);
 *   onvif_dev_set_credentials(); onvif_interrogate(dev, &cam);
 *   onvif_dev_close(dev);
 *   Hello/Bye: onvif_listener_open(), poll onvif_listener_fd() for POLLIN,
 *   then onvif_listener_read() until -EAGAIN.
 * Probes are multicast: never run them on a build machine's own network
 * (tests create network namespaces: tests/camsim/netns.sh).
 *
 * Threads: no global state besides gSOAP's read-only namespace table; a
 * struct onvif_dev or onvif_listener is used by one thread at a time, and
 * different ones may run in parallel threads.
 *
 * Errors (negative errno): -ETIMEDOUT no answer in time; -ECONNREFUSED,
 * -EHOSTUNREACH, -ENETUNREACH could not connect; -EACCES credentials
 * refused (or none set and the camera wants some); -EBADMSG malformed or
 * incomplete reply; -E2BIG reply over a cap; -EOPNOTSUPP the camera lacks
 * the service or operation; -EPROTO any other SOAP fault or HTTP status;
 * -EINVAL bad argument; -ENOMEM. Device calls log the detail once at
 * LOG_INFO (cameras fail routinely) and keep it for onvif_dev_error().
 */
#ifndef CAMGATE_DRIVERS_ONVIF_H
#define CAMGATE_DRIVERS_ONVIF_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONVIF_URI_MAX		512 /* bytes, NUL included */
#define ONVIF_TEXT_MAX		128
#define ONVIF_TOKEN_MAX		64
#define ONVIF_ADDR_MAX		64   /* numeric IPv4/IPv6 text */
#define ONVIF_SCOPES_MAX	1024 /* raw scope list */
#define ONVIF_PROFILES_MAX	8    /* profiles kept per camera */
#define ONVIF_ERR_MAX		256
#define ONVIF_REPLY_MAX		(1024 * 1024) /* bytes of one reply */
#define ONVIF_PROBE_DEVICES_MAX 1024	      /* distinct devices per probe */
#define ONVIF_SWEEP_HOSTS_MAX	4096	      /* unicast probes per onvif_probe() */
#define ONVIF_PROBE_WINDOW_MS	2000	      /* default probe window */
#define ONVIF_SWEEP_RATE	200	      /* unicast probes per second, default */
#define ONVIF_SWEEP_RATE_MAX	10000	      /* and at most */
#define ONVIF_SWEEP_RETRY_MS	5000	      /* a refused probe is retried this long */
#define ONVIF_CALL_TIMEOUT_MS	5000	      /* default per-call timeout */

enum onvif_auth {
	ONVIF_AUTH_UNKNOWN, /* nothing succeeded yet */
	ONVIF_AUTH_NONE,    /* the camera answered without credentials */
	ONVIF_AUTH_WSSE,    /* WS-Security UsernameToken, PasswordDigest */
	ONVIF_AUTH_DIGEST,  /* HTTP Digest (RFC 7616: MD5 or SHA-256) */
};

/* "unknown", "none", "ws-security", "http-digest". */
const char *onvif_auth_name(enum onvif_auth auth);

/* Scopes of interest, percent-decoded ("onvif://www.onvif.org/name/X"). */
struct onvif_scopes {
	char name[ONVIF_TEXT_MAX];
	char hardware[ONVIF_TEXT_MAX];
	char location[ONVIF_TEXT_MAX]; /* path below location/, "city/Berlin" */
	char profiles[ONVIF_TEXT_MAX]; /* comma-separated: "Streaming,T" */
};

/* Parse a whitespace-separated scope list into @out (fields not present
 * are ""). Never fails: unknown and malformed scopes are skipped. */
void onvif_scopes_parse(const char *list, struct onvif_scopes *out);

/* ---- discovery ---------------------------------------------------------- */

/* One device as WS-Discovery reported it. */
struct onvif_found {
	char endpoint[ONVIF_URI_MAX];	/* EndpointReference: the identity */
	char xaddr[ONVIF_URI_MAX];	/* device service URL to use (G3) */
	char xaddrs_raw[ONVIF_URI_MAX]; /* as advertised, space-separated */
	bool xaddr_rewritten;
	char peer[ONVIF_ADDR_MAX]; /* address the answer came from */
	char iface[IF_NAMESIZE];   /* interface it arrived on; "" if unknown */
	char types[ONVIF_TEXT_MAX];
	char scopes_raw[ONVIF_SCOPES_MAX];
	struct onvif_scopes scopes;
	unsigned int metadata_version;
};

/* What a unicast sweep did: a probe that could not be sent (the kernel
 * refused it for ONVIF_SWEEP_RETRY_MS, or for good) is a host not asked. */
struct onvif_sweep_stats {
	uint64_t addresses; /* hosts in the CIDRs */
	uint64_t probed;    /* probes the kernel took */
	uint64_t failed;    /* probes that could not be sent */
};

struct onvif_probe_opts {
	int window_ms;		   /* wait for answers after the last probe;
				    * 0: ONVIF_PROBE_WINDOW_MS */
	const char *const *ifaces; /* multicast on these; NULL: every up,
					 * non-loopback, multicast interface */
	size_t nifaces;
	const char *const *cidrs; /* unicast sweep, "192.168.1.0/24" */
	size_t ncidrs;
	bool no_multicast;		 /* sweep only */
	int sweep_rate;			 /* probes a second; 0: ONVIF_SWEEP_RATE; at most
			    * ONVIF_SWEEP_RATE_MAX */
	struct onvif_sweep_stats *sweep; /* filled if not NULL, errors too */
};

/* Called once per distinct device (G2), from the calling thread; @f is
 * valid for the call only. Return non-zero to end the probe early. */
typedef int (*onvif_found_fn)(void *arg, const struct onvif_found *f);

/* Multicast a Probe for NetworkVideoTransmitter on every interface of
 * @opts (pinned with IP_MULTICAST_IF where the kernel allows), unicast it
 * to every host of every CIDR, and collect ProbeMatches for the window
 * after the last probe. Interfaces that cannot send are logged and
 * skipped.
 * The sweep is paced: at most opts->sweep_rate probes a second, and a
 * probe the kernel refuses for want of buffer (EAGAIN, ENOBUFS: probes
 * to absent hosts hold socket buffer while ARP waits for them, about 3 s)
 * waits for the socket to drain, answers read meanwhile, and is retried
 * for up to ONVIF_SWEEP_RETRY_MS. Probes that still fail are counted in
 * opts->sweep and logged once as a warning; after a few in a row the
 * rest of the sweep gets one try each, so the call stays bounded. A /24
 * of absent hosts takes a few seconds, a /22 some more.
 * -EINVAL also: sweep_rate out of range.
 * -ENODEV: no usable interface and no CIDR. -E2BIG: the CIDRs hold more
 * than ONVIF_SWEEP_HOSTS_MAX hosts. -EINVAL: a malformed CIDR or name.
 * -ENOBUFS: more than ONVIF_PROBE_DEVICES_MAX devices (the rest ignored,
 * the callback still ran for the first ones). */
int onvif_probe(const struct onvif_probe_opts *opts, onvif_found_fn fn, void *arg);

/* Hello/Bye listener on 239.255.255.250:3702, for the daemon's poll loop. */
struct onvif_listener;

enum onvif_announce_kind {
	ONVIF_HELLO,
	ONVIF_BYE,
};

struct onvif_announce {
	enum onvif_announce_kind kind;
	struct onvif_found dev; /* Bye: endpoint set, XAddrs may be "" */
};

/* Join the group on @ifaces (NULL: as onvif_probe()). *lp set on success.
 * -EADDRINUSE is not returned: the socket shares the port (SO_REUSEADDR).
 * -ENODEV: no interface could join. */
int onvif_listener_open(const char *const *ifaces, size_t nifaces, struct onvif_listener **lp);
void onvif_listener_close(struct onvif_listener *l); /* NULL is a no-op */
/* Non-blocking descriptor to poll for POLLIN. */
int onvif_listener_fd(const struct onvif_listener *l);
/* Read one datagram. 0: *ev is a Hello or Bye. -EAGAIN: nothing pending.
 * -ENOMSG: a datagram that was not a Hello/Bye (a Probe, our own echo):
 * ignore it. -EBADMSG: malformed (logged at debug). */
int onvif_listener_read(struct onvif_listener *l, struct onvif_announce *ev);

/* ---- one device --------------------------------------------------------- */

struct onvif_dev; /* opaque: endpoint, credentials, auth, clock offset */

/* @xaddr: device service URL (copied). @peer: the address that answered
 * discovery, used for G3; NULL takes the host of @xaddr. -EINVAL: not an
 * http:// URL. *devp set on success. */
int onvif_dev_open(const char *xaddr, const char *peer, struct onvif_dev **devp);
void onvif_dev_close(struct onvif_dev *dev); /* NULL is a no-op */

/* Copies both; NULL or "" user clears them. Resets the auth method. */
int onvif_dev_set_credentials(struct onvif_dev *dev, const char *user, const char *pass);
/* Per call, connect included; <= 0 restores ONVIF_CALL_TIMEOUT_MS. */
void onvif_dev_set_timeout(struct onvif_dev *dev, int timeout_ms);
/* Skip measuring the clock: for tests and for cameras known to be right. */
void onvif_dev_set_clock_offset(struct onvif_dev *dev, int64_t offset_ms);

/* Read-outs of the device's state. The daemon gets these facts through
 * onvif_interrogate() (struct onvif_camera); tests/unit/onvif_client_test.c
 * checks the client's behaviour (clock offset, auth fallback, no retry
 * storms) through them. */
const char *onvif_dev_xaddr(const struct onvif_dev *dev);
enum onvif_auth onvif_dev_auth(const struct onvif_dev *dev);
/* Camera clock minus ours, ms; valid once onvif_dev_clock_known(). */
int64_t onvif_dev_clock_offset_ms(const struct onvif_dev *dev);
bool onvif_dev_clock_known(const struct onvif_dev *dev);
/* Why the last call failed, "" after a success. Valid until the next call. */
const char *onvif_dev_error(const struct onvif_dev *dev);
/* Number of SOAP requests sent so far (tests check for retry storms). */
unsigned int onvif_dev_requests(const struct onvif_dev *dev);

/* GetSystemDateAndTime: unauthenticated first, authenticated when refused;
 * sets the clock offset (half the round trip accounted for). A camera
 * reporting no UTC time gives -EBADMSG. *camera_utc_msp may be NULL. */
int onvif_sync_clock(struct onvif_dev *dev, int64_t *camera_utc_msp);

struct onvif_device_info {
	char manufacturer[ONVIF_TEXT_MAX];
	char model[ONVIF_TEXT_MAX];
	char firmware[ONVIF_TEXT_MAX];
	char serial[ONVIF_TEXT_MAX];
	char hardware_id[ONVIF_TEXT_MAX];
};
int onvif_get_device_info(struct onvif_dev *dev, struct onvif_device_info *out);

/* GetServices (GetCapabilities as fallback): learns the Media, Media2 and
 * PTZ service URLs (rewritten per G3). Called by the media and PTZ calls
 * when needed; explicit use is optional. */
int onvif_get_services(struct onvif_dev *dev);
bool onvif_dev_has_media2(const struct onvif_dev *dev);
bool onvif_dev_has_ptz(const struct onvif_dev *dev);

struct onvif_net_info {
	char hostname[ONVIF_TEXT_MAX];
	char mac[ONVIF_ADDR_MAX];  /* first enabled interface */
	char ipv4[ONVIF_ADDR_MAX]; /* its first IPv4 (manual, else DHCP) */
};
/* GetHostname and GetNetworkInterfaces; either may be missing (""). */
int onvif_get_net_info(struct onvif_dev *dev, struct onvif_net_info *out);
/* GetScopes: the device's current scopes (discovery may be stale). */
int onvif_get_scopes(struct onvif_dev *dev, struct onvif_scopes *out, char *raw, size_t rawcap);

struct onvif_profile {
	char token[ONVIF_TOKEN_MAX];
	char name[ONVIF_TEXT_MAX];
	char encoding[16]; /* H264, H265, JPEG, MPEG4 ... or "" */
	int width, height;
	float fps;
	int bitrate_kbps;
	char ptz_node[ONVIF_TOKEN_MAX]; /* "" without a PTZ configuration */
	char stream_uri[ONVIF_URI_MAX]; /* filled by onvif_get_stream_uri() */
	char stream_uri_raw[ONVIF_URI_MAX];
};

/* Media2 GetProfiles where the camera has Media2, else Media (ver10).
 * Fills up to @cap entries (stream URIs left empty); *np is the count
 * kept. -EOPNOTSUPP: no media service at all. */
int onvif_get_profiles(struct onvif_dev *dev, struct onvif_profile *out, size_t cap, size_t *np);
/* RTSP unicast stream URI of @p (Media2 RtspUnicast, or Media RTP-Unicast
 * over RTSP), into p->stream_uri (rewritten) and p->stream_uri_raw. */
int onvif_get_stream_uri(struct onvif_dev *dev, struct onvif_profile *p);
/* Snapshot (JPEG over HTTP) URI of profile @token, rewritten, into @uri. */
int onvif_get_snapshot_uri(struct onvif_dev *dev, const char *token, char *uri, size_t cap);

/* ---- PTZ (ver20), the R1 control rights --------------------------------- */
/* Nothing in the gateway moves a camera yet: this client API (and
 * onvif_dev_has_ptz() above) is kept, tested against the simulator in
 * tests/unit/onvif_client_test.c, for the R1 PTZ rights the console and
 * central will grant. Do not remove it as unused. */

struct onvif_ptz_node {
	char token[ONVIF_TOKEN_MAX];
	char name[ONVIF_TEXT_MAX];
	int max_presets;
	bool home_supported;
};

struct onvif_ptz_preset {
	char token[ONVIF_TOKEN_MAX];
	char name[ONVIF_TEXT_MAX];
};

/* -EOPNOTSUPP: the camera has no PTZ service. */
int onvif_ptz_get_nodes(struct onvif_dev *dev, struct onvif_ptz_node *out, size_t cap, size_t *np);
/* Velocities in the generic space, each in [-1, 1]; @timeout_ms > 0 lets
 * the camera stop by itself. -EINVAL: a velocity out of range. */
int onvif_ptz_move(struct onvif_dev *dev, const char *profile, float pan, float tilt, float zoom,
		   int timeout_ms);
int onvif_ptz_stop(struct onvif_dev *dev, const char *profile);
int onvif_ptz_get_presets(struct onvif_dev *dev, const char *profile, struct onvif_ptz_preset *out,
			  size_t cap, size_t *np);
int onvif_ptz_goto_preset(struct onvif_dev *dev, const char *profile, const char *preset);

/* ---- all of it at once -------------------------------------------------- */

/* What the registry records of a camera (R2 device information). */
struct onvif_camera {
	struct onvif_found found; /* discovery data; endpoint may be "" */
	struct onvif_device_info info;
	struct onvif_net_info net;
	enum onvif_auth auth;
	int64_t clock_offset_ms;
	bool clock_known;
	int media_version; /* 2 (Media2), 1 (Media) or 0 (none) */
	bool has_ptz;
	size_t nprofiles;
	struct onvif_profile profiles[ONVIF_PROFILES_MAX];
	char snapshot_uri[ONVIF_URI_MAX]; /* of profiles[0]; may be "" */
	char error[ONVIF_ERR_MAX];	  /* why interrogation stopped, if it did */
};

/* Everything above in the order a camera needs it: clock, device
 * information, services, network, scopes, profiles, a stream URI for every
 * profile, the first profile's snapshot URI. Optional parts (network,
 * scopes, snapshot, PTZ) may fail without failing the whole; device
 * information, profiles and at least one stream URI may not. @cam->found
 * is left as the caller set it. Returns the error of the first mandatory
 * step that failed (its text also in cam->error). */
int onvif_interrogate(struct onvif_dev *dev, struct onvif_camera *cam);

#define ONVIF_JOBS_MAX 32 /* parallel interrogations */

/* Interrogate cameras found by onvif_probe() while it still listens, @jobs
 * at a time (the pool's threads; clamped to [1, ONVIF_JOBS_MAX]), all with
 * the same credentials (@user NULL: none) and per-call @timeout_ms: start
 * the pool, add each camera from the probe callback (the caller sets
 * @cam->found), finish when the probe returned. *@retp gets
 * onvif_interrogate()'s result (-ENOENT without a usable XAddr). With no
 * thread to spare onvif_pool_finish() does the work in the calling thread.
 * onvif_pool_start(): -ENOMEM, -EINVAL (credentials too long).
 * @cam and @retp are borrowed until onvif_pool_finish(), which waits for
 * every queued camera and frees the pool (NULL is a no-op). Threads: one
 * caller thread adds and finishes; the workers are the pool's. */
struct onvif_pool;
int onvif_pool_start(const char *user, const char *pass, int timeout_ms, int jobs,
		     struct onvif_pool **pp);
/* -ENOBUFS: ONVIF_PROBE_DEVICES_MAX cameras are already queued. */
int onvif_pool_add(struct onvif_pool *p, struct onvif_camera *cam, int *retp);
void onvif_pool_finish(struct onvif_pool *p);

#endif /* CAMGATE_DRIVERS_ONVIF_H */
