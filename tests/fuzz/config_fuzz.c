// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * config_fuzz - arbitrary bytes as a provisioning file (libFuzzer).
 *
 * Each input is written to one temp file ($TMPDIR, else /dev/shm) and
 * given to config_load(), which reads it through libinih and the settings
 * table. When it loads, the rest of the public API must hold together:
 * every camera is found by its name, equals itself, and the reload diff
 * against the defaults fits its buffer. A broken property aborts.
 * See tests/fuzz/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/config.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_path[128];
static struct config *fz_defaults;

static void fz_fail(const char *what, int ret)
{
	fprintf(stderr, "config_fuzz: %s (%d)\n", what, ret);
	abort();
}

static void fz_cleanup(void)
{
	unlink(fz_path);
	config_free(fz_defaults);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *level = getenv("FUZZ_LOG_LEVEL");
	int lvl = LOG_DEBUG, fd, ret;
	struct stat st;

	(void)argc;
	(void)argv;
	/* Debug by default, so every error message is formatted with fuzz
	 * text; run with -close_fd_mask=2 to keep the terminal quiet. */
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("config_fuzz", LOG_DEST_PLAIN, lvl);
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_path, sizeof(fz_path), "%s/config_fuzz-XXXXXX", tmp);
	fd = mkstemp(fz_path);
	if (fd < 0)
		fz_fail("mkstemp", -errno);
	close(fd);
	ret = config_defaults(&fz_defaults);
	if (ret)
		fz_fail("config_defaults", ret);
	atexit(fz_cleanup);
	return 0;
}

static void fz_write(const uint8_t *data, size_t size)
{
	int fd = open(fz_path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fz_fail("write", -errno);
	close(fd);
}

static void fz_check(const struct config *cfg)
{
	char diff[256];
	int n;

	for (size_t i = 0; i < cfg->ncameras; i++) {
		const struct config_camera *cam = &cfg->cameras[i];

		if (config_camera_find(cfg, cam->name) != cam)
			fz_fail("camera not found by its own name", (int)i);
		if (!config_camera_same(cam, cam))
			fz_fail("camera differs from itself", (int)i);
	}
	n = config_restart_needed(fz_defaults, cfg, diff, sizeof(diff));
	if (n < 0 || strnlen(diff, sizeof(diff)) == sizeof(diff))
		fz_fail("restart diff", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;

	fz_write(data, size);
	if (config_load(fz_path, &cfg))
		return 0;
	fz_check(cfg);
	config_free(cfg);
	return 0;
}
