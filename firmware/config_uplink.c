// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/config_uplink.h"

#include "firmware/config.h"
#include "net/uplink.h"

void config_uplink_fill(const struct config *cfg, struct uplink_cfg *u)
{
	const struct config_uplink *c = &cfg->uplink;

	uplink_cfg_defaults(u);
	u->base_url = c->base_url;
	u->gateway_id = cfg->gateway_id;
	u->tls.ca_file = c->ca_file;
	u->tls.pin = c->pin;
	u->tls.cert_file = *c->client_cert ? c->client_cert : NULL;
	u->tls.key_file = *c->client_key ? c->client_key : NULL;
	u->auth = c->auth;
	u->token = c->token;
	u->username = c->username;
	u->password = c->password;
	u->sigv4 = c->sigv4;
	u->parallel = c->parallel;
	u->rate_bps = c->rate_limit;
	u->connect_timeout_ms = c->connect_timeout_ms;
	u->stall_timeout_ms = c->stall_timeout_ms;
	u->transfer_timeout_ms = c->transfer_timeout_ms;
	u->backoff_min_ms = c->backoff_min_ms;
	u->backoff_max_ms = c->backoff_max_ms;
	u->status_interval_ms = c->status_interval_ms;
	u->commands_interval_ms = c->commands_interval_ms;
	u->live_window = c->live_window;
}
