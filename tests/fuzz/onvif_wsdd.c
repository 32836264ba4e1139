// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: one WS-Discovery datagram (ProbeMatches, Hello, Bye,
 * Probe), parsed as onvif_probe() and the Hello/Bye listener parse what
 * arrives on UDP port 3702 from anyone on the LAN; then each device's
 * XAddr is picked and rewritten as discovery does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_match(void *arg, const struct onvif__wsdd_msg *m, struct onvif_found *f)
{
	bool rw;

	(void)arg;
	(void)m;
	onvif__pick_xaddr(f->xaddrs_raw, "10.0.0.1", f->xaddr, sizeof(f->xaddr), &rw);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap *soap;
	struct onvif__wsdd_msg m;
	char *buf;

	if (!soap) {
		log_init("fuzz", LOG_DEST_PLAIN, LOG_CRIT);
		soap = onvif__soap_new();
		if (!soap)
			abort();
	}
	/* A datagram is at most 64 KiB. */
	if (size > 65535)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	onvif__wsdd_parse(soap, buf, &m, on_match, NULL);
	free(buf);
	return 0;
}
