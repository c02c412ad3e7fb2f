/* SPDX-License-Identifier: MIT */
/* Numbers and sizes for vlab (the shell, shell.c, splits command lines). */
#include <ctype.h>
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
