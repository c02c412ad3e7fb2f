/* SPDX-License-Identifier: MIT */
/*
 * The platform contract answered from fuzz input, for the libFuzzer targets.
 *
 * Input is read from both ends (structure-aware): control decisions (which
 * operation, whether the device lies this time) from the front, the values
 * of the lies (register contents, ring entries, status bytes) from the back,
 * so that a mutation in one stream leaves the other meaningful.  An empty
 * input is an honest device: the small virtio-mmio blk device below answers
 * every register and processes the ring, and every lie is a control byte
 * away.  In racy mode every read of device-writable memory returns a fresh
 * value from the input, as a device changing memory between two reads would.
 *
 * DMA memory is a host arena of FZ_ARENA bytes at device address FZ_DMA_BASE;
 * buffers outside it are refused by dma_map, as the host harness does.
 */
#ifndef VLAB_FUZZ_PLATFORM_H
#define VLAB_FUZZ_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A driver bug seen by the device side: libFuzzer reports the abort. */
#define FZ_ABORT(...)                                                   \
	do {                                                                \
		fprintf(stderr, "fuzz: driver bug: " __VA_ARGS__);             \
		fputc('\n', stderr);                                            \
		abort();                                                        \
	} while (0)

/* A harness loop whose comparisons and edges give libFuzzer no signal
 * (checksums, scans): no coverage callbacks (clang; gcc builds are the
 * uninstrumented replayers). */
#if defined(__clang__)
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FZ_NO_COVERAGE
#endif
#define FZ_ARENA (512u * 1024u)
#define FZ_GRANULE 16u
#define FZ_NET_FRAME 2048u
#define FZ_DMA_BASE 0x40000000ull
#define FZ_MMIO_BASE 0x10001000ull
#define FZ_DISK_SECTORS 64u
/* Bound for every wait of the driver in the targets (vdev.timeout_ns): a
 * device that never answers costs ~50 polls, not a million. */
#define FZ_TIMEOUT_NS 50000u
/* The ring features the fuzz device (fuzz_device.c) serves: the split and
 * the packed ring, indirect descriptors and EVENT_IDX in both.  It offers
 * them when the input asks (fz_ring_offer): the targets' control stream
 * may begin with FZ_RING_MAGIC and a byte of FZ_RING_* bits (an input
 * without it is what it was before the fuzz device served them: none
 * offered). */
#define FZ_RING_MAGIC 0x7au
#define FZ_RING_PACKED 1u
#define FZ_RING_INDIRECT 2u
#define FZ_RING_EVENT_IDX 4u
/* The ring-feature byte's bits as feature bits. */
uint64_t fz_ring_features(uint8_t bits);
#define FZ_CONFIG_BYTES 64u
/* The honest blk device's max_discard_sectors and max_write_zeroes_sectors. */
#define FZ_DWZ_MAX_SECTORS 5u
/* Where the PCI front end lives (fuzz_pci.c). */
#define FZ_ECAM_BASE 0x30000000ull
#define FZ_PCI_MEM_BASE 0x20000000ull
#define FZ_PCI_MEM_SIZE 0x100000ull
#define FZ_PCI_IO_BASE 0x1000u
#define FZ_PIO_MMIO_BASE 0x3f000000ull
#define FZ_PCI_DEV 3u
/* Queues the device has (virtio-net: receive, transmit, control). */
#define FZ_NQ 3
/* Queues a device can have at most: virtio-net with MQ, FZ_NET_PAIRS
 * pairs and the control queue (fz_net_mq). */
#define FZ_NET_PAIRS 4
#define FZ_QMAX (2 * FZ_NET_PAIRS + 1)

/* What the device makes of the chains the driver gives it. */
enum fz_engine {
	FZ_ENGINE_RING, /* nothing: used.len is every writable byte (fuzz_ring) */
	FZ_ENGINE_BLK,  /* blk requests against FZ_DISK_SECTORS of disk */
	FZ_ENGINE_NET,  /* net: rx buffers wait for fz_net_rx, tx/ctrl complete */
	FZ_ENGINE_RNG,  /* rng: random bytes, as many as the control stream says */
};

/* One queue, as the device sees it (any transport). */
struct fz_queue {
	uint32_t max;         /* QueueNumMax / queue_size offered */
	uint32_t num;         /* size the driver chose */
	bool ready;           /* QueueReady / queue_enable / a PFN set */
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx;
	uint16_t msix, notify_off;
	uint32_t pfn;
	bool lied;            /* told the driver of a chain it did not complete */
	/* Legacy PCI: the QueueNum the driver read last, a lie included (0:
	 * none since the reset); the size the device then lays the ring out
	 * with, as a device that said so would. */
	uint32_t told;
	/* Packed ring (the slots are last_avail and used_idx): the device's
	 * wrap counters (flipped: false is 1, the start), the ring slots it
	 * took and has not written a used descriptor for (the buffer IDs it
	 * holds are fuzz_device.c's). */
	bool aflip, uflip;
	uint32_t inflight;
};

/* The virtio-pci front end (fuzz_pci.c): one function at 00:FZ_PCI_DEV.0,
 * config space through ECAM or the 0xCF8 ports, a legacy I/O BAR 0 and a
 * 64-bit memory BAR 4 holding the modern structures. */
struct fz_pci {
	bool on;
	uint8_t cfg[256];
	uint32_t bar_mask[6];  /* what a BAR reads after all-ones is written */
	uint32_t cf8;          /* the 0xCF8 address latch */
	bool msix_refuse;      /* read back NO_VECTOR for every vector */
	uint16_t msix_config;
	uint32_t notify_mult;
};

#define FZ_HELD_MAX 256

struct hx_trace_rec;
struct vlab_pci_host;

struct fz {
	struct vlab_platform plat;
	struct vlab_platform_ops ops;
	/* The input: control from the front (head), payload from the back (tail). */
	const uint8_t *data;
	size_t size, head, tail;
	bool racy;            /* every shm read draws a fresh value */
	bool shm_lied;        /* some shm read was a lie (or racy) */
	bool lied;            /* the device lied at all (any register, memory, completion) */
	uint8_t lie_shift;    /* a control byte below (256 >> lie_shift) means "lie" */
	/* The input chose the ring features (fz_ring_offer): the device then
	 * also lies about its event suppression structures (a control byte
	 * at every notification). */
	bool ring_ctl;
	uint64_t ring_offer;  /* the ring feature bits it offers */

	uint8_t *arena;
	size_t arena_used;
	/* One byte per FZ_GRANULE bytes of arena: 1 while allocated (dma_alloc /
	 * fz_alloc), 0 once the driver freed it; freed memory the driver or
	 * the device (through a ring the driver left live) touches is a
	 * driver bug, as is a free of what was not allocated. */
	uint8_t *live;
	uint64_t now;
	uint64_t delays;      /* delay_ns calls (a hang shows as a huge count) */

	/* The honest device, transport-independent part. */
	uint32_t device_id;
	uint64_t features, driver_features;
	uint32_t dfsel, gfsel, status, qsel, isr;
	struct fz_queue q[FZ_QMAX];
	uint8_t config[FZ_CONFIG_BYTES];
	uint32_t generation;
	enum fz_engine engine;
	uint8_t *disk;        /* FZ_DISK_SECTORS sectors, zeroed by fz_init */
	bool disk_written;    /* the device wrote the disk (fz_init zeroes it again) */
	uint64_t completions;
	uint64_t maps, unmaps; /* dma_map / dma_unmap calls */
	/* Buffers of chains the device took and never completed (stalled),
	 * still in its hands until the next reset: a device may write them
	 * at any time, so the driver must not hand them back before. */
	struct { const uint8_t *p; uint32_t len; const struct fz_queue *q; uint16_t head; } held[FZ_HELD_MAX];
	unsigned nheld;
	bool held_overflow;   /* more than FZ_HELD_MAX: the oracle says nothing */
	/* net: the data of the last frame received / transmitted (the device's
	 * copy, for the targets to compare with what the driver says). */
	uint8_t net_rx[FZ_NET_FRAME], net_tx[FZ_NET_FRAME];
	/* net MQ (fz_net_mq): pairs served (0: no MQ), pairs enabled by
	 * VQ_PAIRS_SET, and the receive queue the next frame goes to (the
	 * target chooses it; one beyond the enabled pairs is a lie). */
	unsigned net_pairs, net_enabled, net_rxq;
	uint32_t net_rx_len, net_tx_len;
	/* rng: every byte the device wrote, in order (the first FZ_RNG_LOG). */
	uint8_t rng_log[4096];
	uint32_t rng_logged;
	/* virtio-mmio front end (at FZ_MMIO_BASE). */
	uint32_t version;
	uint32_t page_size, queue_align; /* legacy (Version 1) */
	struct fz_pci pci;
	/* FUZZ_TRACE: the recorder wrapping plat, and its file (a temporary
	 * one until fz_fini writes the trace with its header). */
	struct hx_trace_rec *trace;
	FILE *trace_file;
	char device_line[64], bind_line[400];
	/* The target's side (fz_choose8 ...): recorded while tracing, the
	 * trace's fuzz-side line; answered from it in replay (FUZZ_REPLAY). */
	bool replay;
	uint8_t *side;
	size_t nside, side_cap, side_pos;
	bool side_over;       /* replay: the target drew beyond the recording */
};

void fz_init(struct fz *f, const uint8_t *data, size_t size);
/* Ends a trace fz_trace_start began. */
void fz_fini(struct fz *f);
/*
 * With FUZZ_TRACE=FILE in the environment, record every call on f->plat
 * from here to fz_fini into FILE (docs/trace-format.md; header "producer
 * fuzz target=TARGET input=NAME", NAME the input file named on the command
 * line, the input's bytes and the target's choices): a finding becomes a
 * readable trace.  The device side reads and writes the arena directly,
 * so the trace has no dr / dw lines.  Call after fz_init and before the
 * platform is used.  In replay (FUZZ_REPLAY=TRACE, run by
 * LLVMFuzzerInitialize) it checks that the trace is TARGET's.
 */
void fz_trace_start(struct fz *f, const char *target);

/*
 * Fuzz traces (docs/trace-format.md, "Fuzz traces"): what the target
 * decides outside the platform contract (its operations, its own
 * transport's answers in fuzz_ring, whether a frame arrived, where its
 * buffers are) is drawn through these, never through fz_ctl8 & co. (the
 * device side's).  Outside a trace they are fz_ctl8, fz_ctl16, fz_pay,
 * fz_lie, fz_exhausted and fz_alloc; with FUZZ_TRACE the values are kept
 * for the trace's fuzz-side line; with FUZZ_REPLAY they come from it.
 */
uint8_t fz_choose8(struct fz *f);
uint16_t fz_choose16(struct fz *f);
uint64_t fz_choose_pay(struct fz *f, unsigned n);
bool fz_choose_lie(struct fz *f);
bool fz_choose_done(struct fz *f);
/* Any other value v of n bytes the target acts on (replay: the recorded
 * one, v ignored). */
uint64_t fz_choice(struct fz *f, unsigned n, uint64_t v);
/* A buffer of the target's (as fz_alloc; in replay, the replayer's memory
 * at the recorded device address). */
void *fz_buffer(struct fz *f, size_t n, size_t align, vlab_addr_t *dev);
/* The trace's device and bind lines, when the target knows them (before
 * fz_fini; default: a blk device on virtio-mmio at FZ_MMIO_BASE).  h: the
 * PCI host the function at 00:FZ_PCI_DEV.0 is probed through, or NULL for
 * virtio-mmio at FZ_MMIO_BASE; NULL and no mmio: type "none" (fuzz_ring). */
void fz_trace_device(struct fz *f, const char *type, const char *transport, const struct vlab_pci_host *h,
                     unsigned flags);

/* Control stream (front); 0 once exhausted. */
uint8_t fz_ctl8(struct fz *f);
uint16_t fz_ctl16(struct fz *f);
/* Payload stream (back), n bytes little-endian; 0 once exhausted. */
uint64_t fz_pay(struct fz *f, unsigned n);
/* Does the device lie this time?  One control byte. */
bool fz_lie(struct fz *f);
bool fz_exhausted(const struct fz *f);

/* Does a chain the device holds (taken, not completed, no reset since)
 * cover any byte of [p, p + len)?  A used entry that names a held chain's
 * head returns it, lie or not (the driver cannot tell).  False when it
 * cannot be known: too many held, or the driver read lies from shared
 * memory (then any completion may look real to it). */
bool fz_device_holds(const struct fz *f, const void *p, size_t len);

/* DMA memory from the arena (zeroed), NULL when full. */
void *fz_alloc(struct fz *f, size_t n, size_t align, vlab_addr_t *dev);

/* The honest device becomes a virtio-net device (MAC, STATUS, MTU,
 * MRG_RXBUF, CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR; link up; queues of qmax). */
void fz_net_device(struct fz *f, uint32_t qmax);
/* The honest device becomes a virtio-rng device (one queue of qmax); how
 * many bytes it writes into each buffer comes from the control stream:
 * all, 8 short, none, or any number up to the buffer. */
void fz_rng_device(struct fz *f, uint32_t qmax);

/* The first of the target's mode bytes (fz_choose8), after the optional
 * FZ_RING_MAGIC and ring-feature byte: these are added to f->features.
 * force: bits offered whatever the input says (fuzz_packed). */
uint8_t fz_ring_offer(struct fz *f, unsigned force);
/* A queue's device-side positions back to the start (enable, reset). */
void fz_queue_restart(struct fz *f, struct fz_queue *q);

/* Process what the driver made available on queue qi (the device's side):
 * complete every new chain, honestly unless the control stream says
 * otherwise (never complete, wrong id, wrong length, bad status, twice). */
void fz_device_work(struct fz *f, unsigned qi);
/* The driver notified queue qi: work, if the queue is live and DRIVER_OK. */
void fz_notify(struct fz *f, unsigned qi);
/* A legacy queue set up by page frame number: its layout. */
void fz_queue_pfn(struct fz *f, struct fz_queue *q, uint32_t pfn, uint32_t page, uint32_t align);
/* Device reset (status 0). */
void fz_dev_reset(struct fz *f);
/* The driver writes the device status: 0 resets. */
void fz_set_status(struct fz *f, uint32_t v);
/* The queue QueueSel / queue_select names, or NULL. */
struct fz_queue *fz_selected(struct fz *f);
/* One 32-bit half of a 64-bit register. */
void fz_set_half(uint64_t *r, bool high, uint32_t v);
/* net: MQ offered (with CTRL_VQ), max_virtqueue_pairs reading claimed
 * while pairs (1..FZ_NET_PAIRS) are served: 2 * pairs queues, the control
 * queue after them.  VQ_PAIRS_SET is carried out (any count the device
 * serves: net_pairs); until then one pair. */
void fz_net_mq(struct fz *f, unsigned pairs, uint16_t claimed);
/* net: a frame of len bytes arrives; the device fills receive buffers
 * (lying as the control stream says).  false when none were available. */
bool fz_net_rx(struct fz *f, uint32_t len);
/* net: the link goes up or down (config change interrupt). */
void fz_net_link(struct fz *f, bool up);
/* net: abort if the driver changed or freed a buffer the device still
 * holds (took and never completed) since the last reset. */
void fz_check_held(struct fz *f);

/* The device is a virtio-pci function of this kind (after its type is
 * set): modern (ID 0x1040 + type, capabilities), transitional (both
 * interfaces), legacy-only (transitional ID, I/O BAR, no capabilities).
 * preassigned: firmware left the BARs assigned. */
enum fz_pci_kind { FZ_PCI_MODERN, FZ_PCI_TRANSITIONAL, FZ_PCI_LEGACY };
void fz_pci_device(struct fz *f, enum fz_pci_kind kind, bool preassigned);
/* Change the device before the driver looks: where 0x000..0x0ff is a
 * config-space byte, 0x100..0x117 a byte of the BARs' sizing answers,
 * 0x118..0x119 queue 0's queue_notify_off. */
#define FZ_PCI_PATCH_SPACE 0x11au
void fz_pci_patch(struct fz *f, uint16_t where, uint8_t v);
struct vlab_pci_host;
/* The host the driver is given: ECAM or the ports; I/O BARs through port
 * I/O or a memory-mapped PIO window. */
void fz_pci_host(struct fz *f, struct vlab_pci_host *h, bool cfg_ports, bool pio_mmio);
/* Registers of the device: the platform's MMIO and port ops land here. */
bool fz_pci_mmio(struct fz *f, vlab_addr_t addr, unsigned width, bool write, uint32_t *val);
uint32_t fz_pci_port_read(struct fz *f, uint32_t port, unsigned width);
void fz_pci_port_write(struct fz *f, uint32_t port, unsigned width, uint32_t val);
struct vlab_blk;
/* Oracle: what vlab_blk_init accepted must be sane (queue size, block
 * size, capacity, only offered features); then one read, the transport
 * extras (fz_transport_extras), shutdown and a queue disable. */
int fz_blk_accepted(struct fz *f, struct vlab_blk *b); /* the read's result */

/* The transport's config-space entry points with offsets and widths from
 * the payload (valid or not): up to 7 reads and writes, direct and through
 * the core.  Taken from the payload so that honest seeds can ask for them
 * whatever the control stream holds. */
void fz_transport_extras(struct fz *f, struct vlab_virtio_dev *d);

/* Host pointer of device range [addr, addr+len) in the arena, or NULL. */
uint8_t *fz_dma_ptr(struct fz *f, uint64_t addr, uint64_t len);
/* Little-endian helpers, shared by the device front ends. */
uint32_t fz_ld(const uint8_t *p, unsigned width);
void fz_st(uint8_t *p, unsigned width, uint64_t v);

#ifdef __cplusplus
}
#endif
#endif
