/* SPDX-License-Identifier: MIT */
/*
 * vlab's shell: the parts of U-Boot's hush a boot script uses.  Command
 * lists (';', '&&', '||', newlines), if/then/elif/else/fi, hush's quoting,
 * variables (the environment of setenv/printenv/env, and hush's local
 * 'name=value' ones) expanded when a command runs, and the commands that
 * work on them: setenv, printenv, env, run, test ([), true, false.
 *
 * A text is parsed whole before any of it runs (a malformed one runs
 * nothing); words keep their quotes until the command runs, when they are
 * expanded, so 'setenv a 1; echo $a' prints 1 as in U-Boot.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vlab_cli.h"

/* ---------------------------------------------------------------- */
/* Variables                                                         */

/* The environment's capacity, as U-Boot's qemu_arm64 reports it
 * ("Environment size: 4620/262140 bytes"). */
#define ENV_SIZE 262140u
#define RUN_DEPTH_MAX 16
#define IF_DEPTH_MAX 32

struct var {
	char *name, *value;
	bool local; /* hush's 'name=value': not in the environment */
};

static struct var *vars;
static size_t nvars, vars_cap;
static bool env_ready;
static int last_status;   /* $? */
static bool errexit;      /* -e: stop at the first counted failure */
static unsigned cond_depth; /* inside an if's condition: failures are answers */
static unsigned long failures; /* counted failures, all depths */
static unsigned run_depth;

static void env_init(void);

static struct var *var_find(const char *name, bool local)
{
	for (size_t i = 0; i < nvars; i++)
		if (vars[i].local == local && !strcmp(vars[i].name, name))
			return &vars[i];
	return NULL;
}

static size_t env_used(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nvars; i++)
		if (!vars[i].local)
			n += strlen(vars[i].name) + strlen(vars[i].value) + 2;
	return n;
}

/* Set (value) or delete (NULL) name.  0; 1 deleting a name not set;
 * -1 after a message (no memory, the environment full). */
static int var_set(const char *name, const char *value, bool local)
{
	struct var *v;
	char *copy;

	env_init();
	v = var_find(name, local);
	if (!value) {
		if (!v)
			return 1;
		free(v->name);
		free(v->value);
		*v = vars[--nvars];
		return 0;
	}
	if (!local && env_used() - (v ? strlen(v->value) : 0) +
	                      (v ? 0 : strlen(name) + 2) + strlen(value) > ENV_SIZE) {
		printf("## Error inserting \"%s\" variable: the environment is full (%u bytes)\n",
		       name, ENV_SIZE);
		return -1;
	}
	copy = strdup(value);
	if (!copy) {
		printf("## Can't malloc %zu bytes\n", strlen(value) + 1);
		return -1;
	}
	if (v) {
		free(v->value);
		v->value = copy;
		return 0;
	}
	if (nvars == vars_cap) {
		size_t cap = vars_cap ? 2 * vars_cap : 16;
		struct var *nv = realloc(vars, cap * sizeof *nv);

		if (!nv) {
			free(copy);
			printf("## Can't malloc the environment\n");
			return -1;
		}
		vars = nv;
		vars_cap = cap;
	}
	vars[nvars].name = strdup(name);
	if (!vars[nvars].name) {
		free(copy);
		printf("## Can't malloc %zu bytes\n", strlen(name) + 1);
		return -1;
	}
	vars[nvars].value = copy;
	vars[nvars].local = local;
	nvars++;
	return 0;
}

static void env_init(void)
{
	char addr[24];

	if (env_ready)
		return;
	env_ready = true;
	snprintf(addr, sizeof addr, "0x%" PRIx64, (uint64_t)VLAB_LOADADDR);
	var_set("loadaddr", addr, false);
}

const char *cli_env_get(const char *name)
{
	struct var *v;

	env_init();
	v = var_find(name, false);
	return v ? v->value : NULL;
}

/* An environment variable's name: no '=' (U-Boot's message). */
static bool env_name_ok(const char *name)
{
	if (!strchr(name, '='))
		return true;
	printf("## Error: illegal character '=' in variable name \"%s\"\n", name);
	return false;
}

int cli_env_set(const char *name, const char *value)
{
	return env_name_ok(name) && var_set(name, value, false) >= 0 ? 0 : -1;
}

void cli_env_set_filesize(uint64_t bytes)
{
	char hex[24];

	/* As U-Boot's env_set_hex: hex digits, no 0x. */
	snprintf(hex, sizeof hex, "%" PRIx64, bytes);
	var_set("filesize", hex, false);
}

/* What $name expands to: hush looks at its local variables first. */
static const char *var_lookup(const char *name)
{
	static char status[16];
	struct var *v;

	if (!strcmp(name, "?")) {
		snprintf(status, sizeof status, "%d", last_status);
		return status;
	}
	v = var_find(name, true);
	return v ? v->value : cli_env_get(name);
}

void cli_shell_set_errexit(bool on)
{
	errexit = on;
}

size_t cli_env_names(const char **names, size_t max)
{
	size_t n = 0;

	env_init();
	for (size_t i = 0; i < nvars && n < max; i++)
		if (!vars[i].local)
			names[n++] = vars[i].name;
	return n;
}

/* ---------------------------------------------------------------- */
/* Lexer: words (raw, quotes kept), separators, '&&', '||'           */

enum tok { T_WORD, T_SEP, T_AND, T_OR, T_END };

struct parser {
	const char *p;
	enum tok tok;
	char *word;       /* T_WORD: malloc'ed raw text */
	bool quiet;       /* no messages (cli_shell_incomplete) */
	bool incomplete;  /* the text ended inside a quote or an if */
	bool failed;
	bool newline;     /* T_SEP: it was a newline, not ';' */
	unsigned depth;   /* if nesting */
};

static void perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->quiet)
		return;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "vlab: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static void advance(struct parser *ps)
{
	const char *p = ps->p, *start;
	char quote = 0;

	free(ps->word);
	ps->word = NULL;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p != '#')
			break;
		while (*p && *p != '\n') /* a comment, to the end of its line */
			p++;
	}
	if (*p == '\0') {
		ps->tok = T_END;
		ps->p = p;
		return;
	}
	if (*p == ';' || *p == '\n') {
		ps->tok = T_SEP;
		ps->newline = *p == '\n';
		ps->p = p + 1;
		return;
	}
	if ((*p == '&' || *p == '|') && p[1] == *p) {
		ps->tok = *p == '&' ? T_AND : T_OR;
		ps->p = p + 2;
		return;
	}
	start = p;
	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (*p == '\\' && quote == '"' && p[1])
				p++; /* hush keeps both, and the quote does not end */
			continue;
		}
		if (is_blank(*p) || *p == ';' || *p == '\n' ||
		    ((*p == '&' || *p == '|') && p[1] == *p))
			break;
		if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '\\' && p[1])
			p++;
	}
	if (quote) {
		ps->incomplete = true;
		perr(ps, "unterminated %c quote", quote);
	}
	ps->word = strndup(start, (size_t)(p - start));
	if (!ps->word)
		perr(ps, "out of memory");
	ps->tok = T_WORD;
	ps->p = p;
}

/* ---------------------------------------------------------------- */
/* Parser: a list of and-or items, each a command or an if           */

enum { JOIN_ALWAYS, JOIN_AND, JOIN_OR };

struct node;

struct item {
	struct node *n;
	int join; /* how it hangs on the item before it */
};

struct list {
	struct item *it;
	size_t n;
};

struct node {
	bool is_if;
	/* a command: its raw words */
	char **w;
	int nw;
	/* an if: conds[i] then bodies[i]; els when there is an else */
	struct list *conds, *bodies, *els;
	size_t nclauses;
};

static void list_free(struct list *l);

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nw; i++)
		free(n->w[i]);
	free(n->w);
	for (size_t i = 0; i < n->nclauses; i++) {
		list_free(&n->conds[i]);
		list_free(&n->bodies[i]);
	}
	free(n->conds);
	free(n->bodies);
	if (n->els) {
		list_free(n->els);
		free(n->els);
	}
	free(n);
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		node_free(l->it[i].n);
	free(l->it);
	l->it = NULL;
	l->n = 0;
}

static void *grow(struct parser *ps, void *array, size_t n, size_t size)
{
	void *p = realloc(array, (n + 1) * size);

	if (!p)
		perr(ps, "out of memory");
	return p;
}

static bool at_word(const struct parser *ps, const char *kw)
{
	return ps->tok == T_WORD && !strcmp(ps->word, kw);
}

static bool at_stop_word(const struct parser *ps)
{
	return at_word(ps, "then") || at_word(ps, "elif") || at_word(ps, "else") ||
	       at_word(ps, "fi") || at_word(ps, "do") || at_word(ps, "done");
}

static const char *tok_text(const struct parser *ps)
{
	static const char *const text[] = { "", ";", "&&", "||", "end of line" };

	return ps->tok == T_WORD ? ps->word : text[ps->tok];
}

static bool parse_list(struct parser *ps, struct list *l);

/* The word an if needs next (then, fi), passed; else false after a
 * message (the text is incomplete when it ended there). */
static bool expect_word(struct parser *ps, const char *kw)
{
	if (at_word(ps, kw)) {
		advance(ps);
		return true;
	}
	if (ps->tok == T_END)
		ps->incomplete = true;
	perr(ps, "syntax error near '%s' ('if' without '%s')", tok_text(ps), kw);
	return false;
}

/* At 'if': the whole if ... fi. */
static struct node *parse_if(struct parser *ps)
{
	struct node *n = calloc(1, sizeof *n);

	if (!n) {
		perr(ps, "out of memory");
		return NULL;
	}
	n->is_if = true;
	if (++ps->depth > IF_DEPTH_MAX) { /* the parser and the run recurse */
		perr(ps, "'if' nested more than %d deep", IF_DEPTH_MAX);
		free(n);
		return NULL;
	}
	advance(ps);
	for (;;) {
		struct list *c = grow(ps, n->conds, n->nclauses, sizeof *c);
		struct list *b;

		if (!c)
			break;
		n->conds = c;
		b = grow(ps, n->bodies, n->nclauses, sizeof *b);
		if (!b)
			break;
		n->bodies = b;
		memset(&c[n->nclauses], 0, sizeof *c);
		memset(&b[n->nclauses], 0, sizeof *b);
		n->nclauses++;
		if (!parse_list(ps, &c[n->nclauses - 1]))
			break;
		if (!expect_word(ps, "then"))
			break;
		if (!parse_list(ps, &b[n->nclauses - 1]))
			break;
		if (at_word(ps, "elif")) {
			advance(ps);
			continue;
		}
		if (at_word(ps, "else")) {
			advance(ps);
			n->els = calloc(1, sizeof *n->els);
			if (!n->els) {
				perr(ps, "out of memory");
				break;
			}
			if (!parse_list(ps, n->els))
				break;
		}
		if (!expect_word(ps, "fi"))
			break;
		ps->depth--;
		return n;
	}
	node_free(n);
	return NULL;
}

static struct node *parse_command(struct parser *ps)
{
	struct node *n;

	if (at_word(ps, "if"))
		return parse_if(ps);
	if (ps->tok != T_WORD || at_stop_word(ps)) {
		perr(ps, "syntax error near '%s'", tok_text(ps));
		return NULL;
	}
	n = calloc(1, sizeof *n);
	if (!n) {
		perr(ps, "out of memory");
		return NULL;
	}
	while (ps->tok == T_WORD && !ps->failed) {
		char **w;

		if (n->nw == CLI_MAX_ARGS) {
			perr(ps, "too many words in one command (limit %d)", CLI_MAX_ARGS);
			break;
		}
		w = grow(ps, n->w, (size_t)n->nw, sizeof *w);
		if (!w)
			break;
		n->w = w;
		n->w[n->nw++] = ps->word;
		ps->word = NULL;
		advance(ps);
	}
	if (ps->failed) {
		node_free(n);
		return NULL;
	}
	return n;
}

/* Items up to the end of the text or a word that closes a block (then,
 * else, elif, fi) in a command's place.  false after an error. */
static bool parse_list(struct parser *ps, struct list *l)
{
	int join = JOIN_ALWAYS;

	for (;;) {
		struct item *it;
		struct node *n;

		if (join == JOIN_ALWAYS) {
			while (ps->tok == T_SEP)
				advance(ps);
			if (ps->tok == T_END || at_stop_word(ps))
				return !ps->failed;
		}
		n = parse_command(ps);
		if (!n)
			return false;
		it = grow(ps, l->it, l->n, sizeof *it);
		if (!it) {
			node_free(n);
			return false;
		}
		l->it = it;
		l->it[l->n].n = n;
		l->it[l->n].join = join;
		l->n++;
		if (ps->tok == T_AND || ps->tok == T_OR) {
			join = ps->tok == T_AND ? JOIN_AND : JOIN_OR;
			advance(ps);
			while (ps->tok == T_SEP && ps->newline) /* 'a &&' NEWLINE 'b' */
				advance(ps);
			if (ps->tok == T_END || ps->tok == T_SEP) {
				perr(ps, "syntax error near '%s'", join == JOIN_AND ? "&&" : "||");
				return false;
			}
			continue;
		}
		if (ps->tok == T_WORD) { /* after fi */
			perr(ps, "syntax error near '%s'", ps->word);
			return false;
		}
		join = JOIN_ALWAYS;
	}
}

/* The text parsed into l: 0, 1 incomplete, -1 malformed. */
static int parse_text(const char *text, struct list *l, bool quiet)
{
	struct parser ps = { .p = text, .quiet = quiet };

	memset(l, 0, sizeof *l);
	if (strlen(text) >= CLI_MAX_SCRIPT) {
		perr(&ps, "command text too long (limit %d bytes)", CLI_MAX_SCRIPT - 1);
		return -1;
	}
	advance(&ps);
	if (parse_list(&ps, l) && ps.tok != T_END)
		perr(&ps, "syntax error near '%s'", tok_text(&ps));
	free(ps.word);
	if (ps.failed) {
		list_free(l);
		return ps.incomplete ? 1 : -1;
	}
	return 0;
}

bool cli_shell_incomplete(const char *text)
{
	struct list l;
	int rc = parse_text(text, &l, true);

	list_free(&l);
	return rc == 1;
}

/* ---------------------------------------------------------------- */
/* Expansion: quotes, backslashes and $variables, as hush does       */

struct words {
	char *argv[CLI_MAX_ARGS + 1];
	int argc;
	char buf[CLI_MAX_LINE];
	size_t len;
	bool open;  /* a word is being built (it may be empty: "") */
	bool bad;
};

static void w_put(struct words *ws, char ch)
{
	if (ws->bad)
		return;
	if (!ws->open) {
		if (ws->argc == CLI_MAX_ARGS) {
			printf("## Error: too many words in one command after expansion (limit %d)\n",
			       CLI_MAX_ARGS);
			ws->bad = true;
			return;
		}
		ws->argv[ws->argc++] = ws->buf + ws->len;
		ws->open = true;
	}
	if (ch == '\0')
		return; /* an empty word ("") */
	if (ws->len + 2 >= sizeof ws->buf) {
		printf("## Error: command longer than %d bytes after expansion\n", CLI_MAX_LINE - 1);
		ws->bad = true;
		return;
	}
	ws->buf[ws->len++] = ch;
}

static void w_end(struct words *ws)
{
	if (ws->open && !ws->bad)
		ws->buf[ws->len++] = '\0';
	ws->open = false;
}

static bool name_start(char ch)
{
	return isalpha((unsigned char)ch) || ch == '_';
}

/* At '$' in s: the value (NULL: none), *s moved past the reference; a
 * '$' that starts no reference is itself. */
static const char *dollar(const char **s, bool *literal)
{
	char name[128];
	const char *p = *s + 1, *end;
	size_t n;

	*literal = false;
	if (*p == '{') {
		end = strchr(p, '}');
		if (!end || (size_t)(end - p - 1) >= sizeof name) {
			*literal = true;
			return NULL;
		}
		n = (size_t)(end - p - 1);
		memcpy(name, p + 1, n);
		name[n] = '\0';
		*s = end + 1;
		return var_lookup(name);
	}
	if (*p == '?') {
		*s = p + 1;
		return var_lookup("?");
	}
	if (!name_start(*p)) {
		*literal = true;
		return NULL;
	}
	for (end = p; isalnum((unsigned char)*end) || *end == '_'; end++)
		;
	n = (size_t)(end - p);
	if (n >= sizeof name) {
		*literal = true;
		return NULL;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	*s = end;
	return var_lookup(name);
}

/* One raw word into ws: '...' literal, "..." with $ expanded (hush keeps
 * a backslash there, and the character after it is plain), \c outside
 * quotes is c, an unquoted $value is split at blanks into words. */
static void expand_word(struct words *ws, const char *s, bool split)
{
	char quote = 0;

	while (*s && !ws->bad) {
		const char *v;
		bool literal;

		if (quote == '\'') {
			if (*s == '\'')
				quote = 0;
			else
				w_put(ws, *s);
			s++;
			continue;
		}
		if (*s == '$') {
			v = dollar(&s, &literal);
			if (literal) {
				w_put(ws, *s++);
				continue;
			}
			for (; v && *v; v++) {
				if (split && !quote && is_blank(*v))
					w_end(ws);
				else
					w_put(ws, *v);
			}
			continue;
		}
		if (quote == '"') {
			if (*s == '"') {
				quote = 0;
			} else if (*s == '\\' && s[1]) {
				w_put(ws, *s++);
				w_put(ws, *s);
			} else {
				w_put(ws, *s);
			}
			s++;
			continue;
		}
		if (*s == '\'' || *s == '"') {
			quote = *s++;
			w_put(ws, '\0'); /* "" is a word */
			continue;
		}
		if (*s == '\\' && s[1])
			s++;
		w_put(ws, *s++);
	}
	w_end(ws);
}

/* A raw word 'name=value' with a plain name: the length of name, else 0. */
static size_t assignment(const char *w)
{
	size_t n = 0;

	if (!name_start(w[0]))
		return 0;
	while (isalnum((unsigned char)w[n]) || w[n] == '_')
		n++;
	return w[n] == '=' ? n : 0;
}

/* ---------------------------------------------------------------- */
/* Execution                                                         */

struct exec {
	int (*run)(void *ctx, int argc, char **argv);
	void *ctx;
	bool stop;
};

static int exec_list(struct exec *x, const struct list *l);

/* A command's status (0 or 1); a failure outside an if's condition is
 * counted, and with -e stops everything. */
static int finish_command(struct exec *x, int status)
{
	last_status = status;
	if (status && cond_depth == 0) {
		failures++;
		if (errexit)
			x->stop = true;
	}
	return status;
}

static int exec_command(struct exec *x, const struct node *n)
{
	static struct words ws; /* large; reused once argv is consumed */
	struct words *mine = &ws;
	int first = 0, rc;

	/* Leading name=value words set hush's local variables. */
	for (; first < n->nw; first++) {
		size_t k = assignment(n->w[first]);
		char name[128];

		if (!k || k >= sizeof name)
			break;
		memcpy(name, n->w[first], k);
		name[k] = '\0';
		memset(mine, 0, sizeof *mine);
		expand_word(mine, n->w[first] + k + 1, false);
		if (mine->bad || var_set(name, mine->argc ? mine->argv[0] : "", true) < 0)
			return finish_command(x, 1);
	}
	if (first == n->nw)
		return finish_command(x, 0);
	/* Nested runs (run, if) expand into their own buffer. */
	mine = malloc(sizeof *mine);
	if (!mine) {
		printf("## Error: out of memory\n");
		return finish_command(x, 1);
	}
	memset(mine, 0, sizeof *mine);
	for (int i = first; i < n->nw; i++)
		expand_word(mine, n->w[i], true);
	if (mine->bad) {
		free(mine);
		return finish_command(x, 1);
	}
	if (mine->argc == 0) { /* only empty variables */
		free(mine);
		return finish_command(x, 0);
	}
	mine->argv[mine->argc] = NULL;
	rc = x->run(x->ctx, mine->argc, mine->argv);
	free(mine);
	if (rc & CLI_RUN_STOP)
		x->stop = true;
	return finish_command(x, (rc & CLI_RUN_FAILED) ? 1 : 0);
}

static int exec_if(struct exec *x, const struct node *n)
{
	int st = 0;

	for (size_t i = 0; i < n->nclauses; i++) {
		cond_depth++;
		st = exec_list(x, &n->conds[i]);
		cond_depth--;
		if (x->stop)
			return st;
		if (st == 0)
			return exec_list(x, &n->bodies[i]);
	}
	if (n->els)
		return exec_list(x, n->els);
	return st; /* as hush: the last condition's status */
}

static int exec_list(struct exec *x, const struct list *l)
{
	int last = 0;

	for (size_t i = 0; i < l->n && !x->stop; i++) {
		const struct item *it = &l->it[i];

		/* As in U-Boot's hush: '&&' and '||' look at the status of
		 * the last command that ran; ';' runs whatever it was. */
		if ((it->join == JOIN_AND && last != 0) || (it->join == JOIN_OR && last == 0))
			continue;
		last = it->n->is_if ? exec_if(x, it->n) : exec_command(x, it->n);
	}
	return last;
}

int cli_split_run(const char *line, int (*run)(void *ctx, int argc, char **argv), void *ctx)
{
	struct exec x = { .run = run, .ctx = ctx };
	unsigned long before = failures;
	struct list l;

	if (parse_text(line, &l, false) != 0)
		return -1;
	exec_list(&x, &l);
	list_free(&l);
	return (failures != before ? CLI_RUN_FAILED : 0) | (x.stop ? CLI_RUN_STOP : 0);
}

/* ---------------------------------------------------------------- */
/* Commands                                                          */

/* Leading -f options (U-Boot's "force"; nothing is protected here):
 * how many, or -1 for another option. */
static int force_opts(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++)
		if (strspn(argv[i] + 1, "f") != strlen(argv[i] + 1))
			return -1;
	return i - 1;
}

int cmd_setenv(struct cli *c, int argc, char **argv)
{
	char value[CLI_MAX_LINE];
	size_t len = 0;
	int skip = force_opts(argc, argv);

	(void)c;
	if (argc < 2 || skip < 0)
		return CLI_USAGE;
	argv += skip;
	argc -= skip;
	if (argc < 2)
		return CLI_OK;
	if (!env_name_ok(argv[1]))
		return CLI_FAIL;
	if (argc == 2)
		return var_set(argv[1], NULL, false) < 0 ? CLI_FAIL : CLI_OK;
	value[0] = '\0';
	for (int i = 2; i < argc; i++) { /* the words, joined by one blank */
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof value) {
			printf("## Error: value too long\n");
			return CLI_FAIL;
		}
		if (i > 2)
			value[len++] = ' ';
		memcpy(value + len, argv[i], n + 1);
		len += n;
	}
	return var_set(argv[1], value, false) < 0 ? CLI_FAIL : CLI_OK;
}

static int cmp_var(const void *a, const void *b)
{
	return strcmp((*(const struct var *const *)a)->name, (*(const struct var *const *)b)->name);
}

int cmd_printenv(struct cli *c, int argc, char **argv)
{
	int rc = CLI_OK, i = 1;

	(void)c;
	env_init();
	if (argc > 1 && !strcmp(argv[1], "-a"))
		i++;
	if (i == argc) {
		struct var **sorted = malloc((nvars + 1) * sizeof *sorted);
		size_t n = 0;

		if (!sorted) {
			printf("## Error: cannot export environment\n");
			return CLI_FAIL;
		}
		for (size_t k = 0; k < nvars; k++)
			if (!vars[k].local)
				sorted[n++] = &vars[k];
		qsort(sorted, n, sizeof *sorted, cmp_var);
		for (size_t k = 0; k < n; k++)
			printf("%s=%s\n", sorted[k]->name, sorted[k]->value);
		free(sorted);
		printf("\nEnvironment size: %zu/%u bytes\n", env_used(), ENV_SIZE);
		return CLI_OK;
	}
	for (; i < argc; i++) {
		const char *v = cli_env_get(argv[i]);

		if (v) {
			printf("%s=%s\n", argv[i], v);
		} else {
			printf("## Error: \"%s\" not defined\n", argv[i]);
			rc = CLI_FAIL;
		}
	}
	return rc;
}

int cmd_run(struct cli *c, int argc, char **argv)
{
	if (argc < 2)
		return CLI_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *text = cli_env_get(argv[i]);
		char *copy;
		int rc;

		if (!text) {
			printf("## Error: \"%s\" not defined\n", argv[i]);
			return CLI_FAIL;
		}
		if (run_depth == RUN_DEPTH_MAX) {
			printf("## Error: run %s: nested more than %d deep\n", argv[i], RUN_DEPTH_MAX);
			return CLI_FAIL;
		}
		copy = strdup(text); /* the text may setenv itself */
		if (!copy) {
			printf("## Error: out of memory\n");
			return CLI_FAIL;
		}
		run_depth++;
		last_status = 0;
		rc = cli_split_run(copy, cli_run_one, c);
		run_depth--;
		free(copy);
		/* As U-Boot's run: the status of the text's last command. */
		if (rc < 0 || last_status != 0 || c->quit)
			return rc < 0 ? CLI_FAIL : last_status ? CLI_FAIL : CLI_OK;
	}
	return CLI_OK;
}

int cmd_env(struct cli *c, int argc, char **argv)
{
	if (argc < 2)
		return CLI_USAGE;
	if (!strcmp(argv[1], "print"))
		return cmd_printenv(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return argc < 3 ? CLI_USAGE : cmd_setenv(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "exists"))
		return argc != 3 ? CLI_USAGE : cli_env_get(argv[2]) ? CLI_OK : CLI_FAIL;
	if (!strcmp(argv[1], "delete")) {
		int skip = force_opts(argc - 1, argv + 1), rc = CLI_OK;

		if (skip < 0)
			return CLI_USAGE;
		for (int i = 2 + skip; i < argc; i++) /* a name not set fails, as in U-Boot */
			if (var_set(argv[i], NULL, false) != 0)
				rc = CLI_FAIL;
		return rc;
	}
	return CLI_USAGE;
}

/* U-Boot's simple_strtol(s, NULL, 0): sign, 0x hex, 0 octal, else
 * decimal, up to the first character that is not a digit. */
static long long strtol_uboot(const char *s)
{
	bool neg = *s == '-';
	unsigned base = 10;
	unsigned long long v = 0;

	if (neg)
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (;; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		v = v * base + d; /* wraps on overflow, never traps */
	}
	return (long long)(neg ? 0 - v : v); /* no signed overflow */
}

/* test -e IFACE DEV FILE: hostfs only (the files of the host). */
/* test -e IFACE DEV[:PART] PATH: a host file, or anything on a virtio disk's filesystem. */
static bool file_exists(struct cli *c, const char *iface, const char *dev, const char *path)
{
	struct stat st;

	if (strcmp(iface, "hostfs") != 0)
		return cli_fs_exists(c, iface, dev, path);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum {
	OP_NONE, OP_NOT, OP_OR, OP_AND, OP_Z, OP_N, OP_SEQ, OP_SNE, OP_SLT, OP_SGT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_FILE
};

static const struct test_op {
	int at;          /* where the operator word is: 1 binary, 0 unary */
	const char *word;
	int op;
	int words;       /* how many words the operation takes */
} test_ops[] = {
	{ 1, "=", OP_SEQ, 3 },  { 1, "!=", OP_SNE, 3 }, { 1, "<", OP_SLT, 3 },
	{ 1, ">", OP_SGT, 3 },  { 1, "-eq", OP_EQ, 3 }, { 1, "-ne", OP_NE, 3 },
	{ 1, "-lt", OP_LT, 3 }, { 1, "-le", OP_LE, 3 }, { 1, "-gt", OP_GT, 3 },
	{ 1, "-ge", OP_GE, 3 }, { 0, "!", OP_NOT, 1 },  { 0, "-o", OP_OR, 1 },
	{ 0, "-a", OP_AND, 1 }, { 0, "-z", OP_Z, 2 },   { 0, "-n", OP_N, 2 },
	{ 0, "-e", OP_FILE, 4 },
};

static bool test_eval(struct cli *c, int op, char **a)
{
	long long l, r;

	switch (op) {
	case OP_Z: return a[1][0] == '\0';
	case OP_N: return a[1][0] != '\0';
	case OP_SEQ: return strcmp(a[0], a[2]) == 0;
	case OP_SNE: return strcmp(a[0], a[2]) != 0;
	case OP_SLT: return strcmp(a[0], a[2]) < 0;
	case OP_SGT: return strcmp(a[0], a[2]) > 0;
	case OP_FILE: return file_exists(c, a[1], a[2], a[3]);
	default: break;
	}
	l = strtol_uboot(a[0]);
	r = strtol_uboot(a[2]);
	switch (op) {
	case OP_EQ: return l == r;
	case OP_NE: return l != r;
	case OP_LT: return l < r;
	case OP_LE: return l <= r;
	case OP_GT: return l > r;
	default: return l >= r;
	}
}

/*
 * U-Boot's test, read left to right without precedence: each operation's
 * result combines with the one before through the last -a/-o, '!'
 * negates the next; a word that is no operation ends the evaluation as
 * true.  One argument: true unless it is empty or "-n" (current U-Boot).
 */
int cmd_test(struct cli *c, int argc, char **argv)
{
	bool expr = false, last_expr = false, negate = false;
	int binop = OP_NONE, left;
	char **a = argv + 1;

	(void)c;
	if (!strcmp(argv[0], "[")) {
		if (strcmp(argv[argc - 1], "]") != 0) {
			printf("[: missing terminating ]\n");
			return CLI_FAIL;
		}
		argc--;
	}
	if (argc < 2)
		return CLI_FAIL;
	if (argc == 2)
		return argv[1][0] == '\0' || !strcmp(argv[1], "-n") ? CLI_FAIL : CLI_OK;
	for (left = argc - 1; left > 0;) {
		const struct test_op *t = NULL;

		for (size_t i = 0; i < sizeof test_ops / sizeof test_ops[0] && !t; i++)
			if (left > test_ops[i].at && !strcmp(a[test_ops[i].at], test_ops[i].word))
				t = &test_ops[i];
		if (!t || left < t->words) {
			expr = true;
			break;
		}
		if (t->op == OP_OR || t->op == OP_AND) {
			last_expr = expr;
			binop = t->op;
		} else if (t->op == OP_NOT) {
			negate = !negate;
		} else {
			expr = test_eval(c, t->op, a);
			if (negate)
				expr = !expr;
			negate = false;
			if (binop == OP_OR)
				expr = last_expr || expr;
			else if (binop == OP_AND)
				expr = last_expr && expr;
			binop = OP_NONE;
		}
		a += t->words;
		left -= t->words;
	}
	return expr ? CLI_OK : CLI_FAIL;
}

int cmd_true(struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	return argv[0][0] == 't' ? CLI_OK : CLI_FAIL;
}
