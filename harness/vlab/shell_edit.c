/* SPDX-License-Identifier: MIT */
/*
 * The interactive line of vlab's shell: line editing and history through
 * libedit (when vlab was built with it), and tab completion of commands,
 * subcommands and variable names (cli_complete, which needs no terminal).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlab_cli.h"

#ifdef VLAB_HAVE_LIBEDIT
#include <histedit.h>
#endif

/* Words that open or continue a block: a command follows them. */
static const char *const keywords[] = { "if", "then", "elif", "else", "fi" };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct cands {
	const char **out;
	size_t n;
	const char *prefix;
	size_t plen;
};

static void offer(struct cands *c, const char *word)
{
	if (c->n < CLI_COMPLETE_MAX && !strncmp(word, c->prefix, c->plen))
		c->out[c->n++] = word;
}

static void offer_all(struct cands *c, const char **words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		offer(c, words[i]);
}

static void offer_commands(struct cands *c)
{
	const char *names[CLI_COMPLETE_MAX];

	offer_all(c, names, cli_command_names(names, CLI_COMPLETE_MAX));
}

static void offer_vars(struct cands *c)
{
	const char *names[CLI_COMPLETE_MAX];

	offer_all(c, names, cli_env_names(names, CLI_COMPLETE_MAX));
}

/*
 * A command's subcommands, from its usage: the second words of the lines
 * "<cmd> <word> ..." when there are at least two different ones (virtio
 * scan/info/..., net info/send/...); a lone one is an argument's name
 * ("crc32 address count").
 */
static void offer_subcommands(struct cands *c, const char *cmd)
{
	static char subs[CLI_COMPLETE_MAX][24];
	const char *usage = cli_command_usage(cmd), *p;
	size_t nsubs = 0, clen = strlen(cmd);

	for (p = usage; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		size_t n = 0;
		bool seen = false;

		if (strncmp(p, cmd, clen) != 0 || p[clen] != ' ')
			continue;
		p += clen + 1;
		while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '-')
			n++;
		if (n == 0 || n >= sizeof subs[0] || (p[n] != ' ' && p[n] != '\n' && p[n] != '\0') ||
		    !(p[0] >= 'a' && p[0] <= 'z') || nsubs == CLI_COMPLETE_MAX)
			continue;
		for (size_t i = 0; i < nsubs && !seen; i++)
			seen = strlen(subs[i]) == n && !strncmp(subs[i], p, n);
		if (!seen) {
			memcpy(subs[nsubs], p, n);
			subs[nsubs++][n] = '\0';
		}
	}
	for (size_t i = 0; nsubs >= 2 && i < nsubs; i++)
		offer(c, subs[i]);
}

size_t cli_complete(const char *line, size_t cursor, const char **out, size_t *start)
{
	char first[2][32] = { "", "" }; /* the command's first two words */
	size_t nw = 0, ws = 0, i, n;
	bool in_word = false;
	char quote = 0;
	struct cands c = { .out = out };

	for (i = 0; i < cursor && line[i]; i++) {
		char ch = line[i];

		if (quote) {
			quote = ch == quote ? 0 : quote;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == ';' || ch == '\n' ||
		    ((ch == '&' || ch == '|') && line[i + 1] == ch)) {
			if (in_word) {
				size_t n = i - ws;
				bool kw = false;

				for (size_t k = 0; nw == 0 && k < sizeof keywords / sizeof keywords[0]; k++)
					kw |= strlen(keywords[k]) == n && !strncmp(line + ws, keywords[k], n);
				if (nw < 2 && n < sizeof first[0]) {
					memcpy(first[nw], line + ws, n);
					first[nw][n] = '\0';
				}
				nw = kw ? 0 : nw + 1;
				in_word = false;
			}
			if (ch != ' ' && ch != '\t') {
				nw = 0;
				first[0][0] = first[1][0] = '\0';
			}
			if (ch == '&' || ch == '|')
				i++;
			continue;
		}
		if (!in_word) {
			in_word = true;
			ws = i;
		}
		if (ch == '\'' || ch == '"')
			quote = ch;
	}
	if (!in_word)
		ws = i;
	*start = ws;
	c.prefix = line + ws;
	c.plen = i - ws;
	if (nw == 0) {
		offer_commands(&c);
		offer_all(&c, (const char **)keywords, sizeof keywords / sizeof keywords[0]);
	} else if (!strcmp(first[0], "help")) {
		offer_commands(&c);
	} else if (!strcmp(first[0], "run") || !strcmp(first[0], "printenv") ||
	           (!strcmp(first[0], "setenv") && nw == 1) ||
	           (!strcmp(first[0], "env") && nw >= 2 && strcmp(first[1], "exists") != 0)) {
		offer_vars(&c);
	} else if (nw == 1) {
		offer_subcommands(&c, first[0]);
	}
	qsort(out, c.n, sizeof *out, cmp_str);
	/* One of each (a variable may also be a command's name). */
	n = 0;
	for (i = 0; i < c.n; i++)
		if (n == 0 || strcmp(out[n - 1], out[i]) != 0)
			out[n++] = out[i];
	return n;
}

#ifdef VLAB_HAVE_LIBEDIT

static EditLine *el;
static History *hist;
static char *hist_path;
static const char *prompt_now = "=> ";

static char *prompt_fn(EditLine *e)
{
	(void)e;
	return (char *)prompt_now;
}

/* Tab: the one candidate (and a blank), else the candidates' common
 * prefix, else the list of them under the line. */
static unsigned char complete_fn(EditLine *e, int ch)
{
	const LineInfo *li = el_line(e);
	size_t cursor = (size_t)(li->cursor - li->buffer), start, n, common;
	const char *cands[CLI_COMPLETE_MAX];
	char *text = strndup(li->buffer, cursor), add[256];

	(void)ch;
	if (!text)
		return CC_ERROR;
	n = cli_complete(text, cursor, cands, &start);
	free(text);
	if (n == 0)
		return CC_ERROR;
	common = strlen(cands[0]);
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;

		while (k < common && cands[i][k] == cands[0][k])
			k++;
		common = k;
	}
	if (common > cursor - start) {
		size_t len = common - (cursor - start);

		if (len >= sizeof add - 1)
			return CC_ERROR;
		memcpy(add, cands[0] + (cursor - start), len);
		add[len] = '\0';
		if (n == 1)
			strcat(add, " ");
		el_insertstr(e, add);
		return CC_REFRESH;
	}
	if (n == 1) {
		el_insertstr(e, " ");
		return CC_REFRESH;
	}
	fputc('\n', stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", cands[i], i + 1 < n ? "  " : "\n");
	fflush(stdout);
	return CC_REDISPLAY;
}

bool cli_edit_start(void)
{
	const char *env = getenv("VLAB_HISTORY"), *home = getenv("HOME");
	HistEvent ev;

	el = el_init("vlab", stdin, stdout, stderr);
	hist = history_init();
	if (!el || !hist) {
		cli_edit_end();
		return false;
	}
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt_fn);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_ADDFN, "vlab-complete", "complete a vlab command", complete_fn);
	el_set(el, EL_BIND, "^I", "vlab-complete", NULL);
	el_source(el, NULL); /* the user's ~/.editrc */
	if (env && *env) {
		hist_path = strdup(env);
	} else if (!env && home && *home) {
		hist_path = malloc(strlen(home) + sizeof "/.vlab_history");
		if (hist_path)
			sprintf(hist_path, "%s/.vlab_history", home);
	}
	if (hist_path)
		history(hist, &ev, H_LOAD, hist_path); /* none yet is fine */
	return true;
}

const char *cli_edit_read(const char *prompt)
{
	static char line[CLI_MAX_LINE];
	const char *got;
	HistEvent ev;
	int count = 0;
	size_t n;

	prompt_now = prompt;
	got = el_gets(el, &count);
	if (!got || count <= 0)
		return NULL;
	n = strlen(got);
	if (n >= sizeof line) {
		printf("** line too long (limit %d bytes), ignored **\n", CLI_MAX_LINE - 2);
		line[0] = '\n';
		line[1] = '\0';
		return line;
	}
	memcpy(line, got, n + 1);
	if (strspn(line, " \t\r\n") != n) {
		char *entry = strndup(line, strcspn(line, "\r\n"));

		if (entry) {
			history(hist, &ev, H_ENTER, entry);
			free(entry);
		}
		/* Saved at once: a session that crashes keeps its lines. */
		if (hist_path && history(hist, &ev, H_SAVE, hist_path) < 0) {
			fprintf(stderr, "vlab: cannot write the history file %s\n", hist_path);
			free(hist_path);
			hist_path = NULL;
		}
	}
	return line;
}

void cli_edit_end(void)
{
	if (el)
		el_end(el);
	if (hist)
		history_end(hist);
	el = NULL;
	hist = NULL;
	free(hist_path);
	hist_path = NULL;
}

#else /* no libedit: main.c reads plain lines */

bool cli_edit_start(void)
{
	return false;
}

const char *cli_edit_read(const char *prompt)
{
	(void)prompt;
	return NULL;
}

void cli_edit_end(void)
{
}

#endif
