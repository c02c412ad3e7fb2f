/* SPDX-License-Identifier: MIT */
/* Numbers, sizes and command-line splitting for vlab. */
#include <ctype.h>
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
 * The splitter copies words into one buffer as it goes; argv points into it.
 * A command ends at an unquoted ';', the end of the line or a comment.
 */
int cli_split_run(const char *line, int (*run)(void *ctx, int argc, char **argv), void *ctx)
{
	char buf[CLI_MAX_LINE];
	char *argv[CLI_MAX_ARGS + 1];
	size_t len = 0;
	int argc = 0;
	bool in_word = false;
	char quote = 0;
	const char *p = line;

	if (strlen(line) >= sizeof(buf)) {
		fprintf(stderr, "vlab: command line too long (limit %d bytes)\n", CLI_MAX_LINE - 1);
		return -1;
	}
	for (;; p++) {
		char ch = *p;
		bool end_cmd = false, end_all = false;

		if (quote) {
			if (ch == '\0') {
				fprintf(stderr, "vlab: unterminated %c quote\n", quote);
				return -1;
			}
			if (ch == quote) {
				quote = 0;
				continue;
			}
			if (ch == '\\' && quote == '"' && (p[1] == '"' || p[1] == '\\'))
				ch = *++p;
			buf[len++] = ch;
			continue;
		}
		if (ch == '\0' || ch == '\n' || ch == '\r')
			end_all = true;
		else if (ch == ';')
			end_cmd = true;
		else if (ch == '#' && !in_word)
			end_all = true;

		if (end_cmd || end_all || ch == ' ' || ch == '\t') {
			if (in_word) {
				buf[len++] = '\0';
				in_word = false;
			}
			if (end_cmd || end_all) {
				if (argc > 0) {
					int rc;

					argv[argc] = NULL;
					rc = run(ctx, argc, argv);
					if (rc != 0)
						return rc;
				}
				argc = 0;
				len = 0;
				if (end_all)
					return 0;
			}
			continue;
		}
		if (!in_word) {
			if (argc == CLI_MAX_ARGS) {
				fprintf(stderr, "vlab: too many words in one command (limit %d)\n",
				        CLI_MAX_ARGS);
				return -1;
			}
			argv[argc++] = buf + len;
			in_word = true;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
			continue;
		}
		if (ch == '\\' && p[1] != '\0') {
			ch = *++p;
		}
		buf[len++] = ch;
	}
}
