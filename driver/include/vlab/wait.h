/* SPDX-License-Identifier: MIT */
/*
 * One bounded wait for every loop of the driver that waits on the device
 * (reset, requests, receive, control commands, the transmit drain).
 *
 * A wait is bounded twice: in platform time (timeout_ns, measured with the
 * platform clock) and in iterations (derived from timeout_ns and the step
 * schedule, plus a margin of an eighth and 2), so that it ends even when
 * the platform clock does not advance or its delays return early.
 *
 *	struct vlab_wait w;
 *	vlab_wait_start(&w, plat, timeout_ns, step_ns);
 *	while (!done()) {
 *		if (!vlab_wait_step(&w))
 *			return VLAB_ETIMEDOUT;
 *	}
 *
 * Fixed steps (vlab_wait_start) suit polls where latency matters; growing
 * steps (vlab_wait_start_growing: doubling from first_step_ns up to
 * max_step_ns) suit waits that are usually short but may be long (a
 * reset), at a few hundred polls per second instead of a million.
 */
#ifndef VLAB_WAIT_H
#define VLAB_WAIT_H

#include "vlab/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vlab_wait {
	const struct vlab_platform *plat;
	uint64_t start;      /* platform time at vlab_wait_start */
	uint64_t timeout;    /* ns */
	uint64_t step;       /* the next delay, ns */
	uint64_t step_max;   /* the step stops growing here (== step: fixed) */
	uint64_t steps;      /* delays done */
	uint64_t max_steps;  /* the iteration bound */
};

/* Start a wait of timeout_ns in fixed steps of step_ns (0 counts as 1). */
void vlab_wait_start(struct vlab_wait *w, const struct vlab_platform *p, uint64_t timeout_ns,
                     uint64_t step_ns);
/* Start a wait of timeout_ns in steps doubling from first_step_ns up to
 * max_step_ns. */
void vlab_wait_start_growing(struct vlab_wait *w, const struct vlab_platform *p, uint64_t timeout_ns,
                             uint64_t first_step_ns, uint64_t max_step_ns);
/*
 * Called when the awaited condition is still false: returns false when the
 * wait is over (timeout_ns of platform time elapsed, or the iteration bound
 * reached), without delaying; otherwise lets one step pass (never beyond
 * the deadline) and returns true: check the condition again.
 */
bool vlab_wait_step(struct vlab_wait *w);
/* The iteration bound a wait of these parameters gets (for tests). */
uint64_t vlab_wait_max_steps(uint64_t timeout_ns, uint64_t first_step_ns, uint64_t max_step_ns);

#ifdef __cplusplus
}
#endif
#endif
