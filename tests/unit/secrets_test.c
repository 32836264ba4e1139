// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * secrets_test - firmware/secrets.h: the device key is made once with
 * mode 0600 and never replaced (S1), sealed values open only with the
 * same key and context and unmodified (S2), sizes and bad input, and
 * secrets_config_reveal() on a loaded config.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/config.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[64];
	char state[96];
	struct secrets *s;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "secrets_test");
	snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
	assert_int_equal(secrets_open(fx->state, &fx->s), 0);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	secrets_close(fx->s);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void key_path(struct fx *fx, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", fx->state, SECRETS_KEY_NAME);
}

static void test_key_file(void **state)
{
	struct fx *fx = *state;
	char path[160], sealed[256], plain[64];
	struct secrets *again;
	struct stat st;

	key_path(fx, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 40);
	/* A second open reads the same key. */
	assert_int_equal(secrets_seal(fx->s, "ctx", "hunter22", sealed, sizeof(sealed)), 0);
	assert_int_equal(secrets_open(fx->state, &again), 0);
	assert_int_equal(secrets_unseal(again, "ctx", sealed, plain, sizeof(plain)), 0);
	assert_string_equal(plain, "hunter22");
	secrets_close(again);
	/* Widened permissions are narrowed again. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(secrets_open(fx->state, &again), 0);
	secrets_close(again);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_bad_key_file_is_not_replaced(void **state)
{
	struct fx *fx = *state;
	char path[160];
	struct secrets *again = NULL;
	struct stat st;
	int fd;

	key_path(fx, path, sizeof(path));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	assert_int_equal(secrets_open(fx->state, &again), -EBADMSG);
	assert_null(again);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 7);
}

static void test_seal_roundtrip(void **state)
{
	struct fx *fx = *state;
	char sealed[SECRETS_SEALED_LEN(SECRETS_PLAIN_MAX)], sealed2[256];
	char plain[SECRETS_PLAIN_MAX + 1], big[SECRETS_PLAIN_MAX + 2];

	assert_int_equal(secrets_seal(fx->s, "camera:a.password", "p@ss w0rd;#", sealed,
				      SECRETS_SEALED_LEN(11)),
			 0);
	assert_true(secrets_is_sealed(sealed));
	assert_int_equal(strlen(sealed) + 1, SECRETS_SEALED_LEN(11));
	assert_null(strstr(sealed, "p@ss"));
	assert_int_equal(secrets_unseal(fx->s, "camera:a.password", sealed, plain, sizeof(plain)),
			 0);
	assert_string_equal(plain, "p@ss w0rd;#");
	/* Fresh nonce each time. */
	assert_int_equal(
		secrets_seal(fx->s, "camera:a.password", "p@ss w0rd;#", sealed2, sizeof(sealed2)),
		0);
	assert_string_not_equal(sealed, sealed2);
	/* Too small an output, empty and maximal values. */
	assert_int_equal(secrets_unseal(fx->s, "camera:a.password", sealed, plain, 5), -E2BIG);
	assert_int_equal(secrets_seal(fx->s, "c", "x", sealed, SECRETS_SEALED_LEN(1) - 1), -E2BIG);
	assert_int_equal(secrets_seal(fx->s, "c", "", sealed, sizeof(sealed)), 0);
	assert_int_equal(secrets_unseal(fx->s, "c", sealed, plain, sizeof(plain)), 0);
	assert_string_equal(plain, "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(secrets_seal(fx->s, "c", big, sealed, sizeof(sealed)), -E2BIG);
	big[SECRETS_PLAIN_MAX] = '\0';
	assert_int_equal(secrets_seal(fx->s, "c", big, sealed, sizeof(sealed)), 0);
	assert_int_equal(secrets_unseal(fx->s, "c", sealed, plain, sizeof(plain)), 0);
	assert_string_equal(plain, big);
}

static void test_tamper_and_context(void **state)
{
	struct fx *fx = *state;
	char sealed[256], plain[64], other_dir[128];
	struct secrets *other;
	size_t n;

	assert_int_equal(secrets_seal(fx->s, "uplink.token", "tok-123456", sealed, sizeof(sealed)),
			 0);
	assert_int_equal(secrets_unseal(fx->s, "uplink.password", sealed, plain, sizeof(plain)),
			 -EBADMSG);
	n = strlen(sealed);
	sealed[n - 6] = sealed[n - 6] == 'A' ? 'B' : 'A';
	assert_int_equal(secrets_unseal(fx->s, "uplink.token", sealed, plain, sizeof(plain)),
			 -EBADMSG);
	assert_int_equal(secrets_unseal(fx->s, "x", "plain text", plain, sizeof(plain)), -EINVAL);
	assert_int_equal(secrets_unseal(fx->s, "x", SECRETS_PREFIX "!!!", plain, sizeof(plain)),
			 -EBADMSG);
	assert_int_equal(secrets_unseal(fx->s, "x", SECRETS_PREFIX "AAAA", plain, sizeof(plain)),
			 -EBADMSG);
	/* Another gateway's key. */
	assert_int_equal(secrets_seal(fx->s, "uplink.token", "tok-123456", sealed, sizeof(sealed)),
			 0);
	snprintf(other_dir, sizeof(other_dir), "%s/other", fx->dir);
	assert_int_equal(secrets_open(other_dir, &other), 0);
	assert_int_equal(secrets_unseal(other, "uplink.token", sealed, plain, sizeof(plain)),
			 -EBADMSG);
	secrets_close(other);
}

static void test_config_reveal(void **state)
{
	struct fx *fx = *state;
	char path[160], sealed[256], onvif[256];
	struct config *cfg;
	FILE *f;

	snprintf(path, sizeof(path), "%s/camgate.conf", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(
		secrets_seal(fx->s, "camera:gate.password", "cam-secret", sealed, sizeof(sealed)),
		0);
	fprintf(f, "[camera:gate]\nurl = rtsp://127.0.0.1/x\nusername = u\npassword = %s\n",
		sealed);
	fprintf(f, "[camera:lobby]\nurl = rtsp://127.0.0.1/y\npassword = plain-one\n");
	assert_int_equal(secrets_seal(fx->s, "onvif.password", "onvif-pw", onvif, sizeof(onvif)),
			 0);
	fprintf(f, "[onvif]\npassword = %s\n", onvif);
	fclose(f);
	assert_int_equal(config_load(path, &cfg), 0);
	assert_int_equal(secrets_config_reveal(fx->s, cfg), 0);
	assert_string_equal(config_camera_find(cfg, "gate")->password, "cam-secret");
	assert_string_equal(config_camera_find(cfg, "lobby")->password, "plain-one");
	assert_string_equal(cfg->onvif.password, "onvif-pw");
	config_free(cfg);
	/* Sealed for another camera: refused, not passed on. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[camera:lobby]\nurl = rtsp://127.0.0.1/y\npassword = %s\n", sealed);
	fclose(f);
	assert_int_equal(config_load(path, &cfg), 0);
	assert_int_equal(secrets_config_reveal(fx->s, cfg), -EBADMSG);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_key_file),	T(test_bad_key_file_is_not_replaced),
		T(test_seal_roundtrip), T(test_tamper_and_context),
		T(test_config_reveal),
#undef T
	};

	log_init("secrets_test", LOG_DEST_PLAIN, getenv("SECRETS_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
