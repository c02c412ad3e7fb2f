/* SPDX-License-Identifier: MIT */
/*
 * vlab-bench: the host datapath against memcpy (issue 15, docs/performance.md).
 *
 * blk: sequential READ and WRITE of a RAM disk at 4 KiB, 64 KiB and 1 MiB
 * per request, over every transport and ring kind; net: 64- and 1514-byte
 * frames sent and received on a loopback NIC.  Every figure is a ratio
 * against a baseline measured in the same round of the same run: memcpy of
 * the same bytes in the same pieces (blk: disk to buffer for a read, buffer
 * to disk for a write; net: the frame into a buffer).  Rounds alternate
 * baseline and datapath; the ratio's minimum and median over the rounds
 * are printed, with the machine's load average before and after.
 *
 * Ring kinds (--only rings, issue 14): over virtio-pci, per ring kind and
 * option (split and packed, each plain, with indirect descriptors, with
 * EVENT_IDX), blk reads of 64 KiB in batches of 8 asynchronous requests and
 * net loopback of 1514-byte frames in batches of 16: available buffer
 * notifications (kicks) and used buffer notifications (interrupts) per
 * request, as the model counted them (struct dm_vq), ring slots per request
 * (the driver's counters, struct vlab_vq), and the throughput (per CPU
 * second of the process: the driver and the model run in it) as a ratio
 * against the plain split ring measured in the same run.
 *
 * Timing is wall-clock (CLOCK_MONOTONIC) and asserts nothing: the program
 * fails only when the datapath itself does (an I/O error, a wrong byte, a
 * violation the model recorded).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/bind.h"
#include "harness/machine.h"
#include "devmodel/spec.h"
#include "harness/net.h"
#include "vlab/blk.h"
#include "vlab/err.h"
#include "vlab/net.h"

/* Ring kinds the driver offers; the packed ring joins here. */
static const char *const ring_kinds[] = {"split"};
#define NRING (sizeof ring_kinds / sizeof ring_kinds[0])

/* Ring kinds and options for --only rings: the features the model offers
 * on top of its default, and those it withdraws. */
#define RING_ALL (RING_BIT(DM_VIRTIO_F_RING_PACKED) | RING_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC) | \
                  RING_BIT(DM_VIRTIO_F_RING_EVENT_IDX))
#define RING_BIT(b) (1ull << (b))
static const struct ring_cfg {
	const char *name;
	uint64_t on;
} ring_cfgs[] = {
	{"split", 0},
	{"split + indirect", RING_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC)},
	{"split + EVENT_IDX", RING_BIT(DM_VIRTIO_F_RING_EVENT_IDX)},
	{"packed", RING_BIT(DM_VIRTIO_F_RING_PACKED)},
	{"packed + indirect", RING_BIT(DM_VIRTIO_F_RING_PACKED) | RING_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC)},
	{"packed + EVENT_IDX", RING_BIT(DM_VIRTIO_F_RING_PACKED) | RING_BIT(DM_VIRTIO_F_RING_EVENT_IDX)},
};
#define NRINGCFG (sizeof ring_cfgs / sizeof ring_cfgs[0])

struct opts {
	unsigned rounds;
	uint64_t blk_bytes;   /* bytes moved per blk round */
	uint64_t net_frames;  /* frames per net round */
	uint64_t disk_bytes;
	const char *only;     /* "blk", "net", "rings" or NULL (blk and net) */
	int transport;        /* -1: every transport */
	uint64_t size;        /* 0: every request/frame size */
	int op;               /* -1: read and write; 0 read; 1 write */
	bool no_zeroing;      /* driver option: do not zero device-writable buffers */
	bool md;              /* markdown tables */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: the ring figures' clock, steadier than wall
 * time on a loaded machine (the driver and the model run in-process). */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *loadavg(char *buf, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "r");
	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f)) {
			/* the three averages only */
			char *p = buf;
			for (int sp = 0; *p; p++)
				if (*p == ' ' && ++sp == 3)
					break;
			*p = '\0';
		}
		fclose(f);
	}
	if (!buf[0])
		snprintf(buf, size, "?");
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double ratio_min, ratio_med; /* datapath speed / memcpy speed */
	double rate_med;             /* MiB/s or frames/s, median */
	double base_med;             /* the same of memcpy */
};

static void summarise(double *ratio, double *rate, double *base, unsigned n, struct result *r)
{
	qsort(ratio, n, sizeof *ratio, cmp_double);
	qsort(rate, n, sizeof *rate, cmp_double);
	qsort(base, n, sizeof *base, cmp_double);
	r->ratio_min = ratio[0];
	r->ratio_med = ratio[n / 2];
	r->rate_med = rate[n / 2];
	r->base_med = base[n / 2];
}

/* Keeps the baseline's copies from being optimised away. */
static volatile uint8_t sink;

static int fail(const char *what, int rc)
{
	fprintf(stderr, "vlab-bench: %s: %s\n", what, rc ? vlab_errname(rc) : "failed");
	return 1;
}

static int violations(struct hx_machine *m, const char *what)
{
	struct dm_report *r = hx_report(m);
	if (r->count) {
		static char text[4096];
		dm_report_format(r, text, sizeof text);
		fprintf(stderr, "vlab-bench: %s: the model recorded %u violations:\n%s", what, r->count, text);
		return 1;
	}
	return 0;
}

/* A machine with one device of the options given, bound (*bound: the
 * driver's device lives there) and initialised (blk: *blk, net: *net);
 * NULL after saying why. */
static struct hx_machine *dev_up(const struct opts *o, const struct hx_blk_opts *bo, const struct hx_net_opts *no,
                                 struct hx_bound *bound, struct hx_dev **dev, struct vlab_blk *blk,
                                 struct vlab_net *net)
{
	struct hx_machine_cfg mc;
	struct hx_machine *m;
	const char *err = NULL;
	int rc;

	hx_machine_cfg_default(&mc);
	mc.ram_size = 8ull << 20;
	m = hx_machine_new(&mc);
	if (!m) {
		fail("machine", 0);
		return NULL;
	}
	*dev = bo ? hx_add_blk(m, bo, &err) : hx_add_net(m, no, &err);
	if (!*dev) {
		fprintf(stderr, "vlab-bench: %s: %s\n", bo ? "blk" : "net", err ? err : "?");
		hx_machine_free(m);
		return NULL;
	}
	rc = hx_bind(m, *dev, bound, VLAB_MMIO_ALLOW_LEGACY);
	if (!rc && bo) {
		struct vlab_blk_cfg cfg = {.no_zeroing = o->no_zeroing};
		rc = vlab_blk_init_cfg(blk, bound->vdev, &cfg);
	} else if (!rc) {
		struct vlab_net_cfg cfg;
		memset(&cfg, 0, sizeof cfg);
		cfg.no_rx_zeroing = o->no_zeroing;
		rc = vlab_net_init(net, bound->vdev, &cfg);
	}
	if (rc) {
		hx_machine_free(m);
		fail(bo ? "blk init" : "net init", rc);
		return NULL;
	}
	return m;
}

/* ---- blk ---- */

static int bench_blk(const struct opts *o, enum hx_transport t, const char *ring, bool write, uint32_t req,
                     struct result *res)
{
	struct hx_blk_opts bo;
	struct hx_bound bound;
	struct vlab_blk blk;
	struct hx_machine *m;
	struct hx_dev *dev;
	uint64_t dev_addr;
	uint8_t *buf, *disk;
	double ratio[64], rate[64], base[64];
	uint64_t nreq = o->blk_bytes / req ? o->blk_bytes / req : 1;
	uint64_t disk_reqs = o->disk_bytes / req;
	int rc;

	(void)ring; /* one ring kind today */
	hx_blk_opts_default(&bo);
	bo.transport = t;
	bo.ram_bytes = o->disk_bytes;
	m = dev_up(o, &bo, NULL, &bound, &dev, &blk, NULL);
	if (!m)
		return 1;
	buf = hx_dma_alloc(m, req, 4096, &dev_addr);
	disk = dm_store_ram_bytes(dev->blk->store);
	if (!buf || !disk) {
		vlab_blk_shutdown(&blk);
		hx_machine_free(m);
		return fail("buffers", 0);
	}
	/* Every 8 bytes different, so a misplaced request shows. */
	for (uint64_t i = 0; i < o->disk_bytes / 8; i++) {
		uint64_t w = i * 0x9e3779b97f4a7c15ull;
		memcpy(disk + i * 8, &w, 8);
	}

	for (unsigned round = 0; round < o->rounds; round++) {
		double t0 = now_s(), tb, tio;
		for (uint64_t i = 0; i < nreq; i++) {
			uint8_t *d = disk + (i % disk_reqs) * req;
			if (write)
				memcpy(d, buf, req);
			else
				memcpy(buf, d, req);
			sink = buf[i % req];
		}
		tb = now_s() - t0;
		t0 = now_s();
		for (uint64_t i = 0; i < nreq; i++) {
			uint64_t sector = (i % disk_reqs) * (req / 512);
			rc = write ? vlab_blk_write(&blk, sector, buf, req / 512)
			           : vlab_blk_read(&blk, sector, buf, req / 512);
			if (rc)
				break;
		}
		tio = now_s() - t0;
		if (rc)
			break;
		if (tb <= 0)
			tb = 1e-9;
		if (tio <= 0)
			tio = 1e-9;
		ratio[round] = tb / tio;
		rate[round] = (double)(nreq * req) / tio / (1 << 20);
		base[round] = (double)(nreq * req) / tb / (1 << 20);
	}
	/* The last request's bytes must be the disk's. */
	if (!rc && !write && memcmp(buf, disk + ((nreq - 1) % disk_reqs) * req, req) != 0)
		rc = VLAB_EIO;
	if (!rc && violations(m, "blk"))
		rc = VLAB_EPROTO;
	vlab_blk_shutdown(&blk);
	hx_dma_free(m, buf, req);
	hx_machine_free(m);
	if (rc)
		return fail(write ? "blk write" : "blk read", rc);
	summarise(ratio, rate, base, o->rounds, res);
	return 0;
}

/* ---- net ---- */

/* A frame of len bytes to ourselves: our MAC, a local EtherType, a
 * pattern.  Returns the frames in flight at once: what both queues hold
 * (at most 16). */
static unsigned loop_frame(const struct vlab_net *net, uint8_t *frame, uint32_t len)
{
	unsigned batch = net->ntx < net->nrx ? net->ntx : net->nrx;
	for (uint32_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 13 + 1);
	memcpy(frame, net->mac, 6);
	memcpy(frame + 6, net->mac, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	return batch > 16 ? 16 : batch;
}

static int bench_net(const struct opts *o, enum hx_transport t, const char *ring, uint32_t len,
                     struct result *res)
{
	struct hx_net_opts no;
	struct hx_bound bound;
	struct vlab_net net;
	struct hx_machine *m;
	struct hx_dev *dev;
	uint8_t frame[1514], in[1514], copy[1514];
	double ratio[64], rate[64], base[64];
	unsigned batch;
	int rc;

	(void)ring;
	hx_net_opts_default(&no);
	no.transport = t;
	no.backend = HX_NET_LOOP;
	m = dev_up(o, NULL, &no, &bound, &dev, NULL, &net);
	if (!m)
		return 1;
	rc = 0;
	batch = loop_frame(&net, frame, len);

	for (unsigned round = 0; round < o->rounds && !rc; round++) {
		double t0 = now_s(), tb, tio;
		for (uint64_t i = 0; i < o->net_frames; i++) {
			frame[14] = (uint8_t)i;
			memcpy(copy, frame, len);
			sink = copy[i % len];
		}
		tb = now_s() - t0;
		t0 = now_s();
		for (uint64_t i = 0; i < o->net_frames && !rc;) {
			unsigned sent = 0;
			for (; sent < batch && i + sent < o->net_frames; sent++) {
				frame[14] = (uint8_t)(i + sent);
				rc = vlab_net_send(&net, frame, len);
				if (rc)
					break;
			}
			for (unsigned k = 0; k < sent && !rc; k++) {
				uint32_t got = 0;
				rc = vlab_net_recv(&net, in, sizeof in, &got);
				if (!rc && (got != len || in[14] != (uint8_t)(i + k)))
					rc = VLAB_EIO;
			}
			i += sent;
		}
		tio = now_s() - t0;
		if (tb <= 0)
			tb = 1e-9;
		if (tio <= 0)
			tio = 1e-9;
		ratio[round] = tb / tio;
		rate[round] = (double)o->net_frames / tio;
		base[round] = (double)o->net_frames / tb;
	}
	if (!rc && violations(m, "net"))
		rc = VLAB_EPROTO;
	vlab_net_shutdown(&net);
	hx_machine_free(m);
	if (rc)
		return fail("net loopback", rc);
	summarise(ratio, rate, base, o->rounds, res);
	return 0;
}

/* ---- ring kinds ---- */

struct ring_result {
	double kicks, irqs, slots; /* per request or frame */
	double rate;               /* requests or frames per second, median over rounds */
};

/* Kicks and interrupts the model counted on queue q since it was reset. */
static void model_counts(const struct hx_dev *dev, unsigned q, uint64_t *kicks, uint64_t *irqs)
{
	*kicks = dev->dv->vq[q].kicks;
	*irqs = dev->dv->vq[q].interrupts;
}

static double median_rate(double *rate, unsigned n)
{
	qsort(rate, n, sizeof *rate, cmp_double);
	return rate[n / 2];
}

#define RING_BATCH 8
#define RING_REQ (64u * 1024u)

/* blk: batches of RING_BATCH asynchronous 64 KiB reads, polled to the end. */
static int ring_blk(const struct opts *o, const struct ring_cfg *rc_, struct ring_result *res)
{
	static struct vlab_blk_req req[RING_BATCH];
	struct hx_blk_opts bo;
	struct hx_bound bound;
	struct vlab_blk blk;
	struct hx_machine *m;
	struct hx_dev *dev;
	uint64_t dev_addr, k0, i0, k1, i1, chains0, slots0, done_reqs = 0;
	uint8_t *buf;
	double rate[64];
	uint64_t nbatch = o->blk_bytes / (RING_BATCH * RING_REQ) ? o->blk_bytes / (RING_BATCH * RING_REQ) : 1;
	uint64_t disk_reqs = o->disk_bytes / RING_REQ;
	int rc;

	hx_blk_opts_default(&bo);
	bo.transport = HX_PCI;
	bo.ram_bytes = o->disk_bytes;
	bo.features_on = rc_->on;
	bo.features_off = RING_ALL & ~rc_->on;
	m = dev_up(o, &bo, NULL, &bound, &dev, &blk, NULL);
	if (!m)
		return 1;
	rc = 0;
	buf = hx_dma_alloc(m, RING_BATCH * RING_REQ, 4096, &dev_addr);
	if (!buf) {
		vlab_blk_shutdown(&blk);
		hx_machine_free(m);
		return fail("buffers", 0);
	}
	model_counts(dev, 0, &k0, &i0);
	chains0 = blk.vq.chains;
	slots0 = blk.vq.slots;
	for (unsigned round = 0; round < o->rounds && !rc; round++) {
		double t0 = cpu_s(), t;
		for (uint64_t b = 0; b < nbatch && !rc; b++) {
			for (unsigned k = 0; k < RING_BATCH && !rc; k++) {
				memset(&req[k], 0, sizeof req[k]);
				req[k].op = VLAB_BLK_READ;
				req[k].sector = ((b * RING_BATCH + k) % disk_reqs) * (RING_REQ / 512);
				req[k].buf = buf + k * RING_REQ;
				req[k].len = RING_REQ;
				rc = vlab_blk_submit(&blk, &req[k]);
			}
			for (unsigned got = 0; got < RING_BATCH && !rc;) {
				struct vlab_blk_req *d = NULL;
				rc = vlab_blk_poll(&blk, &d);
				if (!rc && d) {
					rc = d->result;
					got++;
					done_reqs++;
				}
			}
		}
		t = cpu_s() - t0;
		rate[round] = (double)(nbatch * RING_BATCH) / (t > 0 ? t : 1e-9);
	}
	model_counts(dev, 0, &k1, &i1);
	if (!rc && violations(m, "blk"))
		rc = VLAB_EPROTO;
	if (!rc && done_reqs) {
		res->kicks = (double)(k1 - k0) / (double)done_reqs;
		res->irqs = (double)(i1 - i0) / (double)done_reqs;
		res->slots = (double)(blk.vq.slots - slots0) / (double)(blk.vq.chains - chains0);
		res->rate = median_rate(rate, o->rounds);
	}
	vlab_blk_shutdown(&blk);
	hx_dma_free(m, buf, RING_BATCH * RING_REQ);
	hx_machine_free(m);
	return rc ? fail("blk ring", rc) : 0;
}

/* net: 1514-byte frames to ourselves, 16 sent then 16 received; the kicks
 * of both queues and the interrupts of both, per frame. */
static int ring_net(const struct opts *o, const struct ring_cfg *rc_, struct ring_result *res)
{
	struct hx_net_opts no;
	struct hx_bound bound;
	struct vlab_net net;
	struct hx_machine *m;
	struct hx_dev *dev;
	uint8_t frame[1514], in[1514];
	uint64_t k[2][2], irq[2][2], frames = 0, chains0, slots0;
	double rate[64];
	unsigned batch;
	int rc;

	hx_net_opts_default(&no);
	no.transport = HX_PCI;
	no.backend = HX_NET_LOOP;
	no.features_on = rc_->on;
	no.features_off = RING_ALL & ~rc_->on;
	m = dev_up(o, NULL, &no, &bound, &dev, NULL, &net);
	if (!m)
		return 1;
	rc = 0;
	batch = loop_frame(&net, frame, sizeof frame);
	model_counts(dev, 0, &k[0][0], &irq[0][0]);
	model_counts(dev, 1, &k[0][1], &irq[0][1]);
	chains0 = net.txq.chains;
	slots0 = net.txq.slots;
	for (unsigned round = 0; round < o->rounds && !rc; round++) {
		double t0 = cpu_s(), t;
		for (uint64_t i = 0; i < o->net_frames && !rc;) {
			unsigned sent = 0;
			for (; sent < batch && i + sent < o->net_frames && !rc; sent++)
				rc = vlab_net_send(&net, frame, sizeof frame);
			for (unsigned j = 0; j < sent && !rc; j++) {
				uint32_t got = 0;
				rc = vlab_net_recv(&net, in, sizeof in, &got);
				if (!rc && got != sizeof frame)
					rc = VLAB_EIO;
			}
			i += sent;
			frames += sent;
		}
		t = cpu_s() - t0;
		rate[round] = (double)o->net_frames / (t > 0 ? t : 1e-9);
	}
	model_counts(dev, 0, &k[1][0], &irq[1][0]);
	model_counts(dev, 1, &k[1][1], &irq[1][1]);
	if (!rc && violations(m, "net"))
		rc = VLAB_EPROTO;
	if (!rc && frames) {
		res->kicks = (double)(k[1][0] - k[0][0] + k[1][1] - k[0][1]) / (double)frames;
		res->irqs = (double)(irq[1][0] - irq[0][0] + irq[1][1] - irq[0][1]) / (double)frames;
		res->slots = (double)(net.txq.slots - slots0) / (double)(net.txq.chains - chains0);
		res->rate = median_rate(rate, o->rounds);
	}
	vlab_net_shutdown(&net);
	hx_machine_free(m);
	return rc ? fail("net ring", rc) : 0;
}

static int bench_rings(const struct opts *o)
{
	int failed = 0;
	printf(o->md ? "| workload | ring | kicks / request | interrupts / request | ring slots / request | "
	               "per CPU second, median | ratio to split |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
	             : "%-24s %-20s %8s %8s %8s %12s %8s\n",
	       "workload", "ring", "kicks", "irqs", "slots", "per-s-med", "ratio");
	for (int w = 0; w < 2; w++) {
		double base = 0;
		for (unsigned c = 0; c < NRINGCFG; c++) {
			struct ring_result r = {0, 0, 0, 0};
			if (w == 0 ? ring_blk(o, &ring_cfgs[c], &r) : ring_net(o, &ring_cfgs[c], &r)) {
				failed = 1;
				continue;
			}
			if (c == 0)
				base = r.rate;
			printf(o->md ? "| %s | %s | %.3f | %.3f | %.3f | %.0f | %.3f |\n"
			             : "%-24s %-20s %8.3f %8.3f %8.3f %12.0f %8.3f\n",
			       w == 0 ? "blk read 64 KiB x 8" : "net loop 1514 B x 16", ring_cfgs[c].name, r.kicks,
			       r.irqs, r.slots, r.rate, base > 0 ? r.rate / base : 0);
			fflush(stdout);
		}
	}
	printf("\n");
	return failed;
}

/* ---- main ---- */

static bool selected(const struct opts *o, int transport, uint64_t size)
{
	return (o->transport < 0 || o->transport == transport) && (!o->size || o->size == size);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vlab-bench [--rounds N] [--mib N] [--frames N] [--disk-mib N] [--only blk|net|rings]\n"
	        "                  [--transport T] [--size BYTES] [--op read|write] [--no-zeroing] [--md]\n"
	        "  --rounds N    rounds per figure (default 9, at most 64)\n"
	        "  --mib N       MiB moved per blk round (default 64)\n"
	        "  --frames N    frames per net round (default 200000)\n"
	        "  --disk-mib N  RAM disk size (default 64)\n"
	        "  --only rings  per ring kind and option (virtio-pci): kicks, interrupts and ring slots per\n"
	        "                request, throughput against the plain split ring (blk and net are the default)\n"
	        "  --transport T, --size BYTES, --op read|write   only these figures (profiling)\n"
	        "  --no-zeroing  the driver does not zero device-writable buffers before posting them\n"
	        "                (vlab_blk_cfg.no_zeroing, vlab_net_cfg.no_rx_zeroing)\n"
	        "  --md          markdown tables (docs/performance.md)\n");
}

static bool num_arg(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s)
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const uint32_t blk_sizes[] = {4096, 65536, 1u << 20};
	static const uint32_t frame_sizes[] = {64, 1514};
	struct opts o = {9, 64ull << 20, 200000, 64ull << 20, NULL, -1, 0, -1, false, false};
	char load[64];
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		uint64_t v;
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--rounds") && num_arg(next, 1, 64, &v)) {
			o.rounds = (unsigned)v;
			i++;
		} else if (!strcmp(a, "--mib") && num_arg(next, 1, 1 << 20, &v)) {
			o.blk_bytes = v << 20;
			i++;
		} else if (!strcmp(a, "--frames") && num_arg(next, 1, 1ull << 32, &v)) {
			o.net_frames = v;
			i++;
		} else if (!strcmp(a, "--disk-mib") && num_arg(next, 1, 4096, &v)) {
			o.disk_bytes = v << 20;
			i++;
		} else if (!strcmp(a, "--only") && next &&
		           (!strcmp(next, "blk") || !strcmp(next, "net") || !strcmp(next, "rings"))) {
			o.only = next;
			i++;
		} else if (!strcmp(a, "--transport") && next && hx_transport_parse(next) >= 0) {
			o.transport = hx_transport_parse(next);
			i++;
		} else if (!strcmp(a, "--size") && num_arg(next, 1, 1u << 20, &v)) {
			o.size = v;
			i++;
		} else if (!strcmp(a, "--op") && next && (!strcmp(next, "read") || !strcmp(next, "write"))) {
			o.op = !strcmp(next, "write");
			i++;
		} else if (!strcmp(a, "--no-zeroing")) {
			o.no_zeroing = true;
		} else if (!strcmp(a, "--md")) {
			o.md = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vlab-bench: bad argument '%s'%s\n", a,
			        next && a[0] == '-' && a[1] == '-' ? " (or its value)" : "");
			usage(stderr);
			return 2;
		}
	}
	if (o.size && o.size != 64 && o.size != 1514 && o.size != 4096 && o.size != 65536 && o.size != 1u << 20) {
		fprintf(stderr, "vlab-bench: --size %llu is none of 4096, 65536, 1048576 (blk), 64, 1514 (net)\n",
		        (unsigned long long)o.size);
		return 2;
	}
	if (o.disk_bytes < (1u << 20)) {
		fprintf(stderr, "vlab-bench: --disk-mib must be at least 1\n");
		return 2;
	}

	printf("%sload average before: %s; %u rounds; ratio = datapath / memcpy of the same bytes%s\n\n",
	       o.md ? "" : "# ", loadavg(load, sizeof load), o.rounds,
	       o.no_zeroing ? "; device-writable buffers not zeroed" : "; device-writable buffers zeroed (the default)");
	if (!o.only || !strcmp(o.only, "blk")) {
		printf(o.md ? "| blk | transport | ring | request | ratio min | ratio median | MiB/s median | memcpy MiB/s |\n"
		              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
		            : "%-5s %-16s %-5s %8s %9s %9s %12s %12s\n",
		       "blk", "transport", "ring", "request", "ratio-min", "ratio-med", "MiB/s-med", "memcpy-MiB/s");
		for (int w = 0; w < 2; w++)
			for (unsigned s = 0; s < sizeof blk_sizes / sizeof blk_sizes[0]; s++)
				for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
					for (unsigned k = 0; k < NRING; k++) {
						struct result r;
						char size[16];
						if (!selected(&o, t, blk_sizes[s]) || (o.op >= 0 && o.op != w))
							continue;
						if (bench_blk(&o, (enum hx_transport)t, ring_kinds[k], w, blk_sizes[s], &r)) {
							failed = 1;
							continue;
						}
						snprintf(size, sizeof size, "%u KiB", blk_sizes[s] / 1024);
						printf(o.md ? "| %s | %s | %s | %s | %.3f | %.3f | %.0f | %.0f |\n"
						            : "%-5s %-16s %-5s %8s %9.3f %9.3f %12.0f %12.0f\n",
						       w ? "write" : "read", hx_transport_name((enum hx_transport)t),
						       ring_kinds[k], size, r.ratio_min, r.ratio_med, r.rate_med, r.base_med);
						fflush(stdout);
					}
		printf("\n");
	}
	if (o.only && !strcmp(o.only, "rings"))
		failed |= bench_rings(&o);
	if (!o.only || !strcmp(o.only, "net")) {
		printf(o.md ? "| net | transport | ring | frame | ratio min | ratio median | frames/s median | memcpy frames/s |\n"
		              "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
		            : "%-5s %-16s %-5s %8s %9s %9s %12s %12s\n",
		       "net", "transport", "ring", "frame", "ratio-min", "ratio-med", "frames/s-med", "memcpy-fr/s");
		for (unsigned s = 0; s < sizeof frame_sizes / sizeof frame_sizes[0]; s++)
			for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
				for (unsigned k = 0; k < NRING; k++) {
					struct result r;
					char size[16];
					if (!selected(&o, t, frame_sizes[s]))
						continue;
					if (bench_net(&o, (enum hx_transport)t, ring_kinds[k], frame_sizes[s], &r)) {
						failed = 1;
						continue;
					}
					snprintf(size, sizeof size, "%u B", frame_sizes[s]);
					printf(o.md ? "| loop | %s | %s | %s | %.4f | %.4f | %.0f | %.0f |\n"
					            : "loop  %-16s %-5s %8s %9.4f %9.4f %12.0f %12.0f\n",
					       hx_transport_name((enum hx_transport)t), ring_kinds[k], size, r.ratio_min,
					       r.ratio_med, r.rate_med, r.base_med);
					fflush(stdout);
				}
		printf("\n");
	}
	printf("%sload average after: %s\n", o.md ? "" : "# ", loadavg(load, sizeof load));
	return failed;
}
