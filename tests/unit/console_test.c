// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_test - the installer console (firmware/console.h) driven
 * through files and pipes, without a tty: the line splitter, first start,
 * role and scope checks, lockout, staged changes (validated as a whole,
 * rolled back when invalid, sealed secrets, stale-file refusal, commit
 * and its audit rows), over-long lines, control characters, idle timeout
 * and stop. The pty and line-editing side is tests/integration/console/.
 * Validation runs in-process here (no self_exe); the clock is injected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/accounts.h"
#include "firmware/audit.h"
#include "firmware/console.h"
#include "firmware/console_int.h"
#include "firmware/secrets.h"
#include "lib/log.h"
#include "storage/statedb.h"
#include "tests/unit/testutil.h"

#define T0 1700000000000LL

const char *__lsan_default_suppressions(void);

/* ncurses' terminfo loader (under libedit's el_init) drops a few bytes
 * per terminal set-up; not ours to fix. */
const char *__lsan_default_suppressions(void)
{
	return "leak:_nc_trim_sgr0\n";
}

static int64_t fake_now = T0;
static int reloads;

static int64_t now_fn(void)
{
	return fake_now;
}

static int reload_fn(void *arg)
{
	(void)arg;
	reloads++;
	return 0;
}

struct fx {
	char dir[64];
	char conf[128];
	char in[128];
	char out[128];
	struct statedb *db;
	struct accounts *acc;
	struct secrets *sec;
	struct console_opts o;
};

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static char *read_file(const char *path)
{
	static char buf[256 * 1024];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char text[512];

	assert_non_null(fx);
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "console_test");
	snprintf(fx->conf, sizeof(fx->conf), "%s/camgate.conf", fx->dir);
	snprintf(fx->in, sizeof(fx->in), "%s/in", fx->dir);
	snprintf(fx->out, sizeof(fx->out), "%s/out", fx->dir);
	snprintf(text, sizeof(text),
		 "# provisioning\n[gateway]\nid = gw-1\nstate_dir = %s\n\n[storage]\n"
		 "dir = %s/ring\n\n[camera:gate]\nurl = rtsp://127.0.0.1/gate\n",
		 fx->dir, fx->dir);
	write_file(fx->conf, text, strlen(text));
	assert_int_equal(statedb_open(fx->dir, &fx->db), 0);
	assert_int_equal(accounts_open(fx->db, ACCOUNT_PBKDF2_MIN, &fx->acc), 0);
	assert_int_equal(secrets_open(fx->dir, &fx->sec), 0);
	assert_int_equal(audit_key_open(fx->db, fx->dir), 0); /* as camgate console does */
	fx->o = (struct console_opts){
		.config_path = fx->conf,
		.state_dir = fx->dir,
		.sdb = fx->db,
		.acc = fx->acc,
		.sec = fx->sec,
		.stop_fd = -1,
		.source = "test",
		.fail_delay_ms = 1,
		.reload = reload_fn,
		.now_ms = now_fn,
	};
	fake_now = T0;
	reloads = 0;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	secrets_close(fx->sec);
	audit_key_set(NULL, 0);
	accounts_close(fx->acc);
	statedb_close(fx->db);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* One session reading @script; returns its output. */
static char *session_n(struct fx *fx, const char *script, size_t len)
{
	int in, out;

	write_file(fx->in, script, len);
	in = open(fx->in, O_RDONLY);
	out = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	fx->o.in_fd = in;
	fx->o.out_fd = out;
	assert_int_equal(console_run(&fx->o), 0);
	close(in);
	close(out);
	return read_file(fx->out);
}

static char *session(struct fx *fx, const char *script)
{
	return session_n(fx, script, strlen(script));
}

static void add_user(struct fx *fx, const char *name, enum account_role role, const char *scope)
{
	assert_int_equal(accounts_add(fx->acc, name, role, scope,
				      "password-of-"
				      "user",
				      false, T0),
			 0);
}

#define HAS(out, s)   assert_non_null(strstr((out), (s)))
#define HASNT(out, s) assert_null(strstr((out), (s)))

static void test_split(void **state)
{
	char buf[256], *w[CONSOLE_ARGS_MAX];
	const char *err;
	int n;

	(void)state;
	assert_int_equal(console__split("  camera  set a 'x y' \"q\\\"z\" b\\ c", buf, sizeof(buf),
					w, &n, &err),
			 0);
	assert_int_equal(n, 6);
	assert_string_equal(w[3], "x y");
	assert_string_equal(w[4], "q\"z");
	assert_string_equal(w[5], "b c");
	assert_int_equal(console__split("a \"open", buf, sizeof(buf), w, &n, &err), -EINVAL);
	assert_string_equal(err, "unterminated quote");
	assert_int_equal(console__split("a\x03", buf, sizeof(buf), w, &n, &err), -EINVAL);
	assert_int_equal(console__split("", buf, sizeof(buf), w, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(console__split("a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 "
					"4 5 6 7",
					buf, sizeof(buf), w, &n, &err),
			 -E2BIG);
	assert_int_equal(console__split("abcdefgh", buf, 4, w, &n, &err), -E2BIG);
}

static void test_lookup(void **state)
{
	char a[] = "camera", b[] = "add", x[] = "x";
	char *w[] = { a, b, x };
	int words;

	(void)state;
	assert_non_null(console__lookup(3, w, &words));
	assert_int_equal(words, 2);
	assert_null(console__lookup(1, w, &words));
	for (size_t i = 0; i < console__ncmds; i++) {
		assert_non_null(console__cmds[i].help);
		assert_true(console__cmds[i].roles);
	}
}

static void test_first_boot(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	unsigned int n = 0;
	char *out;

	out = session(fx, "short\nshort\npassword\npassword\nnew-gate-pw-7\nother-pw-123\n"
			  "new-gate-pw-7\nnew-gate-pw-7\nshow version\nexit\n");
	HAS(out, "First start");
	HAS(out, "too short");
	HAS(out, "password not accepted: The password fails the dictionary check");
	HAS(out, "the two entries differ");
	HAS(out, "camgate " CAMGATE_VERSION);
	HASNT(out, "new-gate-pw-7");
	assert_int_equal(accounts_count(fx->acc, &n), 0);
	assert_int_equal(n, 1);
	/* Next time it is a login. */
	out = session(fx, "admin\nnew-gate-pw-7\nexit\n");
	HAS(out, "Logged in as admin (admin)");
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	assert_true(rep.rows >= 5);
}

static void test_roles(void **state)
{
	struct fx *fx = *state;
	char *out;

	add_user(fx, "op", ROLE_OPERATOR, "*");
	add_user(fx, "aud", ROLE_AUDITOR, "*");
	add_user(fx, "inst", ROLE_INSTALLER, "*");
	out = session(fx, "op\npassword-of-user\nuser add x operator\nuplink set base_url=x\n"
			  "show cameras\nlog show\nexit\n");
	HAS(out, "'user add' is not allowed for role operator");
	HAS(out, "'uplink set' is not allowed for role operator");
	HAS(out, "gate");
	HAS(out, "'log show' is not allowed");
	out = session(fx,
		      "aud\npassword-of-user\nshow cameras\ncamera add a rtsp://h/a\nlog show 3\n"
		      "log verify\nexit\n");
	HAS(out, "'show cameras' is not allowed for role auditor");
	HAS(out, "'camera add' is not allowed");
	HAS(out, "login");
	HAS(out, "chain intact");
	out = session(fx, "inst\npassword-of-user\nuser list\nhelp\nexit\n");
	HAS(out, "'user list' is not allowed for role installer");
	HASNT(out, "user add");
}

static void test_scope(void **state)
{
	struct fx *fx = *state;
	char *out;

	add_user(fx, "local", ROLE_INSTALLER, "lobby");
	out = session(fx, "local\npassword-of-user\nshow camera gate\ncamera set gate enabled=no\n"
			  "camera add lobby rtsp://127.0.0.1/l\nshow cameras\nexit\nexit\n");
	HAS(out, "camera 'gate' is outside your scope");
	HAS(out, "camera lobby staged");
	HASNT(out, "rtsp://127.0.0.1/gate");
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int find_detail(void *arg, const struct audit_row *r)
{
	char **want = arg; /* [0] action in, [1] detail out */

	if (!strcmp(r->action, want[0]))
		snprintf(want[1], 128, "%s", r->detail);
	return 0;
}

/* The detail of the newest audit row of @action ("" when none). */
static const char *last_detail(struct fx *fx, const char *action)
{
	static char detail[128];
	char *want[2] = { (char *)action, detail };

	detail[0] = '\0';
	assert_int_equal(audit_list(fx->db, 0, 0, find_detail, want), 0);
	return detail;
}

static void test_lockout(void **state)
{
	struct fx *fx = *state;
	char *out;

	add_user(fx, "op", ROLE_OPERATOR, "*");
	out = session(fx, "op\nbad-1\nop\nbad-2\nop\nbad-3\n");
	HAS(out, "Login incorrect");
	out = session(fx, "op\nbad-4\nop\nbad-5\nop\npassword-of-user\n");
	/* Locked, the right password gets the wrong password's answer; the
	 * audit log has the truth. */
	HASNT(out, "locked");
	assert_int_equal(count_of(out, "Login incorrect."), 3);
	HASNT(out, "Logged in");
	assert_string_equal(last_detail(fx, "login-failed"), "account locked for 30 s more");
	fake_now += ACCOUNT_LOCK_BASE_MS;
	out = session(fx, "op\npassword-of-user\nexit\n");
	HAS(out, "Logged in as op");
}

static void test_forced_change(void **state)
{
	struct fx *fx = *state;
	char *out;

	assert_int_equal(
		accounts_add(fx->acc, "inst", ROLE_INSTALLER, "*", "initial-pw-1", true, T0), 0);
	out = session(fx, "inst\ninitial-pw-1\ninitial-pw-1\ninitial-pw-1\nmy-new-pw-1\n"
			  "my-new-pw-1\nshow version\nexit\n");
	HAS(out, "must be changed");
	HAS(out, "must differ");
	HAS(out, "Password changed");
	HAS(out, "camgate " CAMGATE_VERSION);
}

static void test_stage_validate_commit(void **state)
{
	struct fx *fx = *state;
	struct audit_verify_report rep;
	char *out, *conf;

	add_user(fx, "inst", ROLE_INSTALLER, "*");
	out = session(fx, "inst\npassword-of-user\n"
			  "camera add lobby rtsp://127.0.0.1/l transport=udp password=cam-pw-9\n"
			  "camera set lobby segment_duration=forever\n"
			  "settings set storage.on_full panic\n"
			  "settings set storage.retention_floor 7d\n"
			  "camera set gate owner=police update=10m\n"
			  "commit\n"
			  "settings set compliance.unit PC-QN\n"
			  "settings set compliance.users police,traffic\n"
			  "settings set compliance.owner PC-QN\n"
			  "settings set compliance.location HaLong\n"
			  "show changes\ncommit\nshow camera lobby\nexit\n");
	/* R2: no commit while a camera lacks its mandatory fields. */
	HAS(out, "error: camera lobby: R2 fields empty: unit users owner location");
	HAS(out, "camera lobby staged");
	HAS(out, "not staged");
	HAS(out, "password: (secret set)");
	HAS(out, "retention_floor: (default) -> 7d");
	HAS(out, "11 changes committed"); /* + method=manual, + 4 R2 defaults */
	HAS(out, "(secret)");
	HASNT(out, "cam-pw-9");
	assert_int_equal(reloads, 1);
	conf = read_file(fx->conf);
	HAS(conf, "# provisioning");
	HAS(conf, "[camera:lobby]");
	HAS(conf, "transport = udp");
	HAS(conf, "password = " SECRETS_PREFIX);
	HAS(conf, "retention_floor = 7d");
	HASNT(conf, "cam-pw-9");
	HASNT(conf, "forever");
	HASNT(conf, "panic");
	assert_int_equal(audit_verify(fx->db, &rep), 0);
	out = session(fx, "aud\n");
	(void)out;
}

static void *run_thread(void *arg)
{
	struct fx *fx = arg;

	return (void *)(intptr_t)console_run(&fx->o);
}

/* Waits until the session's output holds @what. */
static void wait_for(struct fx *fx, const char *what)
{
	for (int i = 0; i < 500; i++) {
		if (strstr(read_file(fx->out), what))
			return;
		usleep(10000);
	}
	fail_msg("no '%s' in the output", what);
}

static void test_stale_file_refused(void **state)
{
	struct fx *fx = *state;
	static const char first[] = "inst\npassword-of-user\ncamera disable gate\n";
	static const char second[] = "commit\ndiscard\nexit\n";
	char *before, *out;
	pthread_t th;
	void *ret;
	int in[2];
	FILE *f;

	add_user(fx, "inst", ROLE_INSTALLER, "*");
	assert_int_equal(pipe(in), 0);
	fx->o.in_fd = in[0];
	fx->o.out_fd = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(pthread_create(&th, NULL, run_thread, fx), 0);
	assert_int_equal(write(in[1], first, strlen(first)), (ssize_t)strlen(first));
	wait_for(fx, "inst*>");
	/* Someone else changes the file meanwhile. */
	f = fopen(fx->conf, "a");
	assert_non_null(f);
	fputs("[camera:other]\nurl = rtsp://127.0.0.1/o\n", f);
	fclose(f);
	before = strdup(read_file(fx->conf));
	assert_int_equal(write(in[1], second, strlen(second)), (ssize_t)strlen(second));
	close(in[1]);
	assert_int_equal(pthread_join(th, &ret), 0);
	assert_int_equal((intptr_t)ret, 0);
	out = read_file(fx->out);
	HAS(out, "changed since your first staged change");
	HAS(out, "1 staged changes dropped");
	assert_string_equal(read_file(fx->conf), before);
	assert_int_equal(reloads, 0);
	free(before);
	close(in[0]);
	close(fx->o.out_fd);
}

static void test_long_line_and_controls(void **state)
{
	struct fx *fx = *state;
	size_t big = 64 * 1024, n;
	char *script, *out;

	add_user(fx, "op", ROLE_OPERATOR, "*");
	script = malloc(big + 256);
	assert_non_null(script);
	n = (size_t)snprintf(script, 256, "op\npassword-of-user\n");
	memset(script + n, 'x', big);
	n += big;
	n += (size_t)snprintf(script + n, 256,
			      "\nshow\x01 version\nshow \"open\nshow version\nexit\n");
	out = session_n(fx, script, n);
	free(script);
	HAS(out, "line longer than 4096 bytes");
	HAS(out, "control characters are not allowed");
	HAS(out, "unterminated quote");
	HAS(out, "camgate " CAMGATE_VERSION);
}

static void test_idle_and_stop(void **state)
{
	struct fx *fx = *state;
	int in[2], stop[2], out;
	char *text;

	add_user(fx, "op", ROLE_OPERATOR, "*");
	assert_int_equal(pipe(in), 0);
	out = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(in[1], "op\npassword-of-user\n", 20), 20);
	fx->o.in_fd = in[0];
	fx->o.out_fd = out;
	fx->o.idle_ms = 200;
	assert_int_equal(console_run(&fx->o), 0);
	text = read_file(fx->out);
	HAS(text, "idle timeout: logged out");
	/* Stop: the daemon shutting down ends a session waiting for input. */
	assert_int_equal(pipe(stop), 0);
	assert_int_equal(write(stop[1], "x", 1), 1);
	fx->o.idle_ms = -1;
	fx->o.stop_fd = stop[0];
	assert_int_equal(console_run(&fx->o), 0);
	close(in[0]);
	close(in[1]);
	close(stop[0]);
	close(stop[1]);
	close(out);
}

/* Reads the pty master until @what shows (or fails after 20 s). */
static void pty_wait(int master, const char *what)
{
	static char seen[16384];
	size_t n = 0;

	memset(seen, 0, sizeof(seen));
	for (int waited_ms = 0; waited_ms < 20000 && !strstr(seen, what);) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t r;

		/* Until the loop has opened the line, the master reports a
		 * hang-up at once: wait for it, do not spin through the
		 * budget (on a loaded machine the thread starts late). */
		if (poll(&p, 1, 10) <= 0 || !(p.revents & POLLIN)) {
			if (p.revents)
				usleep(10000);
			waited_ms += 10;
			continue;
		}
		r = read(master, seen + n, sizeof(seen) - 1 - n);
		if (r > 0)
			n += (size_t)r;
		if (n > sizeof(seen) / 2) {
			memmove(seen, seen + n / 2, n - n / 2);
			n -= n / 2;
			seen[n] = '\0';
		}
	}
	if (!strstr(seen, what))
		fail_msg("no '%s' on the line; saw: %s", what, seen);
}

struct tty_run {
	struct fx *fx;
	char name[64];
	int ret;
};

static void *tty_thread(void *arg)
{
	struct tty_run *t = arg;

	t->ret = console_tty_loop(&t->fx->o, t->name, 115200, 0);
	return NULL;
}

/* A serial line (a pty here): a session, then the terminal goes away
 * mid-command; the session ends as a hang-up and the loop waits for the
 * line to come back until it is stopped. */
static void test_tty_loop_hangup(void **state)
{
	struct fx *fx = *state;
	struct tty_run t = { .fx = fx };
	int master, slave, stop[2];
	pthread_t th;
	sqlite3 *db;
	sqlite3_stmt *st;

	add_user(fx, "op", ROLE_OPERATOR, "*");
	assert_int_equal(openpty(&master, &slave, t.name, NULL, NULL), 0);
	close(slave);
	assert_int_equal(pipe(stop), 0);
	fx->o.stop_fd = stop[0];
	assert_int_equal(pthread_create(&th, NULL, tty_thread, &t), 0);
	pty_wait(master, "login: ");
	assert_int_equal(write(master, "op\r", 3), 3);
	pty_wait(master, "password: ");
	assert_int_equal(write(master, "password-of-user\r", 17), 17);
	pty_wait(master, "op> ");
	assert_int_equal(write(master, "show version\r", 13), 13);
	pty_wait(master, "camgate " CAMGATE_VERSION "\r\n");
	assert_int_equal(write(master, "show ver", 8), 8);
	close(master);
	usleep(300000);
	assert_int_equal(write(stop[1], "x", 1), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(t.ret, 0);
	db = statedb_lock(fx->db);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "SELECT object, detail FROM audit WHERE action = 'logout'"
				   " ORDER BY id DESC LIMIT 1",
				   -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "hang-up");
	assert_non_null(strstr(t.name, (const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	statedb_unlock(fx->db);
	close(stop[0]);
	close(stop[1]);
}

static void test_doc(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	console_doc(f);
	fclose(f);
	HAS(buf, "| `camera add` |");
	HAS(buf, "Staged until `commit`");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_doc),
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_first_boot),
		T(test_roles),
		T(test_scope),
		T(test_lockout),
		T(test_forced_change),
		T(test_stage_validate_commit),
		T(test_stale_file_refused),
		T(test_long_line_and_controls),
		T(test_idle_and_stop),
		T(test_tty_loop_hangup),
#undef T
	};

	log_init("console_test", LOG_DEST_PLAIN, getenv("CONSOLE_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
