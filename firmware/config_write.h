/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config_write - edit the INI config file as text and replace it
 * atomically, for the console's staged changes.
 *
 * The file is kept as lines, so comments, order and blank lines survive
 * an edit; only the lines of changed keys are rewritten as "key = value".
 * config_write_save() writes FILE.tmp, fsyncs it, renames it over FILE
 * and fsyncs the directory, so a power cut leaves the old file or the new
 * one, never a mix. The file mode is kept (0640 for a new file).
 *
 * Values must survive libinih: no control characters, no leading or
 * trailing blanks, no " ;" or " #" (inline comment starts). Sections and
 * keys are [A-Za-z0-9._:-]. -EINVAL otherwise.
 *
 * Ownership: a struct config_write owns its lines. Threads: one owner.
 * Errors: -EINVAL, -ENOENT, -E2BIG (CONFIG_WRITE_MAX), -EIO (logged),
 * -ENOMEM.
 */
#ifndef CAMGATE_FIRMWARE_CONFIG_WRITE_H
#define CAMGATE_FIRMWARE_CONFIG_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/config.h"

struct config_write; /* opaque */

#define CONFIG_WRITE_MAX     (1024 * 1024)	   /* file bytes */
#define CONFIG_WRITE_LINE    (CONFIG_LINE_MAX + 1) /* bytes of one line, NUL included */
#define CONFIG_WRITE_HASHLEN 32

/* Read @path; a missing file is an empty document. *cwp set on success. */
int config_write_load(const char *path, struct config_write **cwp);
/* A document from @text (for snapshots and tests). */
int config_write_parse(const char *text, struct config_write **cwp);
void config_write_free(struct config_write *cw); /* NULL is a no-op */

/* SHA-256 of the file as loaded (all zero for a missing file). */
void config_write_loaded_hash(const struct config_write *cw, uint8_t out[CONFIG_WRITE_HASHLEN]);
/* SHA-256 of @path now; zero for a missing file. -EIO. */
int config_write_file_hash(const char *path, uint8_t out[CONFIG_WRITE_HASHLEN]);

bool config_write_value_ok(const char *value);
/* The value of @key in [@section] into @buf; -ENOENT when absent. */
int config_write_get(const struct config_write *cw, const char *section, const char *key, char *buf,
		     size_t cap);
/* Set, replacing the first "key = ..." of the section or adding one after
 * the section's last key (the section is appended when missing). */
int config_write_set(struct config_write *cw, const char *section, const char *key,
		     const char *value);
bool config_write_has_section(const struct config_write *cw, const char *section);
/* Remove [@section] with its lines; -ENOENT when absent. */
int config_write_remove_section(struct config_write *cw, const char *section);
/* Calls @fn with each section name starting with @prefix, in file order. */
int config_write_sections(const struct config_write *cw, const char *prefix,
			  int (*fn)(void *arg, const char *section), void *arg);
/* Calls @fn with each key and value of [@section], in file order. */
int config_write_keys(const struct config_write *cw, const char *section,
		      int (*fn)(void *arg, const char *key, const char *value), void *arg);

/* The document as text; *textp is malloc'ed, the caller frees it. */
int config_write_render(const struct config_write *cw, char **textp, size_t *lenp);
/* Atomic replace of @path (see above). */
int config_write_save(const struct config_write *cw, const char *path);

#endif /* CAMGATE_FIRMWARE_CONFIG_WRITE_H */
