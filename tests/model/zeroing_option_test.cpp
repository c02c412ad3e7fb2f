// The zeroing of device-writable buffers before they are posted is on by
// default (attack surface G1, G2, G5; model.Transports/Hardening and
// model.All/NetDatapath show it) and can be turned off at init
// (vlab_blk_cfg.no_zeroing, vlab_net_cfg.no_rx_zeroing; its cost is in
// docs/performance.md).  Turned off, the buffer reaches the device as the
// caller left it, and the driver works as before.
#include <cstring>

#include "blk_fixture.h"
#include "net_fixture.h"

namespace {

using vlabtest::BlkMachine;
using vlabtest::NetMachine;
using vlabtest::Nic;

class ZeroingOption : public testing::TestWithParam<vlabtest::Ring> {};

// Bring a blk machine up with the given choice.
static void BringBlk(BlkMachine &bm, bool no_zeroing)
{
	ASSERT_NE(bm.Add(), nullptr);
	ASSERT_EQ(bm.Probe(), 0);
	struct vlab_blk_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.no_zeroing = no_zeroing;
	ASSERT_EQ(vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg), 0);
	bm.inited = true;
}

// What the device sees in a READ's buffer it has taken but not written.
static std::vector<uint8_t> SeenByDevice(BlkMachine &bm)
{
	uint8_t *buf = bm.Buf(4096);
	std::memset(buf, 0xa5, 4096); // left by the caller
	struct vlab_blk_req r;
	std::memset(&r, 0, sizeof r);
	r.op = VLAB_BLK_READ;
	r.buf = buf;
	r.len = 4096;
	bm.AddFault(DM_FAULT_NEEDS_RESET);
	EXPECT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	const uint8_t *seen = static_cast<const uint8_t *>(hx_ram_ptr(bm.m, r.buf_dev, 4096));
	std::vector<uint8_t> v(seen, seen + 4096);
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r), VLAB_ENEEDSRESET);
	return v;
}

TEST_P(ZeroingOption, BlkReadBufferIsZeroedByDefaultAndLeftAsItWasWithNoZeroing)
{
	BlkMachine on(GetParam()), off(GetParam());
	BringBlk(on, false);
	BringBlk(off, true);
	EXPECT_EQ(SeenByDevice(on), std::vector<uint8_t>(4096, 0));
	EXPECT_EQ(SeenByDevice(off), std::vector<uint8_t>(4096, 0xa5));
}

TEST_P(ZeroingOption, BlkWithNoZeroingReadsAndWritesAsBefore)
{
	BlkMachine bm(GetParam());
	BringBlk(bm, true);
	uint8_t *buf = bm.Buf(8192);
	for (int i = 0; i < 8192; i++)
		bm.Disk()[i] = static_cast<uint8_t>(i * 7);
	std::memset(buf, 0xa5, 8192);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 16), 0);
	EXPECT_EQ(std::memcmp(buf, bm.Disk(), 8192), 0);
	std::memset(buf, 0x3c, 4096);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 8, buf, 8), 0);
	EXPECT_EQ(bm.Disk()[4096], 0x3c);
	EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
}

// With no_rx_zeroing a receive buffer posted again keeps what the last
// frame left in it (with the default it is all zero: NetDatapath).
TEST_P(ZeroingOption, NetReceiveBufferKeepsTheOldFrameWithNoRxZeroing)
{
	NetMachine nm(GetParam());
	nm.opts.backend = HX_NET_QUEUE;
	struct vlab_net_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.no_rx_zeroing = true;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	for (uint32_t i = 0; i < 2u * n->net.nrx; i++) {
		auto f = vlabtest::MakeFrame(100, 700 + i, n->net.mac);
		ASSERT_EQ(dm_net_inject(n->model(), f.data(), (uint32_t)f.size()), 0);
		ASSERT_EQ(vlabtest::Recv(n), f) << i;
	}
	unsigned dirty = 0;
	for (unsigned b = 0; b < n->net.nrx; b++) {
		const uint8_t *p = n->net.rx_mem + (size_t)b * n->net.rx_buf_len;
		bool any = false;
		for (uint32_t k = 0; k < n->net.rx_buf_len && !any; k++)
			any = p[k] != 0;
		dirty += any;
	}
	EXPECT_GT(dirty, 0u) << "no buffer kept anything of its last frame";
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

INSTANTIATE_TEST_SUITE_P(Transports, ZeroingOption, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
