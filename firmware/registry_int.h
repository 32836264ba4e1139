/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry_int.h - shared by registry.c (fields, names) and registry_db.c
 * (SQL); not part of the registry's interface. */
#ifndef CAMGATE_FIRMWARE_REGISTRY_INT_H
#define CAMGATE_FIRMWARE_REGISTRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/registry.h"

struct sqlite3;
struct sqlite3_stmt;

#define REGISTRY_SQL_MAX 2048

enum registry__ftype {
	F_TEXT,
	F_INT,
	F_BOOL,
};

enum registry__owner {
	O_DEVICE,    /* discovery, on onvif-auto cameras */
	O_VOLATILE,  /* discovery, never logged */
	O_INSTALLER, /* installer and central */
	O_META,	     /* the registry itself */
};

struct registry__field {
	const char *col;
	enum registry__ftype type;
	enum registry__owner owner;
	size_t off;
	size_t size;
};

extern const struct registry__field registry__fields[];
extern const size_t registry__nfields;

struct registry {
	struct statedb *db;
	char select_sql[REGISTRY_SQL_MAX];
	char insert_sql[REGISTRY_SQL_MAX];
};

/* One transaction under the statedb lock (registry_db.c). */
struct registry__txn {
	struct registry *reg;
	struct sqlite3 *db;
	int64_t now_ms;
	const char *cause;
};

int registry__txn_begin(struct registry__txn *t, struct registry *reg, int64_t now_ms,
			const char *cause);
/* Commit if @ret is 0, else roll back; returns @ret or the commit error. */
int registry__txn_end(struct registry__txn *t, int ret);
int registry__sql_fail(struct sqlite3 *db, const char *what);
void registry__row_to_camera(struct sqlite3_stmt *st, struct registry_camera *c);
/* First camera WHERE @col = @val (a column name from the field table or
 * "name"); 0, -ENOENT or -EIO. */
int registry__load_by(struct registry__txn *t, const char *col, const char *val,
		      struct registry_camera *out);
int registry__store(struct registry__txn *t, const struct registry_camera *c);
int registry__log_row(struct registry__txn *t, const char *camera, const char *event,
		      const char *field, const char *old_v, const char *new_v);

void registry__field_text(const struct registry__field *f, const struct registry_camera *c,
			  char *buf, size_t cap);
bool registry__field_equal(const struct registry__field *f, const struct registry_camera *a,
			   const struct registry_camera *b);
const struct registry__field *registry__field_find(const char *col);
void registry__make_name(const struct registry_camera *c, char *out, size_t cap);

#endif /* CAMGATE_FIRMWARE_REGISTRY_INT_H */
