// The device table (docs/spec/conformance-device.tsv), continued: device
// statements the model honours, each shown by driving the model by hand
// (no driver): guest memory whose every access is logged, the rings built
// here, the PCI function and the virtio-mmio registers accessed directly.
// The case names are the table's evidence.
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "devmodel/blk.h"
#include "devmodel/mmio.h"
#include "devmodel/net.h"
#include "devmodel/pci.h"
#include "devmodel/report.h"
#include "devmodel/spec.h"
#include "devmodel/virtio.h"
#include "devmodel/vq.h"
#include "harness/machine.h"
#include "harness/net.h"
}

#include "conf_offers.h"
#include "net_fixture.h"

namespace {

using conftest::NetOffers;

constexpr uint64_t kRamBase = 0x100000;
constexpr uint64_t kRamSize = 0x100000;

struct Access {
	bool write;
	uint64_t addr;
	size_t len;
	uint64_t value; // the first 8 bytes written
};

// Guest RAM at kRamBase, every access logged; deferred work runs at once;
// interrupts counted, with the interrupt status the device showed when it
// raised the line (on_irq may look at more).
struct Guest {
	std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
	std::vector<Access> log;
	std::unique_ptr<dm_report> report{new dm_report};
	dm_env env{};
	unsigned irqs = 0;
	std::vector<uint32_t> isr_at_irq;
	dm_virtio *dv = nullptr;

	Guest()
	{
		dm_report_init(report.get());
		env.ctx = this;
		env.mem_read = [](void *c, uint64_t a, void *b, size_t n) {
			Guest *g = static_cast<Guest *>(c);
			if (a < kRamBase || a - kRamBase > kRamSize || n > kRamSize - (a - kRamBase))
				return false;
			std::memcpy(b, &g->ram[a - kRamBase], n);
			g->log.push_back({false, a, n, 0});
			return true;
		};
		env.mem_write = [](void *c, uint64_t a, const void *b, size_t n) {
			Guest *g = static_cast<Guest *>(c);
			if (a < kRamBase || a - kRamBase > kRamSize || n > kRamSize - (a - kRamBase))
				return false;
			std::memcpy(&g->ram[a - kRamBase], b, n);
			uint64_t v = 0;
			std::memcpy(&v, b, n < 8 ? n : 8);
			g->log.push_back({true, a, n, v});
			return true;
		};
		env.now_ns = [](void *) -> uint64_t { return 0; };
		env.schedule = [](void *, void (*fn)(void *), void *arg, const char *) { fn(arg); };
		env.schedule_at = [](void *, void (*fn)(void *), void *arg, uint64_t) { fn(arg); };
		env.irq = [](void *c, unsigned, bool level) {
			Guest *g = static_cast<Guest *>(c);
			if (!level)
				return;
			g->irqs++;
			g->isr_at_irq.push_back(g->dv ? g->dv->isr : 0);
		};
		env.report = report.get();
	}
	uint8_t *At(uint64_t a) { return &ram[a - kRamBase]; }
	void Put16(uint64_t a, uint16_t v) { std::memcpy(At(a), &v, 2); }
	void Put32(uint64_t a, uint32_t v) { std::memcpy(At(a), &v, 4); }
	void Put64(uint64_t a, uint64_t v) { std::memcpy(At(a), &v, 8); }
	uint16_t Get16(uint64_t a) { uint16_t v; std::memcpy(&v, At(a), 2); return v; }
	uint32_t Get32(uint64_t a) { uint32_t v; std::memcpy(&v, At(a), 4); return v; }
	// Accesses (reads or writes) overlapping [a, a+n) since log entry from.
	unsigned Touches(bool write, uint64_t a, uint64_t n, size_t from = 0) const
	{
		unsigned k = 0;
		for (size_t i = from; i < log.size(); i++)
			if (log[i].write == write && log[i].addr < a + n && a < log[i].addr + log[i].len)
				k++;
		return k;
	}
	// Index of the last write overlapping [a, a+n), or -1.
	long LastWrite(uint64_t a, uint64_t n) const
	{
		for (size_t i = log.size(); i-- > 0;)
			if (log[i].write && log[i].addr < a + n && a < log[i].addr + log[i].len)
				return (long)i;
		return -1;
	}
	unsigned Violations(const char *id) const { return dm_report_violation_count(report.get(), id); }
	std::string Text() const
	{
		char buf[2048];
		dm_report_format(report.get(), buf, sizeof buf);
		return buf;
	}
};

struct Seg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

// A split virtqueue the test drives as a driver would: queue q's areas at
// kRamBase + 0x10000 * (q + 1): descriptors, +0x8000 available, +0xc000 used.
struct Ring {
	Guest &g;
	dm_virtio *dv;
	uint16_t q, n;
	uint16_t next_desc = 0, avail_idx = 0, used_seen = 0;
	uint64_t desc, avail, used;

	Ring(Guest &guest, dm_virtio *d, uint16_t index, uint16_t size)
	    : g(guest), dv(d), q(index), n(size), desc(kRamBase + 0x10000ull * (index + 1)),
	      avail(desc + 0x8000), used(desc + 0xc000)
	{
	}
	void Setup()
	{
		dm_vq *vq = &dv->vq[q];
		vq->num = n;
		vq->desc = desc;
		vq->avail = avail;
		vq->used = used;
		dm_virtio_queue_enable(dv, q);
	}
	// Chain segs and make the chain available; returns its head.
	uint16_t Post(const std::vector<Seg> &segs)
	{
		uint16_t head = next_desc;
		for (size_t i = 0; i < segs.size(); i++) {
			uint16_t at = (uint16_t)((head + i) % n);
			uint16_t flags = (uint16_t)((segs[i].writable ? DM_VIRTQ_DESC_F_WRITE : 0) |
			                            (i + 1 < segs.size() ? DM_VIRTQ_DESC_F_NEXT : 0));
			g.Put64(desc + 16ull * at, segs[i].addr);
			g.Put32(desc + 16ull * at + 8, segs[i].len);
			g.Put16(desc + 16ull * at + 12, flags);
			g.Put16(desc + 16ull * at + 14, (uint16_t)((at + 1) % n));
		}
		next_desc = (uint16_t)((head + segs.size()) % n);
		g.Put16(avail + 4 + 2ull * (avail_idx % n), head);
		avail_idx++;
		g.Put16(avail + 2, avail_idx);
		return head;
	}
	void Notify() { dm_virtio_notify(dv, q); }
	uint16_t UsedIdx() { return g.Get16(used + 2); }
	uint64_t UsedElem(uint16_t i) { return used + 4 + 8ull * (i % n); }
};

// A blk request in the 0x2000 bytes at a: 16-byte header, data of len
// bytes (at most 4096; none for 0; device-readable for OUT), status byte.
// Its segments.
std::vector<Seg> BlkRequest(Guest &g, uint64_t a, uint32_t type, uint32_t len, uint64_t sector = 0)
{
	std::memset(g.At(a), 0xcc, 0x2000);
	g.Put32(a, type);
	g.Put32(a + 4, 0);
	g.Put64(a + 8, sector);
	std::vector<Seg> s{{a, 16, false}};
	if (len)
		s.push_back({a + 0x100, len, type != DM_VIRTIO_BLK_T_OUT});
	s.push_back({a + 0x1ff0, 1, true});
	return s;
}

// Reset, features (VERSION_1 | extra) through FEATURES_OK (read back),
// setup(), DRIVER_OK: each status a superset of the one before.
template <typename F>
void Bring(dm_virtio *dv, uint64_t extra, F setup)
{
	const uint64_t f = DM_BIT(DM_VIRTIO_F_VERSION_1) | extra;
	uint8_t st = 0;
	for (unsigned bit : {0u, DM_VIRTIO_STATUS_ACKNOWLEDGE, DM_VIRTIO_STATUS_DRIVER})
		dm_virtio_set_status(dv, st = (uint8_t)(st | bit));
	for (unsigned sel = 0; sel < 2; sel++)
		dm_virtio_set_guest_features(dv, sel, (uint32_t)(f >> (32 * sel)));
	dm_virtio_set_status(dv, st = (uint8_t)(st | DM_VIRTIO_STATUS_FEATURES_OK));
	(void)dm_virtio_get_status(dv);
	setup();
	dm_virtio_set_status(dv, (uint8_t)(st | DM_VIRTIO_STATUS_DRIVER_OK));
}

// A blk device on a 1 MiB RAM disk offering the split ring alone (no
// EVENT_IDX, no packed ring), and more.
dm_blk *SplitBlk(Guest &g, uint64_t more = 0)
{
	dm_blk_cfg c;
	dm_blk_cfg_default(&c);
	c.features &= ~(DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX) | DM_BIT(DM_VIRTIO_F_RING_PACKED));
	c.features |= more;
	dm_blk *b = dm_blk_new(&c, dm_store_ram(1u << 20), &g.env, "blk0");
	g.dv = b ? &b->dv : nullptr;
	return b;
}

// ---- A blk device's split ring ----

class DeviceConfRing : public testing::Test {
protected:
	Guest g;
	dm_blk *b = nullptr;
	std::unique_ptr<Ring> r;
	static constexpr uint64_t kBufs = kRamBase + 0x80000;

	void SetUp() override
	{
		b = SplitBlk(g);
		ASSERT_NE(b, nullptr);
		r.reset(new Ring(g, &b->dv, 0, 16));
		Bring(&b->dv, 0, [&] { r->Setup(); });
	}
	void TearDown() override { dm_blk_free(b); }
	// A request in buffer slot k (0x2000 each).
	std::vector<Seg> Request(unsigned k, uint32_t type, uint32_t len, uint64_t sector = 0)
	{
		return BlkRequest(g, kBufs + 0x2000ull * k, type, len, sector);
	}
	// Post the requests, notify once, expect each used; the log index
	// from which their accesses were recorded.
	size_t Run(std::initializer_list<std::vector<Seg>> reqs)
	{
		const size_t from = g.log.size();
		const uint16_t used = r->UsedIdx();
		for (const auto &q : reqs)
			r->Post(q);
		r->Notify();
		EXPECT_EQ(r->UsedIdx(), (uint16_t)(used + reqs.size()));
		return from;
	}
};

// DEV-2.7.5.1-1, DEV-2.7.5.1-4: a write and a read: the device writes
// neither the device-readable buffers (header, write data) nor any
// descriptor, nor the available ring.
TEST_F(DeviceConfRing, ReadableBuffersAndTheDescriptorTableAreNeverWritten)
{
	auto w = Request(0, DM_VIRTIO_BLK_T_OUT, 1024, 2);
	auto rd = Request(1, DM_VIRTIO_BLK_T_IN, 1024, 2);
	const size_t from = Run({w, rd});
	for (const auto &req : {w, rd})
		for (const Seg &s : req)
			if (!s.writable) {
				EXPECT_EQ(g.Touches(true, s.addr, s.len, from), 0u) << std::hex << s.addr;
			}
	EXPECT_EQ(g.Touches(true, r->desc, 16ull * r->n, from), 0u) << "descriptor table";
	EXPECT_EQ(g.Touches(true, r->avail, 6 + 2ull * r->n, from), 0u) << "available ring";
	EXPECT_GT(g.Touches(true, rd[1].addr, rd[1].len, from), 0u) << "the read's data was written";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-2.7.5.1-2, DEV-2.7.5.1-3: a read and a GET_ID: of the device-writable
// buffers nothing is read but, as the MAY of -3 allows for diagnostics,
// their first and last bytes, one byte each (the model's check that they
// are guest RAM); none of their contents goes anywhere.
TEST_F(DeviceConfRing, WritableBuffersAreNeverRead)
{
	auto rd = Request(0, DM_VIRTIO_BLK_T_IN, 4096);
	auto id = Request(1, DM_VIRTIO_BLK_T_GET_ID, 20);
	const size_t from = Run({rd, id});
	for (const auto &req : {rd, id})
		for (const Seg &s : req)
			for (size_t i = from; s.writable && i < g.log.size(); i++) {
				const Access &a = g.log[i];
				if (a.write || a.addr >= s.addr + s.len || s.addr >= a.addr + a.len)
					continue;
				EXPECT_EQ(a.len, 1u) << std::hex << a.addr;
				EXPECT_TRUE(a.addr == s.addr || a.addr == s.addr + s.len - 1) << std::hex << a.addr;
			}
	EXPECT_GT(g.Touches(false, rd[0].addr, 16, from), 0u) << "the header was read";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-2.7.8.2-1: the used element (id, len) is written before used.idx;
// DEV-2.7.8.2-2: by then at least len bytes of the writable buffers are.
TEST_F(DeviceConfRing, UsedElementAndDataAreWrittenBeforeUsedIdx)
{
	auto rd = Request(0, DM_VIRTIO_BLK_T_IN, 2048);
	size_t from = g.log.size();
	uint16_t head = r->Post(rd);
	r->Notify();
	ASSERT_EQ(r->UsedIdx(), 1u);
	const long idx_at = g.LastWrite(r->used + 2, 2);
	const long elem_at = g.LastWrite(r->UsedElem(0), 8);
	ASSERT_GE(elem_at, 0);
	EXPECT_LT(elem_at, idx_at);
	EXPECT_EQ(g.Get32(r->UsedElem(0)), head);
	const uint32_t len = g.Get32(r->UsedElem(0) + 4);
	EXPECT_EQ(len, 2048u + 1u);
	uint64_t written = 0;
	for (long i = (long)from; i < idx_at; i++)
		for (const Seg &s : rd)
			if (s.writable && g.log[i].write && g.log[i].addr >= s.addr && g.log[i].addr < s.addr + s.len)
				written += g.log[i].len;
	EXPECT_GE(written, len) << "bytes written to the writable buffers before used.idx";
}

// DEV-2.7.10.2-1: used.flags holds only 0 or 1, whatever was there before
// (the driver initialises it, 2.7.10.1; the device writes no other value).
TEST_F(DeviceConfRing, UsedFlagsAreOnly0Or1)
{
	for (unsigned k = 0; k < 6; k++) {
		r->Post(Request(k, k % 2 ? DM_VIRTIO_BLK_T_IN : DM_VIRTIO_BLK_T_FLUSH, k % 2 ? 512 : 0));
		r->Notify();
		EXPECT_LE(g.Get16(r->used), 1u) << k;
	}
	for (const Access &a : g.log)
		if (a.write && a.addr <= r->used && r->used < a.addr + a.len) {
			EXPECT_LE(a.value & 0xffff, 1u) << "a write of used.flags";
		}
	EXPECT_EQ(r->UsedIdx(), 6u);
}

// DEV-2.7.7.2-1: without EVENT_IDX used_event is disregarded (0x8000 there
// would suppress every interrupt if it were used); DEV-2.7.7.2-3: with
// avail.flags 0, each used entry comes with an interrupt.
TEST_F(DeviceConfRing, UsedEventIsDisregardedAndAvailFlags0Interrupts)
{
	g.Put16(r->avail, 0);
	g.Put16(r->avail + 4 + 2ull * r->n, 0x8000); // used_event
	for (unsigned k = 0; k < 4; k++) {
		unsigned before = g.irqs;
		r->Post(Request(k, DM_VIRTIO_BLK_T_IN, 512));
		r->Notify();
		EXPECT_EQ(g.irqs, before + 1) << k;
		dm_virtio_isr_ack(&b->dv, DM_VIRTIO_ISR_QUEUE);
	}
	EXPECT_EQ(b->dv.vq[0].interrupts_suppressed, 0u);
}

// DEV-2.7.10.2-5: a notification with nothing new available (and one more
// for a queue already drained) changes nothing and breaks nothing.
TEST_F(DeviceConfRing, SpuriousNotificationIsHarmless)
{
	size_t from = g.log.size();
	r->Notify();
	r->Notify();
	EXPECT_EQ(g.Touches(true, r->used, 4 + 8ull * r->n, from), 0u) << "no used entry";
	EXPECT_EQ(g.irqs, 0u);
	r->Post(Request(0, DM_VIRTIO_BLK_T_IN, 512));
	r->Notify();
	r->Notify();
	EXPECT_EQ(r->UsedIdx(), 1u);
	EXPECT_FALSE(b->dv.vq[0].broken);
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.2.2.1-7 (and 2.4.1 for every transport): while the queue is not
// ready (never enabled, or after a reset) the device touches none of its
// memory, whatever it is told.
TEST_F(DeviceConfRing, NoRingAccessWhileQueueNotReady)
{
	Ring other(g, &b->dv, 1, 16); // queue 1: set up, never enabled
	dm_vq *vq1 = &b->dv.vq[1];
	vq1->num = 16;
	vq1->desc = other.desc;
	vq1->avail = other.avail;
	vq1->used = other.used;
	other.Post(Request(2, DM_VIRTIO_BLK_T_IN, 512));
	size_t from = g.log.size();
	dm_virtio_notify(&b->dv, 1);
	EXPECT_EQ(g.Touches(false, other.desc, 0x10000, from) + g.Touches(true, other.desc, 0x10000, from), 0u);
	// Queue 0 after a device reset.
	r->Post(Request(0, DM_VIRTIO_BLK_T_IN, 512));
	dm_virtio_reset(&b->dv);
	from = g.log.size();
	r->Notify();
	EXPECT_EQ(g.log.size(), from) << "no memory access at all";
}

// DEV-2.7.4.1-2 (MAY cap the descriptors of a chain): the model walks at
// most DM_CHAIN_MAX; a longer chain is refused (recorded against the
// driver, the queue stopped), never a used entry.
TEST_F(DeviceConfRing, ChainLongerThanTheCapIsRefused)
{
	dm_virtio_reset(&b->dv);
	Ring big(g, &b->dv, 0, 2048);
	big.desc = kRamBase + 0x20000; // 32 KiB of descriptors
	big.avail = kRamBase + 0x30000;
	big.used = kRamBase + 0x40000;
	Bring(&b->dv, 0, [&] { big.Setup(); });
	std::vector<Seg> segs(DM_CHAIN_MAX + 1, Seg{kBufs, 16, false});
	segs.back() = {kBufs + 0x10, 1, true};
	big.Post(segs);
	big.Notify();
	EXPECT_EQ(big.UsedIdx(), 0u);
	EXPECT_TRUE(b->dv.vq[0].broken);
	EXPECT_EQ(g.Violations("DRV-2.7.4.2-2"), 1u);
}

// ---- The PCI function, built by hand on a blk device ----

class DeviceConfPci : public testing::TestWithParam<enum dm_vpci_profile> {
protected:
	Guest g;
	dm_blk *b = nullptr;
	dm_vpci vp{};

	void SetUp() override
	{
		b = SplitBlk(g);
		ASSERT_NE(b, nullptr);
		dm_vpci_cfg pc{};
		pc.profile = GetParam();
		pc.subsys_vendor = DM_VPCI_VENDOR;
		dm_vpci_init(&vp, &pc, &b->dv);
		vp.fn.command |= DM_PCI_CMD_MASTER;
	}
	void TearDown() override
	{
		dm_vpci_fini(&vp);
		dm_blk_free(b);
	}
	uint32_t Cfg(uint32_t off, unsigned w) { return dm_pci_fn_cfg_read(&vp.fn, off, w); }
	void CfgW(uint32_t off, unsigned w, uint32_t v) { dm_pci_fn_cfg_write(&vp.fn, off, w, v); }
	uint32_t Bar(uint64_t off, unsigned w) { return vp.fn.ops->bar_read(vp.fn.ctx, DM_VPCI_MODERN_BAR, off, w); }
	void BarW(uint64_t off, unsigned w, uint32_t v)
	{
		vp.fn.ops->bar_write(vp.fn.ctx, DM_VPCI_MODERN_BAR, off, w, v);
	}
	uint32_t Cc(unsigned off, unsigned w) { return Bar(DM_VPCI_COMMON_OFF + off, w); }
	void CcW(unsigned off, unsigned w, uint32_t v) { BarW(DM_VPCI_COMMON_OFF + off, w, v); }
	// Config-space offsets of the vendor capabilities of type t.
	std::vector<uint8_t> Caps(uint8_t t)
	{
		std::vector<uint8_t> v;
		uint8_t p = (uint8_t)Cfg(0x34, 1);
		for (int guard = 0; p && guard < 48; guard++) {
			if (Cfg(p, 1) == DM_VPCI_CAP_ID_VNDR && Cfg(p + 3u, 1) == t)
				v.push_back(p);
			p = (uint8_t)Cfg(p + 1u, 1);
		}
		return v;
	}
	// Status up to FEATURES_OK through the common configuration.
	void Negotiate(uint64_t extra = 0)
	{
		const uint64_t f = DM_BIT(DM_VIRTIO_F_VERSION_1) | extra;
		CcW(DM_VPCI_CC_STATUS, 1, 0);
		CcW(DM_VPCI_CC_STATUS, 1, DM_VIRTIO_STATUS_ACKNOWLEDGE);
		CcW(DM_VPCI_CC_STATUS, 1, DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER);
		CcW(DM_VPCI_CC_GFSELECT, 4, 1);
		CcW(DM_VPCI_CC_GF, 4, (uint32_t)(f >> 32));
		CcW(DM_VPCI_CC_GFSELECT, 4, 0);
		CcW(DM_VPCI_CC_GF, 4, (uint32_t)f);
		CcW(DM_VPCI_CC_STATUS, 1,
		    DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER | DM_VIRTIO_STATUS_FEATURES_OK);
		(void)Cc(DM_VPCI_CC_STATUS, 1);
	}
	void DriverOk()
	{
		CcW(DM_VPCI_CC_STATUS, 1,
		    DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER | DM_VIRTIO_STATUS_FEATURES_OK |
		        DM_VIRTIO_STATUS_DRIVER_OK);
	}
	// Queue 0 given r's size and areas, and enabled.
	void Program(const Ring &r)
	{
		CcW(DM_VPCI_CC_Q_SELECT, 2, 0);
		CcW(DM_VPCI_CC_Q_SIZE, 2, r.n);
		CcW(DM_VPCI_CC_Q_DESC, 4, (uint32_t)r.desc);
		CcW(DM_VPCI_CC_Q_AVAIL, 4, (uint32_t)r.avail);
		CcW(DM_VPCI_CC_Q_USED, 4, (uint32_t)r.used);
		CcW(DM_VPCI_CC_Q_ENABLE, 2, 1);
	}
};

// DEV-4.1.3.2-1: each half of a 64-bit field is reachable alone: the
// queue addresses in the common configuration, capacity in the device's.
TEST_P(DeviceConfPci, SixtyFourBitFieldHalvesAreAccessibleSeparately)
{
	Negotiate();
	CcW(DM_VPCI_CC_Q_SELECT, 2, 0);
	CcW(DM_VPCI_CC_Q_DESC + 4, 4, 0x1);
	CcW(DM_VPCI_CC_Q_DESC, 4, 0x23456000);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_DESC, 4), 0x23456000u);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_DESC + 4, 4), 0x1u);
	CcW(DM_VPCI_CC_Q_DESC + 4, 4, 0x7);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_DESC, 4), 0x23456000u) << "the low half kept";
	EXPECT_EQ(b->dv.vq[0].desc, 0x723456000ull);
	EXPECT_EQ(Bar(DM_VPCI_DEVICE_OFF, 4), 2048u) << "capacity, low half";
	EXPECT_EQ(Bar(DM_VPCI_DEVICE_OFF + 4, 4), 0u) << "capacity, high half";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.1.4.3.1-3: device_feature shows the offer from bit select * 32
// (nothing beyond bit 63); DEV-4.1.4.3.1-4: driver_feature shows what the
// driver wrote, from bit select * 32.
TEST_P(DeviceConfPci, FeatureWindowsFollowTheirSelect)
{
	const uint64_t offer = b->dv.host_features;
	for (uint32_t sel = 0; sel < 4; sel++) {
		CcW(DM_VPCI_CC_DFSELECT, 4, sel);
		EXPECT_EQ(Cc(DM_VPCI_CC_DF, 4), sel < 2 ? (uint32_t)(offer >> (32 * sel)) : 0u) << sel;
	}
	Negotiate();
	CcW(DM_VPCI_CC_GFSELECT, 4, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_GF, 4), 0u);
	CcW(DM_VPCI_CC_GFSELECT, 4, 1);
	EXPECT_EQ(Cc(DM_VPCI_CC_GF, 4), (uint32_t)(DM_BIT(DM_VIRTIO_F_VERSION_1) >> 32));
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.1.4.3.1-8: queue_enable reads 0 after a reset; DEV-4.1.4.3.1-10:
// queue_reset reads 0 once the queue is enabled; DEV-4.1.4.3.1-14:
// queue_size reads 0 for a queue the device does not have.
TEST_P(DeviceConfPci, QueueRegistersAfterResetAndEnable)
{
	Negotiate();
	CcW(DM_VPCI_CC_Q_SELECT, 2, 0);
	CcW(DM_VPCI_CC_Q_DESC, 4, (uint32_t)(kRamBase + 0x10000));
	CcW(DM_VPCI_CC_Q_AVAIL, 4, (uint32_t)(kRamBase + 0x18000));
	CcW(DM_VPCI_CC_Q_USED, 4, (uint32_t)(kRamBase + 0x1c000));
	CcW(DM_VPCI_CC_Q_ENABLE, 2, 1);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_ENABLE, 2), 1u);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_RESET, 2), 0u) << "DEV-4.1.4.3.1-10";
	CcW(DM_VPCI_CC_STATUS, 1, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_STATUS, 1), 0u);
	CcW(DM_VPCI_CC_Q_SELECT, 2, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_ENABLE, 2), 0u) << "DEV-4.1.4.3.1-8";
	const uint16_t numq = (uint16_t)Cc(DM_VPCI_CC_NUMQ, 2);
	for (uint16_t q : {numq, (uint16_t)(numq + 1), (uint16_t)0xffff}) {
		CcW(DM_VPCI_CC_Q_SELECT, 2, q);
		EXPECT_EQ(Cc(DM_VPCI_CC_Q_SIZE, 2), 0u) << "DEV-4.1.4.3.1-14: queue " << q;
	}
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.1.4.4.1-2..6: the notification capability: offset 2-byte aligned,
// multiplier 0 or a power of 2 from 2, length at least 2 and covering
// every queue's notify address (queue_notify_off * multiplier + 2).
TEST_P(DeviceConfPci, NotifyCapabilityIsSound)
{
	auto caps = Caps(DM_VPCI_CFG_NOTIFY);
	ASSERT_EQ(caps.size(), 1u);
	const uint8_t p = caps[0];
	ASSERT_GE(Cfg(p + 2u, 1), 20u) << "cap_len";
	const uint32_t off = Cfg(p + 8u, 4), len = Cfg(p + 12u, 4), mult = Cfg(p + 16u, 4);
	EXPECT_EQ(off % 2, 0u) << "DEV-4.1.4.4.1-2";
	EXPECT_TRUE(mult == 0 || (mult >= 2 && (mult & (mult - 1)) == 0)) << "DEV-4.1.4.4.1-3: " << mult;
	EXPECT_GE(len, 2u) << "DEV-4.1.4.4.1-4";
	const uint16_t numq = (uint16_t)Cc(DM_VPCI_CC_NUMQ, 2);
	ASSERT_GT(numq, 0u);
	for (uint16_t q = 0; q < numq; q++) {
		CcW(DM_VPCI_CC_Q_SELECT, 2, q);
		const uint64_t noff = Cc(DM_VPCI_CC_Q_NOFF, 2);
		EXPECT_GE((uint64_t)len, noff * mult + 2) << "DEV-4.1.4.4.1-5/6: queue " << q;
	}
}

// DEV-4.1.4.5.1-3 (MSI-X off), DEV-4.1.4.5.1-2: the ISR bit of the event
// is set when the interrupt is raised; DEV-4.1.4.5.1-5: reading the ISR
// status clears it; DEV-4.1.4.5.1-4: the PCI Status register's Interrupt
// Status bit is the OR of the ISR bits.
TEST_P(DeviceConfPci, IsrIsSetBeforeTheInterruptAndClearedByRead)
{
	Negotiate();
	DriverOk();
	ASSERT_FALSE(vp.msix_control & 0x8000u) << "MSI-X is off until enabled";
	dm_virtio_raise(&b->dv, DM_VIRTIO_ISR_QUEUE);
	ASSERT_EQ(g.isr_at_irq.size(), 1u);
	EXPECT_TRUE(g.isr_at_irq[0] & DM_VIRTIO_ISR_QUEUE) << "DEV-4.1.4.5.1-3";
	EXPECT_TRUE(Cfg(0x06, 2) & 0x8u) << "DEV-4.1.4.5.1-4: PCI Status Interrupt Status";
	EXPECT_EQ(Bar(DM_VPCI_ISR_OFF, 1), DM_VIRTIO_ISR_QUEUE);
	EXPECT_EQ(Bar(DM_VPCI_ISR_OFF, 1), 0u) << "DEV-4.1.4.5.1-5";
	EXPECT_FALSE(Cfg(0x06, 2) & 0x8u) << "DEV-4.1.4.5.1-4: no ISR bit, no Interrupt Status";
	dm_virtio_config_changed(&b->dv);
	ASSERT_EQ(g.isr_at_irq.size(), 2u);
	EXPECT_TRUE(g.isr_at_irq[1] & DM_VIRTIO_ISR_CONFIG) << "DEV-4.1.4.5.1-2";
	EXPECT_EQ(Bar(DM_VPCI_ISR_OFF, 1), DM_VIRTIO_ISR_CONFIG);
	EXPECT_EQ(Bar(DM_VPCI_ISR_OFF, 1), 0u);
}

// DEV-4.1.4.9.1-1: a VIRTIO_PCI_CAP_PCI_CFG capability; -2, -3: its
// pci_cfg_data window reads and writes cap.length bytes of BAR cap.bar at
// cap.offset.
TEST_P(DeviceConfPci, PciCfgWindowReachesTheBars)
{
	auto caps = Caps(DM_VPCI_CFG_PCI);
	ASSERT_GE(caps.size(), 1u) << "DEV-4.1.4.9.1-1";
	const uint8_t p = caps[0];
	CfgW(p + 4u, 1, DM_VPCI_MODERN_BAR);
	CfgW(p + 8u, 4, DM_VPCI_DEVICE_OFF); // capacity's low half
	CfgW(p + 12u, 4, 4);
	EXPECT_EQ(Cfg(p + 16u, 4), 2048u) << "DEV-4.1.4.9.1-3";
	CfgW(p + 8u, 4, DM_VPCI_COMMON_OFF + DM_VPCI_CC_DFSELECT);
	CfgW(p + 16u, 4, 1);
	EXPECT_EQ(Cc(DM_VPCI_CC_DFSELECT, 4), 1u) << "DEV-4.1.4.9.1-2";
	CfgW(p + 8u, 4, DM_VPCI_COMMON_OFF + DM_VPCI_CC_Q_SELECT);
	CfgW(p + 12u, 4, 2);
	CfgW(p + 16u, 2, 0);
	EXPECT_EQ(Cfg(p + 16u, 2), 0u);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_SIZE, 2), b->dv.queue_num_max) << "2 bytes through the window";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.1.5.1.2.1-1, -2, -3: the table size field says how many vectors
// (2 .. 0x800; the model's are queues + 1, at most 64); -7: after reset no
// event has a vector; -5: any event may be unmapped; -8: a mapping within
// the table is taken.
TEST_P(DeviceConfPci, MsixVectorsAndMappings)
{
	ASSERT_NE(vp.msix_pos, 0u);
	const uint32_t ctl = Cfg(vp.msix_pos + 2u, 2);
	const uint32_t n = (ctl & 0x7ffu) + 1;
	EXPECT_GE(n, 2u) << "DEV-4.1.5.1.2.1-1";
	EXPECT_LE(n, 0x800u);
	EXPECT_EQ(n, vp.cfg.msix_vectors) << "DEV-4.1.5.1.2.1-2";
	EXPECT_EQ(n, b->dv.num_queues + 1u) << "DEV-4.1.5.1.2.1-3: one per queue and one for config";
	Negotiate();
	EXPECT_EQ(Cc(DM_VPCI_CC_MSIX, 2), DM_VPCI_NO_VECTOR) << "DEV-4.1.5.1.2.1-7";
	CcW(DM_VPCI_CC_Q_SELECT, 2, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_MSIX, 2), DM_VPCI_NO_VECTOR) << "DEV-4.1.5.1.2.1-7";
	CcW(DM_VPCI_CC_MSIX, 2, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_MSIX, 2), 0u) << "DEV-4.1.5.1.2.1-8";
	CcW(DM_VPCI_CC_Q_MSIX, 2, (uint16_t)(n - 1));
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_MSIX, 2), n - 1) << "DEV-4.1.5.1.2.1-8";
	CcW(DM_VPCI_CC_MSIX, 2, DM_VPCI_NO_VECTOR);
	CcW(DM_VPCI_CC_Q_MSIX, 2, DM_VPCI_NO_VECTOR);
	EXPECT_EQ(Cc(DM_VPCI_CC_MSIX, 2), DM_VPCI_NO_VECTOR) << "DEV-4.1.5.1.2.1-5";
	EXPECT_EQ(Cc(DM_VPCI_CC_Q_MSIX, 2), DM_VPCI_NO_VECTOR) << "DEV-4.1.5.1.2.1-5";
	CcW(DM_VPCI_CC_STATUS, 1, 0);
	EXPECT_EQ(Cc(DM_VPCI_CC_MSIX, 2), DM_VPCI_NO_VECTOR) << "DEV-4.1.5.1.2.1-7";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-4.1.5.3.1-1, DEV-4.1.5.4.1-1: with MSI-X enabled, an event whose
// vector is NO_VECTOR raises nothing (no message, no line); mapped, it
// sends its message.
TEST_P(DeviceConfPci, MsixEventWithoutAVectorRaisesNothing)
{
	CfgW(vp.msix_pos + 2u, 2, 0x8000); // MSI-X enable
	Negotiate();
	Ring r(g, &b->dv, 0, 16);
	Program(r);
	DriverOk();
	ASSERT_EQ(Cc(DM_VPCI_CC_MSIX, 2), DM_VPCI_NO_VECTOR);
	ASSERT_EQ(Cc(DM_VPCI_CC_Q_MSIX, 2), DM_VPCI_NO_VECTOR);
	unsigned k = 0;
	auto used = [&] {
		r.Post(BlkRequest(g, kRamBase + 0x80000, DM_VIRTIO_BLK_T_IN, 512));
		r.Notify();
		ASSERT_EQ(r.UsedIdx(), ++k);
	};
	used();
	dm_virtio_config_changed(&b->dv);
	EXPECT_EQ(vp.msix_messages, 0u) << "neither event has a vector";
	EXPECT_EQ(g.irqs, 0u) << "nor the line";
	CcW(DM_VPCI_CC_Q_MSIX, 2, 0);
	used();
	EXPECT_EQ(vp.msix_messages, 1u) << "the queue's vector";
	dm_virtio_config_changed(&b->dv);
	EXPECT_EQ(vp.msix_messages, 1u) << "still none for the configuration";
	CcW(DM_VPCI_CC_MSIX, 2, 1);
	dm_virtio_config_changed(&b->dv);
	EXPECT_EQ(vp.msix_messages, 2u) << "the configuration's vector";
	EXPECT_EQ(g.irqs, 0u);
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-2.6.1.2.1-1: after a queue reset (RING_RESET negotiated) the driver
// gives the queue another size and other areas, and re-enables it: the
// device uses what it was given.
TEST_P(DeviceConfPci, QueueReEnabledAfterResetTakesTheNewConfiguration)
{
	b->dv.host_features |= DM_BIT(DM_VIRTIO_F_RING_RESET); // offered here
	Negotiate(DM_BIT(DM_VIRTIO_F_RING_RESET));
	Ring first(g, &b->dv, 0, 16);
	Program(first);
	DriverOk();
	first.Post(BlkRequest(g, kRamBase + 0x80000, DM_VIRTIO_BLK_T_IN, 512));
	first.Notify();
	ASSERT_EQ(first.UsedIdx(), 1u);
	CcW(DM_VPCI_CC_Q_RESET, 2, 1);
	ASSERT_EQ(Cc(DM_VPCI_CC_Q_ENABLE, 2), 0u);
	Ring second(g, &b->dv, 1, 8); // queue 1's areas, used for queue 0
	second.q = 0;
	Program(second);
	EXPECT_EQ(b->dv.vq[0].num, 8u);
	EXPECT_EQ(b->dv.vq[0].desc, second.desc);
	for (unsigned k = 0; k < 10; k++) { // wraps the 8 entries
		second.Post(BlkRequest(g, kRamBase + 0x80000, DM_VIRTIO_BLK_T_IN, 512));
		second.Notify();
		ASSERT_EQ(second.UsedIdx(), k + 1) << k;
	}
	EXPECT_EQ(first.UsedIdx(), 1u) << "nothing more in the old areas";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

INSTANTIATE_TEST_SUITE_P(Profiles, DeviceConfPci, testing::Values(DM_VPCI_TRANSITIONAL, DM_VPCI_MODERN),
                         [](const testing::TestParamInfo<enum dm_vpci_profile> &i) {
	                         return std::string(i.param == DM_VPCI_MODERN ? "modern" : "transitional");
                         });

// ---- virtio-mmio registers ----

// DEV-4.2.2.1-8: QueueReset reads 0 after a device reset; -9: after the
// queue is enabled; -10: writing 1 resets the queue; -12: then QueueReset
// and QueueReady read 0.  (QueueReset exists with RING_RESET negotiated.)
TEST(DeviceConfMmio, QueueResetReadsZeroAndResetsTheQueue)
{
	Guest g;
	dm_blk *b = SplitBlk(g, DM_BIT(DM_VIRTIO_F_RING_RESET));
	ASSERT_NE(b, nullptr);
	dm_mmio m;
	dm_mmio_cfg mc{2, 0x554d4551};
	dm_mmio_init(&m, &mc, &b->dv);
	const uint64_t f = DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_F_RING_RESET);
	auto w = [&](uint32_t off, uint32_t v) { dm_mmio_write(&m, off, 4, v); };
	auto rd = [&](uint32_t off) { return dm_mmio_read(&m, off, 4); };
	auto negotiate = [&] {
		w(DM_VIRTIO_MMIO_STATUS, DM_VIRTIO_STATUS_ACKNOWLEDGE);
		w(DM_VIRTIO_MMIO_STATUS, DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER);
		for (uint32_t sel = 0; sel < 2; sel++) {
			w(DM_VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
			w(DM_VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> (32 * sel)));
		}
		w(DM_VIRTIO_MMIO_STATUS,
		  DM_VIRTIO_STATUS_ACKNOWLEDGE | DM_VIRTIO_STATUS_DRIVER | DM_VIRTIO_STATUS_FEATURES_OK);
		EXPECT_TRUE(rd(DM_VIRTIO_MMIO_STATUS) & DM_VIRTIO_STATUS_FEATURES_OK);
	};
	w(DM_VIRTIO_MMIO_STATUS, 0);
	negotiate();
	w(DM_VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_RESET), 0u);
	w(DM_VIRTIO_MMIO_QUEUE_NUM, 16);
	w(DM_VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(kRamBase + 0x10000));
	w(DM_VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(kRamBase + 0x18000));
	w(DM_VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(kRamBase + 0x1c000));
	w(DM_VIRTIO_MMIO_QUEUE_READY, 1);
	ASSERT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_READY), 1u);
	EXPECT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_RESET), 0u) << "DEV-4.2.2.1-9";
	w(DM_VIRTIO_MMIO_QUEUE_RESET, 1);
	EXPECT_FALSE(b->dv.vq[0].ready) << "DEV-4.2.2.1-10";
	EXPECT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_RESET), 0u) << "DEV-4.2.2.1-12";
	EXPECT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_READY), 0u) << "DEV-4.2.2.1-12";
	// A device reset; the register exists again once RING_RESET is.
	w(DM_VIRTIO_MMIO_STATUS, 0);
	ASSERT_EQ(rd(DM_VIRTIO_MMIO_STATUS), 0u);
	negotiate();
	w(DM_VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(rd(DM_VIRTIO_MMIO_QUEUE_RESET), 0u) << "DEV-4.2.2.1-8";
	EXPECT_EQ(g.report->count, 0u) << g.Text();
	dm_blk_free(b);
}

// ---- virtio-net ----



// DEV-2.2.2-1: no offer of the model's (its defaults, QEMU 7.2's on each
// transport) has a feature without the features it depends on: the net
// dependencies of 5.1.3.1 (blk's 5.2.3 and chapter 6 name none among the
// bits offered).  The conformance matrix's "-NAME" cells break this on
// purpose (a feature withheld alone), as a fault would.
TEST(DeviceConfOffers, EveryOfferKeepsItsDependencies)
{
	struct Dep {
		unsigned bit;
		std::vector<unsigned> any_of; // needs one of these
	};
	const unsigned csum = 0, guest_csum = 1, ctrl_vq = 17, htso4 = 11, htso6 = 12, gtso4 = 7, gtso6 = 8;
	const Dep deps[] = {
		{2, {ctrl_vq}},  {gtso4, {guest_csum}}, {gtso6, {guest_csum}}, {9, {gtso4, gtso6}},
		{10, {guest_csum}}, {htso4, {csum}},   {htso6, {csum}},       {13, {htso4, htso6}},
		{14, {csum}},    {18, {ctrl_vq}},      {19, {ctrl_vq}},       {20, {18}},
		{21, {ctrl_vq}}, {22, {ctrl_vq}},      {23, {ctrl_vq}},       {52, {ctrl_vq}},
		{53, {ctrl_vq}}, {54, {guest_csum}},   {55, {guest_csum}},    {56, {csum}},
		{60, {ctrl_vq}}, {61, {htso4, htso6}},
	};
	for (const dm_net_cfg &c : NetOffers()) {
		Guest g;
		dm_net *n = dm_net_new(&c, &g.env, "net0");
		ASSERT_NE(n, nullptr);
		const uint64_t f = n->dv.host_features;
		for (const Dep &d : deps) {
			if (!((f >> d.bit) & 1))
				continue;
			bool met = false;
			for (unsigned need : d.any_of)
				met |= ((f >> need) & 1) != 0;
			EXPECT_TRUE(met) << "bit " << d.bit << " offered without its dependency: 0x" << std::hex << f;
		}
		dm_net_free(n);
	}
}

// DEV-5.1.4.1-1: max_virtqueue_pairs lies in 1..0x8000 in every offer
// with MQ (the field exists only then), one with MQ added.
TEST(DeviceConfNet, MaxVirtqueuePairsInRange)
{
	std::vector<dm_net_cfg> offers = NetOffers();
	dm_net_cfg mq;
	dm_net_cfg_default(&mq);
	mq.features |= DM_BIT(DM_VIRTIO_NET_F_MQ) | DM_BIT(DM_VIRTIO_NET_F_CTRL_VQ);
	offers.push_back(mq);
	unsigned with_mq = 0;
	for (const dm_net_cfg &c : offers) {
		Guest g;
		dm_net *n = dm_net_new(&c, &g.env, "net0");
		ASSERT_NE(n, nullptr);
		if (n->dv.host_features & DM_BIT(DM_VIRTIO_NET_F_MQ)) { // the field exists
			uint32_t pairs = dm_virtio_config_read(&n->dv, DM_VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2);
			EXPECT_GE(pairs, 1u);
			EXPECT_LE(pairs, 0x8000u);
			with_mq++;
		}
		dm_net_free(n);
	}
	EXPECT_GE(with_mq, 1u);
}

// DEV-5.1.4.1-4: mtu, once set, never changes: not at a reset, a link
// change or a configuration change.
TEST(DeviceConfNet, MtuNeverChanges)
{
	Guest g;
	dm_net_cfg c;
	dm_net_cfg_default(&c);
	c.features |= DM_BIT(DM_VIRTIO_NET_F_MTU);
	c.mtu = 1400;
	dm_net *n = dm_net_new(&c, &g.env, "net0");
	ASSERT_NE(n, nullptr);
	g.dv = &n->dv;
	auto mtu = [&] { return dm_virtio_config_read(&n->dv, DM_VIRTIO_NET_CFG_MTU, 2); };
	EXPECT_EQ(mtu(), 1400u);
	Bring(&n->dv, DM_BIT(DM_VIRTIO_NET_F_MTU), [] {});
	EXPECT_EQ(mtu(), 1400u);
	dm_net_set_link(n, false);
	dm_net_set_link(n, true);
	dm_virtio_config_changed(&n->dv);
	EXPECT_EQ(mtu(), 1400u);
	dm_virtio_reset(&n->dv);
	EXPECT_EQ(mtu(), 1400u);
	dm_net_free(n);
}

// A NIC (modern, no MRG_RXBUF: 12-byte headers, one buffer per frame) with
// its receive and transmit rings driven here and the queue backend.
class DeviceConfNetRing : public testing::Test {
protected:
	Guest g;
	dm_net *n = nullptr;
	std::unique_ptr<Ring> rx, tx;
	static constexpr uint64_t kBufs = kRamBase + 0x80000;

	void SetUp() override
	{
		dm_net_cfg c;
		dm_net_cfg_default(&c);
		c.features &= ~(DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX) | DM_BIT(DM_VIRTIO_F_RING_PACKED) |
		                DM_BIT(DM_VIRTIO_NET_F_MRG_RXBUF));
		n = dm_net_new(&c, &g.env, "net0");
		ASSERT_NE(n, nullptr);
		g.dv = &n->dv;
		dm_net_set_backend(n, dm_net_backend_queue());
		rx.reset(new Ring(g, &n->dv, DM_VIRTIO_NET_Q_RX, 16));
		tx.reset(new Ring(g, &n->dv, DM_VIRTIO_NET_Q_TX, 16));
		// The driver's side: MAC and MTU accepted when offered (DRV-5.1.4.2-1/6).
		const uint64_t accept = c.features & (DM_BIT(DM_VIRTIO_NET_F_MAC) | DM_BIT(DM_VIRTIO_NET_F_MTU));
		Bring(&n->dv, accept, [&] {
			rx->Setup();
			tx->Setup();
		});
	}
	void TearDown() override { dm_net_free(n); }
	std::vector<uint8_t> Frame(uint32_t len, uint8_t seed)
	{
		std::vector<uint8_t> f(len);
		std::memcpy(f.data(), n->mac, 6); // to us
		for (uint32_t i = 6; i < len; i++)
			f[i] = (uint8_t)(seed + i);
		return f;
	}
};

// DEV-5.1.6.3.2-2: without MRG_RXBUF each frame takes one buffer (one used
// entry each, its length header + frame); DEV-5.1.6.4.1-5..10, -16, -20:
// the header says nothing: flags 0 (no DATA_VALID, no RSC_INFO: the frame
// is delivered as it came, fully checksummed), gso_type NONE, every field 0
// but num_buffers.  Nothing outside the buffers is written.
TEST_F(DeviceConfNetRing, ReceivedFrameTakesOneBufferAndAHeaderWithoutOffloads)
{
	for (unsigned k = 0; k < 4; k++)
		rx->Post({{kBufs + 0x1000ull * k, 2048, true}});
	rx->Notify();
	for (unsigned k = 0; k < 3; k++) {
		auto f = Frame(60 + 200 * k, (uint8_t)k);
		ASSERT_EQ(dm_net_inject(n, f.data(), (uint32_t)f.size()), 0);
		ASSERT_EQ(rx->UsedIdx(), k + 1) << "one used entry per frame";
		EXPECT_EQ(g.Get32(rx->UsedElem((uint16_t)k)), k) << "the buffer posted k-th";
		EXPECT_EQ(g.Get32(rx->UsedElem((uint16_t)k) + 4), DM_VIRTIO_NET_HDR_LEN + f.size());
		const uint8_t *h = g.At(kBufs + 0x1000ull * k);
		EXPECT_EQ(h[DM_VIRTIO_NET_HDR_OFF_FLAGS], 0u) << "DEV-5.1.6.4.1-5/6/20";
		EXPECT_EQ(h[DM_VIRTIO_NET_HDR_OFF_GSO_TYPE], 0u) << "DEV-5.1.6.4.1-7..10/16: GSO_NONE";
		for (unsigned i = 2; i < DM_VIRTIO_NET_HDR_OFF_NUM_BUFFERS; i++)
			EXPECT_EQ(h[i], 0u) << "header byte " << i;
		EXPECT_EQ(std::memcmp(h + DM_VIRTIO_NET_HDR_LEN, f.data(), f.size()), 0);
	}
	EXPECT_EQ(g.report->count, 0u) << g.Text();
}

// DEV-5.1.6.2.2-1: unknown transmit flag bits are ignored; -2, -6: without
// NEEDS_CSUM, csum_start/csum_offset are not used and the packet's own
// checksum is not touched: the frame goes out byte for byte.  (Undefined
// flags are the driver's breach, DRV-5.1.6.2.1-2, recorded as such.)
TEST_F(DeviceConfNetRing, TransmitHeaderFlagsAndChecksumFieldsAreIgnored)
{
	struct {
		uint8_t flags;
		uint16_t csum_start, csum_offset;
	} cases[] = {{0, 0x20, 0x10}, {0, 0xffff, 0xffff}, {0xf8, 0x20, 0x10}};
	unsigned k = 0;
	for (const auto &c : cases) {
		uint64_t a = kBufs + 0x1000ull * k;
		std::memset(g.At(a), 0, DM_VIRTIO_NET_HDR_LEN);
		g.At(a)[DM_VIRTIO_NET_HDR_OFF_FLAGS] = c.flags;
		g.Put16(a + 6, c.csum_start);
		g.Put16(a + 8, c.csum_offset);
		auto f = Frame(100, (uint8_t)(7 * k));
		f[50] = 0xde; // what a checksum at csum_start + csum_offset would overwrite
		f[51] = 0xad;
		std::memcpy(g.At(a + DM_VIRTIO_NET_HDR_LEN), f.data(), f.size());
		tx->Post({{a, (uint32_t)(DM_VIRTIO_NET_HDR_LEN + f.size()), false}});
		tx->Notify();
		std::vector<uint8_t> out(2048);
		long got = dm_net_queue_pop(n, out.data(), (uint32_t)out.size());
		ASSERT_EQ(got, (long)f.size()) << k;
		out.resize((size_t)got);
		EXPECT_EQ(out, f) << k;
		k++;
	}
	EXPECT_EQ(g.Violations("DRV-5.1.6.2.1-2"), 1u) << "the undefined flags, the driver's breach";
	EXPECT_EQ(g.report->count, 1u);
}

// The receive filter, driven through the driver's control commands (the
// filter is the model's: which injected frames reach the ring).
class DeviceConfNetFilter : public testing::Test {
protected:
	vlabtest::NetMachine nm{HX_MMIO};
	vlabtest::Nic *n = nullptr;
	const uint8_t other[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	void SetUp() override
	{
		nm.opts.backend = HX_NET_QUEUE;
		n = nm.Bring();
		ASSERT_NE(n, nullptr);
		ASSERT_EQ(vlab_net_set_promisc(&n->net, false), 0);
	}
	void TearDown() override { EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m); }
	// Whether a frame to dst gets through the filter (the model's count).
	bool Passes(const uint8_t *dst, uint32_t seed)
	{
		const uint64_t dropped = n->model()->dropped[DM_NET_DROP_FILTER];
		auto f = vlabtest::MakeFrame(64, seed, dst);
		(void)dm_net_inject(n->model(), f.data(), (uint32_t)f.size()); // -1: dropped
		(void)vlabtest::Recv(n);
		return n->model()->dropped[DM_NET_DROP_FILTER] == dropped;
	}
};

// DEV-5.1.6.5.1.1-3: PROMISC on takes effect with ALLMULTI on and a MAC
// table set: a unicast frame to another address gets through.
TEST_F(DeviceConfNetFilter, PromiscTakesEffectWithTheOtherModesOn)
{
	const uint8_t third[6] = {0x02, 0, 0, 0, 0, 0x42};
	ASSERT_EQ(vlab_net_set_allmulti(&n->net, true), 0);
	ASSERT_EQ(vlab_net_set_mac_table(&n->net, &other, 1, nullptr, 0), 0);
	EXPECT_FALSE(Passes(third, 1));
	ASSERT_EQ(vlab_net_set_promisc(&n->net, true), 0);
	EXPECT_TRUE(Passes(third, 2));
	EXPECT_TRUE(Passes(other, 3));
}

// DEV-5.1.6.5.2.1-1: the MAC filtering table is empty after a reset: an
// address it let through before does not pass after re-initialisation.
TEST_F(DeviceConfNetFilter, MacTableIsEmptyAfterReset)
{
	ASSERT_EQ(vlab_net_set_mac_table(&n->net, &other, 1, nullptr, 0), 0);
	EXPECT_TRUE(Passes(other, 1));
	vlab_net_shutdown(&n->net);
	n->inited = false;
	ASSERT_EQ(nm.Init(n), 0);
	ASSERT_EQ(vlab_net_set_promisc(&n->net, false), 0);
	EXPECT_FALSE(Passes(other, 2));
	EXPECT_TRUE(Passes(n->net.mac, 3));
}

} // namespace
