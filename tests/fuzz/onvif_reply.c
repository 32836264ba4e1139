// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: a camera's reply to each device, media and PTZ
 * operation, through the path a live call takes (onvif__replay: HTTP
 * parsing, the generated deserialiser, our conversion, error mapping).
 * Input: the operation's name on the first line (as the corpus files in
 * tests/fuzz/corpus/onvif_reply/ have it), else the first byte picks one;
 * then the HTTP response.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct soap *soap;
	char out[1024], err[ONVIF_ERR_MAX];
	const char *nl;
	char *buf;
	int op;

	if (!soap) {
		log_init("fuzz", LOG_DEST_PLAIN, LOG_CRIT);
		soap = onvif__soap_new();
		if (!soap)
			abort();
	}
	if (!size)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = memchr(buf, '\n', size);
	op = nl ? onvif__reply_lookup(buf, (size_t)(nl - buf)) : -1;
	if (op < 0) {
		op = data[0] % ONVIF__R_COUNT;
		nl = buf;
	}
	onvif__replay(soap, op, nl + 1, out, sizeof(out), err, sizeof(err));
	free(buf);
	return 0;
}
