/* SPDX-License-Identifier: MIT */
/*
 * Virtual clock and the deterministic scheduler of device work.
 *
 * Time is a counter in nanoseconds that moves only when the harness says
 * (hx_advance, the platform's delay_ns, hx_run_pending).  Timed work sits in
 * a binary min-heap ordered by (time, sequence): equal times run in the
 * order they were scheduled, so a run depends only on the seed.
 *
 * env->schedule follows the policy:
 *   IMMEDIATE  run at once, inside the notification.  Work scheduled while
 *              work is running waits in a FIFO and runs right after it,
 *              never nested inside it.
 *   DEFERRED   run at now + uniform(0, max_delay_ns] (seeded).
 *   BATCHED    held until HX_BATCH_PIECES are waiting, or until a seeded
 *              deadline after the first of them, then all run in order.
 * env->schedule_at always goes through the heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"

/* A cap on hx_run_pending, so a device that keeps rescheduling itself
 * ends a test instead of hanging it. */
#define HX_RUN_PENDING_MAX (1u << 24)

static void out_of_memory(void)
{
	fputs("vlab: harness: out of host memory in the scheduler\n", stderr);
	abort();
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* ---- FIFO of work ---- */

static void fifo_push(struct hx_fifo *f, hx_work_fn fn, void *arg)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct hx_work *w = malloc(cap * sizeof *w);
		if (!w)
			out_of_memory();
		for (size_t i = 0; i < f->n; i++)
			w[i] = f->w[(f->head + i) % f->cap];
		free(f->w);
		f->w = w;
		f->cap = cap;
		f->head = 0;
	}
	f->w[(f->head + f->n) % f->cap] = (struct hx_work){fn, arg};
	f->n++;
}

static bool fifo_pop(struct hx_fifo *f, struct hx_work *out)
{
	if (f->n == 0)
		return false;
	*out = f->w[f->head];
	f->head = (f->head + 1) % f->cap;
	f->n--;
	return true;
}

/* ---- the heap ---- */

static bool earlier(const struct hx_event *a, const struct hx_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void heap_push(struct hx_sched *s, struct hx_event ev)
{
	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? s->capheap * 2 : 64;
		struct hx_event *h = realloc(s->heap, cap * sizeof *h);
		if (!h)
			out_of_memory();
		s->heap = h;
		s->capheap = cap;
	}
	ev.seq = s->seq++;
	size_t i = s->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
	if (ev.kind == HX_EV_WORK)
		s->heap_work++;
}

static struct hx_event heap_pop(struct hx_sched *s)
{
	struct hx_event top = s->heap[0];
	struct hx_event last = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && earlier(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!earlier(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n)
		s->heap[i] = last;
	if (top.kind == HX_EV_WORK)
		s->heap_work--;
	return top;
}

/* ---- running work ---- */

/* Run what waits in the inline FIFO; the caller is not inside work. */
static void drain_inline(struct hx_sched *s)
{
	struct hx_work w;
	bool was = s->running;
	s->running = true;
	while (fifo_pop(&s->inline_q, &w)) {
		w.fn(w.arg);
		s->stats.run++;
	}
	s->running = was;
}

static void run_now(struct hx_sched *s, hx_work_fn fn, void *arg)
{
	fifo_push(&s->inline_q, fn, arg);
	if (s->running)
		s->stats.nested++;
	else
		drain_inline(s);
}

static void release_batch(struct hx_sched *s)
{
	struct hx_work w;
	s->batch_gen++;
	s->stats.batches++;
	while (fifo_pop(&s->batch, &w))
		fifo_push(&s->inline_q, w.fn, w.arg);
	if (!s->running)
		drain_inline(s);
}

static uint64_t seeded_delay(struct hx_sched *s)
{
	return s->max_delay_ns ? hx_rng_range1(&s->rng, s->max_delay_ns) : 0;
}

static void run_event(struct hx_sched *s, const struct hx_event *ev)
{
	if (ev->time > s->now)
		s->now = ev->time;
	switch (ev->kind) {
	case HX_EV_WORK:
		run_now(s, ev->work.fn, ev->work.arg);
		break;
	case HX_EV_BATCH_FLUSH:
		/* A deadline of a batch already released by count is stale. */
		if (ev->gen == s->batch_gen && s->batch.n)
			release_batch(s);
		break;
	}
}

/* ---- the interface ---- */

void hx_sched_init(struct hx_sched *s, enum hx_sched_policy policy, uint64_t max_delay_ns, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->policy = policy;
	s->max_delay_ns = max_delay_ns;
	hx_rng_seed(&s->rng, seed);
}

void hx_sched_fini(struct hx_sched *s)
{
	free(s->heap);
	free(s->inline_q.w);
	free(s->batch.w);
	memset(s, 0, sizeof *s);
}

void hx_sched_work(struct hx_sched *s, hx_work_fn fn, void *arg)
{
	s->stats.scheduled++;
	switch (s->policy) {
	case HX_SCHED_DEFERRED: {
		struct hx_event ev = {0};
		ev.time = add_sat(s->now, seeded_delay(s));
		ev.kind = HX_EV_WORK;
		ev.work = (struct hx_work){fn, arg};
		heap_push(s, ev);
		return;
	}
	case HX_SCHED_BATCHED:
		fifo_push(&s->batch, fn, arg);
		if (s->batch.n == 1) {
			struct hx_event ev = {0};
			ev.time = add_sat(s->now, seeded_delay(s));
			ev.kind = HX_EV_BATCH_FLUSH;
			ev.gen = s->batch_gen;
			heap_push(s, ev);
		}
		if (s->batch.n >= HX_BATCH_PIECES)
			release_batch(s);
		return;
	case HX_SCHED_IMMEDIATE:
	default:
		run_now(s, fn, arg);
		return;
	}
}

void hx_sched_at(struct hx_sched *s, hx_work_fn fn, void *arg, uint64_t delay_ns)
{
	struct hx_event ev = {0};
	s->stats.scheduled_at++;
	ev.time = add_sat(s->now, delay_ns);
	ev.kind = HX_EV_WORK;
	ev.work = (struct hx_work){fn, arg};
	heap_push(s, ev);
}

void hx_sched_advance(struct hx_sched *s, uint64_t ns)
{
	uint64_t target = add_sat(s->now, ns);
	if (!s->running)
		drain_inline(s);
	while (s->nheap && s->heap[0].time <= target) {
		struct hx_event ev = heap_pop(s);
		run_event(s, &ev);
	}
	if (target > s->now)
		s->now = target;
}

unsigned hx_sched_run_pending(struct hx_sched *s)
{
	uint64_t before = s->stats.run;
	if (!s->running)
		drain_inline(s);
	while (s->nheap && s->stats.run - before < HX_RUN_PENDING_MAX) {
		struct hx_event ev = heap_pop(s);
		run_event(s, &ev);
	}
	uint64_t n = s->stats.run - before;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

unsigned hx_sched_pending(const struct hx_sched *s)
{
	size_t n = s->heap_work + s->batch.n + s->inline_q.n;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}
