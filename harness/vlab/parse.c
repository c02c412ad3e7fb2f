/* SPDX-License-Identifier: MIT */
/* Numbers, sizes and command-line splitting for vlab. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vlab_cli.h"

static int digit_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Digits of base in s (all of s, at least one), without overflow. */
static bool parse_digits(const char *s, unsigned base, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		int d = digit_value(*s);

		if (d < 0 || (unsigned)d >= base)
			return false;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return true;
}

bool cli_parse_hex(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return parse_digits(s, 16, out);
}

bool cli_parse_uint(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_digits(s + 2, 16, out);
	return parse_digits(s, 10, out);
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	switch (toupper((unsigned char)num[n - 1])) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: break;
	}
	if (shift)
		num[--n] = '\0';
	if (!parse_digits(num, 10, &v))
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

/*
 * The splitter copies words into one buffer as it goes; each command's
 * argv points into it.  A command ends at an unquoted ';', '&&' or '||',
 * the end of the line or a comment.  The whole line is split before any
 * command runs, so that a malformed line runs nothing.
 */
enum { JOIN_ALWAYS, JOIN_AND, JOIN_OR };

struct split_cmd {
	unsigned first; /* index of argv[0] in the vector */
	int argc;
	int join;       /* how it hangs on the command before it */
};

struct split {
	char buf[CLI_MAX_LINE];
	char *vec[CLI_MAX_LINE + 1]; /* every command's argv, each NULL-terminated */
	struct split_cmd cmd[CLI_MAX_LINE / 2 + 1];
	unsigned nvec, ncmd;
};

static int split_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vlab: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* Close the command being built (argc words from vec[first]); join is how
 * the next one hangs on it.  An operator needs a command on both sides. */
static int split_close(struct split *sp, unsigned first, int argc, int *join, int next_join)
{
	static const char *const op[] = { ";", "&&", "||" };

	if (argc == 0 && (*join != JOIN_ALWAYS || next_join != JOIN_ALWAYS))
		return split_error("syntax error near '%s'", op[next_join != JOIN_ALWAYS ? next_join : *join]);
	if (argc > 0) {
		sp->vec[sp->nvec++] = NULL;
		sp->cmd[sp->ncmd].first = first;
		sp->cmd[sp->ncmd].argc = argc;
		sp->cmd[sp->ncmd].join = *join;
		sp->ncmd++;
	}
	*join = next_join;
	return 0;
}

static int split_line(struct split *sp, const char *line)
{
	size_t len = 0;
	unsigned first = 0;
	int argc = 0, join = JOIN_ALWAYS;
	bool in_word = false;
	char quote = 0;

	sp->nvec = sp->ncmd = 0;
	if (strlen(line) >= sizeof(sp->buf))
		return split_error("command line too long (limit %d bytes)", CLI_MAX_LINE - 1);
	for (const char *p = line;; p++) {
		char ch = *p;
		int next_join = -1; /* >= 0: this character ends the command */
		bool end_all = false;

		if (quote) {
			if (ch == '\0')
				return split_error("unterminated %s quote", quote == '"' ? "\"" : "'");
			if (ch == quote) {
				quote = 0;
				continue;
			}
			if (ch == '\\' && quote == '"' && (p[1] == '"' || p[1] == '\\'))
				ch = *++p;
			sp->buf[len++] = ch;
			continue;
		}
		if (ch == '\0' || ch == '\n' || ch == '\r' || (ch == '#' && !in_word)) {
			end_all = true;
			next_join = JOIN_ALWAYS;
		} else if (ch == ';') {
			next_join = JOIN_ALWAYS;
		} else if ((ch == '&' || ch == '|') && p[1] == ch) {
			next_join = ch == '&' ? JOIN_AND : JOIN_OR;
			p++;
		}

		if (next_join >= 0 || ch == ' ' || ch == '\t') {
			if (in_word) {
				sp->buf[len++] = '\0';
				in_word = false;
			}
			if (next_join >= 0) {
				if (split_close(sp, first, argc, &join, next_join) != 0)
					return -1;
				first = sp->nvec;
				argc = 0;
				if (end_all)
					return 0;
			}
			continue;
		}
		if (!in_word) {
			if (argc == CLI_MAX_ARGS)
				return split_error("too many words in one command (limit %d)", CLI_MAX_ARGS);
			sp->vec[sp->nvec++] = sp->buf + len;
			argc++;
			in_word = true;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
			continue;
		}
		if (ch == '\\' && p[1] != '\0')
			ch = *++p;
		sp->buf[len++] = ch;
	}
}

int cli_split_run(const char *line, int (*run)(void *ctx, int argc, char **argv), void *ctx)
{
	static struct split sp; /* large; vlab runs one line at a time */
	int last = 0, result = 0;

	if (split_line(&sp, line) != 0)
		return -1;
	for (unsigned i = 0; i < sp.ncmd; i++) {
		const struct split_cmd *cmd = &sp.cmd[i];
		int rc;

		/* As in U-Boot's hush: '&&' and '||' look at the status of
		 * the last command that ran; ';' runs whatever it was. */
		if ((cmd->join == JOIN_AND && last != 0) || (cmd->join == JOIN_OR && last == 0))
			continue;
		rc = run(ctx, cmd->argc, &sp.vec[cmd->first]);
		if (rc & CLI_RUN_STOP)
			return result | rc;
		last = rc & CLI_RUN_FAILED;
		result |= last;
	}
	return result;
}

uint64_t cli_refuse_features;

int cli_parse_refuse(const char *s, uint64_t *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "packed", VIRTIO_F_RING_PACKED },
		{ "indirect", VIRTIO_F_RING_INDIRECT_DESC },
		{ "event-idx", VIRTIO_F_RING_EVENT_IDX },
	};
	uint64_t bits = 0;

	while (*s) {
		size_t n = strcspn(s, ",");
		unsigned k;

		for (k = 0; k < sizeof names / sizeof names[0]; k++)
			if (strlen(names[k].name) == n && !strncmp(s, names[k].name, n))
				break;
		if (k == sizeof names / sizeof names[0])
			return -1;
		bits |= VLAB_BIT(names[k].bit);
		s += n;
		if (*s == ',')
			s++;
	}
	*out = bits;
	return 0;
}
