// The handoff (issue 16): before an operating system takes the machine,
// vlab_bus_remove_all removes every device (blk, net and rng, on mmio and
// pci).  Afterwards the model sees status 0 on every device and no device
// touches guest memory again, even with I/O in flight (deferred device
// work) or just completed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "harness/bind.h"
#include "harness/machine.h"
#include "harness/net.h"
#include "vlab/blk.h"
#include "vlab/bus.h"
#include "vlab/net.h"
#include "vlab/rng.h"

namespace {

// Guest-memory accesses of the model, counted by wrapping the machine's
// dm_env accessors (the devices hold the env by pointer).
struct Counter {
	struct dm_env saved {};
	uint64_t reads = 0, writes = 0;
};
Counter *g_counter;

bool CountRead(void *ctx, uint64_t addr, void *buf, size_t len)
{
	g_counter->reads++;
	return g_counter->saved.mem_read(ctx, addr, buf, len);
}
bool CountWrite(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	g_counter->writes++;
	return g_counter->saved.mem_write(ctx, addr, buf, len);
}

class Handoff : public testing::TestWithParam<bool> { // param: I/O in flight (else just completed)
protected:
	struct hx_machine *m = nullptr;
	struct hx_vbus *vb = nullptr;
	struct hx_dev *dev[8] {};
	Counter counter;

	void SetUp() override
	{
		struct hx_machine_cfg mc;
		hx_machine_cfg_default(&mc);
		mc.policy = HX_SCHED_DEFERRED; // device work waits: requests stay in flight
		mc.seed = 16;
		m = hx_machine_new(&mc);
		ASSERT_NE(m, nullptr);
		const enum hx_transport blk_t[] = {HX_MMIO, HX_PCI, HX_PCI_LEGACY};
		const enum hx_transport net_t[] = {HX_MMIO_LEGACY, HX_PCI_TRANSITIONAL, HX_PCI};
		for (int i = 0; i < 3; i++) {
			struct hx_blk_opts bo;
			hx_blk_opts_default(&bo);
			bo.transport = blk_t[i];
			bo.ram_bytes = 1 << 20;
			const char *err = nullptr;
			dev[i] = hx_add_blk(m, &bo, &err);
			ASSERT_NE(dev[i], nullptr) << err;
			struct hx_net_opts no;
			hx_net_opts_default(&no);
			no.transport = net_t[i];
			no.backend = HX_NET_SINK;
			dev[3 + i] = hx_add_net(m, &no, &err);
			ASSERT_NE(dev[3 + i], nullptr) << err;
		}
		for (int i = 0; i < 2; i++) {
			struct hx_rng_opts ro;
			hx_rng_opts_default(&ro);
			ro.transport = i ? HX_PCI : HX_MMIO;
			const char *err = nullptr;
			dev[6 + i] = hx_add_rng(m, &ro, &err);
			ASSERT_NE(dev[6 + i], nullptr) << err;
		}
		vb = hx_vbus_new(m, VLAB_MMIO_ALLOW_LEGACY, nullptr, nullptr);
		ASSERT_NE(vb, nullptr);
		ASSERT_EQ(vb->bus.ndevs, 8u);
		for (size_t i = 0; i < vb->bus.ndevs; i++)
			ASSERT_TRUE(vb->devs[i].bound) << vlab_bus_dev_place(&vb->devs[i]);
	}
	void TearDown() override
	{
		g_counter = nullptr;
		hx_vbus_free(vb);
		hx_machine_free(m);
	}
};

TEST_P(Handoff, EveryDeviceReadsStatusZeroAndNoDeviceTouchesMemoryAfterwards)
{
	const bool in_flight = GetParam();
	// Random bytes just read, first: a read is synchronous (never left in
	// flight), and its wait lets the deferred device work run.
	for (unsigned i = 0; i < 2; i++) {
		struct vlab_bus_dev *bd = vlab_bus_find(&vb->bus, VLAB_VIRTIO_ID_RNG, i);
		ASSERT_NE(bd, nullptr);
		uint8_t bytes[100];
		size_t got = 0;
		EXPECT_EQ(vlab_rng_read(static_cast<struct vlab_rng *>(bd->priv), bytes, sizeof bytes, &got), 0);
		EXPECT_EQ(got, sizeof bytes);
	}
	// Reads on every disk and frames on every NIC.
	struct vlab_blk_req req[3][4] {};
	uint8_t *buf[3];
	uint64_t dev_addr;
	for (unsigned i = 0; i < 3; i++) {
		struct vlab_bus_dev *bd = vlab_bus_find(&vb->bus, VIRTIO_ID_BLOCK, i);
		ASSERT_NE(bd, nullptr);
		auto *b = static_cast<struct vlab_blk *>(bd->priv);
		buf[i] = static_cast<uint8_t *>(hx_dma_alloc(m, 4 * 4096, 16, &dev_addr));
		for (unsigned r = 0; r < 4; r++) {
			req[i][r].op = VLAB_BLK_READ;
			req[i][r].sector = r * 8;
			req[i][r].buf = buf[i] + r * 4096;
			req[i][r].len = 4096;
			ASSERT_EQ(vlab_blk_submit(b, &req[i][r]), 0);
		}
		bd = vlab_bus_find(&vb->bus, VIRTIO_ID_NET, i);
		ASSERT_NE(bd, nullptr);
		uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00};
		EXPECT_EQ(vlab_net_send(static_cast<struct vlab_net *>(bd->priv), frame, sizeof frame), 0);
	}
	if (!in_flight)
		hx_run_pending(m); // everything completed, nothing consumed yet
	else
		ASSERT_GT(hx_pending(m), 0u) << "nothing was in flight";

	EXPECT_EQ(vlab_bus_remove_all(&vb->bus), 0);

	for (unsigned i = 0; i < 8; i++)
		EXPECT_EQ(dm_virtio_get_status(dev[i]->dv), 0u) << "device " << i << " not reset";
	for (unsigned i = 0; i < 3; i++)
		for (unsigned r = 0; r < 4; r++) {
			EXPECT_TRUE(req[i][r].done);
			if (in_flight) {
				EXPECT_NE(req[i][r].result, 0) << "a request in flight cannot have succeeded";
			}
		}
	// From here on the model must not reach guest memory: let every piece
	// of deferred device work run and time pass.
	counter.saved = *hx_env(m);
	g_counter = &counter;
	hx_env(m)->mem_read = CountRead;
	hx_env(m)->mem_write = CountWrite;
	hx_run_pending(m);
	hx_advance(m, 1000ull * 1000 * 1000);
	EXPECT_EQ(counter.reads, 0u);
	EXPECT_EQ(counter.writes, 0u);
	*hx_env(m) = counter.saved;

	struct hx_arena_stats st;
	hx_arena_get_stats(m, &st);
	EXPECT_EQ(st.mapped, 0u) << "a caller's buffer is still mapped for a device";
	for (unsigned i = 0; i < 3; i++)
		hx_dma_free(m, buf[i], 4 * 4096);
	hx_arena_get_stats(m, &st);
	EXPECT_EQ(st.used, 0u) << "rings or buffers not released";
	EXPECT_EQ(hx_report(m)->count, 0u);
}

INSTANTIATE_TEST_SUITE_P(Bus, Handoff, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool> &i) {
	                         return std::string(i.param ? "InFlight" : "JustCompleted");
                         });

} // namespace
