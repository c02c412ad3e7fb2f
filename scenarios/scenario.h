/* SPDX-License-Identifier: MIT */
/*
 * Scenarios shared by the host runner (against the device model) and the
 * bare-metal images (against QEMU's devices).  Freestanding C11: only the
 * driver API and the small output interface below.
 *
 * A scenario writes a transcript: plain lines, the same for the same device
 * setup wherever it runs (no addresses, no times), so two transcripts can be
 * compared line for line.  Lines that may differ (driver log lines) go to
 * the platform log, never into the transcript.
 */
#ifndef VLAB_SCENARIO_H
#define VLAB_SCENARIO_H

#include "vlab/virtio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where transcript lines go.  line() gets one line without its newline. */
struct sc_out {
	void (*line)(void *ctx, const char *text);
	void *ctx;
	unsigned failures; /* sc_fail calls so far */
};

#define SC_LINE_MAX 200

/* One transcript line as it is. */
void sc_line(struct sc_out *o, const char *text);
/* A failure line ("FAIL: " + text); counts a failure. */
void sc_fail_line(struct sc_out *o, const char *text);

/* printf-like forms (vlab_snprintf formats; longer lines are cut). */
#define sc_printf(o, ...)                                      \
	do {                                                   \
		char sc_buf_[SC_LINE_MAX];                     \
		vlab_snprintf(sc_buf_, sizeof sc_buf_, __VA_ARGS__); \
		sc_line((o), sc_buf_);                         \
	} while (0)
#define sc_fail(o, ...)                                        \
	do {                                                   \
		char sc_buf_[SC_LINE_MAX];                     \
		vlab_snprintf(sc_buf_, sizeof sc_buf_, __VA_ARGS__); \
		sc_fail_line((o), sc_buf_);                    \
	} while (0)

struct vlab_pci;
struct sc_dev;

/* A feature bit's name; tables end with a NULL name. */
struct sc_feat_name {
	uint8_t bit;
	const char *name;
};
/* The name of bit in table t, or NULL. */
const char *sc_feat_lookup(const struct sc_feat_name *t, unsigned bit);
/* A device type's feature names (vlab_net_feature_name, blk's table). */
typedef const char *(*sc_feat_name_fn)(unsigned bit);
/* "features <what>: 0x..." and one line per set bit, named by the
 * device's names, else the transport bits' (6). */
void sc_print_features(struct sc_out *o, const char *what, uint64_t bits, sc_feat_name_fn device);
/* The interface (legacy or modern) and the offered and negotiated features. */
void sc_print_negotiation(struct sc_out *o, const struct vlab_virtio_dev *d, sc_feat_name_fn device);
/* A scenario's first lines (its name, the device) and its work area from
 * DMA memory, so that data buffers are reachable by the device; NULL
 * (with a failure line) when there is no room.  work_bytes is a fixed
 * size (SC_*_WORK_BYTES, checked against the struct at compile time), not
 * sizeof: the struct holds pointers, so its size differs between 32- and
 * 64-bit targets, and a trace recorded on one (its alloc and free events
 * carry the size) must replay on the other. */
void *sc_begin(struct sc_out *o, const struct sc_dev *sd, const char *name, size_t work_bytes, size_t align);
/* Re-initialise and print each queue's maximum (0: no such queue), then
 * reset. */
void sc_queue_maxima(struct sc_out *o, struct vlab_virtio_dev *d, uint16_t nqueues);

struct vlab_vq;
/* Two lines on a queue's ring: its kind, EVENT_IDX on or off, indirect
 * tables or not; the chains added, the ring slots they took and how many
 * went through an indirect table (the driver's counters). */
void sc_print_ring(struct sc_out *o, const char *name, const struct vlab_vq *vq);

struct vlab_bus_dev;

/* A device on the bus (vlab/bus.h): listed with its driver, not bound
 * yet; the scenario binds it (vlab_bus_probe), drives it through the
 * driver's state (bd->priv) and removes it (vlab_bus_remove). */
struct sc_dev {
	struct vlab_bus_dev *bd;
	struct vlab_virtio_dev *vdev; /* bd->vdev */
	/* The PCI function it is, for the PCI transports (NULL otherwise). */
	const struct vlab_pci *pci;
	/* The transport as the matrix names it ("mmio-v1", "mmio-v2", ...):
	 * stable, no address. */
	const char *transport;
};

/*
 * The virtio-blk scenario: initialise, print features and config, scan the
 * partition table, check the pristine pattern, write a pattern into the
 * "vlab-scratch" GPT partition (only there: a disk without it is not
 * written), read it back with checksums, flush, GET_ID.  Returns the number
 * of failures (0: pass).  The disk layout it expects is scenarios/pattern.h's.
 */
unsigned sc_blk_run(struct sc_out *o, const struct sc_dev *d);

/*
 * The virtio-net scenario: initialise, print features, config and the
 * driver's view, then exchange the frames of net_peer.h with the peer
 * (one at a time: send frame k, wait for its answer, check it), and the
 * driver's counters.  Returns the number of failures.
 */
unsigned sc_net_run(struct sc_out *o, const struct sc_dev *d);

/*
 * The virtio-rng scenario: initialise, read random bytes in a few sizes
 * (1 to 512), print how many came (never which: QEMU's are random).
 * Returns the number of failures.
 */
unsigned sc_rng_run(struct sc_out *o, const struct sc_dev *d);

/* Transcript lines for what a PCI probe found: identity, BARs (kind and
 * size), the virtio structures, MSI-X. */
void sc_pci_describe(struct sc_out *o, const struct vlab_pci *p);

/* A device on the bus: sc_pci_describe for a PCI one, then the scenario
 * of its driver (scenarios/run.c's table, by registry entry: a device
 * without a driver or a scenario gets a line and counts no failure).
 * Returns the number of failures. */
unsigned sc_run(struct sc_out *o, const struct sc_dev *d);

#ifdef __cplusplus
}
#endif
#endif
