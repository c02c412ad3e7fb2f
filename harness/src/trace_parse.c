/* SPDX-License-Identifier: MIT */
/*
 * The trace parser (docs/trace-format.md).  A trace is input from outside:
 * every field is checked, and a bad trace gives "FILE:LINE: reason", never
 * a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"
#include "vlab/platform.h"

/* A line: the longest payload in hex, and its words (HX_TRACE_MAX_FILE
 * bounds the whole text: a blk request is about 3 KiB of it). */
#define MAX_LINE (2u * (size_t)HX_TRACE_MAX_PAYLOAD + 256u)
#define MAX_TOK 8

static const char *const op_names[HX_EV_COUNT] = {
	[HX_EV_R] = "r",         [HX_EV_W] = "w",     [HX_EV_PR] = "pr",   [HX_EV_PW] = "pw",
	[HX_EV_ALLOC] = "alloc", [HX_EV_FREE] = "free", [HX_EV_MAP] = "map", [HX_EV_SH] = "sh",
	[HX_EV_SHM] = "shm",     [HX_EV_MB] = "mb",   [HX_EV_RMB] = "rmb", [HX_EV_WMB] = "wmb",
	[HX_EV_NOW] = "now",     [HX_EV_DELAY] = "delay", [HX_EV_RAND] = "rand", [HX_EV_DR] = "dr",
	[HX_EV_DW] = "dw",       [HX_EV_UNMAP] = "unmap", [HX_EV_INPUT] = "input",
	[HX_EV_PUB] = "pub",     [HX_EV_NOPUB] = "nopub",
};

static const char *const dir_names[4] = {"?", "to", "from", "both"};

const char *hx_ev_name(enum hx_ev_op op)
{
	return (unsigned)op < HX_EV_COUNT ? op_names[op] : "?";
}

static bool has_width(enum hx_ev_op op)
{
	return op == HX_EV_R || op == HX_EV_W || op == HX_EV_PR || op == HX_EV_PW || op == HX_EV_SH;
}

static char *dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void addr_str(uint64_t a, char *buf, size_t n)
{
	if (a == HX_TRACE_NONE)
		snprintf(buf, n, "none");
	else
		snprintf(buf, n, "0x%" PRIx64, a);
}

void hx_ev_format(const struct hx_ev *e, char *buf, size_t n)
{
	char a[24];
	addr_str(e->op == HX_EV_ALLOC ? e->c : e->a, a, sizeof a);
	switch ((enum hx_ev_op)e->op) {
	case HX_EV_R: case HX_EV_W: case HX_EV_PR: case HX_EV_PW: case HX_EV_SH:
		snprintf(buf, n, "%s%u %s 0x%" PRIx64, hx_ev_name(e->op), e->width, a, e->b);
		return;
	case HX_EV_ALLOC:
		snprintf(buf, n, "alloc %" PRIu64 " %" PRIu64 " %s", e->a, e->b, a);
		return;
	case HX_EV_FREE: case HX_EV_NOPUB:
		snprintf(buf, n, "%s %s %" PRIu64, hx_ev_name(e->op), a, e->b);
		return;
	case HX_EV_MAP: case HX_EV_UNMAP:
		snprintf(buf, n, "%s %s %" PRIu64 " %s%s", hx_ev_name(e->op), a, e->b, dir_names[e->c & 3],
		         e->op == HX_EV_UNMAP && e->len ? " ..." : "");
		return;
	case HX_EV_NOW: case HX_EV_DELAY:
		snprintf(buf, n, "%s %" PRIu64, hx_ev_name(e->op), e->a);
		return;
	case HX_EV_RAND:
		snprintf(buf, n, "rand 0x%" PRIx64, e->a);
		return;
	case HX_EV_INPUT: { /* escaped as in the trace */
		int k = snprintf(buf, n, "input ");
		for (size_t i = 0; i < e->len && k >= 0 && (size_t)k + 8 < n; i++) {
			uint8_t c = e->data[i];
			k += c == '\\' ? snprintf(buf + k, n - (size_t)k, "\\\\")
			     : c < 0x20 || c >= 0x7f ? snprintf(buf + k, n - (size_t)k, "\\x%02x", c)
			                             : snprintf(buf + k, n - (size_t)k, "%c", c);
		}
		return;
	}
	case HX_EV_SHM: case HX_EV_DR: case HX_EV_DW: case HX_EV_PUB: {
		int k = snprintf(buf, n, "%s %s %zu ", hx_ev_name(e->op), a, e->len);
		for (size_t i = 0; i < e->len && k >= 0 && (size_t)k + 8 < n; i++) {
			if (i == 32) {
				k += snprintf(buf + k, n - (size_t)k, "...");
				break;
			}
			k += snprintf(buf + k, n - (size_t)k, "%02x", e->data[i]);
		}
		return;
	}
	default:
		snprintf(buf, n, "%s", hx_ev_name(e->op));
	}
}

/* ---- parsing ---- */

struct parser {
	struct hx_trace *t;
	char *err;
	size_t errlen;
	unsigned line;
};

static bool fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct parser *p, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->t->name, p->line, why);
	return false;
}

/* "0x..." hex or decimal, all of it, no overflow. */
static bool num(const char *s, uint64_t *v)
{
	int base = 10;
	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (const char *c = s; *c; c++)
		if (!(base == 16 ? (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') : (*c >= '0' && *c <= '9')))
			return false;
	errno = 0;
	char *end = NULL;
	unsigned long long x = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

static bool addr(const char *s, uint64_t *v)
{
	if (!strcmp(s, "none")) {
		*v = HX_TRACE_NONE;
		return true;
	}
	return num(s, v);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool parse_op(const char *s, struct hx_ev *e)
{
	for (unsigned op = 0; op < HX_EV_COUNT; op++) {
		size_t n = strlen(op_names[op]);
		if (strncmp(s, op_names[op], n) != 0)
			continue;
		if (has_width((enum hx_ev_op)op)) {
			if ((s[n] == '1' || s[n] == '2' || s[n] == '4') && !s[n + 1] && !(op == HX_EV_SH && s[n] == '1')) {
				e->op = (uint8_t)op;
				e->width = (uint8_t)(s[n] - '0');
				return true;
			}
		} else if (!s[n]) {
			e->op = (uint8_t)op;
			return true;
		}
	}
	return false;
}

/* len bytes of payload from hex into e->data. */
static bool bytes(struct parser *p, const char *hex, size_t len, struct hx_ev *e)
{
	e->len = len;
	if (!len)
		return true;
	e->data = malloc(len);
	if (!e->data)
		return fail(p, "out of memory");
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return fail(p, "garbage: payload is not lower-case hex");
		e->data[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * "TIME input TEXT": a command line as vlab read it, the rest of the line,
 * with backslash escapes (\\ and \xHH) for a backslash and the bytes a
 * trace line cannot hold.  e->data: the text, NUL-terminated (len without it).
 */
static bool input_line(struct parser *p, const char *line, struct hx_ev *e)
{
	const char *sp = strchr(line, ' ');
	char tm[24];
	if (!sp || (size_t)(sp - line) >= sizeof tm)
		return fail(p, "garbage: not an event line");
	memcpy(tm, line, (size_t)(sp - line));
	tm[sp - line] = '\0';
	if (!num(tm, &e->time))
		return fail(p, "garbage: '%s' is not a time", tm);
	const char *s = sp + 7; /* after " input " */
	e->op = HX_EV_INPUT;
	if (*s == '\0') /* the recorder writes no empty input */
		return fail(p, "garbage: an input line without its text");
	e->data = malloc(strlen(s) + 1);
	if (!e->data)
		return fail(p, "out of memory");
	size_t k = 0;
	for (; *s; s++) {
		int hi, lo;
		if (*s != '\\') {
			e->data[k++] = (uint8_t)*s;
		} else if (s[1] == '\\') {
			e->data[k++] = '\\';
			s++;
		} else if (s[1] == 'x' && (hi = hexval(s[2])) >= 0 && (lo = hexval(s[3])) >= 0 && (hi || lo)) {
			e->data[k++] = (uint8_t)(hi << 4 | lo);
			s += 3;
		} else {
			return fail(p, "garbage: a backslash in an input line is \\\\ or \\xHH (not 00)");
		}
	}
	e->data[k] = '\0';
	e->len = k;
	return true;
}

static bool parse_event(struct parser *p, char **tok, unsigned ntok, struct hx_ev *e)
{
	if (!num(tok[0], &e->time))
		return fail(p, "garbage: '%s' is not a time", tok[0]);
	if (!parse_op(tok[1], e))
		return fail(p, "garbage: unknown event '%s'", tok[1]);
	static const unsigned nargs[HX_EV_COUNT] = {
		[HX_EV_R] = 2, [HX_EV_W] = 2, [HX_EV_PR] = 2, [HX_EV_PW] = 2, [HX_EV_ALLOC] = 3, [HX_EV_FREE] = 2,
		[HX_EV_MAP] = 3, [HX_EV_SH] = 2, [HX_EV_UNMAP] = 4, [HX_EV_SHM] = 3, [HX_EV_NOW] = 1, [HX_EV_DELAY] = 1,
		[HX_EV_RAND] = 1, [HX_EV_DR] = 3, [HX_EV_DW] = 3, [HX_EV_PUB] = 3, [HX_EV_NOPUB] = 2,
	};
	if (ntok != 2 + nargs[e->op])
		return fail(p, "garbage: '%s' takes %u fields, the line has %u", tok[1], nargs[e->op], ntok - 2);
	const char *bad = NULL;
	switch ((enum hx_ev_op)e->op) {
	case HX_EV_R: case HX_EV_W: case HX_EV_PR: case HX_EV_PW: case HX_EV_SH:
		if (!num(tok[2], &e->a))
			bad = tok[2];
		else if (!num(tok[3], &e->b))
			bad = tok[3];
		else if (e->width < 8 && e->b >> (8 * e->width))
			return fail(p, "garbage: value %s does not fit %u bytes", tok[3], e->width);
		break;
	case HX_EV_ALLOC:
		if (!num(tok[2], &e->a))
			bad = tok[2];
		else if (!num(tok[3], &e->b))
			bad = tok[3];
		else if (!addr(tok[4], &e->c))
			bad = tok[4];
		break;
	case HX_EV_FREE: case HX_EV_NOPUB:
		if (!addr(tok[2], &e->a))
			bad = tok[2];
		else if (!num(tok[3], &e->b))
			bad = tok[3];
		break;
	case HX_EV_MAP: case HX_EV_UNMAP:
		if (!addr(tok[2], &e->a))
			bad = tok[2];
		else if (!num(tok[3], &e->b))
			bad = tok[3];
		for (e->c = 1; !bad && e->c < 4 && strcmp(tok[4], dir_names[e->c]); e->c++)
			;
		if (!bad && e->c == 4)
			return fail(p, "garbage: direction '%s' is not to, from or both", tok[4]);
		if (!bad && e->op == HX_EV_UNMAP) {
			if (e->b > HX_TRACE_MAX_PAYLOAD)
				return fail(p, "length %s beyond reason (at most %u)", tok[3], HX_TRACE_MAX_PAYLOAD);
			size_t want = e->c == 1 ? 0 : 2 * (size_t)e->b, hexlen = !strcmp(tok[5], "-") ? 0 : strlen(tok[5]);
			if (hexlen != want)
				return fail(p, "length %s but %zu hex digits of payload", tok[3], hexlen);
			if (!bytes(p, tok[5], want / 2, e))
				return false;
		}
		break;
	case HX_EV_NOW: case HX_EV_DELAY: case HX_EV_RAND:
		if (!num(tok[2], &e->a))
			bad = tok[2];
		break;
	case HX_EV_SHM: case HX_EV_DR: case HX_EV_DW: case HX_EV_PUB: {
		uint64_t len;
		if (!addr(tok[2], &e->a)) {
			bad = tok[2];
			break;
		}
		if (!num(tok[3], &len)) {
			bad = tok[3];
			break;
		}
		if (len > HX_TRACE_MAX_PAYLOAD)
			return fail(p, "length %s beyond reason (at most %u)", tok[3], HX_TRACE_MAX_PAYLOAD);
		size_t hexlen = !strcmp(tok[4], "-") ? 0 : strlen(tok[4]);
		if (hexlen != 2 * len)
			return fail(p, "length %s but %zu hex digits of payload", tok[3], hexlen);
		if (!bytes(p, tok[4], (size_t)len, e))
			return false;
		break;
	}
	default:
		break;
	}
	if (bad)
		return fail(p, "garbage: '%s' is not a number", bad);
	if ((e->op == HX_EV_ALLOC && (e->a == 0 || e->a > (1ull << 32) || e->b == 0 || (e->b & (e->b - 1)) ||
	                              e->b > (1ull << 24))) ||
	    ((e->op == HX_EV_MAP || e->op == HX_EV_FREE || e->op == HX_EV_UNMAP || e->op == HX_EV_NOPUB) &&
	     e->b > (1ull << 32)))
		return fail(p, "length or alignment beyond reason");
	return true;
}

static bool push_event(struct parser *p, const struct hx_ev *e)
{
	struct hx_trace *t = p->t;
	if (t->nev == t->capev) {
		size_t cap = t->capev ? 2 * t->capev : 1024;
		struct hx_ev *n = realloc(t->ev, cap * sizeof *n);
		if (!n)
			return fail(p, "out of memory");
		t->ev = n;
		t->capev = cap;
	}
	t->ev[t->nev++] = *e;
	return true;
}

/* fuzz-input, fuzz-side: a fuzz trace's input and the target's choices (hex). */
static const char *const header_keys[] = {"producer", "device", "command", "bind", "driver", "fuzz-input", "fuzz-side"};

static bool header_line(struct parser *p, char *s)
{
	char *sp = strchr(s, ' ');
	if (s[0] >= '0' && s[0] <= '9')
		return fail(p, "garbage: an event line before the 'events' line");
	if (!sp || sp[1] == '\0')
		return fail(p, "garbage: a header line is 'key value', not '%.40s'", s);
	*sp = '\0';
	bool known = false;
	for (size_t i = 0; i < sizeof header_keys / sizeof header_keys[0]; i++)
		known = known || !strcmp(s, header_keys[i]);
	if (!known)
		return fail(p, "garbage: unknown header line '%.40s'", s);
	struct hx_trace *t = p->t;
	if (!strcmp(s, "driver")) {
		/* dma=: what the recording platform's device could read
		 * (VLAB_PLAT_DMA_ALL_MEMORY); the replay takes the first
		 * driver line's word.  Every word of the line is looked at. */
		const bool first = !hx_trace_header(t, "driver");
		for (const char *w = sp + 1; *w;) {
			size_t n = strcspn(w, " ");
			if (n >= 4 && !strncmp(w, "dma=", 4)) {
				const bool all = n == 7 && !strncmp(w + 4, "all", 3);
				if (!all && !(n == 10 && !strncmp(w + 4, "mapped", 6)))
					return fail(p, "garbage: the driver line's dma= is '%.*s', not all or mapped",
					            n - 4 > 20 ? 20 : (int)(n - 4), w + 4);
				if (first && all)
					t->plat_flags |= VLAB_PLAT_DMA_ALL_MEMORY;
			}
			w += n;
			w += strspn(w, " ");
		}
	}
	struct hx_trace_hdr *n = realloc(t->hdr, (t->nhdr + 1) * sizeof *n);
	if (!n)
		return fail(p, "out of memory");
	t->hdr = n;
	n[t->nhdr].key = dup(s);
	n[t->nhdr].value = dup(sp + 1);
	n[t->nhdr].line = p->line;
	t->nhdr++;
	if (!n[t->nhdr - 1].key || !n[t->nhdr - 1].value)
		return fail(p, "out of memory");
	return true;
}

enum { IN_VERSION, IN_HEADER, IN_EVENTS, AFTER_END };

static bool parse_all(struct parser *p, const char *text, size_t len)
{
	/* No line is longer than the text: a short trace needs no 2 MiB. */
	char *buf = malloc((len < MAX_LINE ? len : MAX_LINE) + 1);
	if (!buf)
		return fail(p, "out of memory");
	int state = IN_VERSION;
	uint64_t last_time = 0;
	size_t pos = 0;
	bool ok = true;
	while (ok && pos < len) {
		p->line++;
		size_t start = pos, n;
		while (pos < len && text[pos] != '\n')
			pos++;
		n = pos - start;
		bool newline = pos < len;
		pos += newline;
		if (n > MAX_LINE) {
			ok = fail(p, "length beyond reason: a line of %zu bytes", n);
			break;
		}
		memcpy(buf, text + start, n);
		buf[n] = '\0';
		bool comment = buf[0] == '#';
		for (size_t i = 0; i < n && ok; i++) {
			unsigned char c = (unsigned char)buf[i];
			if (c < 0x20 || c == 0x7f || (c >= 0x80 && !comment))
				ok = fail(p, state == IN_VERSION ? "not a trace (binary data)" : "garbage: byte 0x%02x in a line", c);
		}
		if (!ok)
			break;
		if (!newline && state != AFTER_END) {
			ok = fail(p, "truncated: the last line has no newline");
			break;
		}
		if (state == IN_VERSION) {
			uint64_t v;
			if (strncmp(buf, "vlab-trace ", 11) != 0)
				ok = fail(p, "not a trace (the first line is not 'vlab-trace VERSION')");
			else if (!num(buf + 11, &v))
				ok = fail(p, "garbage: bad version '%.20s'", buf + 11);
			else if (v != HX_TRACE_VERSION)
				ok = fail(p, "unknown version %" PRIu64 " (this build reads version %d)", v, HX_TRACE_VERSION);
			state = IN_HEADER;
			continue;
		}
		if (comment)
			continue;
		if (state == AFTER_END) {
			ok = fail(p, "garbage after the end line");
			break;
		}
		if (state == IN_HEADER) {
			if (!strcmp(buf, "events"))
				state = IN_EVENTS;
			else
				ok = header_line(p, buf);
			continue;
		}
		if (!strncmp(buf, "end ", 4)) {
			uint64_t count;
			if (!num(buf + 4, &count))
				ok = fail(p, "garbage: bad end line");
			else if (count != p->t->nev)
				ok = fail(p, "truncated: the end line counts %" PRIu64 " events, the trace has %zu", count,
				          p->t->nev);
			p->t->end_line = p->line;
			state = AFTER_END;
			continue;
		}
		char *tok[MAX_TOK];
		unsigned ntok = 0;
		const char *sp1 = strchr(buf, ' ');
		bool input = sp1 && !strncmp(sp1, " input ", 7);
		for (char *s = buf; *s && ntok < MAX_TOK && !input;) {
			tok[ntok++] = s;
			s = strchr(s, ' ');
			if (!s)
				break;
			*s++ = '\0';
		}
		struct hx_ev e = {.line = p->line};
		if (input) {
			ok = input_line(p, buf, &e);
			if (ok && e.time < last_time)
				ok = fail(p, "events out of order: time %" PRIu64 " after %" PRIu64, e.time, last_time);
			if (ok)
				ok = push_event(p, &e);
			if (ok)
				last_time = e.time;
			else
				free(e.data);
		} else if (ntok < 2) {
			ok = fail(p, "garbage: not an event line");
		} else if (!parse_event(p, tok, ntok, &e)) {
			free(e.data);
			ok = false;
		} else if (e.time < last_time) {
			free(e.data);
			ok = fail(p, "events out of order: time %" PRIu64 " after %" PRIu64, e.time, last_time);
		} else if (!push_event(p, &e)) {
			free(e.data);
			ok = false;
		} else {
			last_time = e.time;
		}
	}
	free(buf);
	if (!ok)
		return false;
	p->line++;
	if (state == IN_VERSION)
		return fail(p, "not a trace (empty)");
	if (state != AFTER_END)
		return fail(p, "truncated: no %s line", state == IN_HEADER ? "'events'" : "'end'");
	p->line = 1;
	if (!hx_trace_header(p->t, "command") || !hx_trace_header(p->t, "bind"))
		return fail(p, "the header names no command or bind line");
	return true;
}

struct hx_trace *hx_trace_parse(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct hx_trace *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	t->name = dup(name);
	struct parser p = {.t = t, .err = err, .errlen = errlen};
	if (!t->name) {
		snprintf(err, errlen, "%s: out of memory", name);
		hx_trace_free(t);
		return NULL;
	}
	if (!parse_all(&p, text, len)) {
		hx_trace_free(t);
		return NULL;
	}
	return t;
}

struct hx_trace *hx_trace_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s:0: %s", path, strerror(errno));
		return NULL;
	}
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= HX_TRACE_MAX_FILE) {
				fclose(f);
				free(text);
				snprintf(err, errlen, "%s:0: length beyond reason: more than %u bytes", path, HX_TRACE_MAX_FILE);
				return NULL;
			}
			cap = cap ? 2 * cap : 1u << 16;
			char *n = realloc(text, cap);
			if (!n) {
				fclose(f);
				free(text);
				snprintf(err, errlen, "%s:0: out of memory", path);
				return NULL;
			}
			text = n;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(text);
		snprintf(err, errlen, "%s:0: read error", path);
		return NULL;
	}
	struct hx_trace *t = hx_trace_parse(path, text, len, err, errlen);
	free(text);
	return t;
}

void hx_trace_free(struct hx_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nev; i++)
		free(t->ev[i].data);
	for (size_t i = 0; i < t->nhdr; i++) {
		free(t->hdr[i].key);
		free(t->hdr[i].value);
	}
	free(t->ev);
	free(t->hdr);
	free(t->name);
	free(t);
}

const char *hx_trace_header(const struct hx_trace *t, const char *key)
{
	return hx_trace_header_nth(t, key, 0, NULL);
}

const char *hx_trace_header_nth(const struct hx_trace *t, const char *key, unsigned n, unsigned *line)
{
	for (size_t i = 0; i < t->nhdr; i++) {
		if (t->hdr[i].key && !strcmp(t->hdr[i].key, key) && n-- == 0) {
			if (line)
				*line = t->hdr[i].line;
			return t->hdr[i].value;
		}
	}
	return NULL;
}

size_t hx_trace_nevents(const struct hx_trace *t)
{
	return t->nev;
}
