// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The INI file as a list of lines; see firmware/config_write.h. A line is
 * classified when it is looked at (section header, "key = value", or
 * anything else, kept verbatim), the way libinih reads it: blanks around
 * names and values are ignored, ';' and '#' start comment lines, and
 * " ;" starts an inline comment.
 */
#include "firmware/config_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/sha256.h"

#define CW_NAME_MAX 96
#define CW_PATH_MAX 4096

struct config_write {
	char **line;
	size_t n, cap;
	uint8_t hash[CONFIG_WRITE_HASHLEN];
};

enum cw_kind { CW_OTHER, CW_SECTION, CW_KEY };

struct cw_parsed {
	enum cw_kind kind;
	char name[CW_NAME_MAX]; /* section or key */
	const char *value;	/* into the line; len below */
	size_t value_len;
};

static const char cw_name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._:-";

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n < CW_NAME_MAX && strspn(s, cw_name_chars) == n;
}

bool config_write_value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n >= CONFIG_WRITE_LINE - CW_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if ((c == ';' || c == '#') && i && (v[i - 1] == ' ' || v[i - 1] == '\t'))
			return false;
	}
	return !n || (v[0] != ' ' && v[n - 1] != ' ');
}

static void parse_line(const char *l, struct cw_parsed *p)
{
	const char *s = l + strspn(l, " \t"), *e, *eq;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (*s == '[') {
		e = strchr(s, ']');
		if (!e)
			return;
		s++;
		s += strspn(s, " \t");
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - s);
		if (n < sizeof(p->name)) {
			memcpy(p->name, s, n);
			p->kind = CW_SECTION;
		}
		return;
	}
	eq = strchr(s, '=');
	if (!*s || *s == ';' || *s == '#' || !eq)
		return;
	for (e = eq; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	n = (size_t)(e - s);
	if (!n || n >= sizeof(p->name))
		return;
	memcpy(p->name, s, n);
	p->kind = CW_KEY;
	s = eq + 1 + strspn(eq + 1, " \t");
	for (e = s; *e && !((*e == ';' || *e == '#') && e > s && (e[-1] == ' ' || e[-1] == '\t'));
	     e++)
		;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	p->value = s;
	p->value_len = (size_t)(e - s);
}

static int line_insert(struct config_write *cw, size_t at, const char *text)
{
	char *dup = strdup(text), **grown;

	if (!dup)
		return -ENOMEM;
	if (cw->n == cw->cap) {
		size_t cap = cw->cap ? cw->cap * 2 : 32;

		grown = realloc(cw->line, cap * sizeof(*grown));
		if (!grown) {
			free(dup);
			return -ENOMEM;
		}
		cw->line = grown;
		cw->cap = cap;
	}
	memmove(cw->line + at + 1, cw->line + at, (cw->n - at) * sizeof(*cw->line));
	cw->line[at] = dup;
	cw->n++;
	return 0;
}

static void line_delete(struct config_write *cw, size_t at)
{
	free(cw->line[at]);
	memmove(cw->line + at, cw->line + at + 1, (cw->n - at - 1) * sizeof(*cw->line));
	cw->n--;
}

int config_write_parse(const char *text, struct config_write **cwp)
{
	struct config_write *cw = calloc(1, sizeof(*cw));
	const char *p = text, *nl;
	char buf[CONFIG_WRITE_LINE];
	int ret = 0;

	if (!cw)
		return -ENOMEM;
	if (strlen(text) > CONFIG_WRITE_MAX)
		ret = -E2BIG;
	for (; !ret && *p; p = nl ? nl + 1 : p + strlen(p)) {
		size_t n;

		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n >= sizeof(buf)) {
			ret = -E2BIG;
			break;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		ret = line_insert(cw, cw->n, buf);
	}
	if (!ret)
		ret = sha256_oneshot(text, strlen(text), cw->hash);
	if (ret) {
		config_write_free(cw);
		return ret;
	}
	*cwp = cw;
	return 0;
}

/* The whole file into a NUL-terminated buffer; -ENOENT when missing. */
static int read_file(const char *path, char **textp)
{
	char *text = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	text = malloc(CONFIG_WRITE_MAX + 2);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	while ((r = read(fd, text + n, CONFIG_WRITE_MAX + 1 - n)) > 0 && n <= CONFIG_WRITE_MAX)
		n += (size_t)r;
	if (r < 0)
		ret = -errno;
	else if (n > CONFIG_WRITE_MAX)
		ret = -E2BIG;
	close(fd);
	if (ret) {
		free(text);
		return ret;
	}
	text[n] = '\0';
	*textp = text;
	return 0;
}

int config_write_load(const char *path, struct config_write **cwp)
{
	char *text = NULL;
	int ret = read_file(path, &text);

	if (ret == -ENOENT) {
		ret = config_write_parse("", cwp);
		if (!ret)
			memset((*cwp)->hash, 0, CONFIG_WRITE_HASHLEN);
		return ret;
	}
	if (ret) {
		log_err("config: %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = config_write_parse(text, cwp);
	free(text);
	if (ret)
		log_err("config: %s: %s", path, strerror(-ret));
	return ret;
}

void config_write_free(struct config_write *cw)
{
	if (!cw)
		return;
	for (size_t i = 0; i < cw->n; i++)
		free(cw->line[i]);
	free(cw->line);
	free(cw);
}

void config_write_loaded_hash(const struct config_write *cw, uint8_t out[CONFIG_WRITE_HASHLEN])
{
	memcpy(out, cw->hash, CONFIG_WRITE_HASHLEN);
}

int config_write_file_hash(const char *path, uint8_t out[CONFIG_WRITE_HASHLEN])
{
	char *text = NULL;
	int ret = read_file(path, &text);

	if (ret == -ENOENT) {
		memset(out, 0, CONFIG_WRITE_HASHLEN);
		return 0;
	}
	if (ret)
		return -EIO;
	ret = sha256_oneshot(text, strlen(text), out);
	free(text);
	return ret;
}

/* Lines [*startp, *endp) of [@section]: header excluded; -ENOENT. */
static int section_range(const struct config_write *cw, const char *section, size_t *startp,
			 size_t *endp)
{
	struct cw_parsed p;
	bool in = !*section;
	size_t i;

	*startp = 0;
	for (i = 0; i < cw->n; i++) {
		parse_line(cw->line[i], &p);
		if (p.kind != CW_SECTION)
			continue;
		if (in)
			break;
		if (!strcmp(p.name, section)) {
			in = true;
			*startp = i + 1;
		}
	}
	*endp = i;
	return in ? 0 : -ENOENT;
}

int config_write_get(const struct config_write *cw, const char *section, const char *key, char *buf,
		     size_t cap)
{
	struct cw_parsed p;
	size_t s, e;

	if (section_range(cw, section, &s, &e))
		return -ENOENT;
	for (size_t i = s; i < e; i++) {
		parse_line(cw->line[i], &p);
		if (p.kind != CW_KEY || strcmp(p.name, key))
			continue;
		if (p.value_len >= cap)
			return -E2BIG;
		memcpy(buf, p.value, p.value_len);
		buf[p.value_len] = '\0';
		return 0;
	}
	return -ENOENT;
}

int config_write_set(struct config_write *cw, const char *section, const char *key,
		     const char *value)
{
	char text[CONFIG_WRITE_LINE];
	struct cw_parsed p;
	size_t s, e, last;
	int ret;

	if (!name_ok(key) || (*section && !name_ok(section)) || !config_write_value_ok(value))
		return -EINVAL;
	snprintf(text, sizeof(text), "%s = %s", key, value);
	if (section_range(cw, section, &s, &e)) {
		snprintf(text, sizeof(text), "[%s]", section);
		ret = cw->n && *cw->line[cw->n - 1] ? line_insert(cw, cw->n, "") : 0;
		if (!ret)
			ret = line_insert(cw, cw->n, text);
		if (ret)
			return ret;
		return config_write_set(cw, section, key, value);
	}
	for (size_t i = last = s; i < e; i++) {
		parse_line(cw->line[i], &p);
		if (p.kind != CW_KEY)
			continue;
		last = i + 1;
		if (strcmp(p.name, key))
			continue;
		free(cw->line[i]);
		cw->line[i] = strdup(text);
		return cw->line[i] ? 0 : -ENOMEM;
	}
	return line_insert(cw, last, text);
}

bool config_write_has_section(const struct config_write *cw, const char *section)
{
	size_t s, e;

	return *section && !section_range(cw, section, &s, &e);
}

int config_write_remove_section(struct config_write *cw, const char *section)
{
	size_t s, e;

	if (!*section || section_range(cw, section, &s, &e))
		return -ENOENT;
	/* The header too, and the blank line that separated it. */
	for (size_t i = e; i >= s; i--)
		line_delete(cw, i - 1);
	if (s >= 2 && s - 2 < cw->n && !*cw->line[s - 2])
		line_delete(cw, s - 2);
	return 0;
}

int config_write_sections(const struct config_write *cw, const char *prefix,
			  int (*fn)(void *arg, const char *section), void *arg)
{
	size_t n = strlen(prefix);
	struct cw_parsed p;
	int ret = 0;

	for (size_t i = 0; !ret && i < cw->n; i++) {
		parse_line(cw->line[i], &p);
		if (p.kind == CW_SECTION && !strncmp(p.name, prefix, n))
			ret = fn(arg, p.name);
	}
	return ret;
}

int config_write_keys(const struct config_write *cw, const char *section,
		      int (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	char value[CONFIG_WRITE_LINE];
	struct cw_parsed p;
	size_t s, e;
	int ret = 0;

	if (section_range(cw, section, &s, &e))
		return -ENOENT;
	for (size_t i = s; !ret && i < e; i++) {
		parse_line(cw->line[i], &p);
		if (p.kind != CW_KEY)
			continue;
		memcpy(value, p.value, p.value_len);
		value[p.value_len] = '\0';
		ret = fn(arg, p.name, value);
	}
	return ret;
}

int config_write_render(const struct config_write *cw, char **textp, size_t *lenp)
{
	size_t len = 0, off = 0;
	char *text;

	for (size_t i = 0; i < cw->n; i++)
		len += strlen(cw->line[i]) + 1;
	if (len > CONFIG_WRITE_MAX)
		return -E2BIG;
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < cw->n; i++) {
		size_t n = strlen(cw->line[i]);

		memcpy(text + off, cw->line[i], n);
		off += n;
		text[off++] = '\n';
	}
	text[off] = '\0';
	*textp = text;
	if (lenp)
		*lenp = off;
	return 0;
}

int config_write_save(const struct config_write *cw, const char *path)
{
	char *text = NULL;
	mode_t mode = 0640;
	struct stat st;
	size_t len = 0;
	int ret;

	if (!stat(path, &st))
		mode = st.st_mode & 07777;
	ret = config_write_render(cw, &text, &len);
	if (ret)
		return ret;
	ret = fs_replace(path, text, len, mode);
	free(text);
	if (ret) {
		log_err("config: cannot write %s: %s", path, strerror(-ret));
		return -EIO;
	}
	return 0;
}
