/* SPDX-License-Identifier: MIT */
/*
 * virtio-net model backends: where transmitted frames go.
 *   loop   back into the same NIC's receive path
 *   queue  kept for a test to collect (dm_net_queue_pop)
 *   sink   dropped (with a capture, the pcap backend of vlab)
 *   wire   into the peer NIC joined by dm_net_wire
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define QUEUE_MAX 4096u

static void be_free(struct dm_net_backend *be)
{
	free(be);
}

/* ---- loop ---- */

static void loop_tx(struct dm_net_backend *be, const uint8_t *frame, uint32_t len)
{
	if (be->nic)
		(void)dm_net_inject(be->nic, frame, len);
}

struct dm_net_backend *dm_net_backend_loop(void)
{
	struct dm_net_backend *be = calloc(1, sizeof *be);
	if (!be)
		return NULL;
	be->kind = "loop";
	be->transmit = loop_tx;
	be->destroy = be_free;
	return be;
}

/* ---- sink ---- */

static void sink_tx(struct dm_net_backend *be, const uint8_t *frame, uint32_t len)
{
	(void)be;
	(void)frame;
	(void)len;
}

struct dm_net_backend *dm_net_backend_sink(void)
{
	struct dm_net_backend *be = calloc(1, sizeof *be);
	if (!be)
		return NULL;
	be->kind = "sink";
	be->transmit = sink_tx;
	be->destroy = be_free;
	return be;
}

/* ---- queue ---- */

struct qframe {
	struct qframe *next;
	uint32_t len;
	uint8_t data[];
};

struct queue_be {
	struct dm_net_backend be;
	struct qframe *head, *tail;
	unsigned count;
	uint64_t overflow;
};

static void queue_tx(struct dm_net_backend *be, const uint8_t *frame, uint32_t len)
{
	struct queue_be *q = (struct queue_be *)be;
	struct qframe *f;

	if (q->count >= QUEUE_MAX) {
		q->overflow++;
		return;
	}
	f = malloc(sizeof *f + len);
	if (!f) {
		q->overflow++;
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
}

static void queue_destroy(struct dm_net_backend *be)
{
	struct queue_be *q = (struct queue_be *)be;
	while (q->head) {
		struct qframe *f = q->head;
		q->head = f->next;
		free(f);
	}
	free(q);
}

struct dm_net_backend *dm_net_backend_queue(void)
{
	struct queue_be *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->be.kind = "queue";
	q->be.transmit = queue_tx;
	q->be.destroy = queue_destroy;
	return &q->be;
}

static struct queue_be *queue_of(const struct dm_net *n)
{
	if (!n || !n->backend || n->backend->transmit != queue_tx)
		return NULL;
	return (struct queue_be *)n->backend;
}

long dm_net_queue_pop(struct dm_net *n, void *buf, uint32_t cap)
{
	struct queue_be *q = queue_of(n);
	struct qframe *f;
	long len;

	if (!q || !q->head)
		return -1;
	f = q->head;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	len = f->len;
	if (buf)
		memcpy(buf, f->data, f->len < cap ? f->len : cap);
	free(f);
	return len;
}

unsigned dm_net_queue_count(const struct dm_net *n)
{
	const struct queue_be *q = queue_of(n);
	return q ? q->count : 0;
}

/* ---- wire ---- */

struct wire_be {
	struct dm_net_backend be;
	struct dm_net *peer;
};

static void wire_tx(struct dm_net_backend *be, const uint8_t *frame, uint32_t len)
{
	struct wire_be *w = (struct wire_be *)be;
	if (w->peer)
		(void)dm_net_inject(w->peer, frame, len);
}

static void wire_destroy(struct dm_net_backend *be)
{
	struct wire_be *w = (struct wire_be *)be;
	/* The peer's end of the wire now leads nowhere. */
	if (w->peer && w->peer->backend && w->peer->backend->transmit == wire_tx) {
		struct wire_be *other = (struct wire_be *)w->peer->backend;
		if (other->peer == be->nic)
			other->peer = NULL;
	}
	free(w);
}

int dm_net_wire(struct dm_net *a, struct dm_net *b)
{
	struct wire_be *wa, *wb;

	if (!a || !b || a == b)
		return -1;
	wa = calloc(1, sizeof *wa);
	wb = calloc(1, sizeof *wb);
	if (!wa || !wb) {
		free(wa);
		free(wb);
		return -1;
	}
	wa->be.kind = wb->be.kind = "wire";
	wa->be.transmit = wb->be.transmit = wire_tx;
	wa->be.destroy = wb->be.destroy = wire_destroy;
	dm_net_set_backend(a, &wa->be);
	dm_net_set_backend(b, &wb->be);
	wa->peer = b;
	wb->peer = a;
	return 0;
}
