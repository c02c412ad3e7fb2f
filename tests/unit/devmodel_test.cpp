// The device model on its own: a minimal env over a malloc'd guest RAM
// buffer, the mmio registers driven as a driver would, hand-built rings.
// Each driver mistake must be recorded under its requirement ID; a correct
// sequence must record nothing; nothing the driver does may crash the model.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
#include "devmodel/blk.h"
#include "devmodel/fault_plan.h"
#include "devmodel/mmio.h"
#include "devmodel/report.h"
#include "vlab/blk.h"
#include "vlab/mmio.h"
}

namespace {

constexpr uint64_t kRamBase = 0x80000000ull;
constexpr size_t kRamSize = 1u << 20;

struct TestEnv {
	dm_env env{};
	dm_report report{};
	std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
	uint64_t now = 0;
	bool irq_level = false;
	struct Work {
		void (*fn)(void *);
		void *arg;
		uint64_t at;
	};
	std::vector<Work> work;

	TestEnv()
	{
		dm_report_init(&report);
		env.ctx = this;
		env.report = &report;
		env.mem_read = [](void *c, uint64_t a, void *b, size_t n) {
			auto *t = static_cast<TestEnv *>(c);
			if (a < kRamBase || a - kRamBase > kRamSize || n > kRamSize - (a - kRamBase))
				return false;
			std::memcpy(b, t->ram.data() + (a - kRamBase), n);
			return true;
		};
		env.mem_write = [](void *c, uint64_t a, const void *b, size_t n) {
			auto *t = static_cast<TestEnv *>(c);
			if (a < kRamBase || a - kRamBase > kRamSize || n > kRamSize - (a - kRamBase))
				return false;
			std::memcpy(t->ram.data() + (a - kRamBase), b, n);
			return true;
		};
		env.now_ns = [](void *c) { return static_cast<TestEnv *>(c)->now; };
		env.schedule = [](void *c, void (*fn)(void *), void *arg, const char *) {
			auto *t = static_cast<TestEnv *>(c);
			t->work.push_back({fn, arg, t->now});
		};
		env.schedule_at = [](void *c, void (*fn)(void *), void *arg, uint64_t d) {
			auto *t = static_cast<TestEnv *>(c);
			t->work.push_back({fn, arg, t->now + d});
		};
		env.irq = [](void *c, unsigned, bool level) { static_cast<TestEnv *>(c)->irq_level = level; };
	}
	// Run all work due (advancing time to the latest).
	void Run()
	{
		while (!work.empty()) {
			Work w = work.front();
			work.erase(work.begin());
			if (w.at > now)
				now = w.at;
			w.fn(w.arg);
		}
	}
	uint8_t *Ptr(uint64_t addr) { return ram.data() + (addr - kRamBase); }
	bool Has(const char *id) const
	{
		for (unsigned i = 0; i < report.count && i < DM_REPORT_KEEP; i++)
			if (std::strcmp(report.v[i].req_id, id) == 0)
				return true;
		return false;
	}
	std::string Text() const
	{
		static char buf[16384];
		dm_report_format(&report, buf, sizeof buf);
		return buf;
	}
};

// Ring layout used by the tests.
constexpr uint16_t kQ = 8;
constexpr uint64_t kDesc = kRamBase + 0x1000;
constexpr uint64_t kAvail = kRamBase + 0x1100;
constexpr uint64_t kUsed = kRamBase + 0x2000;
constexpr uint64_t kBufs = kRamBase + 0x10000;

class Model {
public:
	TestEnv te;
	dm_blk *blk = nullptr;
	dm_mmio m{};
	uint16_t avail_idx = 0;
	uint16_t used_seen = 0;
	uint32_t version;

	explicit Model(uint32_t ver = 2, dm_blk_cfg *cfg_in = nullptr) : version(ver)
	{
		dm_blk_cfg cfg;
		dm_blk_cfg_default(&cfg);
		if (cfg_in)
			cfg = *cfg_in;
		blk = dm_blk_new(&cfg, dm_store_ram(1u << 20), &te.env, "blk0");
		dm_mmio_cfg mc{ver, 0x554d4551};
		dm_mmio_init(&m, &mc, &blk->dv);
	}
	~Model() { dm_blk_free(blk); }

	uint32_t R(uint32_t off, unsigned w = 4) { return dm_mmio_read(&m, off, w); }
	void W(uint32_t off, uint32_t v, unsigned w = 4) { dm_mmio_write(&m, off, w, v); }

	uint64_t DevFeatures()
	{
		W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
		uint64_t f = R(VIRTIO_MMIO_DEVICE_FEATURES);
		W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		f |= (uint64_t)R(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
		return f;
	}
	void SetFeatures(uint64_t f)
	{
		W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
		W(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
		W(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
		W(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	}
	void SetupQueue()
	{
		W(VIRTIO_MMIO_QUEUE_SEL, 0);
		EXPECT_GE(R(VIRTIO_MMIO_QUEUE_NUM_MAX), kQ);
		W(VIRTIO_MMIO_QUEUE_NUM, kQ);
		if (version == 2) {
			EXPECT_EQ(R(VIRTIO_MMIO_QUEUE_READY), 0u);
			W(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)kDesc);
			W(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(kDesc >> 32));
			W(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)kAvail);
			W(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(kAvail >> 32));
			W(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)kUsed);
			W(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(kUsed >> 32));
			W(VIRTIO_MMIO_QUEUE_READY, 1);
		} else {
			// Legacy: desc at pfn*4096, avail right after, used at the next 4096.
			W(VIRTIO_MMIO_QUEUE_ALIGN, 4096);
			W(VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(kDesc / 4096));
		}
	}
	// The whole init sequence of 3.1.1 / 4.2.3.
	void Init(uint64_t want = VLAB_BIT(VIRTIO_BLK_F_FLUSH) | VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE))
	{
		ASSERT_EQ(R(VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
		ASSERT_EQ(R(VIRTIO_MMIO_VERSION), version);
		ASSERT_EQ(R(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
		if (version == 1)
			W(VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
		W(VIRTIO_MMIO_STATUS, 0);
		ASSERT_EQ(R(VIRTIO_MMIO_STATUS), 0u);
		W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
		W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
		uint64_t f = DevFeatures() & (want | (version == 2 ? VLAB_BIT(VIRTIO_F_VERSION_1) : 0));
		SetFeatures(f);
		uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
		if (version == 2) {
			st |= VIRTIO_STATUS_FEATURES_OK;
			W(VIRTIO_MMIO_STATUS, st);
			ASSERT_TRUE(R(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
		}
		SetupQueue();
		W(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	}

	uint64_t AvailAddr() const { return version == 2 ? kAvail : kDesc + 16 * kQ; }
	uint64_t UsedAddr() const { return version == 2 ? kUsed : kDesc + 4096; }

	void Desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
	{
		uint8_t *d = te.Ptr(kDesc + 16 * i);
		std::memcpy(d, &addr, 8);
		std::memcpy(d + 8, &len, 4);
		std::memcpy(d + 12, &flags, 2);
		std::memcpy(d + 14, &next, 2);
	}
	void Expose(uint16_t head)
	{
		uint64_t a = AvailAddr();
		std::memcpy(te.Ptr(a + 4 + 2 * (avail_idx % kQ)), &head, 2);
		avail_idx++;
		std::memcpy(te.Ptr(a + 2), &avail_idx, 2);
		W(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		te.Run();
	}
	uint16_t UsedIdx()
	{
		uint16_t v;
		std::memcpy(&v, te.Ptr(UsedAddr() + 2), 2);
		return v;
	}
	// Next used element (id, len); false when none.
	bool Used(uint32_t *id, uint32_t *len)
	{
		if (UsedIdx() == used_seen)
			return false;
		uint8_t *e = te.Ptr(UsedAddr() + 4 + 8 * (used_seen % kQ));
		std::memcpy(id, e, 4);
		std::memcpy(len, e + 4, 4);
		used_seen++;
		return true;
	}

	// A blk request with header at kBufs, data at kBufs+0x100, status at kBufs+0x80.
	uint8_t Request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable,
	                uint32_t *used_len = nullptr)
	{
		uint8_t *h = te.Ptr(kBufs);
		std::memcpy(h, &type, 4);
		std::memset(h + 4, 0, 4);
		std::memcpy(h + 8, &sector, 8);
		te.Ptr(kBufs + 0x80)[0] = 0xee;
		uint16_t n = 0;
		Desc(n, kBufs, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
		n++;
		if (data_len) {
			Desc(n, kBufs + 0x100, data_len,
			     (uint16_t)(VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0)),
			     (uint16_t)(n + 1));
			n++;
		}
		Desc(n, kBufs + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
		Expose(0);
		uint32_t id = 0xffff, len = 0;
		EXPECT_TRUE(Used(&id, &len));
		EXPECT_EQ(id, 0u);
		if (used_len)
			*used_len = len;
		return te.Ptr(kBufs + 0x80)[0];
	}
	uint8_t *Data() { return te.Ptr(kBufs + 0x100); }
};

TEST(DevmodelMmio, IdentificationRegisters)
{
	Model d;
	EXPECT_EQ(d.R(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
	EXPECT_EQ(d.R(VIRTIO_MMIO_VERSION), 2u);
	EXPECT_EQ(d.R(VIRTIO_MMIO_DEVICE_ID), 2u);
	EXPECT_EQ(d.R(VIRTIO_MMIO_VENDOR_ID), 0x554d4551u);
	Model l(1);
	EXPECT_EQ(l.R(VIRTIO_MMIO_VERSION), 1u);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelMmio, EmptySlotShowsDeviceIdZero)
{
	dm_mmio m;
	dm_mmio_cfg mc{2, 0x554d4551};
	dm_mmio_init(&m, &mc, nullptr);
	EXPECT_EQ(dm_mmio_read(&m, VIRTIO_MMIO_MAGIC_VALUE, 4), VIRTIO_MMIO_MAGIC);
	EXPECT_EQ(dm_mmio_read(&m, VIRTIO_MMIO_VERSION, 4), 2u);
	EXPECT_EQ(dm_mmio_read(&m, VIRTIO_MMIO_DEVICE_ID, 4), 0u);
	// Nothing else does anything, nothing crashes.
	dm_mmio_write(&m, VIRTIO_MMIO_STATUS, 4, 1);
	EXPECT_EQ(dm_mmio_read(&m, VIRTIO_MMIO_STATUS, 4), 0u);
	EXPECT_EQ(dm_mmio_read(&m, VIRTIO_MMIO_CONFIG, 4), 0u);
}

TEST(DevmodelMmio, FeatureSelectSemantics)
{
	Model d;
	d.W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = d.R(VIRTIO_MMIO_DEVICE_FEATURES);
	EXPECT_TRUE(lo & (1u << VIRTIO_BLK_F_FLUSH));
	EXPECT_TRUE(lo & (1u << VIRTIO_BLK_F_SEG_MAX));
	d.W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(d.R(VIRTIO_MMIO_DEVICE_FEATURES), 1u); // VERSION_1 is bit 32
	d.W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	EXPECT_EQ(d.R(VIRTIO_MMIO_DEVICE_FEATURES), 0u);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
	// Legacy shows 32 bits only: no VERSION_1.
	Model l(1);
	l.W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(l.R(VIRTIO_MMIO_DEVICE_FEATURES), 0u);
}

TEST(DevmodelInit, CorrectV2SequenceRecordsNothing)
{
	Model d;
	d.Init();
	EXPECT_TRUE(dm_virtio_running(&d.blk->dv));
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
	EXPECT_GT(d.te.report.nchecked, 5u);
}

TEST(DevmodelInit, CorrectV1SequenceRecordsNothing)
{
	Model d(1);
	d.Init();
	EXPECT_TRUE(dm_virtio_running(&d.blk->dv));
	EXPECT_EQ(d.blk->dv.vq[0].avail, kDesc + 16 * kQ);
	EXPECT_EQ(d.blk->dv.vq[0].used, kDesc + 4096);
	std::memset(d.Data(), 0x5a, 512);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_OUT, 2, 512, false), VIRTIO_BLK_S_OK);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelInit, ResetClearsEverything)
{
	Model d;
	d.Init();
	d.W(VIRTIO_MMIO_STATUS, 0);
	EXPECT_EQ(d.R(VIRTIO_MMIO_STATUS), 0u);
	d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
	EXPECT_EQ(d.R(VIRTIO_MMIO_QUEUE_READY), 0u);
	EXPECT_EQ(d.R(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
	EXPECT_EQ(d.blk->dv.guest_features, 0u);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

// One driver mistake, the ID it must be recorded under.
struct Mistake {
	const char *name;
	const char *id;
	std::function<void(Model &)> act;
};
void PrintTo(const Mistake &m, std::ostream *os) { *os << m.name; }

class DevmodelDriverMistake : public testing::TestWithParam<Mistake> {};

TEST_P(DevmodelDriverMistake, IsRecordedUnderItsId)
{
	const Mistake &mk = GetParam();
	Model d(std::strstr(mk.name, "v1_") == mk.name ? 1 : 2);
	mk.act(d);
	EXPECT_TRUE(d.te.Has(mk.id)) << mk.name << " wants " << mk.id << "; got:\n" << d.te.Text();
}

void Ack(Model &d)
{
	d.W(VIRTIO_MMIO_STATUS, 0);
	d.W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	d.W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}
constexpr uint8_t kAD = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

// The device also offers feature bit `offered`; the driver accepts VERSION_1
// alone and operates the device (DRIVER_OK).
void OfferedButOnlyVersion1Accepted(Model &d, unsigned offered)
{
	d.blk->dv.host_features |= VLAB_BIT(offered);
	Ack(d);
	d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1));
	d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
	d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

const Mistake kMistakes[] = {
	{"narrow_control_read", "DRV-4.2.2.2-4", [](Model &d) { d.R(VIRTIO_MMIO_STATUS, 2); }},
	{"unaligned_control_write", "DRV-4.2.2.2-4", [](Model &d) { d.W(VIRTIO_MMIO_STATUS + 1, 1, 1); }},
	{"write_read_only", "DRV-4.2.2.2-2", [](Model &d) { d.W(VIRTIO_MMIO_MAGIC_VALUE, 0); }},
	{"read_write_only", "DRV-4.2.2.2-3", [](Model &d) { d.R(VIRTIO_MMIO_QUEUE_SEL); }},
	{"undefined_offset", "DRV-4.2.2.2-1", [](Model &d) { d.R(0x0f0); }},
	{"v1_queue_ready_undefined", "DRV-4.2.2.2-1", [](Model &d) { d.R(VIRTIO_MMIO_QUEUE_READY); }},
	{"v2_queue_pfn_undefined", "DRV-4.2.2.2-1", [](Model &d) { d.W(VIRTIO_MMIO_QUEUE_PFN, 1); }},
	{"config_beyond_space", "DRV-4.2.2.2-1", [](Model &d) { d.R(VIRTIO_MMIO_CONFIG + 0x80); }},
	{"features_read_without_sel", "DRV-4.2.2.2-12",
	 [](Model &d) {
		 d.W(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
		 d.R(VIRTIO_MMIO_DEVICE_FEATURES);
		 d.R(VIRTIO_MMIO_DEVICE_FEATURES);
	 }},
	{"features_write_without_sel", "DRV-4.2.2.2-13",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	 }},
	{"queue_num_above_max", "DRV-4.2.2.2-14",
	 [](Model &d) {
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_NUM, d.R(VIRTIO_MMIO_QUEUE_NUM_MAX) + 1);
	 }},
	{"queue_reg_while_ready", "DRV-4.2.2.2-15",
	 [](Model &d) {
		 d.Init();
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	 }},
	{"interrupt_ack_undefined_bits", "DRV-4.2.2.2-20", [](Model &d) { d.W(VIRTIO_MMIO_INTERRUPT_ACK, 4); }},
	{"config_unaligned", "DRV-4.2.2.2-5", [](Model &d) { d.R(VIRTIO_MMIO_CONFIG + 1, 2); }},
	{"config_width_3", "DRV-4.2.2.2-5", [](Model &d) { d.R(VIRTIO_MMIO_CONFIG, 3); }},
	{"status_bit_cleared", "DRV-2.1.1-2",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	 }},
	{"driver_before_acknowledge", "DRV-3.1.1-1",
	 [](Model &d) {
		 d.W(VIRTIO_MMIO_STATUS, 0);
		 d.W(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER);
	 }},
	{"driver_ok_before_features_ok", "DRV-3.1.1-1",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_DRIVER_OK);
	 }},
	{"feature_not_offered", "DRV-2.2.1-1",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_BLK_F_MQ));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
	 }},
	{"v1_feature_not_offered", "DRV-2.2.1-1",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_BLK_F_MQ));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_DRIVER_OK);
	 }},
	{"features_changed_after_features_ok", "DRV-3.1.1-4",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_BLK_F_FLUSH));
	 }},
	{"version_1_not_accepted", "DRV-6.1-1",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_BLK_F_FLUSH));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
	 }},
	{"access_platform_offered_not_accepted", "DRV-6.1-3",
	 [](Model &d) { OfferedButOnlyVersion1Accepted(d, VIRTIO_F_ACCESS_PLATFORM); }},
	{"order_platform_offered_not_accepted", "DRV-6.1-7",
	 [](Model &d) { OfferedButOnlyVersion1Accepted(d, VIRTIO_F_ORDER_PLATFORM); }},
	{"shared_memory_register_read", "DRV-4.2.3.1.1-5", [](Model &d) { d.R(VIRTIO_MMIO_SHM_LEN_LOW); }},
	{"reinit_after_failed", "DRV-2.1.1-3",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FAILED);
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FAILED | VIRTIO_STATUS_FEATURES_OK);
	 }},
	{"config_write_before_features_ok", "DRV-3.1.1-3",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_WRITEBACK, 1, 1);
	 }},
	{"notify_before_driver_ok", "DRV-3.1.1-7",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	 }},
	{"ring_misaligned", "DRV-2.7.1-1",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_NUM, 8);
		 d.W(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)kDesc + 8);
		 d.W(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		 d.W(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)kAvail);
		 d.W(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)kUsed);
		 d.W(VIRTIO_MMIO_QUEUE_READY, 1);
	 }},
	// Legacy virtio-mmio (4.2.4): QueuePFN counts pages of GuestPageSize, which
	// the driver must write first; a model default would hide the omission.
	{"v1_queue_pfn_without_guest_page_size", "MODEL-MMIO-GUEST-PAGE-SIZE",
	 [](Model &d) {
		 Ack(d);
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_NUM, 8);
		 d.W(VIRTIO_MMIO_QUEUE_ALIGN, 4096);
		 d.W(VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(kDesc / 4096));
	 }},
	{"queue_size_not_power_of_2", "MODEL-QUEUE-SIZE",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_NUM, 6);
		 d.W(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)kDesc);
		 d.W(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)kAvail);
		 d.W(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)kUsed);
		 d.W(VIRTIO_MMIO_QUEUE_READY, 1);
	 }},
	{"ring_outside_ram", "DRV-6.1-5",
	 [](Model &d) {
		 Ack(d);
		 d.SetFeatures(VLAB_BIT(VIRTIO_F_VERSION_1));
		 d.W(VIRTIO_MMIO_STATUS, kAD | VIRTIO_STATUS_FEATURES_OK);
		 d.W(VIRTIO_MMIO_QUEUE_SEL, 0);
		 d.W(VIRTIO_MMIO_QUEUE_NUM, 8);
		 d.W(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
		 d.W(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)kAvail);
		 d.W(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)kUsed);
		 d.W(VIRTIO_MMIO_QUEUE_READY, 1);
	 }},
	{"descriptor_outside_ram", "DRV-6.1-5",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, 0x1000, 16, VIRTQ_DESC_F_NEXT, 1);
		 d.Desc(1, kBufs, 1, VIRTQ_DESC_F_WRITE, 0);
		 d.Expose(0);
	 }},
	{"looping_chain", "DRV-2.7.5.2-1",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT, 1);
		 d.Desc(1, kBufs, 16, VIRTQ_DESC_F_NEXT, 0);
		 d.Expose(0);
	 }},
	{"chain_longer_than_2_32", "DRV-2.7.5.2-1",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, kBufs, 0xffffffffu, VIRTQ_DESC_F_NEXT, 1);
		 d.Desc(1, kBufs, 16, 0, 0);
		 d.Expose(0);
	 }},
	{"readable_after_writable", "DRV-2.7.4.2-1",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
		 d.Desc(1, kBufs, 16, 0, 0);
		 d.Expose(0);
	 }},
	{"indirect_without_feature", "DRV-2.7.5.3.1-1",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, kBufs, 32, VIRTQ_DESC_F_INDIRECT, 0);
		 d.Expose(0);
	 }},
	{"head_out_of_range", "MODEL-DESC-INDEX",
	 [](Model &d) {
		 d.Init();
		 d.Expose(200);
	 }},
	{"avail_idx_jumps", "DRV-2.7.6.1-1",
	 [](Model &d) {
		 d.Init();
		 uint16_t idx = 100;
		 std::memcpy(d.te.Ptr(kAvail + 2), &idx, 2);
		 d.W(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		 d.te.Run();
	 }},
	{"avail_flags_undefined", "DRV-2.7.7.1-1",
	 [](Model &d) {
		 d.Init();
		 d.te.Ptr(kAvail)[0] = 2;
		 d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT, 1);
		 d.Desc(1, kBufs + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
		 d.Expose(0);
	 }},
	{"exposed_head_changed", "DRV-3.3.1-1",
	 [](Model &d) {
		 dm_fault f{};
		 f.kind = DM_FAULT_STALL;
		 f.queue = -1;
		 dm_virtio_add_fault(&d.blk->dv, &f);
		 d.Init();
		 d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT, 1);
		 d.Desc(1, kBufs + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
		 d.Expose(0);
		 d.Expose(0); // the device still owns head 0
	 }},
	{"blk_beyond_capacity", "DRV-5.2.6.1-1",
	 [](Model &d) {
		 d.Init();
		 EXPECT_EQ(d.Request(VIRTIO_BLK_T_IN, 2048, 512, true), VIRTIO_BLK_S_IOERR);
	 }},
	{"blk_len_not_sector_multiple", "DRV-5.2.6.1-5",
	 [](Model &d) {
		 d.Init();
		 EXPECT_EQ(d.Request(VIRTIO_BLK_T_OUT, 0, 100, false), VIRTIO_BLK_S_IOERR);
	 }},
	{"blk_flush_sector_nonzero", "DRV-5.2.6.1-3",
	 [](Model &d) {
		 d.Init();
		 d.Request(VIRTIO_BLK_T_FLUSH, 7, 0, false);
	 }},
	{"blk_flush_with_data", "DRV-5.2.6.1-4",
	 [](Model &d) {
		 d.Init();
		 d.Request(VIRTIO_BLK_T_FLUSH, 0, 512, false);
	 }},
	{"blk_get_id_wrong_size", "DRV-5.2.6.1-7",
	 [](Model &d) {
		 d.Init();
		 EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 16, true), VIRTIO_BLK_S_IOERR);
	 }},
	{"blk_no_status_byte", "MODEL-BLK-REQ-FORMAT",
	 [](Model &d) {
		 d.Init();
		 d.Desc(0, kBufs, 16, 0, 0);
		 d.Expose(0);
		 uint32_t id, len;
		 ASSERT_TRUE(d.Used(&id, &len));
		 EXPECT_EQ(len, 0u);
	 }},
};

INSTANTIATE_TEST_SUITE_P(All, DevmodelDriverMistake, testing::ValuesIn(kMistakes),
                         [](const testing::TestParamInfo<Mistake> &i) { return std::string(i.param.name); });

TEST(DevmodelBlk, ReadWriteFlushGetId)
{
	Model d;
	d.Init();
	uint8_t *disk = dm_store_ram_bytes(d.blk->store);
	ASSERT_NE(disk, nullptr);

	for (int i = 0; i < 1024; i++)
		d.Data()[i] = (uint8_t)(i * 7);
	uint32_t len = 0;
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_OUT, 3, 1024, false, &len), VIRTIO_BLK_S_OK);
	EXPECT_EQ(len, 1u);
	EXPECT_EQ(std::memcmp(disk + 3 * 512, d.Data(), 1024), 0);
	EXPECT_TRUE(d.te.irq_level);
	d.W(VIRTIO_MMIO_INTERRUPT_ACK, d.R(VIRTIO_MMIO_INTERRUPT_STATUS));
	EXPECT_FALSE(d.te.irq_level);

	std::memset(d.Data(), 0, 1024);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_IN, 3, 1024, true, &len), VIRTIO_BLK_S_OK);
	EXPECT_EQ(len, 1025u);
	for (int i = 0; i < 1024; i++)
		ASSERT_EQ(d.Data()[i], (uint8_t)(i * 7)) << i;

	uint64_t flushes = d.blk->store->flushes;
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_FLUSH, 0, 0, false, &len), VIRTIO_BLK_S_OK);
	EXPECT_EQ(d.blk->store->flushes, flushes + 1);

	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true, &len), VIRTIO_BLK_S_OK);
	EXPECT_EQ(len, 21u);
	char id[21] = {};
	std::memcpy(id, d.Data(), 20);
	EXPECT_STREQ(id, "vlab-blk");

	EXPECT_EQ(d.Request(99, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();

	// Config: capacity in 512-byte sectors, blk_size.
	uint64_t cap = d.R(VIRTIO_MMIO_CONFIG) | (uint64_t)d.R(VIRTIO_MMIO_CONFIG + 4) << 32;
	EXPECT_EQ(cap, (1u << 20) / 512u);
	EXPECT_EQ(d.R(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_BLK_SIZE), 512u);
}

TEST(DevmodelBlk, FlushWithoutFeatureIsUnsupported)
{
	Model d;
	d.Init(0);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelBlk, ReadOnlyRefusesWrites)
{
	dm_blk_cfg cfg;
	dm_blk_cfg_default(&cfg);
	cfg.features |= VLAB_BIT(VIRTIO_BLK_F_RO);
	Model d(2, &cfg);
	d.Init(VLAB_BIT(VIRTIO_BLK_F_RO));
	std::memset(d.Data(), 0x33, 512);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_OUT, 0, 512, false), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(dm_store_ram_bytes(d.blk->store)[0], 0);
	EXPECT_TRUE(d.te.Has("MODEL-BLK-RO-WRITE"));
}

// DISCARD / WRITE_ZEROES (5.2.6), driven by hand: the segments are the
// request's readable data.
struct DwzModel {
	dm_blk_cfg cfg;
	std::unique_ptr<Model> d;
	DwzModel()
	{
		dm_blk_cfg_default(&cfg);
		cfg.features |= VLAB_BIT(VIRTIO_BLK_F_DISCARD) | VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
		cfg.max_discard_sectors = 64;
		cfg.max_discard_seg = 1;
		cfg.discard_sector_alignment = 1;
		cfg.max_write_zeroes_sectors = 64;
		cfg.max_write_zeroes_seg = 1;
		cfg.write_zeroes_may_unmap = 1;
		d = std::make_unique<Model>(2, &cfg);
		d->Init(VLAB_BIT(VIRTIO_BLK_F_FLUSH) | VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE) | VLAB_BIT(VIRTIO_BLK_F_DISCARD) |
		        VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	}
	// Segment i of the request's data.
	void Seg(unsigned i, uint64_t sector, uint32_t num, uint32_t flags)
	{
		uint8_t *p = d->Data() + 16 * i;
		std::memcpy(p, &sector, 8);
		std::memcpy(p + 8, &num, 4);
		std::memcpy(p + 12, &flags, 4);
	}
	uint8_t *Disk() { return dm_store_ram_bytes(d->blk->store); }
};

TEST(DevmodelBlk, DiscardAndWriteZeroesAnswerAsTheSpecAndQemu)
{
	DwzModel m;
	std::memset(m.Disk(), 0x5a, 16 * 512);
	m.Seg(0, 2, 4, 0);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 16 * 512; i++)
		ASSERT_EQ(m.Disk()[i], i >= 2 * 512 && i < 6 * 512 ? 0 : 0x5a) << i; // DEV-5.2.6.2-7
	m.Seg(0, 8, 2, VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false), VIRTIO_BLK_S_OK);
	EXPECT_EQ(m.Disk()[8 * 512], 0);
	EXPECT_EQ(m.d->blk->zeroes_unmap, 1u);
	m.Seg(0, 10, 2, 0);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_OK);
	EXPECT_EQ(m.Disk()[10 * 512], 0);
	// Unknown flags: UNSUPP, nothing done (DEV-5.2.6.2-3).
	m.Seg(0, 12, 2, 2);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(m.Disk()[12 * 512], 0x5a);
	// Above max_*_sectors, or beyond the disk: IOERR (QEMU).
	m.Seg(0, 0, 65, 0);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(m.Disk()[0], 0x5a);
	EXPECT_EQ(m.d->te.report.count, 0u) << m.d->te.Text();
	// UNMAP on a DISCARD: UNSUPP (DEV-5.2.6.2-4), and the driver's breach.
	m.Seg(0, 12, 2, VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_DISCARD, 0, 16, false), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(m.Disk()[12 * 512], 0x5a);
	EXPECT_TRUE(m.d->te.Has("DRV-5.2.6.1-13"));
}

TEST(DevmodelBlk, DiscardAndWriteZeroesDriverMistakesAreRecorded)
{
	{
		DwzModel m; // not whole segments
		m.Seg(0, 0, 1, 0);
		EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_DISCARD, 0, 8, false), VIRTIO_BLK_S_IOERR);
		EXPECT_TRUE(m.d->te.Has("DRV-5.2.6.1-6"));
	}
	// Two segments where max_discard_seg / max_write_zeroes_seg is 1.
	for (const bool zeroes : {false, true}) {
		DwzModel m;
		m.Seg(0, 0, 1, 0);
		m.Seg(1, 4, 1, 0);
		EXPECT_EQ(m.d->Request(zeroes ? VLAB_VIRTIO_BLK_T_WRITE_ZEROES : VLAB_VIRTIO_BLK_T_DISCARD, 0, 32, false),
		          VIRTIO_BLK_S_IOERR);
		EXPECT_TRUE(m.d->te.Has(zeroes ? "DRV-5.2.6.1-10" : "DRV-5.2.6.1-8"));
		EXPECT_FALSE(m.d->te.Has(zeroes ? "DRV-5.2.6.1-8" : "DRV-5.2.6.1-10"));
	}
	{
		DwzModel m; // beyond the capacity (2048 sectors)
		m.Seg(0, 2040, 16, 0);
		EXPECT_EQ(m.d->Request(VLAB_VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false), VIRTIO_BLK_S_IOERR);
		EXPECT_TRUE(m.d->te.Has("DRV-5.2.6.1-1"));
	}
}

TEST(DevmodelBlk, BrokenQueueStopsUntilReset)
{
	Model d;
	d.Init();
	d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT, 0); // loops onto itself
	d.Expose(0);
	EXPECT_TRUE(d.blk->dv.vq[0].broken);
	EXPECT_TRUE(d.te.Has("DRV-2.7.5.2-1"));
	unsigned before = d.te.report.count;
	d.W(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	d.te.Run();
	EXPECT_EQ(d.te.report.count, before); // not processed again
	d.avail_idx = 0;
	d.used_seen = 0;
	std::memset(d.te.Ptr(kAvail), 0, 0x100);
	std::memset(d.te.Ptr(kUsed), 0, 0x100);
	d.Init();
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
}

TEST(DevmodelFaults, UsedRingFaultsAndCounting)
{
	Model d;
	d.Init();
	dm_fault f{};
	f.kind = DM_FAULT_BLK_IOERR;
	f.queue = -1;
	f.nth = 2;
	f.count = 1;
	ASSERT_TRUE(dm_virtio_add_fault(&d.blk->dv, &f));
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_IOERR);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);

	dm_virtio_clear_faults(&d.blk->dv);
	f.kind = DM_FAULT_USED_LEN;
	f.nth = 0;
	f.value = 5;
	ASSERT_TRUE(dm_virtio_add_fault(&d.blk->dv, &f));
	uint32_t len = 0;
	d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true, &len);
	EXPECT_EQ(len, 21u + 5u);

	f.kind = DM_FAULT_NEEDS_RESET;
	ASSERT_TRUE(dm_virtio_add_fault(&d.blk->dv, &f));
	d.Desc(0, kBufs, 16, VIRTQ_DESC_F_NEXT, 1);
	d.Desc(1, kBufs + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
	d.Expose(0);
	EXPECT_TRUE(d.R(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT_TRUE(d.R(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_ISR_CONFIG);

	EXPECT_STREQ(dm_fault_name(DM_FAULT_USED_IDX_JUMP), "used_idx_jump");
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

// A plan given as text, applied to the model's device (index 0).
void ApplyPlan(dm_virtio *dv, const char *text)
{
	static dm_fault_plan plan;
	char err[DM_FAULT_PLAN_ERR_MAX];
	dm_fault_plan_init(&plan);
	ASSERT_EQ(dm_fault_plan_parse(&plan, text, "t.plan", err, sizeof err), 0) << err;
	ASSERT_GE(dm_fault_plan_apply(&plan, dv, 0, err, sizeof err), 0) << err;
}

// The 1-based numbers of the requests (n GET_IDs) that completed with status.
std::vector<unsigned> RequestsWith(Model &d, unsigned n, uint8_t status)
{
	std::vector<unsigned> hit;
	for (unsigned i = 1; i <= n; i++)
		if (d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true) == status)
			hit.push_back(i);
	return hit;
}

// Each plan line counts the events of its kind on its own: a line that
// fires does not hide the event from the lines after it (issue 10 item 8:
// nth=7 and nth=14 fired at requests 7 and 15).
TEST(DevmodelFaults, EachPlanLineCountsOnItsOwn)
{
	Model d;
	d.Init();
	ApplyPlan(&d.blk->dv, "fault blk_ioerr nth=7\nfault blk_ioerr nth=14\n");
	EXPECT_EQ(RequestsWith(d, 20, VIRTIO_BLK_S_IOERR), (std::vector<unsigned>{7, 14}));
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelFaults, LinesOfDifferentKindsCountTheSameRequest)
{
	Model d;
	d.Init();
	// Request 2 fails with IOERR; the UNSUPP line still counts it, so it
	// fires at request 4, as does the config change.
	ApplyPlan(&d.blk->dv, "fault blk_ioerr nth=2\nfault blk_unsupp nth=4\nfault config_change nth=4\n");
	const uint32_t gen = d.R(VIRTIO_MMIO_CONFIG_GENERATION);
	EXPECT_EQ(RequestsWith(d, 3, VIRTIO_BLK_S_IOERR), (std::vector<unsigned>{2}));
	EXPECT_EQ(d.R(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_UNSUPP);
	EXPECT_EQ(d.R(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelFaults, TwoLinesOnOneEventActOnceBothCountAsFired)
{
	Model d;
	d.Init();
	// Both fire at request 3: IOERR wins over UNSUPP (docs/fault-plans.md),
	// and the UNSUPP line, having fired its one time, is done.
	ApplyPlan(&d.blk->dv, "fault blk_unsupp nth=3\nfault blk_ioerr nth=3\n");
	EXPECT_EQ(RequestsWith(d, 6, VIRTIO_BLK_S_OK), (std::vector<unsigned>{1, 2, 4, 5, 6}));
	EXPECT_EQ(d.blk->dv.faults[0].fired, 1u);
	EXPECT_EQ(d.blk->dv.faults[1].fired, 1u);
	EXPECT_EQ(d.blk->dv.faults[0].seen, 6u);
	EXPECT_EQ(d.blk->dv.faults[1].seen, 6u);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

TEST(DevmodelFaults, DelayCompletesLater)
{
	Model d;
	d.Init();
	dm_fault f{};
	f.kind = DM_FAULT_DELAY;
	f.queue = -1;
	f.count = 1;
	f.value = 5000;
	ASSERT_TRUE(dm_virtio_add_fault(&d.blk->dv, &f));
	EXPECT_EQ(d.Request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	EXPECT_GE(d.te.now, 5000u);
}

TEST(DevmodelStore, FileSizeMustBeSectorMultiple)
{
	char path[] = "/tmp/devmodel_test_XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	std::vector<uint8_t> bytes(1000, 0);
	ASSERT_EQ(write(fd, bytes.data(), bytes.size()), 1000);
	close(fd);
	const char *err = nullptr;
	EXPECT_EQ(dm_store_file(path, false, &err), nullptr);
	ASSERT_NE(err, nullptr);
	EXPECT_NE(std::strstr(err, "size 1000 is not a multiple of 512 bytes"), nullptr) << err;
	ASSERT_EQ(truncate(path, 4096), 0);
	dm_store *s = dm_store_file(path, true, &err);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(s->size, 4096u);
	uint8_t b[512] = {1};
	EXPECT_NE(s->write(s, 0, b, 512), 0); // read-only
	EXPECT_EQ(s->read(s, 512, b, 512), 0);
	s->close(s);
	unlink(path);
	EXPECT_EQ(dm_store_file("/nonexistent/x.img", false, &err), nullptr);
}

TEST(DevmodelProfile, Qemu72)
{
	dm_blk_cfg c;
	dm_blk_cfg_qemu72(&c, false);
	EXPECT_TRUE(c.features & VLAB_BIT(VIRTIO_F_VERSION_1));
	EXPECT_FALSE(c.features & VLAB_BIT(VIRTIO_F_NOTIFY_ON_EMPTY));
	EXPECT_EQ(c.seg_max, 254u);
	Model d(2, &c);
	// Geometry derived from 2048 sectors: 2 cylinders minimum, 16 heads, 63 sectors.
	EXPECT_EQ(d.R(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_GEOMETRY), 2u | 16u << 16 | 63u << 24);
	EXPECT_EQ(d.R(VIRTIO_MMIO_CONFIG + 56, 1), 1u);
	dm_blk_cfg_qemu72(&c, true);
	EXPECT_FALSE(c.features >> 32);
	EXPECT_EQ(d.te.report.count, 0u) << d.te.Text();
}

} // namespace
