// The zeroing of device-writable buffers before they are posted is on by
// default (attack surface G1, G2, G5; model.Transports/Hardening and
// model.All/NetDatapath show it) and can be turned off at init
// (vlab_blk_cfg.no_zeroing, vlab_net_cfg.no_rx_zeroing; its cost is in
// docs/performance.md).  Turned off, the buffer reaches the device as the
// caller left it, and the driver works as before.  On a platform whose
// device reads all memory anyway (VLAB_PLAT_DMA_ALL_MEMORY: the QEMU
// images') blk zeroes only when the caller asks (vlab_blk_cfg.zeroing).
#include <cstring>

#include "blk_fixture.h"
#include "harness/trace.h"
#include "net_fixture.h"

namespace {

using vlabtest::BlkMachine;
using vlabtest::NetMachine;
using vlabtest::Nic;

class ZeroingOption : public testing::TestWithParam<vlabtest::Ring> {};

// Bring a blk machine up with the given choice.
static int InitBlk(BlkMachine &bm, bool no_zeroing, bool zeroing)
{
	if (!bm.Add() || bm.Probe() != 0)
		return VLAB_ENODEV;
	struct vlab_blk_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.no_zeroing = no_zeroing;
	cfg.zeroing = zeroing;
	const int rc = vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg);
	bm.inited = rc == 0;
	return rc;
}

static void BringBlk(BlkMachine &bm, bool no_zeroing, bool zeroing = false)
{
	ASSERT_EQ(InitBlk(bm, no_zeroing, zeroing), 0);
}

// A machine whose platform says its device reads all memory.
static struct hx_machine_cfg DmaAllMemory()
{
	struct hx_machine_cfg mc;
	hx_machine_cfg_default(&mc);
	mc.plat_flags = VLAB_PLAT_DMA_ALL_MEMORY;
	return mc;
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

// Zeroing would hide nothing from a device that reads all memory: not done
// by default there, done when the caller asks, and never when told not to.
TEST_P(ZeroingOption, BlkZeroesOnAPlatformWhoseDeviceReadsAllMemoryOnlyWhenAsked)
{
	const struct hx_machine_cfg mc = DmaAllMemory();
	BlkMachine def(GetParam(), &mc), asked(GetParam(), &mc), off(GetParam(), &mc);
	BringBlk(def, false);
	BringBlk(asked, false, true);
	BringBlk(off, true);
	EXPECT_EQ(SeenByDevice(def), std::vector<uint8_t>(4096, 0xa5));
	EXPECT_EQ(SeenByDevice(asked), std::vector<uint8_t>(4096, 0));
	EXPECT_EQ(SeenByDevice(off), std::vector<uint8_t>(4096, 0xa5));
}

// Asked for on a platform that confines the device: zeroed, as by default.
TEST_P(ZeroingOption, BlkZeroingAskedForOnAConfiningPlatformZeroes)
{
	BlkMachine bm(GetParam());
	BringBlk(bm, false, true);
	EXPECT_EQ(SeenByDevice(bm), std::vector<uint8_t>(4096, 0));
}

// A trace says what the recording platform's device could read (the driver
// line's dma= word), and its replay's platform says the same, so the
// replayed driver zeroes as the recorded one did.
TEST_P(ZeroingOption, ATraceCarriesThePlatformsDmaReachToItsReplay)
{
	for (bool all : {false, true}) {
		struct hx_machine_cfg mc = DmaAllMemory();
		mc.plat_flags = all ? VLAB_PLAT_DMA_ALL_MEMORY : 0;
		BlkMachine bm(GetParam(), &mc);
		ASSERT_NE(bm.Add(), nullptr);
		char *text = nullptr;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		ASSERT_NE(f, nullptr);
		const char *header[] = {"producer model seed=1", "device 0 blk transport=mmio", "command test",
		                        "bind mmio base=0x10001000 flags=0x1"};
		struct hx_trace_rec *rec = hx_trace_record_start(bm.m, f, header, 4);
		ASSERT_NE(rec, nullptr);
		EXPECT_EQ(hx_trace_record_stop(rec, nullptr, 0), 0);
		ASSERT_EQ(std::fclose(f), 0);
		std::string trace(text, len);
		std::free(text);
		EXPECT_NE(trace.find(all ? " dma=all\n" : " dma=mapped\n"), std::string::npos) << trace;
		char err[200] = "";
		struct hx_trace *t = hx_trace_parse("t", trace.data(), trace.size(), err, sizeof err);
		ASSERT_NE(t, nullptr) << err;
		struct hx_replay *r = hx_replay_new(t, nullptr, nullptr);
		ASSERT_NE(r, nullptr);
		EXPECT_EQ(hx_replay_platform(r)->flags, all ? VLAB_PLAT_DMA_ALL_MEMORY : 0u);
		hx_replay_free(r);
		hx_trace_free(t);
	}
}

// no_zeroing and zeroing together leave no default to fall back on.
TEST_P(ZeroingOption, BlkRefusesZeroingAndNoZeroingTogether)
{
	BlkMachine bm(GetParam());
	EXPECT_EQ(InitBlk(bm, true, true), VLAB_EINVAL);
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
