/* SPDX-License-Identifier: MIT */
/* Bounded waits: see vlab/wait.h. */
#include "vlab/wait.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? ~0ull : a + b;
}

/* The step after s: doubled, never above max. */
static uint64_t next_step(uint64_t s, uint64_t max)
{
	return s > max / 2 ? max : s * 2;
}

uint64_t vlab_wait_max_steps(uint64_t timeout_ns, uint64_t first_step_ns, uint64_t max_step_ns)
{
	uint64_t s = first_step_ns ? first_step_ns : 1;
	uint64_t max = max_step_ns > s ? max_step_ns : s;
	uint64_t sum = 0, n = 0;

	/* The growing part (at most 64 rounds: s doubles each time). */
	while (sum < timeout_ns && s < max) {
		sum = sat_add(sum, s);
		n++;
		s = next_step(s, max);
	}
	/* Then steps of max until the timeout is covered. */
	if (sum < timeout_ns)
		n = sat_add(n, (timeout_ns - sum) / max + ((timeout_ns - sum) % max != 0));
	/* The margin: delays that end a little early still reach the timeout. */
	return sat_add(sat_add(n, n / 8), 2);
}

void vlab_wait_start_growing(struct vlab_wait *w, const struct vlab_platform *p, uint64_t timeout_ns,
                             uint64_t first_step_ns, uint64_t max_step_ns)
{
	w->plat = p;
	w->timeout = timeout_ns;
	w->step = first_step_ns ? first_step_ns : 1;
	w->step_max = max_step_ns > w->step ? max_step_ns : w->step;
	w->steps = 0;
	w->max_steps = vlab_wait_max_steps(timeout_ns, w->step, w->step_max);
	w->start = vlab_plat_now(p);
}

void vlab_wait_start(struct vlab_wait *w, const struct vlab_platform *p, uint64_t timeout_ns,
                     uint64_t step_ns)
{
	vlab_wait_start_growing(w, p, timeout_ns, step_ns, step_ns);
}

bool vlab_wait_step(struct vlab_wait *w)
{
	uint64_t elapsed, left;

	if (w->steps >= w->max_steps)
		return false; /* the clock did not move (enough): bounded anyway */
	elapsed = vlab_plat_now(w->plat) - w->start;
	if (elapsed >= w->timeout)
		return false;
	left = w->timeout - elapsed;
	vlab_plat_delay(w->plat, w->step < left ? w->step : left);
	w->steps++;
	w->step = next_step(w->step, w->step_max);
	return true;
}
