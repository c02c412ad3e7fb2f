// The virtio bus (driver/include/vlab/bus.h): registry checks, listing by
// device ID, the common steps run once, a device with no driver listed and
// left alone, probe failure, remove.  Against the model, any violation fails.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "harness/bind.h"
#include "harness/machine.h"
#include "harness/net.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/net.h"

namespace {

struct Machine {
	struct hx_machine *m = hx_machine_new(nullptr);
	~Machine() { hx_machine_free(m); }
	struct hx_dev *Blk(enum hx_transport t)
	{
		struct hx_blk_opts o;
		hx_blk_opts_default(&o);
		o.transport = t;
		o.ram_bytes = 1 << 20;
		const char *err = nullptr;
		struct hx_dev *d = hx_add_blk(m, &o, &err);
		EXPECT_NE(d, nullptr) << (err ? err : "");
		return d;
	}
	struct hx_dev *Net(enum hx_transport t)
	{
		struct hx_net_opts o;
		hx_net_opts_default(&o);
		o.transport = t;
		o.backend = HX_NET_SINK;
		const char *err = nullptr;
		struct hx_dev *d = hx_add_net(m, &o, &err);
		EXPECT_NE(d, nullptr) << (err ? err : "");
		return d;
	}
};

// A bus with a registry the test chooses, storage sized from it.
struct Bus {
	struct vlab_bus bus {};
	struct vlab_bus_dev devs[8] {};
	void *priv = nullptr;
	int rc = 0;
	Bus(struct hx_machine *m, const struct vlab_driver *const *drv, size_t n, size_t priv_len = SIZE_MAX)
	{
		size_t stride = vlab_bus_priv_stride(drv, n);
		if (priv_len == SIZE_MAX)
			priv_len = stride * 8;
		priv = aligned_alloc(64, priv_len ? priv_len : 64);
		rc = vlab_bus_init(&bus, hx_platform(m), drv, n, devs, 8, priv, priv_len);
		bus.flags = VLAB_MMIO_ALLOW_LEGACY;
		if (rc == 0)
			rc = hx_vbus_scan(m, &bus);
	}
	~Bus() { free(priv); }
};

int FailingProbe(void *, struct vlab_virtio_dev *, const void *) { return VLAB_ECONFIG; }

TEST(Bus, InitRefusesABadRegistry)
{
	Machine mc;
	struct vlab_bus b;
	struct vlab_bus_dev devs[1];
	const struct vlab_driver *dup[] = {&vlab_blk_driver, &vlab_blk_driver};
	EXPECT_EQ(vlab_bus_init(&b, hx_platform(mc.m), dup, 2, devs, 1, nullptr, 0), VLAB_EINVAL);
	struct vlab_driver noprobe = vlab_blk_driver;
	noprobe.probe = nullptr;
	const struct vlab_driver *np[] = {&noprobe};
	EXPECT_EQ(vlab_bus_init(&b, hx_platform(mc.m), np, 1, devs, 1, nullptr, 0), VLAB_EINVAL);
	EXPECT_EQ(vlab_bus_init(&b, nullptr, vlab_default_drivers, vlab_default_ndrivers, devs, 1, nullptr, 0),
	          VLAB_EINVAL);
	EXPECT_EQ(vlab_bus_init(&b, hx_platform(mc.m), vlab_default_drivers, vlab_default_ndrivers, devs, 1,
	                        nullptr, 0),
	          0);
}

TEST(Bus, ListsEveryDeviceOnBothTransportsAndBindsItsDriverByID)
{
	Machine mc;
	mc.Blk(HX_MMIO);
	mc.Net(HX_MMIO_LEGACY);
	mc.Blk(HX_PCI);
	mc.Net(HX_PCI_TRANSITIONAL);
	Bus b(mc.m, vlab_default_drivers, vlab_default_ndrivers);
	ASSERT_EQ(b.rc, 4);
	EXPECT_EQ(vlab_bus_probe_all(&b.bus), 4);
	std::string list;
	for (size_t i = 0; i < b.bus.ndevs; i++) {
		const struct vlab_bus_dev &bd = b.devs[i];
		EXPECT_TRUE(bd.bound) << i;
		list += std::string(vlab_bus_transport_name(bd.transport)) + " " + bd.drv->name + ";";
	}
	EXPECT_EQ(list, "mmio virtio-blk;mmio virtio-net;pci virtio-blk;pci virtio-net;");
	// The drivers work through the state the bus gave them.
	struct vlab_bus_dev *blk = vlab_bus_find(&b.bus, VIRTIO_ID_BLOCK, 1);
	ASSERT_NE(blk, nullptr);
	EXPECT_EQ(blk->transport, VLAB_BUS_PCI);
	struct vlab_blk *bk = static_cast<struct vlab_blk *>(blk->priv);
	EXPECT_EQ(bk->info.capacity, (1u << 20) / 512u);
	uint64_t dev;
	uint8_t *buf = static_cast<uint8_t *>(hx_dma_alloc(mc.m, 512, 16, &dev));
	EXPECT_EQ(vlab_blk_read(bk, 0, buf, 1), 0);
	hx_dma_free(mc.m, buf, 512);
	struct vlab_bus_dev *net = vlab_bus_find(&b.bus, VIRTIO_ID_NET, 0);
	ASSERT_NE(net, nullptr);
	EXPECT_TRUE(net->vdev->legacy);
	EXPECT_EQ(vlab_bus_find(&b.bus, VIRTIO_ID_NET, 2), nullptr);
	EXPECT_EQ(vlab_bus_remove_all(&b.bus), 0);
	EXPECT_EQ(hx_report(mc.m)->count, 0u);
}

TEST(Bus, NegotiatesOnceWithTheDriversFeatureSet)
{
	Machine mc;
	struct hx_dev *d = mc.Blk(HX_MMIO);
	Bus b(mc.m, vlab_default_drivers, vlab_default_ndrivers);
	ASSERT_EQ(b.rc, 1);
	const uint64_t resets = d->dv->resets;
	ASSERT_EQ(vlab_bus_probe(&b.devs[0]), 0);
	EXPECT_EQ(d->dv->resets, resets + 1) << "the common steps ran more than once";
	EXPECT_EQ(d->dv->guest_features & ~(vlab_blk_driver.features | VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	                                    VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) | VLAB_BIT(VIRTIO_F_RING_PACKED)),
	          0u);
	EXPECT_EQ(vlab_bus_probe(&b.devs[0]), VLAB_EBUSY);
	EXPECT_EQ(vlab_bus_remove_all(&b.bus), 0);
}

TEST(Bus, ADeviceWithNoDriverIsListedAndLeftAlone)
{
	Machine mc;
	mc.Blk(HX_MMIO);
	struct hx_dev *n = mc.Net(HX_PCI);
	const struct vlab_driver *only_blk[] = {&vlab_blk_driver};
	Bus b(mc.m, only_blk, 1);
	ASSERT_EQ(b.rc, 2);
	EXPECT_EQ(vlab_bus_probe_all(&b.bus), 1);
	ASSERT_EQ(b.bus.ndevs, 2u);
	EXPECT_EQ(b.devs[1].drv, nullptr);
	EXPECT_EQ(b.devs[1].vdev->device_id, VIRTIO_ID_NET);
	EXPECT_FALSE(b.devs[1].bound);
	EXPECT_EQ(b.devs[1].probe_rc, 0);
	EXPECT_STREQ(vlab_virtio_id_name(b.devs[1].vdev->device_id), "network");
	EXPECT_EQ(dm_virtio_get_status(n->dv), 0u) << "a device without a driver was touched";
	EXPECT_EQ(vlab_bus_find(&b.bus, VIRTIO_ID_NET, 0), nullptr);
	EXPECT_EQ(vlab_bus_remove_all(&b.bus), 0);
	EXPECT_EQ(hx_report(mc.m)->count, 0u);
}

TEST(Bus, AProbeThatFailsLeavesTheDeviceFailedAndUnbound)
{
	Machine mc;
	struct hx_dev *d = mc.Blk(HX_PCI);
	struct vlab_driver bad = vlab_blk_driver;
	bad.probe = FailingProbe;
	const struct vlab_driver *reg[] = {&bad};
	Bus b(mc.m, reg, 1);
	ASSERT_EQ(b.rc, 1);
	EXPECT_EQ(vlab_bus_probe_all(&b.bus), 0);
	EXPECT_EQ(b.devs[0].probe_rc, VLAB_ECONFIG);
	EXPECT_FALSE(b.devs[0].bound);
	EXPECT_TRUE(dm_virtio_get_status(d->dv) & VIRTIO_STATUS_FAILED) << "DRV-3.1.1-5";
	EXPECT_EQ(vlab_bus_remove(&b.devs[0]), 0);
	EXPECT_EQ(dm_virtio_get_status(d->dv), 0u);
}

TEST(Bus, TooLittleStorageIsAnErrorNotAnOverflow)
{
	Machine mc;
	mc.Blk(HX_MMIO);
	mc.Blk(HX_MMIO);
	size_t stride = vlab_bus_priv_stride(vlab_default_drivers, vlab_default_ndrivers);
	ASSERT_GE(stride, sizeof(struct vlab_net));
	ASSERT_GE(stride, sizeof(struct vlab_blk));
	Bus b(mc.m, vlab_default_drivers, vlab_default_ndrivers, stride); // one device's worth
	ASSERT_EQ(b.rc, 2);
	EXPECT_EQ(vlab_bus_probe_all(&b.bus), 1);
	EXPECT_EQ(b.devs[1].probe_rc, VLAB_ENOMEM);
	EXPECT_EQ(vlab_bus_remove_all(&b.bus), 0);
}

TEST(Bus, RemoveResetsAndTheDeviceCanBeBoundAgain)
{
	Machine mc;
	struct hx_dev *d = mc.Net(HX_MMIO);
	Bus b(mc.m, vlab_default_drivers, vlab_default_ndrivers);
	ASSERT_EQ(b.rc, 1);
	ASSERT_EQ(vlab_bus_probe(&b.devs[0]), 0);
	EXPECT_NE(dm_virtio_get_status(d->dv), 0u);
	EXPECT_EQ(vlab_bus_remove(&b.devs[0]), 0);
	EXPECT_EQ(dm_virtio_get_status(d->dv), 0u);
	EXPECT_FALSE(b.devs[0].bound);
	EXPECT_EQ(vlab_bus_probe(&b.devs[0]), 0);
	EXPECT_EQ(vlab_bus_remove(&b.devs[0]), 0);
	struct hx_arena_stats st;
	hx_arena_get_stats(mc.m, &st);
	EXPECT_EQ(st.used, 0u) << "the driver's DMA memory was not released";
	EXPECT_EQ(hx_report(mc.m)->count, 0u);
}

TEST(Bus, AFullTableIsReported)
{
	Machine mc;
	mc.Blk(HX_MMIO);
	struct vlab_bus b;
	struct vlab_bus_dev devs[1];
	ASSERT_EQ(vlab_bus_init(&b, hx_platform(mc.m), nullptr, 0, devs, 0, nullptr, 0), 0);
	EXPECT_EQ(vlab_bus_add_mmio(&b, HX_MMIO_SLOT_BASE), VLAB_ENOMEM);
	ASSERT_EQ(vlab_bus_init(&b, hx_platform(mc.m), nullptr, 0, devs, 1, nullptr, 0), 0);
	EXPECT_EQ(vlab_bus_add_mmio(&b, HX_MMIO_SLOT_BASE + HX_MMIO_SLOT_SIZE), VLAB_ENODEV) << "empty slot";
	EXPECT_EQ(vlab_bus_add_mmio(&b, HX_MMIO_SLOT_BASE), 0);
	EXPECT_EQ(b.devs[0].drv, nullptr);
}

TEST(Bus, ADeviceTheCallerProbedIsListedBoundAndRemovedInItsPlace)
{
	Machine mc;
	struct hx_dev *d = mc.Blk(HX_PCI);
	struct hx_bound hb;
	ASSERT_EQ(hx_bind(mc.m, d, &hb, 0), 0);
	struct vlab_bus b;
	struct vlab_bus_dev devs[1];
	size_t stride = vlab_bus_priv_stride(vlab_default_drivers, vlab_default_ndrivers);
	void *priv = aligned_alloc(64, stride);
	ASSERT_EQ(vlab_bus_init(&b, hx_platform(mc.m), vlab_default_drivers, vlab_default_ndrivers, devs, 1, priv,
	                        stride),
	          0);
	EXPECT_EQ(vlab_bus_add_dev(&b, nullptr, VLAB_BUS_PCI), nullptr);
	struct vlab_bus_dev *bd = vlab_bus_add_dev(&b, hb.vdev, VLAB_BUS_PCI);
	ASSERT_NE(bd, nullptr);
	EXPECT_EQ(bd->vdev, hb.vdev) << "the caller's device, not a copy";
	EXPECT_EQ(bd->drv, &vlab_blk_driver);
	EXPECT_EQ(vlab_bus_add_dev(&b, hb.vdev, VLAB_BUS_PCI), nullptr) << "the table is full";
	ASSERT_EQ(vlab_bus_probe(bd), 0);
	EXPECT_EQ(static_cast<struct vlab_blk *>(bd->priv)->vdev, hb.vdev);
	EXPECT_EQ(vlab_bus_find(&b, VIRTIO_ID_BLOCK, 0), bd);
	EXPECT_NE(dm_virtio_get_status(d->dv), 0u);
	EXPECT_EQ(vlab_bus_remove_all(&b), 0);
	EXPECT_EQ(dm_virtio_get_status(d->dv), 0u);
	EXPECT_EQ(hx_report(mc.m)->count, 0u);
	free(priv);
}

} // namespace
