// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_line_fuzz - arbitrary bytes typed at the installer console
 * (libFuzzer).
 *
 * Each input is what follows a successful login: the bytes go through the
 * whole command path of firmware/console.h (libedit's reader without a
 * tty, the line splitter, the table lookup, role, argument and scope
 * checks, the handlers, staging with validation and commit, the secret
 * prompts that read the same input) against a small config and state.db
 * in a temp folder ($TMPDIR, else /dev/shm). Before each run the config
 * is rewritten, the accounts reset to one admin, and the audit table
 * emptied, so runs do not depend on each other. Children are never run
 * (no self_exe), reboot is not configured, the clock is fixed.
 * The console must return 0 and leave the audit chain intact.
 * See tests/fuzz/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/console.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "storage/statedb.h"

#define FZ_PW	     "fuzz-gate-pw"
#define FZ_INPUT_MAX (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* ncurses' terminfo loader (under libedit's el_init) drops 8 bytes of a
 * trimmed sgr0 string on the floor; not ours to fix. */
const char *__lsan_default_suppressions(void)
{
	return "leak:_nc_trim_sgr0\n";
}

static char fz_dir[128], fz_conf[192], fz_in[192];
static struct statedb *fz_db;
static struct accounts *fz_acc;
static struct secrets *fz_sec;
static int fz_null = -1;

static void fz_fail(const char *what, int ret)
{
	fprintf(stderr, "console_line_fuzz: %s (%d)\n", what, ret);
	abort();
}

static int64_t fz_now(void)
{
	return 1700000000000LL;
}

static int fz_reload(void *arg)
{
	(void)arg;
	return 0;
}

static void fz_write(const char *path, const void *a, size_t alen, const void *b, size_t blen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, a, alen) != (ssize_t)alen ||
	    (blen && write(fd, b, blen) != (ssize_t)blen))
		fz_fail(path, -errno);
	close(fd);
}

static void fz_reset(void)
{
	char text[512];
	sqlite3 *db;
	int n, ret;

	n = snprintf(text, sizeof(text),
		     "[gateway]\nid = gw-fuzz\nstate_dir = %s\n\n[storage]\ndir = %s/ring\n\n"
		     "[camera:gate]\nurl = rtsp://127.0.0.1/gate\n",
		     fz_dir, fz_dir);
	fz_write(fz_conf, text, (size_t)n, NULL, 0);
	ret = accounts_wipe(fz_acc);
	if (!ret)
		ret = accounts_add(fz_acc, "admin", ROLE_ADMIN, "*", FZ_PW, false, fz_now());
	if (ret)
		fz_fail("accounts", ret);
	db = statedb_lock(fz_db);
	sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL);
	statedb_unlock(fz_db);
}

static void fz_cleanup(void)
{
	char path[256];
	static const char *const names[] = { "camgate.conf",
					     "in",
					     "state.db",
					     "state.db-wal",
					     "state.db-shm",
					     SECRETS_KEY_NAME,
					     "camgate.conf.staged",
					     "camgate.conf.staged.tmp",
					     "camgate.conf.tmp" };

	secrets_close(fz_sec);
	accounts_close(fz_acc);
	statedb_close(fz_db);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz_dir, names[i]);
		unlink(path);
	}
	rmdir(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *level = getenv("FUZZ_LOG_LEVEL");
	int lvl = LOG_DEBUG, ret;
	struct stat st;

	(void)argc;
	(void)argv;
	if (level && log_level_parse(level, &lvl))
		lvl = LOG_EMERG;
	log_init("console_line_fuzz", LOG_DEST_PLAIN, lvl);
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/console_fuzz-XXXXXX", tmp);
	if (!mkdtemp(fz_dir))
		fz_fail("mkdtemp", -errno);
	snprintf(fz_conf, sizeof(fz_conf), "%s/camgate.conf", fz_dir);
	snprintf(fz_in, sizeof(fz_in), "%s/in", fz_dir);
	ret = statedb_open(fz_dir, &fz_db);
	if (!ret)
		ret = audit_open(fz_db);
	if (!ret)
		ret = accounts_open(fz_db, ACCOUNT_PBKDF2_MIN, &fz_acc);
	if (!ret)
		ret = secrets_open(fz_dir, &fz_sec);
	if (ret)
		fz_fail("open", ret);
	fz_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	atexit(fz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char login[] = "admin\n" FZ_PW "\n";
	struct audit_verify_report rep;
	struct console_opts o = {
		.config_path = fz_conf,
		.state_dir = fz_dir,
		.sdb = fz_db,
		.acc = fz_acc,
		.sec = fz_sec,
		.out_fd = fz_null,
		.stop_fd = -1,
		.source = "fuzz",
		.idle_ms = -1,
		.fail_delay_ms = 1,
		.reload = fz_reload,
		.now_ms = fz_now,
	};
	int ret;

	if (size > FZ_INPUT_MAX)
		return 0;
	fz_reset();
	fz_write(fz_in, login, sizeof(login) - 1, data, size);
	o.in_fd = open(fz_in, O_RDONLY | O_CLOEXEC);
	if (o.in_fd < 0)
		fz_fail("open input", -errno);
	ret = console_run(&o);
	close(o.in_fd);
	if (ret)
		fz_fail("console_run", ret);
	ret = audit_verify(fz_db, &rep);
	if (ret)
		fz_fail("audit chain", ret);
	return 0;
}
