// A long random run: thousands of reads, writes and flushes, several in
// flight, checked against a shadow copy of the disk, over every transport
// and scheduling policy.  The same seed must give the same run.
#include <cstring>
#include <random>
#include <vector>

#include <memory>

#include "blk_fixture.h"
#include "chain_recorder.h"

using vlabtest::BlkMachine;
using vlabtest::RecordedSeg;

namespace {

struct RunResult {
	uint64_t end_time_ns;
	uint64_t notifications;
	uint64_t device_reads, device_writes, device_flushes;
	uint64_t ops;
	// With small segments: every chain the driver made available, in order.
	std::vector<std::vector<RecordedSeg>> chains;
	uint64_t indirect; // of them, through an indirect table
};

constexpr unsigned kDiskSectors = 4096;    // 2 MiB
constexpr unsigned kMaxSectors = 64;       // per request
constexpr unsigned kInFlight = 6;
// The small-segment device: 2 KiB per segment, 3 data segments per request.
constexpr uint32_t kSizeMax = 2048;
constexpr uint32_t kSegMax = 3;

// Random bytes eight to a draw: the test's own data, not what it checks
// (a draw per byte was half of this suite's time under the asan preset,
// where the C++ is built at -O0).
void FillRandom(std::mt19937_64 &rng, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rng();
		std::memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

RunResult RandomRun(const vlabtest::Ring &t, enum hx_sched_policy policy, uint64_t seed, unsigned nops,
                    bool small_segments)
{
	struct hx_machine_cfg mc;
	hx_machine_cfg_default(&mc);
	mc.policy = policy;
	mc.seed = seed;
	BlkMachine bm(t, &mc);
	bm.opts.ram_bytes = kDiskSectors * 512ull;
	if (small_segments) {
		dm_blk_cfg_default(&bm.opts.cfg);
		bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX);
		bm.opts.cfg.size_max = kSizeMax;
		bm.opts.cfg.seg_max = kSegMax;
		bm.opts.cfg_set = true;
	}
	bm.Bring();
	if (testing::Test::HasFatalFailure())
		return {};
	std::unique_ptr<vlabtest::ChainRecorder> rec;
	if (small_segments)
		rec = std::make_unique<vlabtest::ChainRecorder>(bm.m, bm.dev->dv);

	std::vector<uint8_t> shadow(kDiskSectors * 512ull);
	std::mt19937_64 rng(seed);
	FillRandom(rng, shadow.data(), shadow.size());
	std::memcpy(bm.Disk(), shadow.data(), shadow.size());

	struct Slot {
		struct vlab_blk_req req;
		uint8_t *buf;
		bool busy;
		std::vector<uint8_t> expect; // for reads: shadow at submission
	};
	std::vector<Slot> slots(kInFlight);
	for (auto &s : slots) {
		s.buf = bm.Buf(kMaxSectors * 512);
		s.busy = false;
	}
	// Sectors with a request in flight: new reads and writes avoid them so
	// the expected content is well defined whatever the completion order.
	std::vector<unsigned> pinned(kDiskSectors, 0);

	RunResult r{};
	unsigned submitted = 0, completed = 0;
	while (completed < nops) {
		// Fill free slots.
		for (auto &s : slots) {
			if (s.busy || submitted >= nops)
				continue;
			unsigned n = 1 + rng() % kMaxSectors;
			uint64_t sector = rng() % (kDiskSectors - n + 1);
			bool overlap = false;
			for (unsigned i = 0; i < n; i++)
				overlap |= pinned[sector + i] != 0;
			unsigned kind = rng() % 10;
			std::memset(&s.req, 0, sizeof s.req);
			if (kind == 0) {
				s.req.op = VLAB_BLK_FLUSH;
			} else if (overlap) {
				continue; // try again on the next round
			} else if (kind < 5) {
				s.req.op = VLAB_BLK_WRITE;
				FillRandom(rng, s.buf, n * 512);
				std::memcpy(&shadow[sector * 512], s.buf, n * 512);
			} else {
				s.req.op = VLAB_BLK_READ;
				std::memset(s.buf, 0xcc, n * 512);
				s.expect.assign(shadow.begin() + sector * 512,
				                shadow.begin() + (sector + n) * 512);
			}
			if (s.req.op != VLAB_BLK_FLUSH)
				for (unsigned i = 0; i < n; i++)
					pinned[sector + i]++;
			s.req.sector = s.req.op == VLAB_BLK_FLUSH ? 0 : sector;
			s.req.buf = s.req.op == VLAB_BLK_FLUSH ? nullptr : s.buf;
			s.req.len = s.req.op == VLAB_BLK_FLUSH ? 0 : n * 512;
			s.req.user = &s;
			int rc = vlab_blk_submit(&bm.blk, &s.req);
			EXPECT_EQ(rc, 0) << vlab_errname(rc);
			if (rc != 0)
				return r;
			s.busy = true;
			submitted++;
		}
		// Reap what is done; let virtual time pass when nothing is.
		struct vlab_blk_req *done = nullptr;
		int rc = vlab_blk_poll(&bm.blk, &done);
		if (rc == VLAB_EAGAIN) {
			uint64_t t0 = hx_now(bm.m);
			hx_advance(bm.m, 1000);
			EXPECT_LT(hx_now(bm.m) - t0, 2000u);
			continue;
		}
		EXPECT_EQ(rc, 0) << vlab_errname(rc);
		if (rc != 0)
			return r;
		Slot &s = *static_cast<Slot *>(done->user);
		EXPECT_TRUE(done->done);
		EXPECT_EQ(done->result, 0) << vlab_errname(done->result);
		if (s.req.op == VLAB_BLK_READ) {
			EXPECT_EQ(std::memcmp(s.buf, s.expect.data(), s.expect.size()), 0)
				<< "read of sector " << s.req.sector << " x" << s.req.len / 512;
		}
		for (unsigned i = 0; i < s.req.len / 512; i++)
			pinned[s.req.sector + i]--;
		s.busy = false;
		completed++;
		if (testing::Test::HasFailure())
			return r;
	}
	EXPECT_EQ(std::memcmp(bm.Disk(), shadow.data(), shadow.size()), 0) << "disk differs from shadow";
	EXPECT_EQ(hx_report(bm.m)->count, 0u) << vlabtest::ViolationText(bm.m);
	r.end_time_ns = hx_now(bm.m);
	r.notifications = bm.dev->dv->notifications;
	r.device_reads = bm.dev->blk->reads;
	r.device_writes = bm.dev->blk->writes;
	r.device_flushes = bm.dev->blk->flushes;
	r.ops = completed;
	if (rec) {
		r.chains = rec->Chains(0);
		r.indirect = rec->Indirect(0);
	}
	return r;
}

class RandomIo : public testing::TestWithParam<std::tuple<vlabtest::Ring, enum hx_sched_policy>> {};

TEST_P(RandomIo, ThousandsOfRequestsMatchTheShadowDisk)
{
	auto [t, policy] = GetParam();
	RunResult r = RandomRun(t, policy, 42, 3000, false);
	EXPECT_EQ(r.ops, 3000u);
	EXPECT_GT(r.device_writes, 0u);
	EXPECT_GT(r.device_reads, 0u);
	EXPECT_GT(r.device_flushes, 0u);
}

TEST_P(RandomIo, SmallSegmentsForceSplitting)
{
	auto [t, policy] = GetParam();
	RunResult r = RandomRun(t, policy, 7, 1500, true);
	EXPECT_EQ(r.ops, 1500u);
	// Requests of up to 32 KiB on a device taking 3 segments of 2 KiB: every
	// chain the device is given keeps both limits (a chain is header, data
	// segments, status), and large requests were cut into full chains.
	EXPECT_EQ(r.chains.size(), r.device_reads + r.device_writes + r.device_flushes)
	    << "the recorder saw every request";
	vlabtest::BlkLimits l = vlabtest::CheckBlkLimits(r.chains, kSegMax, kSizeMax);
	EXPECT_EQ(l.bad, 0u) << "chains beyond seg_max " << kSegMax << " x size_max " << kSizeMax
	                     << "; the first: " << l.first_bad;
	EXPECT_GT(l.full, r.chains.size() / 4) << "large requests are cut into chains of 3 x 2 KiB";
}

TEST_P(RandomIo, SameSeedSameRun)
{
	auto [t, policy] = GetParam();
	RunResult a = RandomRun(t, policy, 1234, 500, false);
	RunResult b = RandomRun(t, policy, 1234, 500, false);
	EXPECT_EQ(a.end_time_ns, b.end_time_ns);
	EXPECT_EQ(a.notifications, b.notifications);
	EXPECT_EQ(a.device_reads, b.device_reads);
	EXPECT_EQ(a.device_writes, b.device_writes);
}

std::string Name(const testing::TestParamInfo<std::tuple<vlabtest::Ring, enum hx_sched_policy>> &info)
{
	return vlabtest::Ident(std::get<0>(info.param)) + "_" + vlabtest::PolicyName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Transports, RandomIo,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::Values(HX_SCHED_IMMEDIATE, HX_SCHED_DEFERRED,
                                                          HX_SCHED_BATCHED)),
                         Name);

// The blk datapath over every ring kind on every transport: a short run
// with small segments, so that requests make chains of up to five
// descriptors (through an indirect table where the ring has them).
class RandomIoRings : public testing::TestWithParam<vlabtest::Ring> {};

TEST_P(RandomIoRings, ShortRunWithSmallSegmentsMatchesTheShadowDisk)
{
	RunResult r = RandomRun(GetParam(), HX_SCHED_DEFERRED, 11, 300, true);
	EXPECT_EQ(r.ops, 300u);
	EXPECT_EQ(r.chains.size(), r.device_reads + r.device_writes + r.device_flushes);
	vlabtest::BlkLimits l = vlabtest::CheckBlkLimits(r.chains, kSegMax, kSizeMax);
	EXPECT_EQ(l.bad, 0u) << "the first: " << l.first_bad;
	EXPECT_EQ(r.indirect > 0, GetParam().kind.indirect) << r.indirect << " chains through a table";
}

INSTANTIATE_TEST_SUITE_P(Rings, RandomIoRings, testing::ValuesIn(vlabtest::AllRings()), vlabtest::RingName);

// Different seeds under a deferred policy give different interleavings (the
// policy is not a no-op).
TEST(RandomIoSeeds, DeferredPolicyDependsOnTheSeed)
{
	RunResult a = RandomRun({HX_MMIO, vlabtest::RingNamed("split")}, HX_SCHED_DEFERRED, 1, 300, false);
	RunResult b = RandomRun({HX_MMIO, vlabtest::RingNamed("split")}, HX_SCHED_DEFERRED, 2, 300, false);
	EXPECT_NE(a.end_time_ns, b.end_time_ns);
}

} // namespace
