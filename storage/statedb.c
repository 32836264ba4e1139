// SPDX-License-Identifier: GPL-2.0-or-later
#include "storage/statedb.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/log.h"

struct statedb {
	sqlite3 *db;
	pthread_mutex_t lock;
};

/* Append only: migration N takes user_version N to N+1. Never edit one. */
static const char *const migrations[] = {
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" ts_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"		/* account, "system" or "central" */
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE TABLE alarms ("
	" id INTEGER PRIMARY KEY,"
	" ts_ms INTEGER NOT NULL,"	/* first raised */
	" last_ms INTEGER NOT NULL,"	/* last raised */
	" count INTEGER NOT NULL DEFAULT 1,"
	" code TEXT NOT NULL,"
	" camera TEXT NOT NULL,"	/* "" when gateway-wide */
	" message TEXT NOT NULL,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" cleared_ms INTEGER);"
	"CREATE INDEX alarms_active ON alarms(active, code, camera);",
};
#define NMIGRATIONS (int)(sizeof(migrations) / sizeof(migrations[0]))

static int statedb_migrate(sqlite3 *db, const char *path)
{
	sqlite3_stmt *st;
	char *err = NULL;
	int ver = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver > NMIGRATIONS) {
		log_err("%s: schema version %d is newer than this firmware (%d)",
			path, ver, NMIGRATIONS);
		return -EPROTO;
	}
	for (; ver < NMIGRATIONS; ver++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", ver + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, migrations[ver], NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
			log_err("%s: migration %d: %s", path, ver + 1, err ? err : "?");
			sqlite3_free(err);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
	}
	return 0;
fail:
	log_err("%s: %s", path, sqlite3_errmsg(db));
	return -EIO;
}

int statedb_open(const char *dir, struct statedb **dbp)
{
	char path[PATH_MAX];
	struct statedb *s;
	int ret;

	if (mkdir(dir, 0750) && errno != EEXIST) {
		ret = -errno;
		log_err("%s: cannot create: %m", dir);
		return ret;
	}
	snprintf(path, sizeof(path), "%s/state.db", dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		log_err("%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		ret = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		log_err("%s: %s", path, sqlite3_errmsg(s->db));
		ret = -EIO;
		goto fail;
	}
	ret = statedb_migrate(s->db, path);
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
	pthread_mutex_lock(&s->lock);
	return s->db;
}

void statedb_unlock(struct statedb *s)
{
	pthread_mutex_unlock(&s->lock);
}
