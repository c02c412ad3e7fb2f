/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's seeded PRNG: splitmix64 (Steele, Lea, Flood 2014).  Small,
 * fast, and every 64-bit seed gives a full-period stream, so "same seed,
 * same run" needs nothing more.
 */
#include "hx_internal.h"

void hx_rng_seed(struct hx_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t hx_rng_next(struct hx_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t hx_rng_range1(struct hx_rng *r, uint64_t n)
{
	if (n <= 1)
		return 1;
	/* Reject the top partial copy of [0, n) so every value is as likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = hx_rng_next(r);
	while (x >= limit);
	return 1 + x % n;
}
