// The virtio-rng model (5.4), driven by hand over every transport: the
// generic virtio core and a virtqueue, no rng driver.  Each request's used
// length and bytes are checked against the seeded stream (dm_rng_stream),
// and each fault knob and fault-plan kind against what it promises.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "blk_fixture.h"
#include "devmodel/fault_plan.h"
#include "devmodel/rng.h"
#include "harness/bind.h"
#include "harness/machine.h"
#include "vlab/err.h"
#include "vlab/virtqueue.h"

using vlabtest::AllTransports;
using vlabtest::TransportName;
using vlabtest::ViolationText;

namespace {

constexpr uint8_t kUntouched = 0xa5;

class RngModel : public testing::TestWithParam<enum hx_transport> {
protected:
	struct hx_machine *m = nullptr;
	struct hx_rng_opts opts;
	struct hx_dev *dev = nullptr;
	struct dm_rng *rng = nullptr;
	struct hx_bound bound {};
	struct vlab_vq *vq = new vlab_vq();
	bool up = false;
	bool expect_violations = false;
	std::vector<std::pair<void *, size_t>> bufs;

	void SetUp() override
	{
		struct hx_machine_cfg cfg;
		hx_machine_cfg_default(&cfg);
		m = hx_machine_new(&cfg);
		ASSERT_NE(m, nullptr);
		hx_rng_opts_default(&opts);
		opts.transport = GetParam();
	}
	void TearDown() override
	{
		if (up) {
			EXPECT_EQ(vlab_virtio_reset(bound.vdev), 0);
			vlab_vq_teardown(vq);
		}
		if (!expect_violations) {
			EXPECT_EQ(hx_report(m)->count, 0u) << ViolationText(m);
		}
		for (auto &b : bufs)
			hx_dma_free(m, b.first, b.second);
		delete vq;
		hx_machine_free(m);
	}
	// Add the device with opts and bring it to DRIVER_OK with queue 0.
	void Bring(const char *plan = nullptr)
	{
		const char *err = nullptr;
		dev = hx_add_rng(m, &opts, &err);
		ASSERT_NE(dev, nullptr) << (err ? err : "?");
		rng = dev->rng;
		ASSERT_NE(rng, nullptr);
		if (plan) {
			struct dm_fault_plan p;
			char e[DM_FAULT_PLAN_ERR_MAX];
			dm_fault_plan_init(&p);
			ASSERT_EQ(dm_fault_plan_parse(&p, plan, "plan", e, sizeof e), 0) << e;
			ASSERT_GE(dm_fault_plan_apply(&p, dev->dv, dev->index, e, sizeof e), 0) << e;
		}
		ASSERT_EQ(hx_bind(m, dev, &bound, VLAB_MMIO_ALLOW_LEGACY), 0);
		struct vlab_virtio_dev *d = bound.vdev;
		ASSERT_EQ(d->device_id, 4u) << "5.4.1: entropy source";
		ASSERT_EQ(vlab_virtio_begin(d), 0);
		ASSERT_EQ(vlab_virtio_negotiate(d, VLAB_BIT(VIRTIO_F_VERSION_1), 0, nullptr, 0), 0);
		ASSERT_EQ(vlab_vq_setup(vq, d, 0, 0), 0);
		uint16_t max = 0;
		(void)d->ops->queue_max(d, 1, &max);
		EXPECT_EQ(max, 0u) << "5.4.2: requestq is the only queue";
		ASSERT_EQ(vlab_virtio_driver_ok(d), 0);
		up = true;
	}
	uint8_t *Buf(size_t n)
	{
		uint64_t dev_addr = 0;
		void *p = hx_dma_alloc(m, n, 64, &dev_addr);
		EXPECT_NE(p, nullptr);
		bufs.push_back({p, n});
		memset(p, kUntouched, n);
		return static_cast<uint8_t *>(p);
	}
	vlab_addr_t Addr(const uint8_t *p)
	{
		return hx_ram_base(m) + static_cast<uint64_t>(p - static_cast<uint8_t *>(hx_ram_ptr(m, hx_ram_base(m), 1)));
	}
	// Post the writable buffers (and readable ones), run the device; the
	// pop's return code, the used length in *len.
	int Request(const std::vector<std::pair<uint8_t *, uint32_t>> &in, uint32_t *len,
	            const std::vector<std::pair<uint8_t *, uint32_t>> &out = {})
	{
		std::vector<vlab_sg> o, i;
		for (auto &b : out)
			o.push_back({Addr(b.first), b.second});
		for (auto &b : in)
			i.push_back({Addr(b.first), b.second});
		int rc = vlab_vq_add(vq, o.data(), static_cast<unsigned>(o.size()), i.data(),
		                     static_cast<unsigned>(i.size()), this);
		if (rc != 0)
			return rc;
		rc = vlab_vq_kick(vq);
		if (rc != 0)
			return rc;
		hx_run_pending(m);
		void *cookie = nullptr;
		return vlab_vq_pop(vq, &cookie, len);
	}
	// One buffer of n bytes; its used length (-1 when the pop failed).
	int64_t Ask(uint8_t *b, uint32_t n)
	{
		uint32_t len = 0;
		int rc = Request({{b, n}}, &len);
		return rc == 0 ? static_cast<int64_t>(len) : -1;
	}
	// The stream's next n bytes after pos (what the device must have written).
	std::vector<uint8_t> Stream(uint64_t pos, size_t n)
	{
		std::vector<uint8_t> v(n);
		dm_rng_stream(opts.cfg.seed, pos, v.data(), n);
		return v;
	}
	static bool Untouched(const uint8_t *p, size_t n)
	{
		for (size_t i = 0; i < n; i++)
			if (p[i] != kUntouched)
				return false;
		return true;
	}
	// Ask for n bytes in a fresh buffer: the used length is want, the
	// first want bytes are the stream's from pos, the rest untouched.
	void ExpectAnswer(uint32_t n, uint32_t want, uint64_t pos)
	{
		uint8_t *b = Buf(n);
		ASSERT_EQ(Ask(b, n), static_cast<int64_t>(want));
		EXPECT_EQ(std::vector<uint8_t>(b, b + want), Stream(pos, want));
		EXPECT_TRUE(Untouched(b + want, n - want)) << "nothing beyond the used length is written";
	}
};

TEST_P(RngModel, FillsEveryBufferFromTheSeededStream)
{
	opts.cfg.seed = 42;
	Bring();
	if (hx_transport_is_pci(GetParam())) {
		EXPECT_EQ(bound.pci.id.device, GetParam() == HX_PCI ? 0x1044u : 0x1005u)
			<< "as QEMU's virtio-rng-pci";
	}
	uint8_t *a = Buf(100), *b = Buf(1), *c1 = Buf(1000), *c2 = Buf(3096);
	uint32_t len = 0;
	// DEV-5.4.6.2-1: every byte posted is filled, used length = bytes written.
	ASSERT_EQ(Ask(a, 100), 100);
	EXPECT_EQ(std::vector<uint8_t>(a, a + 100), Stream(0, 100));
	ASSERT_EQ(Ask(b, 1), 1);
	EXPECT_EQ(b[0], Stream(100, 1)[0]);
	// One request over two descriptors: the stream runs on across them.
	ASSERT_EQ(Request({{c1, 1000}, {c2, 3096}}, &len), 0);
	EXPECT_EQ(len, 4096u);
	std::vector<uint8_t> got(c1, c1 + 1000);
	got.insert(got.end(), c2, c2 + 3096);
	EXPECT_EQ(got, Stream(101, 4096));
	EXPECT_EQ(rng->requests, 3u);
	EXPECT_EQ(rng->bytes_given, 4197u);
	EXPECT_EQ(rng->shorts + rng->empties + rng->overlongs + rng->readable, 0u);
}

TEST_P(RngModel, TheStreamIsTheSeeds)
{
	uint8_t x[16], y[16], z[16];
	dm_rng_stream(1, 0, x, sizeof x);
	dm_rng_stream(1, 0, y, sizeof y);
	dm_rng_stream(2, 0, z, sizeof z);
	EXPECT_EQ(memcmp(x, y, sizeof x), 0);
	EXPECT_NE(memcmp(x, z, sizeof x), 0);
	// splitmix64 with state 1 + gamma is 0x910a2dec89025cc1, little-endian.
	EXPECT_EQ(x[0], 0xc1u);
	EXPECT_EQ(x[7], 0x91u);
	// Random access: bytes 5..15 are the tail of the same stream.
	dm_rng_stream(1, 5, y, 11);
	EXPECT_EQ(memcmp(x + 5, y, 11), 0);
	// A reset does not rewind the device's stream.
	opts.cfg.seed = 1;
	Bring();
	uint8_t *a = Buf(8), *b = Buf(8);
	ASSERT_EQ(Ask(a, 8), 8);
	ASSERT_EQ(vlab_virtio_reset(bound.vdev), 0);
	vlab_vq_teardown(vq);
	up = false;
	ASSERT_EQ(vlab_virtio_begin(bound.vdev), 0);
	ASSERT_EQ(vlab_virtio_negotiate(bound.vdev, VLAB_BIT(VIRTIO_F_VERSION_1), 0, nullptr, 0), 0);
	ASSERT_EQ(vlab_vq_setup(vq, bound.vdev, 0, 0), 0);
	ASSERT_EQ(vlab_virtio_driver_ok(bound.vdev), 0);
	up = true;
	ASSERT_EQ(Ask(b, 8), 8);
	EXPECT_EQ(std::vector<uint8_t>(b, b + 8), Stream(8, 8));
}

TEST_P(RngModel, MaxBytesCapsEachAnswer)
{
	opts.cfg.max_bytes = 16;
	Bring();
	// DEV-5.4.6.2-2: less than the whole buffer is allowed.
	ExpectAnswer(64, 16, 0);
	EXPECT_EQ(rng->shorts, 1u);
}

TEST_P(RngModel, ShortKnobGivesFewerBytesButAtLeastOne)
{
	opts.cfg.short_by = 8;
	Bring();
	ExpectAnswer(64, 56, 0);
	ExpectAnswer(4, 1, 56); // DEV-5.4.6.2-1: one byte or more
	EXPECT_EQ(rng->shorts, 2u);
}

TEST_P(RngModel, EmptyKnobAnswersSmallRequestsWithNothing)
{
	opts.cfg.empty_upto = 16;
	Bring();
	ExpectAnswer(16, 0, 0);
	ExpectAnswer(17, 17, 0); // the stream did not move
	EXPECT_EQ(rng->empties, 1u);
	EXPECT_EQ(rng->bytes_given, 17u);
}

TEST_P(RngModel, OverlongKnobClaimsMoreThanPosted)
{
	opts.cfg.overlong_by = 4;
	Bring();
	uint8_t *a = Buf(32);
	uint32_t len = 0;
	// The core refuses a used length above what was posted.
	EXPECT_EQ(Request({{a, 32}}, &len), VLAB_EPROTO);
	EXPECT_EQ(rng->overlongs, 1u);
	EXPECT_EQ(rng->bytes_given, 32u);
	EXPECT_EQ(std::vector<uint8_t>(a, a + 32), Stream(0, 32));
}

TEST_P(RngModel, FaultPlanKinds)
{
	Bring("fault rng_empty nth=1\n"
	      "fault rng_short nth=2 value=3\n"
	      "fault rng_short nth=3\n"
	      "fault used_len nth=4 value=1\n");
	ExpectAnswer(32, 0, 0);
	ExpectAnswer(32, 29, 0);
	ExpectAnswer(32, 24, 29); // rng_short without a value: 8 short
	uint8_t *d = Buf(32);
	EXPECT_EQ(Ask(d, 32), -1) << "used_len: overlong, the core marks the device broken";
	EXPECT_EQ(rng->empties, 1u);
	EXPECT_EQ(rng->shorts, 2u);
}

TEST_P(RngModel, StallAndNeedsReset)
{
	Bring("fault stall nth=1\nfault needs_reset nth=2\n");
	uint8_t *a = Buf(8), *b = Buf(8);
	uint32_t len = 0;
	EXPECT_EQ(Request({{a, 8}}, &len), VLAB_EAGAIN) << "stall: never completed";
	EXPECT_EQ(Request({{b, 8}}, &len), VLAB_EAGAIN) << "needs_reset: unanswered";
	EXPECT_TRUE(Untouched(b, 8));
	EXPECT_EQ(vlab_virtio_check(bound.vdev), VLAB_ENEEDSRESET);
	EXPECT_EQ(rng->requests, 2u);
}

TEST_P(RngModel, DriverReadableBufferIsAViolation)
{
	Bring();
	uint8_t *o = Buf(8), *i = Buf(8);
	uint32_t len = 0;
	// DRV-5.4.6.1-1: the writable part is still served.
	ASSERT_EQ(Request({{i, 8}}, &len, {{o, 8}}), 0);
	EXPECT_EQ(len, 8u);
	EXPECT_EQ(rng->readable, 1u);
	expect_violations = true;
	EXPECT_EQ(hx_report(m)->count, 1u) << ViolationText(m);
	EXPECT_NE(ViolationText(m).find("DRV-5.4.6.1-1"), std::string::npos) << ViolationText(m);
}

INSTANTIATE_TEST_SUITE_P(AllTransports, RngModel, testing::ValuesIn(AllTransports()), TransportName);

} // namespace
