#include "blk_fixture.h"

#include <cstring>

namespace vlabtest {

std::string ViolationText(struct hx_machine *m)
{
	static char buf[65536];
	dm_report_format(hx_report(m), buf, sizeof buf);
	return buf;
}

void BlkTransportTest::TearDown()
{
	if (!expect_violations) {
		EXPECT_EQ(hx_report(bm.m)->count, 0u) << ViolationText(bm.m);
	}
	struct hx_arena_stats st;
	hx_arena_get_stats(bm.m, &st);
	EXPECT_EQ(st.bad_unmaps, 0u) << "a dma_unmap that matched no dma_map";
}

void BlkTransportTest::Reinit()
{
	vlab_blk_shutdown(&bm.blk);
	bm.inited = false;
	ASSERT_EQ(bm.Init(), 0);
}

std::vector<enum hx_transport> AllTransports()
{
	std::vector<enum hx_transport> v;
	for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
		v.push_back(static_cast<enum hx_transport>(t));
	return v;
}

std::string Ident(enum hx_transport t)
{
	std::string s = hx_transport_name(t);
	for (auto &c : s)
		if (c == '-')
			c = '_';
	return s;
}

const char *PolicyName(enum hx_sched_policy p)
{
	switch (p) {
	case HX_SCHED_IMMEDIATE:
		return "immediate";
	case HX_SCHED_DEFERRED:
		return "deferred";
	case HX_SCHED_BATCHED:
		return "batched";
	}
	return "unknown_policy";
}

std::string TransportName(const testing::TestParamInfo<enum hx_transport> &info)
{
	return Ident(info.param);
}

const std::vector<RingKind> &AllRingKinds()
{
	static const std::vector<RingKind> kinds = {
		{"split", false, false, false},  {"split_indirect", false, true, false},
		{"split_event_idx", false, false, true}, {"packed", true, false, false},
		{"packed_indirect", true, true, false},  {"packed_event_idx", true, false, true},
	};
	return kinds;
}

const RingKind &RingNamed(const char *name)
{
	for (const RingKind &k : AllRingKinds())
		if (std::strcmp(k.name, name) == 0)
			return k;
	ADD_FAILURE() << "no ring kind " << name;
	return AllRingKinds()[0];
}

bool RingFits(enum hx_transport t, const RingKind &kind)
{
	return !kind.packed || !hx_transport_legacy_only(t);
}

std::vector<Ring> AllRings()
{
	std::vector<Ring> v;
	for (const RingKind &k : AllRingKinds())
		for (enum hx_transport t : AllTransports())
			if (RingFits(t, k))
				v.push_back({t, k});
	return v;
}

std::vector<Ring> RingDiagonal()
{
	// Each kind once and each transport at least once: the legacy-only
	// transports take two split kinds, mmio (the QEMU virt machine's) the
	// plain split and the plain packed ring.
	return {{HX_MMIO_LEGACY, RingNamed("split_indirect")}, {HX_MMIO, RingNamed("split")},
	        {HX_PCI_LEGACY, RingNamed("split_event_idx")}, {HX_MMIO, RingNamed("packed")},
	        {HX_PCI_TRANSITIONAL, RingNamed("packed_indirect")}, {HX_PCI, RingNamed("packed_event_idx")}};
}

std::vector<Ring> RingsBeside(const std::vector<Ring> &some)
{
	std::vector<Ring> v;
	for (const Ring &r : AllRings()) {
		bool in = false;
		for (const Ring &s : some)
			in |= s.t == r.t && std::strcmp(s.kind.name, r.kind.name) == 0;
		if (!in)
			v.push_back(r);
	}
	return v;
}

std::string Ident(const Ring &r)
{
	return Ident(r.t) + "_" + r.kind.name;
}

std::string RingName(const testing::TestParamInfo<Ring> &info)
{
	return Ident(info.param);
}

void RingFeatures(const RingKind &kind, uint64_t *on, uint64_t *off)
{
	const uint64_t bits[3] = {VLAB_BIT(VIRTIO_F_RING_PACKED), VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC),
	                          VLAB_BIT(VIRTIO_F_RING_EVENT_IDX)};
	const bool want[3] = {kind.packed, kind.indirect, kind.event_idx};
	for (int i = 0; i < 3; i++) {
		*on = want[i] ? *on | bits[i] : *on & ~bits[i];
		*off = want[i] ? *off & ~bits[i] : *off | bits[i];
	}
}

void ExpectRingKind(const struct vlab_vq &vq, const RingKind &kind)
{
	EXPECT_EQ(vq.kind, kind.packed ? VLAB_VQ_PACKED : VLAB_VQ_SPLIT) << "queue " << vq.index << " " << kind.name;
	EXPECT_EQ(vq.ind != nullptr, kind.indirect) << "queue " << vq.index << " " << kind.name;
	EXPECT_EQ(vq.event_idx, kind.event_idx) << "queue " << vq.index << " " << kind.name;
}

BlkMachine::BlkMachine(enum hx_transport t, const struct hx_machine_cfg *mc)
{
	struct hx_machine_cfg cfg;
	hx_machine_cfg_default(&cfg);
	if (mc)
		cfg = *mc;
	m = hx_machine_new(&cfg);
	hx_blk_opts_default(&opts);
	opts.transport = t;
}

BlkMachine::BlkMachine(const Ring &r, const struct hx_machine_cfg *mc) : BlkMachine(r.t, mc)
{
	ring_ = &r.kind;
}

BlkMachine::~BlkMachine()
{
	for (auto &b : bufs_)
		hx_dma_free(m, b.first, b.second);
	if (inited)
		vlab_blk_shutdown(&blk);
	hx_machine_free(m);
}

struct hx_dev *BlkMachine::Add()
{
	const char *err = nullptr;
	if (ring_)
		RingFeatures(*ring_, &opts.features_on, &opts.features_off);
	dev = hx_add_blk(m, &opts, &err);
	EXPECT_NE(dev, nullptr) << (err ? err : "?");
	return dev;
}

int BlkMachine::Probe(unsigned flags)
{
	return hx_bind(m, dev, &bound, flags);
}

int BlkMachine::Init(uint16_t queue_cap)
{
	int rc = vlab_blk_init(&blk, bound.vdev, queue_cap);
	inited = rc == 0;
	if (inited && ring_)
		ExpectRingKind(blk.vq, *ring_);
	return rc;
}

void BlkMachine::Bring()
{
	ASSERT_NE(Add(), nullptr);
	ASSERT_EQ(Probe(), 0);
	ASSERT_EQ(Init(), 0);
}

uint8_t *BlkMachine::Buf(size_t n)
{
	uint64_t dev_addr = 0;
	void *p = hx_dma_alloc(m, n, 4096, &dev_addr);
	EXPECT_NE(p, nullptr);
	bufs_.push_back({p, n});
	return static_cast<uint8_t *>(p);
}

uint8_t *BlkMachine::Disk()
{
	return dm_store_ram_bytes(dev->blk->store);
}

void Capture(struct hx_machine *m, std::vector<std::string> *log, enum vlab_log_level level)
{
	hx_set_log(m, [](void *ctx, enum vlab_log_level, const char *msg) {
		static_cast<std::vector<std::string> *>(ctx)->push_back(msg);
	}, log, level);
}

bool Has(const std::vector<std::string> &log, const std::string &what)
{
	for (const auto &l : log)
		if (l.find(what) != std::string::npos)
			return true;
	return false;
}

void ExpectReadWriteWorks(BlkMachine &bm)
{
	uint8_t *buf = bm.Buf(4096);
	std::memset(buf, 0x5a, 4096);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 8, buf, 8), 0);
	std::memset(buf, 0, 4096);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 8, buf, 8), 0);
	EXPECT_EQ(buf[0], 0x5a);
	EXPECT_EQ(buf[4095], 0x5a);
	if (bm.Disk()) // a RAM disk: its bytes too
		EXPECT_EQ(std::memcmp(bm.Disk() + 8 * 512, buf, 4096), 0);
}

void BlkMachine::AddFault(enum dm_fault_kind k, uint64_t value, uint64_t nth, uint64_t count)
{
	struct dm_fault f;
	std::memset(&f, 0, sizeof f);
	f.kind = k;
	f.queue = -1;
	f.nth = nth;
	f.count = count;
	f.value = value;
	ASSERT_TRUE(dm_virtio_add_fault(dev->dv, &f));
}

} // namespace vlabtest

void PrintTo(enum hx_transport t, std::ostream *os)
{
	*os << vlabtest::Ident(t);
}

void PrintTo(enum hx_sched_policy p, std::ostream *os)
{
	*os << vlabtest::PolicyName(p);
}

void vlabtest::PrintTo(const Ring &r, std::ostream *os)
{
	*os << Ident(r);
}
