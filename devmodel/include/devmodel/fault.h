/* SPDX-License-Identifier: MIT */
/*
 * Faults the model can be told to commit.  A fault is data: kind, where,
 * when.  (The fault-plan file format builds on this.)
 */
#ifndef DM_FAULT_H
#define DM_FAULT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dm_fault_kind {
	DM_FAULT_NONE = 0,
	/* Allowed by the spec. */
	DM_FAULT_BLK_IOERR,          /* request completes with VIRTIO_BLK_S_IOERR */
	DM_FAULT_BLK_UNSUPP,         /* request completes with VIRTIO_BLK_S_UNSUPP */
	DM_FAULT_NEEDS_RESET,        /* device sets DEVICE_NEEDS_RESET, stops processing */
	DM_FAULT_CONFIG_CHANGE,      /* config generation bumps, config interrupt */
	DM_FAULT_DELAY,              /* completion delayed by value ns */
	DM_FAULT_STALL,              /* request never completes */
	/* Forbidden by the spec. */
	DM_FAULT_USED_ID,            /* used.id written as value */
	DM_FAULT_USED_ID_DUP,        /* the chain is completed twice */
	DM_FAULT_USED_LEN,           /* used.len = writable bytes + value */
	DM_FAULT_USED_IDX_JUMP,      /* used.idx advanced by value extra */
	DM_FAULT_BLK_STATUS,         /* status byte written as value */
	DM_FAULT_RESET_STUCK,        /* status never reads 0 after reset */
	DM_FAULT_FEATURES_OK_REFUSED,/* FEATURES_OK does not stick */
	DM_FAULT_CONFIG_GEN_UNSTABLE,/* generation changes on every read */
	DM_FAULT_GET_ID_UNTERMINATED,/* GET_ID fills 20 non-NUL bytes, non-printable */
	/* Appended (hardening): allowed by the spec unless noted. */
	DM_FAULT_CAPACITY_CHANGE,    /* blk: at the request, capacity becomes value sectors
	                                (config generation bumps, config interrupt) */
	DM_FAULT_OUT_OF_ORDER,       /* the completion is held back and returned after the
	                                next request's (or at the end of the batch) */
	DM_FAULT_QUEUE_NUM_MAX,      /* at a reset: QueueNumMax reads value from then on
	                                (0, above the driver's cap, not a power of two) */
	DM_FAULT_IRQ_STORM,          /* every interrupt-status read finds value (default
	                                VIRTIO_ISR_QUEUE) set again, even before DRIVER_OK */
	/* Appended (conformance, docs/conformance.md): allowed by the spec. */
	DM_FAULT_AVAIL_EVENT,        /* split ring: avail_event written as value at each
	                                used entry, even without EVENT_IDX (DRV-2.7.10.1-2) */
	DM_FAULT_CAPACITY_TEAR,      /* blk: at the read of capacity's upper 32 bits,
	                                capacity becomes value sectors first (generation
	                                bumps): a torn 64-bit read (DRV-2.5.1-1) */
	/* Appended (net): forbidden by the spec. */
	DM_FAULT_NET_RX_LEN,         /* net: a received frame's used.len written as value */
	DM_FAULT_NET_NUM_BUFFERS,    /* net: a received frame's num_buffers written as value */
	DM_FAULT_NET_CTRL_ACK,       /* net: a control command's ack written as value (1 is
	                                VIRTIO_NET_ERR, allowed; above 1 forbidden) */
	/* Appended (net): allowed by the spec. */
	DM_FAULT_NET_LINK_DOWN,      /* net: at the transmitted frame the link goes down (config
	                                interrupt) and comes up again value ns later (0: never) */
	DM_FAULT_NET_RX_HDR,         /* net: a received frame's header has flags |= value
	                                (default 0xf8, bits 5.1.6 does not define), and
	                                csum_start, csum_offset, hdr_len 0xffff
	                                (DRV-5.1.6.4.2-1/2/4) */
	/* Appended (rng, 5.4). */
	DM_FAULT_RNG_SHORT,          /* rng: allowed; the request gets value bytes fewer than
	                                posted (default 8), at least one (DEV-5.4.6.2-2) */
	DM_FAULT_RNG_EMPTY,          /* rng: forbidden; the request is answered with used length
	                                0, nothing written (DEV-5.4.6.2-1) */
	/* Appended (net, GUEST_CSUM): receive checksum claims that lie. */
	DM_FAULT_NET_RX_DATA_VALID,  /* net: forbidden (DEV-5.1.6.4.1-23); the received frame's
	                                last byte is flipped after the model's check and
	                                DATA_VALID set: a corrupt frame claimed valid */
	DM_FAULT_NET_RX_NEEDS_CSUM,  /* net: forbidden (DEV-5.1.6.4.1-13/14/15); NEEDS_CSUM set,
	                                csum_start written as value (0: where the frame's own
	                                TCP/UDP header is, its checksum field left as it is,
	                                not the pseudo-header sum), csum_offset the frame's */
	/* Appended (net, MQ). */
	DM_FAULT_NET_RX_QUEUE,       /* net: forbidden (DEV-5.1.6.5.6.2-2); the received frame
	                                goes to receiveq(value + 1), or with value 0 to the
	                                first receive queue beyond the enabled pairs, whatever
	                                VQ_PAIRS_SET enabled (if the transport has it) */
	DM_FAULT_KIND_COUNT
};

struct dm_fault {
	enum dm_fault_kind kind;
	int queue;       /* -1: any queue */
	uint64_t nth;    /* 1-based request/completion number it hits first; 0: the next */
	uint64_t count;  /* times it fires; 0: unlimited */
	uint64_t value;
	/* state */
	uint64_t seen;
	uint64_t fired;
};

const char *dm_fault_name(enum dm_fault_kind k);
/* The kind named name (as dm_fault_name gives it), DM_FAULT_NONE if none. */
enum dm_fault_kind dm_fault_parse_kind(const char *name);

#ifdef __cplusplus
}
#endif
#endif
