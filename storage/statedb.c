// SPDX-License-Identifier: GPL-2.0-or-later
#include "storage/statedb.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/lockorder.h"
#include "lib/log.h"

struct statedb {
	sqlite3 *db;
	char path[PATH_MAX];
	pthread_mutex_t lock;
};

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

int statedb_open(const char *dir, struct statedb **dbp)
{
	char path[PATH_MAX];
	struct statedb *s;
	int ret;

	ret = fs_mkdir_p(dir, 0750);
	if (ret) {
		log_err("%s: cannot create: %s", dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	ret = statedb_precreate(path);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		log_err("%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		ret = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_err("%s: %s", path, sqlite3_errmsg(s->db));
		ret = -EIO;
		goto fail;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	ret = statedb_migrate(s, "core", core_steps,
			      (int)(sizeof(core_steps) / sizeof(core_steps[0])));
	if (ret)
		goto fail;
	*dbp = s;
	return 0;
fail:
	statedb_close(s);
	return ret;
}

void statedb_close(struct statedb *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
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
