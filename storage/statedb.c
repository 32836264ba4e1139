// SPDX-License-Identifier: GPL-2.0-or-later
#include "storage/statedb.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/lockorder.h"
#include "lib/log.h"
#include "lib/parse.h"

struct statedb {
	sqlite3 *db;
	char path[PATH_MAX];
	pthread_mutex_t lock;
	/* The file opened, to tell it was removed, replaced or overwritten.
	 * The descriptor stays open until after sqlite3_close(): closing
	 * any descriptor of the file would drop SQLite's POSIX locks of the
	 * whole process, and another process's connection, seeing itself
	 * the last, would then delete the -wal under this one. */
	int fd;
	dev_t dev;
	ino_t ino;
	enum statedb_origin origin;
};

/* The 16 bytes every SQLite 3 database begins with. */
static const char sqlite_magic[16] = "SQLite format 3";

/* Append only: step N takes the core schema from version N to N+1.
 * Never edit a step's effect on a database that ran it; add one. Other
 * modules keep their own lists.
 * Step 0 also created the audit table's first form until that table
 * became wholly firmware/audit.c's: every state.db made before has it,
 * and audit.c creates the same first form (if missing) before its own
 * steps, so old and new databases end up alike. */
static const char *const core_steps[] = {
	"CREATE TABLE alarms ("
	" id INTEGER PRIMARY KEY,"
	" ts_ms INTEGER NOT NULL,"   /* first raised */
	" last_ms INTEGER NOT NULL," /* last raised */
	" count INTEGER NOT NULL DEFAULT 1,"
	" code TEXT NOT NULL,"
	" camera TEXT NOT NULL," /* "" when gateway-wide */
	" message TEXT NOT NULL,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" cleared_ms INTEGER);"
	"CREATE INDEX alarms_active ON alarms(active, code, camera);",
	/* How each state.db began (enum statedb_origin), kept until the
	 * daemon took it: a console command may open the file first. */
	"CREATE TABLE statedb_origin ("
	" ts INTEGER NOT NULL," /* unix seconds */
	" origin INTEGER NOT NULL,"
	" taken INTEGER NOT NULL DEFAULT 0);",
};

static int schema_version(sqlite3 *db, const char *module, int *verp)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS schema ("
			 " module TEXT PRIMARY KEY, version INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT version FROM schema WHERE module = ?", -1, &st, NULL) !=
		    SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*verp = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static int schema_step(sqlite3 *db, const char *module, const char *sql, int ver)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
	     sqlite3_prepare_v2(db,
				"INSERT OR REPLACE INTO schema(module, version)"
				" VALUES (?, ?)",
				-1, &st, NULL) == SQLITE_OK &&
	     sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC) == SQLITE_OK &&
	     sqlite3_bind_int(st, 2, ver) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	if (ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

int statedb_migrate(struct statedb *s, const char *module, const char *const *steps, int nsteps)
{
	int ver = 0, ret;

	statedb_lock(s);
	ret = schema_version(s->db, module, &ver);
	if (ret)
		goto fail;
	if (ver > nsteps) {
		log_err("%s: %s schema version %d is newer than this firmware (%d)", s->path,
			module, ver, nsteps);
		ret = -EPROTO;
		goto out;
	}
	for (; ver < nsteps; ver++) {
		ret = schema_step(s->db, module, steps[ver], ver + 1);
		if (ret)
			goto fail;
	}
	goto out;
fail:
	log_err("%s: %s schema migration to %d: %s", s->path, module, ver + 1,
		sqlite3_errmsg(s->db));
out:
	statedb_unlock(s);
	return ret;
}

/* SQLite would create the file 0644 less the umask, and its -wal and
 * -shm files copy that mode: state.db holds the accounts and the audit
 * log, so it is made 0640 first, like everything else camgate writes. */
static int statedb_precreate(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640), ret = 0;
	struct stat st;

	if (fd < 0) {
		ret = -errno;
		log_err("%s: cannot create: %m", path);
		return ret;
	}
	if (!fstat(fd, &st) && (st.st_mode & 0137) && fchmod(fd, st.st_mode & 0640))
		log_warn("%s: chmod: %m", path);
	close(fd);
	return 0;
}

/* Does @path begin like a database? 1 yes (or empty: SQLite writes
 * the header with the first table), 0 no, -errno. */
static int statedb_header_ok(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret;
	char head[sizeof(sqlite_magic)];
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, head, sizeof(head), 0);
	ret = n < 0 ? -errno : n == 0 || (n == sizeof(head) && !memcmp(head, sqlite_magic, 16));
	close(fd);
	return ret;
}

/* Move @path@suffix aside to @path@suffix.@tag (best effort, logged). */
static void statedb_aside(const char *path, const char *suffix, const char *tag)
{
	char from[PATH_MAX + 8], to[PATH_MAX + 48];

	snprintf(from, sizeof(from), "%s%s", path, suffix);
	snprintf(to, sizeof(to), "%s%s.%s", path, suffix, tag);
	if (rename(from, to) && errno != ENOENT)
		log_err("%s: cannot move aside: %m", from);
}

/* A state.db that is not a database (@why) moved aside with its -wal and
 * -shm, kept for a post-mortem; a new one is created in its place. */
static void statedb_corrupt_aside(const char *path, const char *why)
{
	char tag[40];

	snprintf(tag, sizeof(tag), "corrupt-%lld", (long long)time(NULL));
	log_msg(LOG_CRIT, "%s: %s: moved aside to %s.%s, a new one is created", path, why, path,
		tag);
	statedb_aside(path, "", tag);
	statedb_aside(path, "-wal", tag);
	statedb_aside(path, "-shm", tag);
}

/* What is at @path before it is opened. With no state.db, a -wal and
 * -shm left behind are moved aside: SQLite would replay a journal of
 * another file into the new one. */
static enum statedb_origin statedb_settle(const char *path)
{
	int ok = statedb_header_ok(path);
	char tag[40], mark[PATH_MAX + 16];

	/* Found damaged while running (statedb_abandon()): the header and
	 * even quick_check may pass now, as WAL recovery silently drops the
	 * frames after a damaged one, so the mark decides. */
	snprintf(mark, sizeof(mark), "%s.damaged", path);
	if ((ok >= 0 || ok == -ENOENT) && !access(mark, F_OK)) {
		if (ok >= 0)
			statedb_corrupt_aside(path, "found damaged while running");
		if (unlink(mark))
			log_err("%s: %m", mark);
		if (ok >= 0)
			return STATEDB_REPLACED;
	}
	if (ok == 1)
		return STATEDB_OPENED;
	if (ok == -ENOENT) {
		snprintf(tag, sizeof(tag), "orphan-%lld", (long long)time(NULL));
		statedb_aside(path, "-wal", tag);
		statedb_aside(path, "-shm", tag);
		return STATEDB_CREATED;
	}
	statedb_corrupt_aside(path, "not an SQLite database");
	return STATEDB_REPLACED;
}

/* "ok" from PRAGMA quick_check (the b-trees and their pages, not the
 * indexes' contents: O(size), a fraction of a second for a state.db). */
static int quick_row(void *arg, int n, char **vals, char **cols)
{
	bool *ok = arg;

	(void)cols;
	*ok = *ok && n == 1 && vals[0] && !strcmp(vals[0], "ok");
	return 0;
}

/* Open @path into @s. -EBADMSG: the file is damaged (SQLite says
 * corrupt or not a database, or quick_check fails), logged. -EIO. */
static int statedb_open_at(struct statedb *s, const char *path)
{
	bool ok = true;
	struct stat st;
	char sql[96];
	int rc, ret;

	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		log_err("%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA quick_check", quick_row, &ok, NULL);
	if (rc != SQLITE_OK || !ok) {
		rc = sqlite3_errcode(s->db);
		log_err("%s: %s", path, ok ? sqlite3_errmsg(s->db) : "quick_check failed");
		return !ok || rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? -EBADMSG : -EIO;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd < 0 || fstat(s->fd, &st)) {
		log_err("%s: %m", path);
		return -EIO;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	ret = statedb_migrate(s, "core", core_steps,
			      (int)(sizeof(core_steps) / sizeof(core_steps[0])));
	if (ret || s->origin == STATEDB_OPENED)
		return ret;
	snprintf(sql, sizeof(sql), "INSERT INTO statedb_origin(ts, origin) VALUES (%lld, %d)",
		 (long long)time(NULL), (int)s->origin);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_err("%s: %s", path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

int statedb_open(const char *dir, struct statedb **dbp)
{
	char path[PATH_MAX];
	enum statedb_origin origin;
	struct statedb *s;
	int ret;

	ret = fs_mkdir_p(dir, 0750);
	if (ret) {
		log_err("%s: cannot create: %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	origin = statedb_settle(path);
	for (;;) {
		ret = statedb_precreate(path);
		if (ret)
			return ret;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->origin = origin;
		s->fd = -1;
		pthread_mutex_init(&s->lock, NULL);
		ret = statedb_open_at(s, path);
		if (!ret) {
			*dbp = s;
			return 0;
		}
		statedb_close(s);
		/* Once: a new file that fails is not the file's fault. */
		if (ret != -EBADMSG || origin == STATEDB_REPLACED)
			return ret;
		statedb_corrupt_aside(path, "damaged");
		origin = STATEDB_REPLACED;
	}
}

static int origin_row(void *arg, int n, char **vals, char **cols)
{
	enum statedb_origin *o = arg;
	int64_t v = 0;

	(void)cols;
	if (n != 1 || !vals[0] || parse_i64(vals[0], 0, STATEDB_REPLACED, &v))
		v = STATEDB_REPLACED; /* a row not understood: say the most */
	if (v > (int64_t)*o)	      /* REPLACED says more than CREATED */
		*o = (enum statedb_origin)v;
	return 0;
}

int statedb_take_origin(struct statedb *s, enum statedb_origin *op)
{
	sqlite3 *db = statedb_lock(s);
	int ret = 0;

	*op = STATEDB_OPENED;
	if (sqlite3_exec(db, "SELECT origin FROM statedb_origin WHERE taken = 0", origin_row, op,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "UPDATE statedb_origin SET taken = 1 WHERE taken = 0", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_err("%s: statedb_origin: %s", s->path, sqlite3_errmsg(db));
		ret = -EIO;
	}
	statedb_unlock(s);
	return ret;
}

int statedb_check(struct statedb *s)
{
	char head[sizeof(sqlite_magic)];
	struct stat st;
	ssize_t n;

	if (stat(s->path, &st))
		return errno == ENOENT ? -ENOENT : -errno;
	if (st.st_dev != s->dev || st.st_ino != s->ino)
		return -ENOENT;
	n = pread(s->fd, head, sizeof(head), 0);
	if (n < 0)
		return -errno;
	return n == 0 || (n == sizeof(head) && !memcmp(head, sqlite_magic, 16)) ? 0 : -EBADMSG;
}

struct quick_first {
	char *why;
	size_t len;
	bool bad;
};

/* quick_check's answer on one line for a log: its lines joined by "; "
 * without the "*** in database main ***" heading. */
static void quick_words(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	if (!strncmp(in, "*** ", 4) && strchr(in, '\n'))
		in = strchr(in, '\n') + 1;
	for (; *in && n + 3 < cap; in++) {
		if (*in != '\n') {
			out[n++] = *in;
		} else if (in[1]) {
			out[n++] = ';';
			out[n++] = ' ';
		}
	}
	out[n] = '\0';
}

/* Keeps quick_check's first complaint: the rows after it are often
 * consequences of the same page. */
static int quick_first_row(void *arg, int n, char **vals, char **cols)
{
	struct quick_first *q = arg;

	(void)cols;
	if (n == 1 && vals[0] && !strcmp(vals[0], "ok"))
		return 0;
	if (!q->bad && q->len)
		quick_words(q->why, q->len, n == 1 && vals[0] ? vals[0] : "no answer");
	q->bad = true;
	return 0;
}

int statedb_quick_check(struct statedb *s, char *why, size_t whylen)
{
	struct quick_first q = { why, whylen, false };
	sqlite3 *c;
	int rc, ret;

	if (whylen)
		why[0] = '\0';
	ret = statedb_reader_open(s, &c);
	if (ret)
		return ret;
	rc = sqlite3_exec(c, "PRAGMA quick_check", quick_first_row, &q, NULL);
	if (rc != SQLITE_OK && !q.bad) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(c));
		rc = sqlite3_extended_errcode(c) & 0xff;
		ret = rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? -EBADMSG : -EIO;
	} else {
		ret = q.bad ? -EBADMSG : 0;
	}
	statedb_reader_close(c);
	return ret;
}

void statedb_abandon(struct statedb *s)
{
	char mark[PATH_MAX + 16];
	int ret;

	snprintf(mark, sizeof(mark), "%s.damaged", s->path);
	ret = fs_create(mark, "", 0, 0640);
	if (ret && ret != -EEXIST)
		log_err("%s: %s", mark, strerror(-ret));
	statedb_lock(s);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	statedb_unlock(s);
}

void statedb_close(struct statedb *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	if (s->fd >= 0)
		close(s->fd); /* after SQLite's: see struct statedb */
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct sqlite3 *statedb_lock(struct statedb *s)
{
	lockorder_lock(&s->lock, LOCK_STATEDB);
	return s->db;
}

void statedb_unlock(struct statedb *s)
{
	lockorder_unlock(&s->lock, LOCK_STATEDB);
}

int statedb_reader_open(struct statedb *s, struct sqlite3 **connp)
{
	sqlite3 *c = NULL;

	if (sqlite3_open_v2(s->path, &c, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		log_err("%s: reader: %s", s->path, c ? sqlite3_errmsg(c) : "out of memory");
		sqlite3_close(c);
		return c ? -EIO : -ENOMEM;
	}
	/* A checkpoint may hold the file for a moment; wait like the writer. */
	sqlite3_busy_timeout(c, 5000);
	*connp = c;
	return 0;
}

void statedb_reader_close(struct sqlite3 *conn)
{
	sqlite3_close(conn);
}
