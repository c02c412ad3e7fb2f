// The device table (docs/spec/conformance-device.tsv): device statements
// the model honours, each shown by driving the model by hand, with every
// feature set the harness offers (the model's defaults and QEMU 7.2's
// profile on each transport).  The case names are the table's evidence.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

extern "C" {
#include "devmodel/blk.h"
#include "devmodel/net.h"
#include "devmodel/spec.h"
#include "devmodel/virtio.h"
#include "harness/machine.h"
#include "harness/net.h"
}

#include "conf_offers.h"

namespace {

using conftest::BlkOffers;
using conftest::NetOffers;

// No guest memory and no scheduler: nothing here touches a ring.
struct NoEnv {
	dm_env env{};
	NoEnv()
	{
		env.mem_read = [](void *, uint64_t, void *, size_t) { return false; };
		env.mem_write = [](void *, uint64_t, const void *, size_t) { return false; };
		env.now_ns = [](void *) -> uint64_t { return 0; };
		env.irq = [](void *, unsigned, bool) {};
	}
};

struct Blk {
	NoEnv e;
	dm_blk *b;
	explicit Blk(const dm_blk_cfg &c) : b(dm_blk_new(&c, dm_store_ram(1u << 20), &e.env, "blk0")) {}
	~Blk() { dm_blk_free(b); }
	uint32_t Cfg(uint32_t off, unsigned width) { return dm_virtio_config_read(&b->dv, off, width); }
};

bool Offers(uint64_t features, unsigned bit) { return (features >> bit) & 1u; }

// DEV-5.2.5.2-1 (SHOULD always offer FLUSH), DEV-5.2.5.2-2 (CONFIG_WCE
// only with FLUSH): what each blk device the harness builds offers.
TEST(DeviceTable, BlkOffersFlushAndWceOnlyWithFlush)
{
	for (const dm_blk_cfg &c : BlkOffers()) {
		Blk d(c);
		uint64_t f = d.b->dv.host_features;
		EXPECT_TRUE(Offers(f, DM_VIRTIO_BLK_F_FLUSH)) << "DEV-5.2.5.2-1: 0x" << std::hex << f;
		if (Offers(f, DM_VIRTIO_BLK_F_CONFIG_WCE)) {
			EXPECT_TRUE(Offers(f, DM_VIRTIO_BLK_F_FLUSH)) << "DEV-5.2.5.2-2: 0x" << std::hex << f;
		}
	}
}

// DEV-5.2.5.2-3: with CONFIG_WCE but not FLUSH, writeback starts at 0, after
// creation and after each reset, whatever the configured cache mode.
TEST(DeviceTable, BlkWritebackStartsAt0WithWceWithoutFlush)
{
	dm_blk_cfg c;
	dm_blk_cfg_default(&c);
	c.features = (c.features | DM_BIT(DM_VIRTIO_BLK_F_CONFIG_WCE)) & ~DM_BIT(DM_VIRTIO_BLK_F_FLUSH);
	c.writeback = 1;
	Blk d(c);
	dm_virtio_reset(&d.b->dv);
	EXPECT_EQ(d.Cfg(DM_VIRTIO_BLK_CFG_WRITEBACK, 1), 0u);
	// With FLUSH the configured mode shows.
	c.features |= DM_BIT(DM_VIRTIO_BLK_F_FLUSH);
	Blk w(c);
	dm_virtio_reset(&w.b->dv);
	EXPECT_EQ(w.Cfg(DM_VIRTIO_BLK_CFG_WRITEBACK, 1), 1u);
}

// DEV-5.2.5.2-4: the padding bytes unused0 (33) and unused1 (57..59) read 0
// in every offer, whatever the fields around them hold.
TEST(DeviceTable, BlkConfigPaddingIsZero)
{
	for (dm_blk_cfg c : BlkOffers()) {
		c.writeback = 1;
		c.write_zeroes_may_unmap = 1;
		Blk d(c);
		if (d.b->dv.ops->config_len(d.b) < 60)
			continue;
		EXPECT_EQ(d.Cfg(33, 1), 0u) << "unused0";
		for (uint32_t off = 57; off < 60; off++)
			EXPECT_EQ(d.Cfg(off, 1), 0u) << "unused1 byte " << off;
	}
}

// DEV-5.2.6.2-14: LIFETIME needs lifetime metrics of the backing storage;
// a RAM store has none, so no blk device offers it.
TEST(DeviceTable, BlkNeverOffersLifetime)
{
	for (const dm_blk_cfg &c : BlkOffers()) {
		Blk d(c);
		EXPECT_FALSE(Offers(d.b->dv.host_features, DM_VIRTIO_BLK_F_LIFETIME));
	}
}

// DEV-6.2-10: no device of the model has an SR-IOV capability, so none
// offers VIRTIO_F_SR_IOV.
TEST(DeviceTable, NoDeviceOffersSrIov)
{
	for (const dm_blk_cfg &c : BlkOffers()) {
		Blk d(c);
		EXPECT_FALSE(Offers(d.b->dv.host_features, DM_VIRTIO_F_SR_IOV));
	}
	for (const dm_net_cfg &c : NetOffers()) {
		NoEnv e;
		dm_net *n = dm_net_new(&c, &e.env, "net0");
		ASSERT_NE(n, nullptr);
		EXPECT_FALSE(Offers(n->dv.host_features, DM_VIRTIO_F_SR_IOV));
		dm_net_free(n);
	}
}

// DEV-4.2.2.1-4: interrupt status bits of events that did not happen read
// 0: nothing after a reset, only the raised bit after one event.
TEST(DeviceTable, InterruptStatusShowsOnlyEventsThatHappened)
{
	dm_blk_cfg c;
	dm_blk_cfg_default(&c);
	Blk d(c);
	dm_virtio *dv = &d.b->dv;
	dm_virtio_reset(dv);
	EXPECT_EQ(dm_virtio_isr_read(dv), 0u);
	dm_virtio_set_status(dv, DM_VIRTIO_STATUS_ACKNOWLEDGE);
	dm_virtio_set_status(dv, DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER);
	dm_virtio_raise(dv, DM_VIRTIO_ISR_CONFIG);
	EXPECT_EQ(dm_virtio_isr_read(dv), DM_VIRTIO_ISR_CONFIG);
	dm_virtio_reset(dv);
	EXPECT_EQ(dm_virtio_isr_read(dv), 0u);
}

} // namespace
