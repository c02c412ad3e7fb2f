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
