// The model's two ring engines driven by hand, as a driver would (and as a
// misbehaving one would): the packed ring (2.8), indirect descriptors and
// EVENT_IDX on both the packed and the split ring.  Every driver mistake
// must be recorded under its requirement ID and stop the queue; a correct
// driver must record nothing; notifications are counted so suppression is
// asserted, not assumed.
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "blk_fixture.h"

extern "C" {
#include "devmodel/spec.h"
}

using vlabtest::BlkMachine;

namespace {

constexpr uint64_t kDrvArea = 0x4000; // split: available ring; packed: driver event suppression
constexpr uint64_t kDevArea = 0x6000; // split: used ring; packed: device event suppression
constexpr uint64_t kBufArea = 0x8000; // request buffers, 0x100 each
constexpr uint64_t kAreaSize = 0x20000;

constexpr uint64_t kPacked = DM_BIT(DM_VIRTIO_F_RING_PACKED);
constexpr uint64_t kIndirect = DM_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC);
constexpr uint64_t kEventIdx = DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX);

struct Seg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

// One blk device on modern virtio-mmio; its queue 0 set up and operated
// through the transport-independent calls a front end makes.
class Rig {
public:
	BlkMachine bm{HX_MMIO};
	dm_virtio *dv = nullptr;
	dm_vq *q = nullptr;
	uint8_t *mem = nullptr;
	uint64_t base = 0;
	uint16_t n;
	bool packed = false;
	// Driver-side state: the next slot / avail idx, the wrap counter, the
	// used side, the slots each outstanding packed buffer took.
	uint16_t next = 0, used_next = 0;
	bool wrap = true, used_wrap = true;
	std::map<uint16_t, uint16_t> slots_of;

	explicit Rig(uint16_t size = 8) : n(size)
	{
		dm_blk_cfg_default(&bm.opts.cfg);
		bm.opts.cfg.features |= kPacked | kIndirect | kEventIdx;
		bm.opts.cfg_set = true;
		bm.Add();
		dv = bm.dev->dv;
		q = &dv->vq[0];
		mem = static_cast<uint8_t *>(hx_dma_alloc(bm.m, kAreaSize, 4096, &base));
		std::memset(mem, 0, kAreaSize);
	}

	// Reset, negotiate VERSION_1 | features, set up queue 0 (the areas
	// moved by the offsets given), DRIVER_OK unless told not to.
	void Init(uint64_t features, bool driver_ok = true, uint64_t desc_off = 0, uint64_t drv_off = kDrvArea)
	{
		const uint8_t ad = DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER;
		uint64_t f = features | DM_BIT(DM_VIRTIO_F_VERSION_1);
		packed = (features & kPacked) != 0;
		dm_virtio_set_status(dv, 0);
		dm_virtio_set_status(dv, DM_VIRTIO_STATUS_ACKNOWLEDGE);
		dm_virtio_set_status(dv, ad);
		dm_virtio_set_guest_features(dv, 0, (uint32_t)f);
		dm_virtio_set_guest_features(dv, 1, (uint32_t)(f >> 32));
		dm_virtio_set_status(dv, ad | DM_VIRTIO_STATUS_FEATURES_OK);
		(void)dm_virtio_get_status(dv); /* DRV-3.1.1-1: FEATURES_OK re-read */
		q->num = n;
		q->desc = base + desc_off;
		q->avail = base + drv_off;
		q->used = base + kDevArea;
		dm_virtio_queue_enable(dv, 0);
		if (driver_ok)
			dm_virtio_set_status(dv, ad | DM_VIRTIO_STATUS_FEATURES_OK | DM_VIRTIO_STATUS_DRIVER_OK);
	}

	uint8_t *At(uint64_t off) { return mem + off; }
	uint16_t Get16(uint64_t off) { return (uint16_t)(mem[off] | (mem[off + 1] << 8)); }
	uint32_t Get32(uint64_t off) { return Get16(off) | ((uint32_t)Get16(off + 2) << 16); }
	void Put16(uint64_t off, uint16_t v) { std::memcpy(mem + off, &v, 2); }

	// A 16-byte descriptor at off: addr, len, then the two 16-bit fields
	// (split: flags, next; packed: id, flags).
	void Raw(uint64_t off, uint64_t addr, uint32_t len, uint16_t at12, uint16_t at14)
	{
		std::memcpy(mem + off, &addr, 8);
		std::memcpy(mem + off + 8, &len, 4);
		std::memcpy(mem + off + 12, &at12, 2);
		std::memcpy(mem + off + 14, &at14, 2);
	}

	// A GET_ID request's segments in buffer slot r: 16-byte header, 20
	// writable ID bytes, 1 status byte.
	std::vector<Seg> GetId(unsigned r)
	{
		uint64_t b = kBufArea + 0x100ull * r;
		uint32_t type = DM_VIRTIO_BLK_T_GET_ID;
		std::memset(mem + b, 0, 0x100);
		std::memcpy(mem + b, &type, 4);
		mem[b + 0x40] = 0xee;
		return {{base + b, 16, false}, {base + b + 0x20, 20, true}, {base + b + 0x40, 1, true}};
	}
	uint8_t Status(unsigned r) { return mem[kBufArea + 0x100ull * r + 0x40]; }

	// An indirect table at offset off holding segs; flags_or is added to
	// each entry's flags (a mistake under test).
	Seg Table(uint64_t off, const std::vector<Seg> &segs, uint16_t flags_or = 0)
	{
		for (size_t i = 0; i < segs.size(); i++) {
			uint16_t fl = (uint16_t)((segs[i].writable ? DM_VIRTQ_DESC_F_WRITE : 0) | flags_or);
			if (packed) {
				Raw(off + 16 * i, segs[i].addr, segs[i].len, 0, fl);
			} else {
				if (i + 1 < segs.size())
					fl |= DM_VIRTQ_DESC_F_NEXT;
				Raw(off + 16 * i, segs[i].addr, segs[i].len, fl, (uint16_t)(i + 1));
			}
		}
		return {base + off, (uint32_t)(16 * segs.size()), false};
	}

	// ---- packed ring, driver side ----
	void PDesc(uint16_t slot, const Seg &s, uint16_t id, uint16_t flags, bool w)
	{
		flags = (uint16_t)(flags | (s.writable ? DM_VIRTQ_DESC_F_WRITE : 0) |
		                   (w ? DM_VIRTQ_DESC_F_AVAIL : DM_VIRTQ_DESC_F_USED));
		Raw(16ull * slot, s.addr, s.len, id, flags);
	}
	// Make a list available as 2.8.21 says: the rest first, the first
	// descriptor last.  extra[i] is added to descriptor i's flags.
	void PPost(const std::vector<Seg> &segs, uint16_t id, std::vector<uint16_t> extra = {})
	{
		extra.resize(segs.size());
		std::vector<std::tuple<uint16_t, bool>> at;
		for (size_t i = 0; i < segs.size(); i++) {
			at.emplace_back(next, wrap);
			if (++next == n) {
				next = 0;
				wrap = !wrap;
			}
		}
		for (size_t i = segs.size(); i-- > 0;) {
			uint16_t fl = (uint16_t)(extra[i] | (i + 1 < segs.size() ? DM_VIRTQ_DESC_F_NEXT : 0));
			PDesc(std::get<0>(at[i]), segs[i], id, fl, std::get<1>(at[i]));
		}
		slots_of[id] = (uint16_t)segs.size();
	}
	// The next used descriptor: id and length; false when none.
	bool PUsed(uint16_t *id, uint32_t *len)
	{
		uint64_t d = 16ull * used_next;
		uint16_t fl = Get16(d + 14);
		bool a = fl & DM_VIRTQ_DESC_F_AVAIL, u = fl & DM_VIRTQ_DESC_F_USED;
		if (a != used_wrap || u != used_wrap)
			return false;
		*id = Get16(d + 12);
		*len = Get32(d + 8);
		uint16_t k = slots_of.count(*id) ? slots_of[*id] : 1;
		for (uint16_t i = 0; i < k; i++)
			if (++used_next == n) {
				used_next = 0;
				used_wrap = !used_wrap;
			}
		return true;
	}
	void DriverEvent(uint16_t flags, uint16_t off = 0, bool w = true)
	{
		Put16(kDrvArea, (uint16_t)(off | (w ? 0x8000 : 0)));
		Put16(kDrvArea + 2, flags);
	}

	// ---- split ring, driver side ----
	void SDesc(uint16_t i, const Seg &s, uint16_t flags, uint16_t nx)
	{
		Raw(16ull * i, s.addr, s.len, (uint16_t)(flags | (s.writable ? DM_VIRTQ_DESC_F_WRITE : 0)), nx);
	}
	// Chain segs at descriptors head.. and expose head.
	void SPost(const std::vector<Seg> &segs, uint16_t head, std::vector<uint16_t> extra = {})
	{
		extra.resize(segs.size());
		for (size_t i = 0; i < segs.size(); i++) {
			bool more = i + 1 < segs.size();
			SDesc((uint16_t)((head + i) % n), segs[i],
			      (uint16_t)(extra[i] | (more ? DM_VIRTQ_DESC_F_NEXT : 0)), (uint16_t)((head + i + 1) % n));
		}
		Put16(kDrvArea + 4 + 2 * (next % n), head);
		next++;
		Put16(kDrvArea + 2, next);
	}
	bool SUsed(uint16_t *id, uint32_t *len)
	{
		if (Get16(kDevArea + 2) == used_next)
			return false;
		uint64_t e = kDevArea + 4 + 8ull * (used_next % n);
		*id = (uint16_t)Get32(e);
		*len = Get32(e + 4);
		used_next++;
		return true;
	}
	void UsedEvent(uint16_t v) { Put16(kDrvArea + 4 + 2ull * n, v); }
	uint16_t AvailEvent() { return Get16(kDevArea + 4 + 8ull * n); }

	// ---- either ----
	void Post(const std::vector<Seg> &segs, uint16_t id_or_head, std::vector<uint16_t> extra = {})
	{
		if (packed)
			PPost(segs, id_or_head, extra);
		else
			SPost(segs, id_or_head, extra);
	}
	bool Used(uint16_t *id, uint32_t *len) { return packed ? PUsed(id, len) : SUsed(id, len); }
	void Kick()
	{
		dm_virtio_notify(dv, 0);
		hx_run_pending(bm.m);
	}
	// One GET_ID round trip in buffer slot r; the used (id, len).
	void RoundTrip(unsigned r, uint16_t id, uint16_t *got_id, uint32_t *got_len)
	{
		Post(GetId(r), id);
		Kick();
		ASSERT_TRUE(Used(got_id, got_len)) << "no used buffer for id " << id;
	}

	const dm_report *Report() { return hx_report(bm.m); }
	bool Has(const char *req_id)
	{
		const dm_report *r = Report();
		for (unsigned i = 0; i < r->count && i < DM_REPORT_KEEP; i++)
			if (std::strcmp(r->v[i].req_id, req_id) == 0)
				return true;
		return false;
	}
	std::string Text() { return vlabtest::ViolationText(bm.m); }
	void Fault(enum dm_fault_kind k, uint64_t value = 0)
	{
		dm_fault f{};
		f.kind = k;
		f.queue = -1;
		f.count = 1;
		f.value = value;
		ASSERT_TRUE(dm_virtio_add_fault(dv, &f));
	}
};

// ---------------------------------------------------------------- packed ring

TEST(PackedRing, RequestsAcrossSeveralLapsCompleteWithTheirIdsAndLengths)
{
	Rig r(4); // a list of 3 in a ring of 4: every list but the first straddles a lap
	r.Init(kPacked);
	ASSERT_TRUE(r.q->packed);
	for (unsigned i = 0; i < 9; i++) {
		uint16_t id = 0, want = (uint16_t)(0x100 + i * 7); // IDs need not be below the queue size
		uint32_t len = 0;
		r.RoundTrip(i % 4, want, &id, &len);
		EXPECT_EQ(id, want) << "request " << i;
		EXPECT_EQ(len, 21u) << "request " << i;
		EXPECT_EQ(r.Status(i % 4), DM_VIRTIO_BLK_S_OK);
	}
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
	EXPECT_EQ(r.q->popped, 9u);
	EXPECT_EQ(r.q->kicks, 9u);
	EXPECT_EQ(r.q->interrupts, 9u);
	EXPECT_FALSE(r.q->broken);
}

TEST(PackedRing, OutOfOrderCompletionsSkipTheSlotsOfEachList)
{
	Rig r(8);
	r.Init(kPacked);
	r.Fault(DM_FAULT_OUT_OF_ORDER);
	r.Post(r.GetId(0), 5);
	r.Post(r.GetId(1), 9);
	r.Kick();
	uint16_t id = 0;
	uint32_t len = 0;
	ASSERT_TRUE(r.Used(&id, &len));
	EXPECT_EQ(id, 9u); // held back: the first one comes second
	ASSERT_TRUE(r.Used(&id, &len));
	EXPECT_EQ(id, 5u);
	EXPECT_FALSE(r.Used(&id, &len));
	uint16_t got;
	r.RoundTrip(2, 1, &got, &len); // the next list starts where the skipping says
	EXPECT_EQ(got, 1u);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(PackedRing, IndirectTableTakesOneSlot)
{
	Rig r(2);
	r.Init(kPacked | kIndirect);
	for (unsigned i = 0; i < 5; i++) {
		Seg t = r.Table(0x3000 + 0x100 * (i % 2), r.GetId(i % 2));
		r.Post({t}, (uint16_t)i, {DM_VIRTQ_DESC_F_INDIRECT});
		r.Kick();
		uint16_t id = 0;
		uint32_t len = 0;
		ASSERT_TRUE(r.Used(&id, &len)) << i;
		EXPECT_EQ(id, i);
		EXPECT_EQ(len, 21u);
		EXPECT_EQ(r.Status(i % 2), DM_VIRTIO_BLK_S_OK);
	}
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(PackedRing, QueueSizeNeedNotBeAPowerOfTwo)
{
	Rig r(3);
	r.Init(kPacked);
	uint16_t id;
	uint32_t len;
	for (unsigned i = 0; i < 4; i++)
		r.RoundTrip(i, (uint16_t)i, &id, &len);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

// A driver mistake on the packed ring: the model records it under req_id
// and (when breaks) stops the queue.
struct Mistake {
	const char *name;
	const char *req_id;
	bool breaks;
	std::function<void(Rig &)> act;
};
void PrintTo(const Mistake &m, std::ostream *os) { *os << m.name; }

class PackedMistake : public testing::TestWithParam<Mistake> {};

TEST_P(PackedMistake, IsRecordedUnderItsId)
{
	const Mistake &mk = GetParam();
	Rig r(4);
	mk.act(r);
	EXPECT_TRUE(r.Has(mk.req_id)) << mk.name << " wants " << mk.req_id << "; got:\n" << r.Text();
	EXPECT_EQ(r.q->broken, mk.breaks) << r.Text();
	if (mk.breaks) {
		// Stopped until reset: a good request later gets no answer.
		uint64_t popped = r.q->popped;
		r.Post(r.GetId(3), 77);
		r.Kick();
		EXPECT_EQ(r.q->popped, popped);
	}
}

const Mistake kPackedMistakes[] = {
	{"avail_and_used_both_set", "MODEL-PACKED-FLAGS", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 r.PDesc(0, r.GetId(0)[0], 1, DM_VIRTQ_DESC_F_USED, true); // AVAIL = USED = 1
		 r.Kick();
	 }},
	{"id_reused_while_outstanding", "MODEL-PACKED-ID", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 r.Fault(DM_FAULT_STALL); // the device keeps the first buffer
		 r.Post(r.GetId(0), 7);
		 r.Kick();
		 r.Post(r.GetId(1), 7);
		 r.Kick();
	 }},
	{"list_longer_than_queue", "DRV-2.8.17-2", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 std::vector<Seg> s = r.GetId(0);
		 s.insert(s.begin(), s[0]);
		 s.insert(s.begin(), s[0]);
		 s.resize(4); // 4 descriptors in a queue of 4, the last one NEXT-linked too
		 r.Post(s, 1, {0, 0, 0, DM_VIRTQ_DESC_F_NEXT});
		 r.Kick();
	 }},
	{"readable_after_writable", "DRV-2.8.17-3", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 std::vector<Seg> s = r.GetId(0);
		 std::swap(s[0], s[1]);
		 r.Post(s, 1);
		 r.Kick();
	 }},
	{"first_exposed_before_the_rest", "DRV-2.8.17-6", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 std::vector<Seg> s = r.GetId(0);
		 r.PDesc(0, s[0], 1, DM_VIRTQ_DESC_F_NEXT, true); // slot 1 still zero
		 r.Kick();
	 }},
	{"indirect_without_feature", "DRV-2.8.19-1", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 r.Post({r.Table(0x3000, r.GetId(0))}, 1, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_entry_with_next", "DRV-2.8.19-2", true,
	 [](Rig &r) {
		 r.Init(kPacked | kIndirect);
		 r.Post({r.Table(0x3000, r.GetId(0), DM_VIRTQ_DESC_F_NEXT)}, 1, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_entry_nested", "DRV-2.8.19-2", true,
	 [](Rig &r) {
		 r.Init(kPacked | kIndirect);
		 r.Post({r.Table(0x3000, r.GetId(0), DM_VIRTQ_DESC_F_INDIRECT)}, 1, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_with_next", "DRV-2.8.19-4", true,
	 [](Rig &r) {
		 r.Init(kPacked | kIndirect);
		 r.Post({r.Table(0x3000, r.GetId(0)), r.GetId(1)[2]}, 1, {DM_VIRTQ_DESC_F_INDIRECT, 0});
		 r.Kick();
	 }},
	{"indirect_after_next", "DRV-2.8.19-4", true,
	 [](Rig &r) {
		 r.Init(kPacked | kIndirect);
		 r.Post({r.GetId(1)[0], r.Table(0x3000, r.GetId(0))}, 1, {0, DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_table_length_odd", "MODEL-INDIRECT-LEN", true,
	 [](Rig &r) {
		 r.Init(kPacked | kIndirect);
		 Seg t = r.Table(0x3000, r.GetId(0));
		 t.len -= 8;
		 r.Post({t}, 1, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"buffer_outside_ram", "DRV-6.1-5", true,
	 [](Rig &r) {
		 r.Init(kPacked);
		 std::vector<Seg> s = r.GetId(0);
		 s[1].addr = 0xfff0000000ull;
		 r.Post(s, 1);
		 r.Kick();
	 }},
	{"descriptor_ring_misaligned", "DRV-2.8.11-1", true, [](Rig &r) { r.Init(kPacked, true, 8); }},
	{"driver_event_misaligned", "DRV-2.8.11-1", true,
	 [](Rig &r) { r.Init(kPacked, true, 0, kDrvArea + 2); }},
	{"notify_before_driver_ok", "DRV-3.1.1-7", false,
	 [](Rig &r) {
		 r.Init(kPacked, false);
		 r.Post(r.GetId(0), 1);
		 r.Kick();
	 }},
	{"driver_event_flags_reserved", "MODEL-PACKED-EVENT", false,
	 [](Rig &r) {
		 r.Init(kPacked);
		 r.DriverEvent(3);
		 r.Post(r.GetId(0), 1);
		 r.Kick();
	 }},
	{"driver_event_desc_without_event_idx", "MODEL-PACKED-EVENT", false,
	 [](Rig &r) {
		 r.Init(kPacked);
		 r.DriverEvent(DM_RING_EVENT_FLAGS_DESC);
		 r.Post(r.GetId(0), 1);
		 r.Kick();
	 }},
};

INSTANTIATE_TEST_SUITE_P(Packed, PackedMistake, testing::ValuesIn(kPackedMistakes),
                         [](const testing::TestParamInfo<Mistake> &i) { return std::string(i.param.name); });

// Used-ring faults (fault plans) act on a packed queue as on a split one.
TEST(PackedRing, FaultsChangeTheUsedDescriptor)
{
	uint16_t id = 0;
	uint32_t len = 0;
	{
		Rig r;
		r.Init(kPacked);
		r.Fault(DM_FAULT_USED_ID, 0x1234);
		r.RoundTrip(0, 3, &id, &len);
		EXPECT_EQ(id, 0x1234u);
	}
	{
		Rig r;
		r.Init(kPacked);
		r.Fault(DM_FAULT_USED_LEN, 5);
		r.RoundTrip(0, 3, &id, &len);
		EXPECT_EQ(len, 21u + 5u);
	}
	{
		Rig r;
		r.Init(kPacked);
		r.Fault(DM_FAULT_USED_ID_DUP);
		r.RoundTrip(0, 3, &id, &len);
		EXPECT_FALSE(r.Used(&id, &len)); // the second completion waits for the next one
		r.Post(r.GetId(1), 4);
		r.Kick();
		ASSERT_TRUE(r.Used(&id, &len)); // where buffer 4's belongs: buffer 3 again
		EXPECT_EQ(id, 3u);
		ASSERT_TRUE(r.Used(&id, &len));
		EXPECT_EQ(id, 4u);
	}
	{
		Rig r;
		r.Init(kPacked);
		r.Fault(DM_FAULT_USED_IDX_JUMP, 2);
		r.RoundTrip(0, 3, &id, &len);
		r.Post(r.GetId(1), 4);
		r.Kick();
		EXPECT_FALSE(r.Used(&id, &len)); // written two slots further on: slot 5, not 3
		EXPECT_NE(r.Get16(16ull * 5 + 14) & DM_VIRTQ_DESC_F_USED, 0u);
		EXPECT_EQ(r.Get16(16ull * 3 + 14) & DM_VIRTQ_DESC_F_USED, 0u);
	}
	{
		Rig r;
		r.Init(kPacked);
		r.Fault(DM_FAULT_STALL);
		r.Post(r.GetId(0), 3);
		r.Kick();
		EXPECT_FALSE(r.Used(&id, &len));
		EXPECT_EQ(r.q->popped, 1u);
	}
}

// ---------------------------------------------------------------- EVENT_IDX, packed

TEST(PackedEventIdx, DeviceAsksForTheNextSlotAcrossLaps)
{
	Rig r(4);
	r.Init(kPacked | kEventIdx);
	uint16_t id;
	uint32_t len;
	for (unsigned i = 0; i < 3; i++) {
		r.RoundTrip(i, (uint16_t)i, &id, &len);
		// Device event suppression: DESC at the device's next slot and lap.
		uint16_t want_slot = (uint16_t)(3 * (i + 1) % 4);
		bool want_wrap = (3 * (i + 1) / 4) % 2 == 0;
		EXPECT_EQ(r.Get16(kDevArea + 2), DM_RING_EVENT_FLAGS_DESC);
		EXPECT_EQ(r.Get16(kDevArea), (uint16_t)(want_slot | (want_wrap ? 0x8000 : 0))) << i;
	}
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(PackedEventIdx, DisabledInterruptsAreSuppressedAndCounted)
{
	Rig r(8);
	r.Init(kPacked);
	r.DriverEvent(DM_RING_EVENT_FLAGS_DISABLE);
	uint16_t id;
	uint32_t len;
	r.RoundTrip(0, 1, &id, &len);
	r.RoundTrip(1, 2, &id, &len);
	EXPECT_EQ(r.q->interrupts, 0u);
	EXPECT_EQ(r.q->interrupts_suppressed, 2u);
	EXPECT_EQ(r.dv->isr & DM_VIRTIO_ISR_QUEUE, 0u);
	r.DriverEvent(DM_RING_EVENT_FLAGS_ENABLE);
	r.RoundTrip(2, 3, &id, &len);
	EXPECT_EQ(r.q->interrupts, 1u);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(PackedEventIdx, InterruptOnlyWhenTheNamedSlotIsUsedEvenAcrossTheWrap)
{
	// Ring of 4, lists of 3 slots: the used writes cover slot 0-2 of lap 1,
	// then slot 3 of lap 1 and 0-1 of lap 0, then 2-3 of lap 0 and 0 of lap
	// 1, then 1-3 of lap 1.  The driver asks for slot 1 of lap 0: only the
	// second write covers it.
	Rig r(4);
	r.Init(kPacked | kEventIdx);
	r.DriverEvent(DM_RING_EVENT_FLAGS_DESC, 1, false);
	uint16_t id;
	uint32_t len;
	std::vector<uint64_t> irq;
	for (unsigned i = 0; i < 4; i++) {
		r.RoundTrip(i, (uint16_t)i, &id, &len);
		irq.push_back(r.q->interrupts);
	}
	EXPECT_EQ(irq, (std::vector<uint64_t>{0, 1, 1, 1}));
	EXPECT_EQ(r.q->interrupts_suppressed, 3u);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();

	// Slot 3 of lap 1: the slot right after the first write (not covered
	// by it), covered by the second and, a lap later, by the fourth.
	Rig s(4);
	s.Init(kPacked | kEventIdx);
	s.DriverEvent(DM_RING_EVENT_FLAGS_DESC, 3, true);
	irq.clear();
	for (unsigned i = 0; i < 4; i++) {
		s.RoundTrip(i, (uint16_t)i, &id, &len);
		irq.push_back(s.q->interrupts);
	}
	EXPECT_EQ(irq, (std::vector<uint64_t>{0, 1, 1, 2}));
	EXPECT_EQ(s.Report()->count, 0u) << s.Text();
}

// ---------------------------------------------------------------- split ring

TEST(SplitIndirect, TableChainsThroughNextWithinIt)
{
	Rig r(4);
	r.Init(kIndirect);
	for (unsigned i = 0; i < 6; i++) {
		r.Post({r.Table(0x3000, r.GetId(0))}, (uint16_t)(i % 4), {DM_VIRTQ_DESC_F_INDIRECT});
		r.Kick();
		uint16_t id = 0;
		uint32_t len = 0;
		ASSERT_TRUE(r.Used(&id, &len));
		EXPECT_EQ(id, i % 4);
		EXPECT_EQ(len, 21u);
	}
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

class SplitMistake : public testing::TestWithParam<Mistake> {};

TEST_P(SplitMistake, IsRecordedUnderItsId)
{
	const Mistake &mk = GetParam();
	Rig r(4);
	mk.act(r);
	EXPECT_TRUE(r.Has(mk.req_id)) << mk.name << " wants " << mk.req_id << "; got:\n" << r.Text();
	EXPECT_EQ(r.q->broken, mk.breaks) << r.Text();
}

const Mistake kSplitMistakes[] = {
	{"indirect_without_feature", "DRV-2.7.5.3.1-1", true,
	 [](Rig &r) {
		 r.Init(0);
		 r.Post({r.Table(0x3000, r.GetId(0))}, 0, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_nested", "DRV-2.7.5.3.1-2", true,
	 [](Rig &r) {
		 r.Init(kIndirect);
		 r.Post({r.Table(0x3000, r.GetId(0), DM_VIRTQ_DESC_F_INDIRECT)}, 0, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_more_than_queue_size", "DRV-2.7.5.3.1-3", true,
	 [](Rig &r) {
		 r.Init(kIndirect);
		 std::vector<Seg> s = r.GetId(0);
		 s.insert(s.begin(), 2, s[0]); // 5 entries, queue of 4
		 r.Post({r.Table(0x3000, s)}, 0, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"indirect_with_next", "DRV-2.7.5.3.1-4", true,
	 [](Rig &r) {
		 r.Init(kIndirect);
		 r.Post({r.Table(0x3000, r.GetId(0)), r.GetId(1)[2]}, 0, {DM_VIRTQ_DESC_F_INDIRECT, 0});
		 r.Kick();
	 }},
	{"indirect_table_length_odd", "MODEL-INDIRECT-LEN", true,
	 [](Rig &r) {
		 r.Init(kIndirect);
		 Seg t = r.Table(0x3000, r.GetId(0));
		 t.len = 40;
		 r.Post({t}, 0, {DM_VIRTQ_DESC_F_INDIRECT});
		 r.Kick();
	 }},
	{"avail_flags_with_event_idx", "DRV-2.7.7.1-3", true,
	 [](Rig &r) {
		 r.Init(kEventIdx);
		 r.Put16(kDrvArea, DM_VIRTQ_AVAIL_F_NO_INTERRUPT);
		 r.Post(r.GetId(0), 0);
		 r.Kick();
	 }},
};

INSTANTIATE_TEST_SUITE_P(Split, SplitMistake, testing::ValuesIn(kSplitMistakes),
                         [](const testing::TestParamInfo<Mistake> &i) { return std::string(i.param.name); });

TEST(SplitEventIdx, AvailEventFollowsTheDevice)
{
	Rig r(4);
	r.Init(kEventIdx);
	uint16_t id;
	uint32_t len;
	for (unsigned i = 0; i < 5; i++) {
		r.RoundTrip(i % 4, 0, &id, &len);
		EXPECT_EQ(r.AvailEvent(), i + 1);
	}
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(SplitEventIdx, UsedEventSuppressesUntilItsEntryEvenAcrossTheWrap)
{
	Rig r(4);
	r.Init(kEventIdx);
	// The queue has been running for a while: both indices just below the
	// 16-bit wrap (as after 65533 requests).
	r.q->last_avail = r.q->avail_idx_seen = r.q->used_idx = 65533;
	r.next = r.used_next = 65533;
	r.Put16(kDrvArea + 2, r.next);
	r.Put16(kDevArea + 2, r.used_next);
	r.UsedEvent(1); // interrupt when entry 1 (after the wrap) is used
	uint16_t id;
	uint32_t len;
	std::vector<uint64_t> irq;
	for (unsigned i = 0; i < 6; i++) { // used idx 65533, 65534, 65535, 0, 1, 2
		r.RoundTrip(i % 4, 0, &id, &len);
		irq.push_back(r.q->interrupts);
	}
	EXPECT_EQ(irq, (std::vector<uint64_t>{0, 0, 0, 0, 1, 1}));
	EXPECT_EQ(r.q->interrupts_suppressed, 5u);
	// Without EVENT_IDX the same used_event means nothing (DEV-2.7.7.2-1).
	Rig plain(4);
	plain.Init(0);
	plain.UsedEvent(1000);
	plain.RoundTrip(0, 0, &id, &len);
	EXPECT_EQ(plain.q->interrupts, 1u);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

TEST(SplitEventIdx, NoInterruptFlagSuppressesWithoutEventIdx)
{
	Rig r(4);
	r.Init(0);
	r.Put16(kDrvArea, DM_VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t id;
	uint32_t len;
	r.RoundTrip(0, 0, &id, &len);
	EXPECT_EQ(r.q->interrupts, 0u);
	EXPECT_EQ(r.q->interrupts_suppressed, 1u);
	EXPECT_EQ(r.q->kicks, 1u);
	EXPECT_EQ(r.Report()->count, 0u) << r.Text();
}

} // namespace
