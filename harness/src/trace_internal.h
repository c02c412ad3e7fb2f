/* SPDX-License-Identifier: MIT */
/* What the trace recorder, parser and replayer share (docs/trace-format.md). */
#ifndef HX_TRACE_INTERNAL_H
#define HX_TRACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "harness/trace.h"

enum hx_ev_op {
	HX_EV_R = 0, /* mmio read:  rW ADDR VAL */
	HX_EV_W,     /* mmio write: wW ADDR VAL */
	HX_EV_PR,    /* port read:  prW PORT VAL */
	HX_EV_PW,    /* port write: pwW PORT VAL */
	HX_EV_ALLOC, /* alloc SIZE ALIGN DEV|none */
	HX_EV_FREE,  /* free DEV SIZE */
	HX_EV_MAP,   /* map DEV|none LEN DIR */
	HX_EV_SH,    /* shW DEV VAL (W 2 or 4) */
	HX_EV_SHM,   /* shm DEV LEN HEX */
	HX_EV_MB,
	HX_EV_RMB,
	HX_EV_WMB,
	HX_EV_NOW,   /* now NS */
	HX_EV_DELAY, /* delay NS */
	HX_EV_RAND,  /* rand VAL */
	HX_EV_DR,    /* dr DEV LEN HEX: the device read guest memory */
	HX_EV_DW,    /* dw DEV LEN HEX: the device wrote guest memory */
	HX_EV_UNMAP, /* unmap DEV LEN DIR HEX|-: the buffer back to the CPU, its bytes */
	HX_EV_INPUT, /* input TEXT: a command line vlab read from stdin (data: TEXT, unescaped) */
	HX_EV_PUB,   /* pub DEV LEN HEX: DMA memory changed since the last register write (QEMU traces) */
	HX_EV_NOPUB, /* nopub DEV LEN: an allocation pub lines leave out (the scenario's work area) */
	HX_EV_COUNT
};

/* "none" in an address field: the call failed. */
#define HX_TRACE_NONE UINT64_MAX

struct hx_ev {
	uint8_t op;          /* enum hx_ev_op */
	uint8_t width;       /* 1, 2, 4 for register and shm reads */
	unsigned line;       /* in the trace file */
	uint64_t time;       /* virtual ns */
	uint64_t a, b, c;    /* by op: address, value / size, align, device address */
	uint8_t *data;       /* payload of shm, dr, dw, pub, unmap */
	size_t len;
};

struct hx_trace_hdr {
	char *key, *value;
	unsigned line;
};

struct hx_trace {
	char *name;
	struct hx_trace_hdr *hdr;
	size_t nhdr;
	struct hx_ev *ev;
	size_t nev, capev;
	unsigned end_line;
	/* The recording platform's VLAB_PLAT_* flags: the first driver
	 * line's dma= word (all: VLAB_PLAT_DMA_ALL_MEMORY; mapped or none: 0). */
	uint32_t plat_flags;
};

/* The op's name as the trace spells it (width-less: "r", "w", "pr", ...). */
const char *hx_ev_name(enum hx_ev_op op);
/* One event as its trace line, without the time or newline. */
void hx_ev_format(const struct hx_ev *e, char *buf, size_t n);

#endif
