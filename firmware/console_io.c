// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * console_io - terminal input for the console: one byte reader under
 * everything (poll with the idle deadline and the stop fd, hang-up and
 * EOF detection), libedit on top of it for command lines, and a reader
 * without echo for passwords.
 *
 * libedit reads through ed_getc() (EL_GETCFN), never from the fd itself,
 * so the idle timeout and the stop fd work in the middle of a line, and
 * bytes are decoded as UTF-8 here. In its editing mode libedit gets
 * "-isig": Ctrl-C reaches us as a character (cancel the line) instead of
 * a signal, on a controlling tty as on a serial line that is not one.
 * A line longer than CONSOLE_LINE_MAX is swallowed up to its newline
 * instead of growing libedit's buffer; the caller then reports it.
 */
#include "firmware/console_int.h"

#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct console_ed {
	EditLine *el;
	History *hist;
	FILE *fin;
	struct termios saved; /* the tty as we found it */
	bool restore;
	char line[CONSOLE_LINE_MAX + 1];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void idle_reset(struct console *c)
{
	int64_t idle = c->o->idle_ms ? c->o->idle_ms : CONSOLE_IDLE_DEFAULT_MS;

	c->idle_deadline = idle > 0 ? mono_ms() + idle : 0;
}

bool console__ended(const struct console *c)
{
	return c->eof || c->timed_out || c->hangup || c->stopped;
}

/* Waits for input; false when the session ends (the flags say why). */
static bool fill(struct console *c)
{
	struct pollfd pfd[2] = { { .fd = c->in_fd, .events = POLLIN },
				 { .fd = c->o->stop_fd, .events = POLLIN } };
	int timeout, n;
	ssize_t r;

	while (!console__ended(c)) {
		timeout = -1;
		if (c->idle_deadline) {
			int64_t left = c->idle_deadline - mono_ms();

			if (left <= 0) {
				c->timed_out = true;
				break;
			}
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(pfd, c->o->stop_fd >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno != EINTR)
			c->hangup = true;
		if (n <= 0)
			continue;
		if (c->o->stop_fd >= 0 && pfd[1].revents) {
			c->stopped = true;
			break;
		}
		if (!(pfd[0].revents & POLLIN)) {
			c->hangup = !!(pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL));
			continue;
		}
		r = read(c->in_fd, c->ibuf, sizeof(c->ibuf));
		if (r > 0) {
			c->ipos = 0;
			c->ilen = (size_t)r;
			idle_reset(c);
			return true;
		}
		if (r == 0 && c->tty)
			c->hangup = true; /* non-canonical: no Ctrl-D here, a hang-up */
		else if (r == 0)
			c->eof = true;
		else if (errno != EINTR && errno != EAGAIN)
			c->hangup = true; /* EIO: the line or the pty went away */
	}
	return false;
}

static bool get_byte(struct console *c, uint8_t *b)
{
	if (c->ipos == c->ilen && !fill(c))
		return false;
	*b = c->ibuf[c->ipos++];
	return true;
}

/* One character from UTF-8; invalid sequences become U+FFFD. */
static bool get_char(struct console *c, wchar_t *wc)
{
	uint8_t b, b0;
	uint32_t v, min;
	int more;

	if (!get_byte(c, &b0))
		return false;
	if (b0 < 0x80) {
		*wc = b0;
		return true;
	}
	more = b0 >= 0xf0 && b0 < 0xf5 ? 3 : b0 >= 0xe0 && b0 < 0xf0 ? 2 : b0 >= 0xc2 ? 1 : 0;
	min = more == 3 ? 0x10000 : more == 2 ? 0x800 : 0x80;
	v = b0 & (0x3fu >> more);
	*wc = 0xfffd;
	if (b0 >= 0xf5 || !more)
		return true;
	for (int i = 0; i < more; i++) {
		if (!get_byte(c, &b))
			return false;
		if ((b & 0xc0) != 0x80) {
			c->ipos--; /* not ours: the next character starts here */
			return true;
		}
		v = v << 6 | (b & 0x3f);
	}
	if (v >= min && v <= 0x10ffff && (v < 0xd800 || v > 0xdfff))
		*wc = (wchar_t)v;
	return true;
}

static struct console *ed_console(EditLine *el)
{
	struct console *c = NULL;

	el_get(el, EL_CLIENTDATA, &c);
	return c;
}

static int ed_getc(EditLine *el, wchar_t *wc)
{
	struct console *c = ed_console(el);

	for (;;) {
		if (!get_char(c, wc))
			return 0;
		if (*wc == '\n' || *wc == '\r') {
			c->line_len = 0;
			return 1;
		}
		if (c->line_too_long)
			continue;
		if (++c->line_len > CONSOLE_LINE_MAX) {
			c->line_too_long = true;
			continue;
		}
		return 1;
	}
}

static char *ed_prompt(EditLine *el)
{
	return ed_console(el)->prompt;
}

/* Ctrl-C: drop the line being typed. */
static unsigned char ed_cancel(EditLine *el, int ch)
{
	struct console *c = ed_console(el);

	(void)ch;
	c->cancelled = true;
	console__printf(c, "^C\n");
	return CC_NEWLINE;
}

/* The words before the cursor, for help and completion; *openp: the
 * cursor is right after a word (being typed) rather than a blank. */
static int words_before_cursor(EditLine *el, char *text, size_t cap, char *buf, char **w, int *np,
			       bool *openp)
{
	const LineInfo *li = el_line(el);
	size_t n = (size_t)(li->cursor - li->buffer);
	const char *err;

	if (n >= cap)
		return -E2BIG;
	memcpy(text, li->buffer, n);
	text[n] = '\0';
	*openp = n && text[n - 1] != ' ' && text[n - 1] != '\t';
	return console__split(text, buf, CONSOLE_LINE_MAX, w, np, &err);
}

/* '?' at the start of a word: help for what is typed so far. */
static unsigned char ed_help(EditLine *el, int ch)
{
	struct console *c = ed_console(el);
	char text[CONSOLE_LINE_MAX], buf[CONSOLE_LINE_MAX], *w[CONSOLE_ARGS_MAX];
	bool open;
	int n = 0;

	(void)ch;
	if (words_before_cursor(el, text, sizeof(text), buf, w, &n, &open) || open) {
		el_insertstr(el, "?");
		return CC_REFRESH;
	}
	console__printf(c, "\n");
	console__help(c, w, n);
	return CC_REDISPLAY;
}

struct cands {
	const char *prefix;
	char list[32][64];
	int n;
};

static void cand_add(void *arg, const char *cand)
{
	struct cands *cs = arg;

	if (strncmp(cand, cs->prefix, strlen(cs->prefix)) || cs->n == 32)
		return;
	for (int i = 0; i < cs->n; i++)
		if (!strcmp(cs->list[i], cand))
			return;
	snprintf(cs->list[cs->n++], sizeof(cs->list[0]), "%s", cand);
}

static unsigned char ed_complete(EditLine *el, int ch)
{
	struct console *c = ed_console(el);
	char text[CONSOLE_LINE_MAX], buf[CONSOLE_LINE_MAX], *w[CONSOLE_ARGS_MAX];
	struct cands cs = { .prefix = "" };
	size_t common, plen;
	bool open;
	int n = 0;

	(void)ch;
	if (words_before_cursor(el, text, sizeof(text), buf, w, &n, &open))
		return CC_REFRESH_BEEP;
	if (open)
		cs.prefix = w[--n];
	console__complete(c, w, n, cand_add, &cs);
	if (!cs.n)
		return CC_REFRESH_BEEP;
	plen = strlen(cs.prefix);
	common = strlen(cs.list[0]);
	for (int i = 1; i < cs.n; i++)
		for (size_t k = 0; k < common; k++)
			if (cs.list[i][k] != cs.list[0][k])
				common = k;
	if (cs.n == 1) {
		el_insertstr(el, cs.list[0] + plen);
		el_insertstr(el, " ");
		return CC_REFRESH;
	}
	if (common > plen) {
		cs.list[0][common] = '\0';
		el_insertstr(el, cs.list[0] + plen);
		return CC_REFRESH;
	}
	console__printf(c, "\n");
	for (int i = 0; i < cs.n; i++)
		console__printf(c, "%s%s", cs.list[i], i + 1 < cs.n ? "  " : "\n");
	return CC_REDISPLAY;
}

/*
 * The whole session keeps a tty in raw input (no canonical lines, no echo,
 * no signals, no XON/XOFF), as drivers/serial sets a serial line, and
 * libedit starts from that. Otherwise keys typed ahead of a prompt would
 * meet the cooked mode between two lines: Ctrl-C there would flush them
 * as a signal instead of reaching the editor.
 */
static void tty_raw(struct console *c, struct console_ed *ed)
{
	struct termios t;

	if (!c->tty || tcgetattr(c->in_fd, &ed->saved))
		return;
	t = ed->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	ed->restore = tcsetattr(c->in_fd, TCSANOW, &t) == 0;
}

static int ed_setup(struct console *c, struct console_ed *ed)
{
	const char *term = c->o->term;
	HistEvent ev;

	ed->el = el_init("camgate", ed->fin, c->out, c->out);
	ed->hist = history_init();
	if (!ed->el || !ed->hist)
		return -ENOMEM;
	history(ed->hist, &ev, H_SETSIZE, CONSOLE_HISTORY);
	history(ed->hist, &ev, H_SETUNIQUE, 1);
	el_set(ed->el, EL_CLIENTDATA, c);
	el_set(ed->el, EL_GETCFN, ed_getc);
	el_set(ed->el, EL_PROMPT, ed_prompt);
	el_set(ed->el, EL_HIST, history, ed->hist);
	el_set(ed->el, EL_SIGNAL, 0);
	if (!c->tty)
		return 0;
	if (!term)
		term = getenv("TERM");
	el_set(ed->el, EL_TERMINAL, term && *term ? term : "vt100");
	el_set(ed->el, EL_EDITOR, "emacs");
	/* No signals, no XON/XOFF, no literal-next: a stray ^S from line
	 * noise must not freeze the output. "-d" is the editing mode; "-x"
	 * the mode libedit keeps between lines (and sets in el_init()), which
	 * by default is cooked with signals: keys typed ahead of a prompt
	 * would meet it. Both stay raw for the whole session. */
	el_set(ed->el, EL_SETTY, "-d", "-isig", "-ixon", "-iexten", NULL);
	el_set(ed->el, EL_SETTY, "-x", "-isig", "-icanon", "-echo", "-ixon", "-iexten", NULL);
	/* The wide call: libedit's narrow EL_ADDFN leaks its copies of the
	 * name and help (its own comment says so); static wide strings do not. */
	el_wset(ed->el, EL_ADDFN, L"cg-complete", L"complete a command word or camera",
		ed_complete);
	el_wset(ed->el, EL_ADDFN, L"cg-help", L"help for the words typed so far", ed_help);
	el_wset(ed->el, EL_ADDFN, L"cg-cancel", L"drop the line", ed_cancel);
	el_set(ed->el, EL_BIND, "^I", "cg-complete", NULL);
	el_set(ed->el, EL_BIND, "?", "cg-help", NULL);
	el_set(ed->el, EL_BIND, "^C", "cg-cancel", NULL);
	return 0;
}

int console__io_open(struct console *c)
{
	struct console_ed *ed = calloc(1, sizeof(*ed));
	int fd, ret;

	if (!ed)
		return -ENOMEM;
	c->in_fd = c->o->in_fd;
	c->tty = isatty(c->in_fd);
	idle_reset(c);
	fd = dup(c->in_fd);
	ed->fin = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!ed->fin) {
		if (fd >= 0)
			close(fd);
		free(ed);
		return -EIO;
	}
	c->ed = ed;
	tty_raw(c, ed);
	ret = ed_setup(c, ed);
	if (ret)
		console__io_close(c);
	return ret;
}

void console__io_close(struct console *c)
{
	struct console_ed *ed = c->ed;

	if (!ed)
		return;
	if (ed->el)
		el_end(ed->el);
	if (ed->hist)
		history_end(ed->hist);
	if (ed->restore)
		tcsetattr(c->in_fd, TCSANOW, &ed->saved);
	fclose(ed->fin);
	free(ed);
	c->ed = NULL;
}

const char *console__readline(struct console *c, const char *prompt)
{
	struct console_ed *ed = c->ed;
	const char *got;
	int count = 0;
	size_t n;

	snprintf(c->prompt, sizeof(c->prompt), "%s", prompt);
	c->cancelled = c->line_too_long = false;
	c->line_len = 0;
	if (!c->tty && *prompt) {
		/* libedit shows no prompt without a tty; scripts still see one. */
		console__printf(c, "%s", prompt);
	}
	got = el_gets(ed->el, &count);
	if (console__ended(c))
		return NULL;
	if (c->cancelled) {
		/* libedit may hand back nothing at all for a cancelled empty line. */
		if (!c->tty)
			console__printf(c, "^C\n");
		ed->line[0] = '\0';
		return ed->line;
	}
	if (!got || count <= 0) {
		/* Ctrl-D on an empty line, or libedit could not set up a tty
		 * that hung up in between (it then returns before reading). */
		struct pollfd p = { .fd = c->in_fd, .events = POLLIN };

		if (c->tty && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			c->hangup = true;
		else
			c->eof = true;
		return NULL;
	}
	n = strcspn(got, "\r\n");
	if (n > CONSOLE_LINE_MAX)
		n = CONSOLE_LINE_MAX;
	memcpy(ed->line, got, n);
	ed->line[n] = '\0';
	if (c->line_too_long) {
		console__printf(c, "error: line longer than %d bytes, ignored\n", CONSOLE_LINE_MAX);
		ed->line[0] = '\0';
	}
	return ed->line;
}

void console__history_add(struct console *c, const char *line)
{
	HistEvent ev;

	if (c->ed && *line)
		history(c->ed->hist, &ev, H_ENTER, line);
}

/* Raw mode for the secret reader; returns whether @saved must be restored. */
static bool secret_mode(struct console *c, struct termios *saved)
{
	struct termios raw;

	if (!c->tty || tcgetattr(c->in_fd, saved))
		return false;
	raw = *saved;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IGNCR);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	return tcsetattr(c->in_fd, TCSANOW, &raw) == 0;
}

int console__read_secret(struct console *c, const char *prompt, char *buf, size_t cap)
{
	struct termios saved;
	bool restore, too_long = false;
	size_t n = 0;
	uint8_t b;
	int ret = -EPIPE;

	console__printf(c, "%s", prompt);
	restore = secret_mode(c, &saved);
	while (get_byte(c, &b)) {
		if (b == '\r' || b == '\n') {
			if (b == '\r' && c->ipos < c->ilen && c->ibuf[c->ipos] == '\n')
				c->ipos++;
			ret = too_long ? -E2BIG : 0;
			break;
		}
		if (b == 0x03 || b == 0x04) { /* Ctrl-C, Ctrl-D */
			ret = -ECANCELED;
			break;
		}
		if (b == 0x7f || b == 0x08) {
			n -= n > 0;
			continue;
		}
		if (b == 0x15 || b == 0x17) { /* Ctrl-U, Ctrl-W */
			n = 0;
			continue;
		}
		if (b < 0x20)
			continue;
		if (n + 1 < cap)
			buf[n++] = (char)b;
		else
			too_long = true;
	}
	buf[n < cap ? n : cap - 1] = '\0';
	if (restore)
		tcsetattr(c->in_fd, TCSANOW, &saved);
	console__printf(c, "%s\n", ret == -ECANCELED ? "^C" : "");
	return ret;
}
