/* SPDX-License-Identifier: MIT */
/*
 * The few C-library pieces the driver needs, freestanding: memory helpers,
 * a small snprintf and the log entry point.
 *
 * With VLAB_PROVIDE_LIBC defined (bare-metal images), memcpy, memset,
 * memmove and memcmp are defined here too, because compilers may emit calls
 * to them even in freestanding code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vlab/virtio.h"

/*
 * An empty asm with a memory clobber in each loop iteration: it stops the
 * compiler from recognising the loop as a memset/memcpy idiom and turning it
 * back into a call to the very function being defined.
 */
#define VLAB_LOOP_BARRIER() __asm__ __volatile__("" ::: "memory")

/* A machine word that may alias any object (the byte-wise loops cost a
 * loop iteration, and in instrumented builds a traced comparison, per byte:
 * queue setup and buffer zeroing are most of the driver's time then). */
typedef uint64_t __attribute__((__may_alias__)) vlab_word_t;

/*
 * Without VLAB_PROVIDE_LIBC the environment has memset and memcpy (a hosted
 * build, or a bare-metal runtime: compilers emit calls to them anyway, see
 * tests/check_freestanding.cmake), and theirs are vectorised: on the host
 * they zero a 1514-byte receive buffer in 0.4 and 1 MiB in 0.5 of the time
 * of the loops below (docs/performance.md, issue 15).  With it, the loops
 * below are memset and memcpy, and must not call them.
 */
#if !defined(VLAB_PROVIDE_LIBC) && !defined(VLAB_LIBC_LOOPS)
#define VLAB_ENV_MEMFNS 1
#endif
/* VLAB_LIBC_LOOPS: the loops below without defining memset and memcpy
 * (their host test, tests/libc/libc_loops_test.cpp). */

void vlab_memset(void *dst, int c, size_t n)
{
#ifdef VLAB_ENV_MEMFNS
	if (n)
		__builtin_memset(dst, c, n);
#else
	unsigned char *d = dst;
	size_t i = 0;

	for (; i < n && ((uintptr_t)(d + i) & (sizeof(vlab_word_t) - 1)) != 0; i++) {
		d[i] = (unsigned char)c;
		VLAB_LOOP_BARRIER();
	}
	if (n - i >= sizeof(vlab_word_t)) {
		vlab_word_t w = 0x0101010101010101ull * (unsigned char)c;
		/* Four words per barrier: zeroing a buffer before it is posted
		 * is most of a large read's time on an emulated CPU
		 * (docs/performance.md). */
		for (; n - i >= 4 * sizeof(vlab_word_t); i += 4 * sizeof(vlab_word_t)) {
			vlab_word_t *q = (vlab_word_t *)(void *)(d + i);
			q[0] = w;
			q[1] = w;
			q[2] = w;
			q[3] = w;
			VLAB_LOOP_BARRIER();
		}
		for (; n - i >= sizeof(vlab_word_t); i += sizeof(vlab_word_t)) {
			*(vlab_word_t *)(void *)(d + i) = w;
			VLAB_LOOP_BARRIER();
		}
	}
	for (; i < n; i++) {
		d[i] = (unsigned char)c;
		VLAB_LOOP_BARRIER();
	}
#endif
}

void vlab_memcpy(void *dst, const void *src, size_t n)
{
#ifdef VLAB_ENV_MEMFNS
	if (n)
		__builtin_memcpy(dst, src, n);
#else
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;

	/* A word at a time where both are word-aligned alike (a frame copied
	 * into a transmit slot), else a byte at a time. */
	if ((((uintptr_t)d ^ (uintptr_t)s) & (sizeof(vlab_word_t) - 1)) == 0) {
		for (; i < n && ((uintptr_t)(d + i) & (sizeof(vlab_word_t) - 1)) != 0; i++) {
			d[i] = s[i];
			VLAB_LOOP_BARRIER();
		}
		for (; n - i >= sizeof(vlab_word_t); i += sizeof(vlab_word_t)) {
			*(vlab_word_t *)(void *)(d + i) = *(const vlab_word_t *)(const void *)(s + i);
			VLAB_LOOP_BARRIER();
		}
	}
	for (; i < n; i++) {
		d[i] = s[i];
		VLAB_LOOP_BARRIER();
	}
#endif
}

int vlab_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t vlab_strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

#ifdef VLAB_PROVIDE_LIBC
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	vlab_memcpy(dst, src, n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	vlab_memset(dst, c, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
		vlab_memcpy(dst, src, n);
	} else {
		while (n > 0) {
			n--;
			d[n] = s[n];
			VLAB_LOOP_BARRIER();
		}
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	return vlab_memcmp(a, b, n);
}
#endif

#if VLAB_CFG_LOG /* the formatter and the log (vlab/config.h) */

/* ---- snprintf ---- */

struct fmt_out {
	char *buf;
	size_t size;
	size_t pos; /* would-be length so far */
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->size > 0 && o->pos < o->size - 1)
		o->buf[o->pos] = c;
	o->pos++;
}

static void out_pad(struct fmt_out *o, char c, size_t n)
{
	while (n-- > 0)
		out_char(o, c);
}

struct fmt_spec {
	bool left;     /* '-' */
	bool zero;     /* '0' */
	size_t width;
	bool has_prec;
	size_t prec;
};

/* Emit body of blen bytes with an optional prefix ("-", "0x"), padded. */
static void out_field(struct fmt_out *o, const struct fmt_spec *sp, const char *prefix,
                      const char *body, size_t blen, size_t min_digits)
{
	size_t plen = prefix ? vlab_strlen(prefix) : 0;
	size_t zeros = min_digits > blen ? min_digits - blen : 0;
	size_t total = plen + zeros + blen;
	size_t pad = sp->width > total ? sp->width - total : 0;

	if (!sp->left && !(sp->zero && !sp->has_prec))
		out_pad(o, ' ', pad);
	for (size_t i = 0; i < plen; i++)
		out_char(o, prefix[i]);
	if (!sp->left && sp->zero && !sp->has_prec)
		out_pad(o, '0', pad);
	out_pad(o, '0', zeros);
	for (size_t i = 0; i < blen; i++)
		out_char(o, body[i]);
	if (sp->left)
		out_pad(o, ' ', pad);
}

static void out_unsigned(struct fmt_out *o, const struct fmt_spec *sp, const char *prefix,
                         unsigned long long v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = sizeof(tmp);

	/* printf: precision 0 and value 0 print no digits. */
	if (!(sp->has_prec && sp->prec == 0 && v == 0)) {
		do {
			tmp[--n] = digits[v % base];
			v /= base;
		} while (v != 0);
	}
	out_field(o, sp, prefix, &tmp[n], sizeof(tmp) - n, sp->has_prec ? sp->prec : 0);
}

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z };

static unsigned long long arg_unsigned(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_NONE:
	default:
		return va_arg(*ap, unsigned int);
	}
}

static long long arg_signed(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		return va_arg(*ap, ptrdiff_t); /* the signed type of size_t's width */
	case LEN_NONE:
	default:
		return va_arg(*ap, int);
	}
}

static size_t parse_num(const char **f)
{
	size_t n = 0;
	while (**f >= '0' && **f <= '9') {
		if (n < 100000u)
			n = n * 10u + (size_t)(**f - '0');
		(*f)++;
	}
	return n;
}

static int vlab_vsnprintf(char *buf, size_t size, const char *fmt, va_list *ap)
{
	struct fmt_out o = {buf, size, 0};
	const char *f = fmt;

	while (*f != '\0') {
		if (*f != '%') {
			out_char(&o, *f++);
			continue;
		}
		const char *start = f++;
		/* Field by field: a zero struct initialiser may become a
		 * memset call. */
		struct fmt_spec sp;
		sp.left = false;
		sp.zero = false;
		sp.width = 0;
		sp.has_prec = false;
		sp.prec = 0;

		for (;; f++) {
			if (*f == '-')
				sp.left = true;
			else if (*f == '0')
				sp.zero = true;
			else if (*f == ' ' || *f == '+' || *f == '#')
				; /* accepted, ignored */
			else
				break;
		}
		if (*f == '*') {
			int w = va_arg(*ap, int);
			if (w < 0) {
				sp.left = true;
				w = -w;
			}
			sp.width = (size_t)w;
			f++;
		} else {
			sp.width = parse_num(&f);
		}
		if (*f == '.') {
			f++;
			sp.has_prec = true;
			if (*f == '*') {
				int p = va_arg(*ap, int);
				sp.has_prec = p >= 0;
				sp.prec = p >= 0 ? (size_t)p : 0;
				f++;
			} else {
				sp.prec = parse_num(&f);
			}
		}

		enum fmt_len len = LEN_NONE;
		if (*f == 'h') {
			f++;
			len = LEN_H;
			if (*f == 'h') {
				f++;
				len = LEN_HH;
			}
		} else if (*f == 'l') {
			f++;
			len = LEN_L;
			if (*f == 'l') {
				f++;
				len = LEN_LL;
			}
		} else if (*f == 'z') {
			f++;
			len = LEN_Z;
		}

		switch (*f) {
		case 'd':
		case 'i': {
			long long v = arg_signed(ap, len);
			unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			out_unsigned(&o, &sp, v < 0 ? "-" : NULL, mag, 10, false);
			break;
		}
		case 'u':
			out_unsigned(&o, &sp, NULL, arg_unsigned(ap, len), 10, false);
			break;
		case 'x':
		case 'X':
			out_unsigned(&o, &sp, NULL, arg_unsigned(ap, len), 16, *f == 'X');
			break;
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(*ap, void *);
			out_unsigned(&o, &sp, "0x", (unsigned long long)v, 16, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(*ap, int);
			struct fmt_spec cs = sp;
			cs.zero = false;
			cs.has_prec = false;
			out_field(&o, &cs, NULL, &c, 1, 0);
			break;
		}
		case 's': {
			const char *s = va_arg(*ap, const char *);
			if (s == NULL)
				s = "(null)";
			size_t n = 0;
			while (s[n] != '\0' && (!sp.has_prec || n < sp.prec))
				n++;
			struct fmt_spec ss = sp;
			ss.zero = false;
			ss.has_prec = false;
			out_field(&o, &ss, NULL, s, n, 0);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print what was there. */
			while (start < f)
				out_char(&o, *start++);
			continue;
		default:
			/* Unknown conversion: print it as written. */
			while (start <= f)
				out_char(&o, *start++);
			break;
		}
		f++;
	}

	if (size > 0)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos > (size_t)INT32_MAX ? INT32_MAX : (int)o.pos;
}

int vlab_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vlab_vsnprintf(buf, size, fmt, &ap);
	va_end(ap);
	return n;
}

/* Long enough for a log line with a device name and a reason. */
#define VLAB_LOG_LINE 160

void vlab_log(const struct vlab_platform *p, enum vlab_log_level level, const char *fmt, ...)
{
	char line[VLAB_LOG_LINE];
	va_list ap;

	if (p == NULL || p->ops == NULL || p->ops->log == NULL)
		return;
	va_start(ap, fmt);
	vlab_vsnprintf(line, sizeof(line), fmt, &ap);
	va_end(ap);
	p->ops->log(p->ctx, level, line);
}
#endif /* VLAB_CFG_LOG */
