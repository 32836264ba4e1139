/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config_uplink - the [uplink] settings as the transport takes them.
 *
 * One mapping from struct config to struct uplink_cfg, shared by the
 * daemon and `camgate uplink test`, so the test always tries the link
 * the daemon would use.
 */
#ifndef CAMGATE_FIRMWARE_CONFIG_UPLINK_H
#define CAMGATE_FIRMWARE_CONFIG_UPLINK_H

struct config;
struct uplink_cfg;

/* Overwrite @u with uplink_cfg_defaults() plus every [uplink] setting of
 * @cfg. The strings in @u are borrowed from @cfg: @cfg must outlive every
 * use of @u (uplink_start() copies them). */
void config_uplink_fill(const struct config *cfg, struct uplink_cfg *u);

#endif /* CAMGATE_FIRMWARE_CONFIG_UPLINK_H */
