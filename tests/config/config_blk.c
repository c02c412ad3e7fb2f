/* SPDX-License-Identifier: MIT */
/*
 * A configuration of the drivers (vlab/config.h) against the model: built
 * by tests/config/CMakeLists.txt once per configuration, with that
 * configuration's VLAB_CFG_* values for both the driver sources and this
 * program, so that no configuration can rot.  It binds virtio-mmio blk on
 * a model that offers every ring feature, DISCARD and WRITE_ZEROES, and
 * checks that exactly the compiled-in ones were negotiated, that data
 * written reads back, that compiled-out blk requests are refused, that a
 * legacy (Version 1) device is refused when legacy mmio is compiled out,
 * that the bus (when in) binds the disk through a registry of the
 * compiled-in drivers, and that the model recorded no violation.  With
 * virtio-net in, it binds a looped-back NIC offering the control queue,
 * multiqueue and checksum offload and checks that exactly what
 * VLAB_CFG_NET_EXTRA keeps was negotiated, that a frame comes back, and
 * that the control and checksum calls are refused when compiled out.
 * Exit 0 when all hold; a line on stderr for each that does not.
 */
#include <stdio.h>
#include <string.h>

#include "harness/machine.h"
#include "vlab/abi.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/mmio.h"
#if VLAB_CFG_PCI
#include "vlab/pci.h"
#endif
#if VLAB_CFG_NET
#include "harness/net.h"
#include "vlab/net.h"
#endif

static int failures;

#define CHECK(cond)                                                                \
	do {                                                                           \
		if (!(cond)) {                                                             \
			fprintf(stderr, "config_blk: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                            \
		}                                                                          \
	} while (0)

#define RING_ALL \
	(VLAB_BIT(VIRTIO_F_RING_PACKED) | VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) | VLAB_BIT(VIRTIO_F_RING_EVENT_IDX))

static struct hx_machine *machine(void)
{
	struct hx_machine_cfg cfg;
	hx_machine_cfg_default(&cfg);
	return hx_machine_new(&cfg);
}

/* A 1 MiB RAM disk on transport t, offering ring features on top, and
 * DISCARD and WRITE_ZEROES. */
static struct hx_dev *add_disk(struct hx_machine *m, enum hx_transport t, uint64_t features_on)
{
	struct hx_blk_opts o;
	const char *err = NULL;
	hx_blk_opts_default(&o);
	o.transport = t;
	o.ram_bytes = 1u << 20;
	o.features_on = features_on;
	o.discard = 2;
	o.write_zeroes = 2;
	struct hx_dev *dev = hx_add_blk(m, &o, &err);
	CHECK(dev != NULL);
	if (dev == NULL)
		fprintf(stderr, "config_blk: no disk: %s\n", err ? err : "?");
	return dev;
}

static void blk_on_mmio(void)
{
	struct hx_machine *m = machine();
	struct hx_dev *dev = add_disk(m, HX_MMIO, RING_ALL); /* offered whatever the configuration */
	if (dev == NULL) {
		hx_machine_free(m);
		return;
	}

	static struct vlab_mmio mm;
	static struct vlab_blk blk;
	const struct vlab_platform *plat = hx_platform(m);
	CHECK(vlab_abi_ok(plat) == 0);
	CHECK(vlab_mmio_probe(&mm, plat, dev->base, 0) == 0);
	CHECK(vlab_blk_init(&blk, &mm.vdev, 0) == 0);
	CHECK(blk.info.capacity == (1u << 20) / 512);

	/* Exactly the compiled-in ring features (vlab/config.h). */
	uint64_t f = mm.vdev.features;
	CHECK(!!(f & VLAB_BIT(VIRTIO_F_RING_PACKED)) == !!VLAB_CFG_PACKED);
	CHECK(!!(f & VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC)) == !!VLAB_CFG_INDIRECT);
	CHECK(!!(f & VLAB_BIT(VIRTIO_F_RING_EVENT_IDX)) == !!VLAB_CFG_EVENT_IDX);
	CHECK(blk.vq.kind == (VLAB_CFG_PACKED ? VLAB_VQ_PACKED : VLAB_VQ_SPLIT));
	CHECK(!!(f & VLAB_BIT(VIRTIO_BLK_F_DISCARD)) == !!VLAB_CFG_BLK_DWZ);
	CHECK(!!(f & VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES)) == !!VLAB_CFG_BLK_DWZ);

	/* Data through the ring both ways: 64 KiB, several requests in a row. */
	uint64_t a = 0;
	uint8_t *wr = hx_dma_alloc(m, 65536, 4096, &a);
	uint8_t *rd = hx_dma_alloc(m, 65536, 4096, &a);
	CHECK(wr != NULL && rd != NULL);
	if (wr != NULL && rd != NULL) {
		for (unsigned i = 0; i < 65536; i++)
			wr[i] = (uint8_t)(i * 7u + i / 512u);
		for (unsigned lba = 0; lba < 512; lba += 128) {
			CHECK(vlab_blk_write(&blk, lba, wr, 128) == 0);
			memset(rd, 0xa5, 65536);
			CHECK(vlab_blk_read(&blk, lba, rd, 128) == 0);
			CHECK(memcmp(wr, rd, 65536) == 0);
		}
	}

	/* GET_ID and the write cache mode: refused when compiled out. */
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int rc = vlab_blk_get_id(&blk, id);
	CHECK(VLAB_CFG_BLK_EXTRA ? rc == 0 : rc == VLAB_ENOTSUP);

	/* DISCARD and WRITE_ZEROES: done, or refused when compiled out (and
	 * then the blocks keep their data). */
	CHECK(vlab_blk_discard(&blk, 0, 8) == (VLAB_CFG_BLK_DWZ ? 0 : VLAB_ENOTSUP));
	CHECK(vlab_blk_write_zeroes(&blk, 8, 8, false) == (VLAB_CFG_BLK_DWZ ? 0 : VLAB_ENOTSUP));
	if (rd != NULL && wr != NULL) {
		memset(rd, 0xa5, 4096);
		CHECK(vlab_blk_read(&blk, 8, rd, 8) == 0);
		bool zero = true;
		for (unsigned i = 0; i < 4096; i++)
			zero = zero && rd[i] == 0;
		CHECK(VLAB_CFG_BLK_DWZ ? zero : memcmp(rd, wr + 4096, 4096) == 0);
	}

	vlab_blk_shutdown(&blk);
	CHECK(hx_report(m)->count == 0);
	hx_machine_free(m);
}

static void legacy_mmio(void)
{
	struct hx_machine *m = machine();
	struct hx_dev *dev = add_disk(m, HX_MMIO_LEGACY, 0);
	if (dev != NULL) {
		static struct vlab_mmio mm;
		int rc = vlab_mmio_probe(&mm, hx_platform(m), dev->base, VLAB_MMIO_ALLOW_LEGACY);
		CHECK(VLAB_CFG_MMIO_LEGACY ? rc == 0 : rc == VLAB_ENOTSUP);
	}
	hx_machine_free(m);
}

#if VLAB_CFG_BUS
/* The registry holds exactly the compiled-in drivers; the bus binds blk. */
static void bus_binds_blk(void)
{
	CHECK(vlab_default_ndrivers == (size_t)(VLAB_CFG_BLK + VLAB_CFG_NET + VLAB_CFG_RNG));
	struct hx_machine *m = machine();
	struct hx_dev *dev = add_disk(m, HX_MMIO, 0);
	if (dev != NULL) {
		static struct vlab_bus bus;
		static struct vlab_bus_dev devs[2];
		/* Room for two devices of the largest compiled-in driver (net's
		 * state is larger than blk's). */
		static _Alignas(64) uint8_t priv[2 * 65536];
		const size_t stride = vlab_bus_priv_stride(vlab_default_drivers, vlab_default_ndrivers);
		CHECK(stride >= sizeof(struct vlab_blk) && 2 * stride <= sizeof priv);
		CHECK(vlab_bus_init(&bus, hx_platform(m), vlab_default_drivers, vlab_default_ndrivers, devs, 2,
		                    priv, 2 * stride) == 0);
		CHECK(vlab_bus_add_mmio(&bus, dev->base) == 0);
		CHECK(vlab_bus_probe_all(&bus) == 1);
		CHECK(vlab_bus_find(&bus, VIRTIO_ID_BLOCK, 0) != NULL);
		CHECK(vlab_bus_remove_all(&bus) == 0);
	}
	CHECK(hx_report(m)->count == 0);
	hx_machine_free(m);
}
#endif

#if VLAB_CFG_NET
static void net_on_mmio(void)
{
	struct hx_machine *m = machine();
	struct hx_net_opts o;
	const char *err = NULL;
	hx_net_opts_default(&o);
	o.transport = HX_MMIO;
	o.backend = HX_NET_LOOP;
	o.max_pairs = 2;
	o.features_on = VLAB_BIT(VIRTIO_NET_F_MQ) | VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM);
	struct hx_dev *dev = hx_add_net(m, &o, &err);
	CHECK(dev != NULL);
	if (dev == NULL) {
		fprintf(stderr, "config_blk: no NIC: %s\n", err ? err : "?");
		hx_machine_free(m);
		return;
	}
	static struct vlab_mmio mm;
	static struct vlab_net net;
	CHECK(vlab_mmio_probe(&mm, hx_platform(m), dev->base, 0) == 0);
	CHECK(vlab_net_init(&net, &mm.vdev, NULL) == 0);

	/* The control queue and what needs it, and checksum offload: in
	 * exactly when VLAB_CFG_NET_EXTRA is. */
	const uint64_t extra = VLAB_BIT(VIRTIO_NET_F_CTRL_VQ) | VLAB_BIT(VIRTIO_NET_F_CTRL_RX) |
	                       VLAB_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VLAB_BIT(VIRTIO_NET_F_MQ) |
	                       VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM);
	CHECK((mm.vdev.features & extra) == (VLAB_CFG_NET_EXTRA ? extra : 0));
	CHECK(net.pairs == (VLAB_CFG_NET_EXTRA ? 2 : 1));
	CHECK(vlab_virtio_has(&mm.vdev, VIRTIO_NET_F_MRG_RXBUF));

	/* A frame out and back (the loop backend). */
	uint8_t f[64], back[1514];
	uint32_t len = 0;
	memset(f, 0, sizeof f);
	memcpy(f, net.mac, 6);
	memcpy(f + 6, net.mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5; /* local experimental EtherType */
	for (unsigned i = 14; i < sizeof f; i++)
		f[i] = (uint8_t)i;
	CHECK(vlab_net_send(&net, f, sizeof f) == 0);
	CHECK(vlab_net_recv_wait(&net, back, sizeof back, &len, 1000000000ull) == 0);
	CHECK(len == sizeof f && memcmp(back, f, sizeof f) == 0);

	/* Control commands and checksum offload: done, or refused when
	 * compiled out. */
	CHECK(vlab_net_set_promisc(&net, true) == (VLAB_CFG_NET_EXTRA ? 0 : VLAB_ENOTSUP));
	CHECK(vlab_net_set_mac(&net, net.mac) == (VLAB_CFG_NET_EXTRA ? 0 : VLAB_ENOTSUP));
	CHECK(VLAB_CFG_NET_EXTRA || vlab_net_send_csum(&net, f, sizeof f) == VLAB_ENOTSUP);

	CHECK(vlab_net_shutdown(&net) == 0);
	CHECK(hx_report(m)->count == 0);
	hx_machine_free(m);
}
#endif

int main(void)
{
	blk_on_mmio();
	legacy_mmio();
#if VLAB_CFG_BUS
	bus_binds_blk();
#endif
#if VLAB_CFG_NET
	net_on_mmio();
#endif
#if VLAB_CFG_PCI
	/* Linked in: the configuration builds it (run by the model suites). */
	int (*volatile probe)(struct vlab_pci *, struct vlab_pci_host *, uint8_t, uint8_t, uint8_t,
	                      unsigned) = vlab_pci_probe;
	CHECK(probe != NULL);
#endif
	printf("config_blk: configuration word 0x%x: %s\n", (unsigned)VLAB_CFG_WORD,
	       failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
