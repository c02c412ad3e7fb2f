// The driver core on its own: vlab_snprintf, error names, status and
// feature negotiation, config space, the split and packed virtqueues
// (EVENT_IDX, indirect tables) and the mmio
// probe, each against a small scripted fake platform and transport written
// here (no device model).  The test plays the device by writing the used
// ring directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "vlab/err.h"
#include "vlab/mmio.h"
#include "vlab/virtio.h"
#include "vlab/virtqueue.h"
#include "vlab/wait.h"

namespace {

// ---- Fake platform: malloc'd DMA memory (device address = pointer value),
// virtual time, a register file for the mmio tests, counters. ----

struct RegAccess {
	bool write;
	uint64_t off;
	unsigned width;
	uint32_t val;
};

struct FakePlatform {
	uint64_t now = 0;
	bool frozen_clock = false; // delay_ns lets no time pass
	uint64_t time_calls = 0;   // now_ns + delay_ns
	std::vector<std::string> logs;
	int live_allocs = 0;

	// Barriers and shared-memory reads, in order, each with what the
	// watched queue's descriptor table and available ring held at that
	// moment (the driver stores to them directly): a test can tell on
	// which side of a barrier a store happened.
	struct Event {
		char kind; // 'm' mb, 'r' rmb, 'w' wmb, 'R' shared-memory read
		const volatile void *addr; // of a read
		std::vector<uint8_t> desc;
		std::vector<uint16_t> avail; // flags, idx, ring[size]
	};
	const struct vlab_vq *watch = nullptr;
	std::vector<Event> events;
	void Note(char kind, const volatile void *addr = nullptr);

	// mmio register file (offsets relative to mmio_base).
	uint64_t mmio_base = 0x10001000;
	std::map<uint64_t, uint32_t> regs;
	std::vector<RegAccess> accesses;
	// Registers whose read returns the value in regs[] of a selector:
	// DeviceFeatures reads the word chosen by DeviceFeaturesSel.
	uint64_t dev_features = 0;

	struct vlab_platform_ops ops {};
	struct vlab_platform plat {};

	FakePlatform();
	static FakePlatform *of(void *ctx) { return static_cast<FakePlatform *>(ctx); }
};

uint32_t fake_reg_read(void *ctx, vlab_addr_t addr, unsigned width)
{
	FakePlatform *f = FakePlatform::of(ctx);
	uint64_t off = addr - f->mmio_base;
	uint32_t v = 0xffffffffu; // unmapped reads as all-ones
	if (off == VIRTIO_MMIO_DEVICE_FEATURES) {
		v = f->regs[VIRTIO_MMIO_DEVICE_FEATURES_SEL] == 0 ? (uint32_t)f->dev_features
		                                                  : (uint32_t)(f->dev_features >> 32);
	} else if (f->regs.count(off)) {
		v = f->regs[off];
	}
	f->accesses.push_back({false, off, width, v});
	return v;
}

void fake_reg_write(void *ctx, vlab_addr_t addr, unsigned width, uint32_t v)
{
	FakePlatform *f = FakePlatform::of(ctx);
	uint64_t off = addr - f->mmio_base;
	f->accesses.push_back({true, off, width, v});
	f->regs[off] = v;
}

FakePlatform::FakePlatform()
{
	ops.mmio_read8 = [](void *c, vlab_addr_t a) { return (uint8_t)fake_reg_read(c, a, 1); };
	ops.mmio_read16 = [](void *c, vlab_addr_t a) { return (uint16_t)fake_reg_read(c, a, 2); };
	ops.mmio_read32 = [](void *c, vlab_addr_t a) { return fake_reg_read(c, a, 4); };
	ops.mmio_write8 = [](void *c, vlab_addr_t a, uint8_t v) { fake_reg_write(c, a, 1, v); };
	ops.mmio_write16 = [](void *c, vlab_addr_t a, uint16_t v) { fake_reg_write(c, a, 2, v); };
	ops.mmio_write32 = [](void *c, vlab_addr_t a, uint32_t v) { fake_reg_write(c, a, 4, v); };
	ops.dma_alloc = [](void *c, size_t size, size_t align, vlab_addr_t *dev) -> void * {
		size_t rounded = (size + align - 1) / align * align;
		void *p = std::aligned_alloc(align, rounded);
		if (p == nullptr)
			return nullptr;
		std::memset(p, 0, rounded);
		*dev = (vlab_addr_t)(uintptr_t)p;
		of(c)->live_allocs++;
		return p;
	};
	ops.dma_free = [](void *c, void *cpu, size_t) {
		std::free(cpu);
		of(c)->live_allocs--;
	};
	ops.dma_map = [](void *, const void *cpu, size_t, enum vlab_dma_dir, vlab_addr_t *dev) {
		*dev = (vlab_addr_t)(uintptr_t)cpu;
		return 0;
	};
	ops.shm_read16 = [](void *c, const volatile void *p) {
		of(c)->Note('R', p);
		return *static_cast<const volatile uint16_t *>(p);
	};
	ops.shm_read32 = [](void *c, const volatile void *p) {
		of(c)->Note('R', p);
		return *static_cast<const volatile uint32_t *>(p);
	};
	ops.shm_read = [](void *c, void *dst, const volatile void *src, size_t n) {
		of(c)->Note('R', src);
		for (size_t i = 0; i < n; i++)
			static_cast<uint8_t *>(dst)[i] = static_cast<const volatile uint8_t *>(src)[i];
	};
	ops.mb = [](void *c) { of(c)->Note('m'); };
	ops.rmb = [](void *c) { of(c)->Note('r'); };
	ops.wmb = [](void *c) { of(c)->Note('w'); };
	ops.now_ns = [](void *c) {
		of(c)->time_calls++;
		return of(c)->now;
	};
	ops.delay_ns = [](void *c, uint64_t ns) {
		of(c)->time_calls++;
		if (!of(c)->frozen_clock)
			of(c)->now += ns;
	};
	ops.log = [](void *c, enum vlab_log_level, const char *msg) { of(c)->logs.push_back(msg); };
	plat.ops = &ops;
	plat.ctx = this;
}

void FakePlatform::Note(char kind, const volatile void *addr)
{
	Event e{kind, addr, {}, {}};
	if (watch != nullptr) {
		const volatile uint8_t *d = reinterpret_cast<const volatile uint8_t *>(watch->desc);
		for (size_t i = 0; i < 16u * watch->size; i++)
			e.desc.push_back(static_cast<uint8_t>(d[i]));
		for (size_t i = 0; i < 2u + watch->size; i++)
			e.avail.push_back(static_cast<uint16_t>(watch->avail[i]));
	}
	events.push_back(e);
}

// ---- Fake transport: a scripted device without registers. ----

struct FakeDevice {
	struct vlab_virtio_dev d {};
	uint8_t status = 0;
	std::vector<uint8_t> status_writes;
	uint64_t offered = 0;
	uint64_t written_features = ~0ull;
	unsigned feature_reads = 0;
	bool refuse_features_ok = false;
	bool reset_stuck = false;
	// Status reads; past guard_reads a stuck reset completes after all, so
	// that a wait bounded by nothing else ends (and its test fails).
	uint64_t status_reads = 0;
	uint64_t guard_reads = ~0ull;
	uint16_t qmax = 256;
	uint32_t generation = 0;
	bool generation_unstable = false;
	uint8_t cfg[32] = {};
	std::vector<std::pair<uint32_t, unsigned>> cfg_accesses;
	struct vlab_vq_layout layout {};
	unsigned enables = 0;
	unsigned notifies = 0;
	unsigned acks = 0;
	uint32_t isr = 0;

	static FakeDevice *of(struct vlab_virtio_dev *d) { return static_cast<FakeDevice *>(d->transport); }
};

const struct vlab_transport_ops kFakeOps = [] {
	struct vlab_transport_ops o {};
	o.get_status = [](struct vlab_virtio_dev *d) {
		FakeDevice *f = FakeDevice::of(d);
		if (++f->status_reads > f->guard_reads)
			f->status = 0;
		return f->status;
	};
	o.set_status = [](struct vlab_virtio_dev *d, uint8_t s) {
		FakeDevice *f = FakeDevice::of(d);
		f->status_writes.push_back(s);
		if (s == 0) {
			if (!f->reset_stuck)
				f->status = 0;
			return;
		}
		if (f->refuse_features_ok)
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		f->status = s;
	};
	o.get_features = [](struct vlab_virtio_dev *d) {
		FakeDevice::of(d)->feature_reads++;
		return FakeDevice::of(d)->offered;
	};
	o.set_features = [](struct vlab_virtio_dev *d, uint64_t f) { FakeDevice::of(d)->written_features = f; };
	o.config_generation = [](struct vlab_virtio_dev *d) {
		FakeDevice *f = FakeDevice::of(d);
		return f->generation_unstable ? f->generation++ : f->generation;
	};
	o.config_read = [](struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t *val) {
		FakeDevice *f = FakeDevice::of(d);
		if (off + width > sizeof(f->cfg))
			return (int)VLAB_ERANGE;
		f->cfg_accesses.push_back({off, width});
		uint32_t v = 0;
		for (unsigned i = 0; i < width; i++)
			v |= (uint32_t)f->cfg[off + i] << (8 * i); // little-endian wire
		*val = v;
		return 0;
	};
	o.config_write = [](struct vlab_virtio_dev *d, uint32_t off, unsigned width, uint32_t val) {
		FakeDevice *f = FakeDevice::of(d);
		if (off + width > sizeof(f->cfg))
			return (int)VLAB_ERANGE;
		f->cfg_accesses.push_back({off, width});
		for (unsigned i = 0; i < width; i++)
			f->cfg[off + i] = (uint8_t)(val >> (8 * i));
		return 0;
	};
	o.queue_max = [](struct vlab_virtio_dev *d, uint16_t, uint16_t *max) {
		*max = FakeDevice::of(d)->qmax;
		return 0;
	};
	o.queue_enable = [](struct vlab_virtio_dev *d, uint16_t, const struct vlab_vq_layout *l) {
		FakeDevice::of(d)->layout = *l;
		FakeDevice::of(d)->enables++;
		return 0;
	};
	o.queue_notify = [](struct vlab_virtio_dev *d, uint16_t) { FakeDevice::of(d)->notifies++; };
	o.interrupt_ack = [](struct vlab_virtio_dev *d) {
		FakeDevice::of(d)->acks++;
		return FakeDevice::of(d)->isr;
	};
	return o;
}();

class Core : public testing::Test {
protected:
	FakePlatform fp;
	FakeDevice fd;
	void SetUp() override
	{
		fd.d.plat = &fp.plat;
		fd.d.ops = &kFakeOps;
		fd.d.transport = &fd;
		fd.d.name = "fake";
	}
	// Bring the fake device to DRIVER_OK (or just FEATURES_OK).
	void Bring(bool driver_ok = true)
	{
		fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1);
		ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
		ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
		if (driver_ok) {
			ASSERT_EQ(vlab_virtio_driver_ok(&fd.d), 0);
		}
	}
};

// ---- snprintf and error names ----

// vlab_memcpy and vlab_memset (on the host the C library's, issue 15; the
// driver's own loops, which bare-metal images use, run in the QEMU rows):
// every length to 80 bytes, 1514 and 4 KiB + 3, at every alignment of
// each end, touching nothing around the range.
TEST(MemFns, CopyAndFillEveryLengthAndAlignmentAndNothingAround)
{
	std::vector<unsigned char> src(4200), dst(4200), want(4200);
	for (size_t i = 0; i < src.size(); i++)
		src[i] = static_cast<unsigned char>(i * 7 + 3);
	std::vector<size_t> lens;
	for (size_t n = 0; n <= 80; n++)
		lens.push_back(n);
	lens.push_back(1514);
	lens.push_back(4096 + 3);
	for (size_t n : lens)
		for (size_t da = 0; da < 8; da++)
			for (size_t sa = 0; sa < 8; sa++) {
				std::fill(dst.begin(), dst.end(), 0xa5);
				want = dst;
				for (size_t i = 0; i < n; i++)
					want[16 + da + i] = src[16 + sa + i];
				vlab_memcpy(&dst[16 + da], &src[16 + sa], n);
				ASSERT_EQ(dst, want) << "memcpy n=" << n << " da=" << da << " sa=" << sa;
			}
	for (size_t n : lens)
		for (size_t da = 0; da < 8; da++)
			for (int c : {0, 0x5a, 0x1ff}) {
				std::fill(dst.begin(), dst.end(), 0xa5);
				want = dst;
				for (size_t i = 0; i < n; i++)
					want[16 + da + i] = static_cast<unsigned char>(c);
				vlab_memset(&dst[16 + da], c, n);
				ASSERT_EQ(dst, want) << "memset n=" << n << " da=" << da << " c=" << c;
			}
}

TEST(Snprintf, Conversions)
{
	char b[128];
	EXPECT_EQ(vlab_snprintf(b, sizeof(b), "%s|%c|%d|%i|%u", "ab", 'z', -42, 7, 4000000000u), 21);
	EXPECT_STREQ(b, "ab|z|-42|7|4000000000");
	vlab_snprintf(b, sizeof(b), "%x %X %%", 0xbeefu, 0xbeefu);
	EXPECT_STREQ(b, "beef BEEF %");
	vlab_snprintf(b, sizeof(b), "%ld %lu %lld %llu %llx", -5l, 6ul, -9000000000ll,
	              18446744073709551615ull, 0x123456789abcull);
	EXPECT_STREQ(b, "-5 6 -9000000000 18446744073709551615 123456789abc");
	vlab_snprintf(b, sizeof(b), "%zu %zx", (size_t)12345, (size_t)255);
	EXPECT_STREQ(b, "12345 ff");
	vlab_snprintf(b, sizeof(b), "%d %lld", -2147483647 - 1, -9223372036854775807ll - 1);
	EXPECT_STREQ(b, "-2147483648 -9223372036854775808");
	vlab_snprintf(b, sizeof(b), "%p", (void *)0x1000);
	EXPECT_STREQ(b, "0x1000");
	const char *volatile null_str = nullptr; // hidden from -Wformat-overflow
	vlab_snprintf(b, sizeof(b), "%s", null_str);
	EXPECT_STREQ(b, "(null)");
}

TEST(Snprintf, WidthAndFlags)
{
	char b[64];
	vlab_snprintf(b, sizeof(b), "[%5d][%-5d][%05d][%08x][%-4s][%4s][%3c]", 42, 42, -42, 0xabu, "a",
	              "b", 'c');
	EXPECT_STREQ(b, "[   42][42   ][-0042][000000ab][a   ][   b][  c]");
	vlab_snprintf(b, sizeof(b), "[%2s][%0u]", "long", 0u);
	EXPECT_STREQ(b, "[long][0]");
	vlab_snprintf(b, sizeof(b), "[%.2s][%*d]", "abcdef", 4, 7);
	EXPECT_STREQ(b, "[ab][   7]");
}

TEST(Snprintf, TruncatesAndTerminates)
{
	char b[8];
	std::memset(b, 'X', sizeof(b));
	EXPECT_EQ(vlab_snprintf(b, sizeof(b), "%s-%d", "hello", 12345), 11);
	EXPECT_STREQ(b, "hello-1");
	std::memset(b, 'X', sizeof(b));
	EXPECT_EQ(vlab_snprintf(b, 1, "abc"), 3);
	EXPECT_EQ(b[0], '\0');
	EXPECT_EQ(b[1], 'X');
	EXPECT_EQ(vlab_snprintf(nullptr, 0, "%d", 100), 3);
	const char *volatile lone = "%"; // a malformed format, not checkable at compile time
	EXPECT_EQ(vlab_snprintf(b, sizeof(b), lone, 0), 1); // the unused argument keeps -Wformat-security quiet
	EXPECT_STREQ(b, "%");
}

TEST(Errors, EveryCodeHasADistinctNameAndText)
{
	std::map<std::string, int> names, texts;
	for (int e = VLAB_ERR_LAST; e <= VLAB_OK; e++) {
		std::string n = vlab_errname(e), t = vlab_strerror(e);
		EXPECT_EQ(n.rfind("VLAB_", 0), 0u) << e;
		EXPECT_NE(n, "VLAB_E?") << e;
		EXPECT_NE(t, "unknown error") << e;
		EXPECT_TRUE(names.emplace(n, e).second) << n;
		EXPECT_TRUE(texts.emplace(t, e).second) << t;
	}
	EXPECT_STREQ(vlab_errname(VLAB_EPROTO), "VLAB_EPROTO");
	EXPECT_STREQ(vlab_strerror(VLAB_EPROTO), "device broke the protocol");
	for (int bad : {1, 5, VLAB_ERR_LAST - 1, -1000, 0x7fffffff}) {
		EXPECT_STREQ(vlab_strerror(bad), "unknown error");
		EXPECT_STREQ(vlab_errname(bad), "VLAB_E?");
	}
}

TEST(Log, FormatsThroughThePlatform)
{
	FakePlatform fp;
	vlab_log(&fp.plat, VLAB_LOG_INFO, "q%u: %s", 3u, "ok");
	ASSERT_EQ(fp.logs.size(), 1u);
	EXPECT_EQ(fp.logs[0], "q3: ok");
	fp.ops.log = nullptr;
	vlab_log(&fp.plat, VLAB_LOG_INFO, "dropped");
	EXPECT_EQ(fp.logs.size(), 1u);
}

// ---- Status, reset, negotiation ----

TEST_F(Core, BeginAccumulatesStatusBits)
{
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
	ASSERT_EQ(vlab_virtio_driver_ok(&fd.d), 0);
	std::vector<uint8_t> want = {0, 0x01, 0x03, 0x0b, 0x0f};
	EXPECT_EQ(fd.status_writes, want) << "DRV-2.1.1-1/2, DRV-3.1.1-1";
}

TEST_F(Core, ResetThatNeverCompletesTimesOutInPlatformTime)
{
	fd.status = 3;
	fd.reset_stuck = true;
	EXPECT_EQ(vlab_virtio_reset(&fd.d), VLAB_ETIMEDOUT);
	EXPECT_GE(fp.now, VLAB_DEFAULT_TIMEOUT_NS);
	EXPECT_LT(fp.now, 2 * VLAB_DEFAULT_TIMEOUT_NS);
	fd.d.timeout_ns = 5000;
	fp.now = 0;
	EXPECT_EQ(vlab_virtio_reset(&fd.d), VLAB_ETIMEDOUT);
	EXPECT_EQ(fp.now, 5000u);
	// Once the device resets, the broken state is gone.
	fd.reset_stuck = false;
	EXPECT_EQ(vlab_virtio_reset(&fd.d), 0);
	EXPECT_FALSE(fd.d.broken);
}

// Issue 10 item 4: with a clock that never advances and a device that never
// finishes its reset, the reset wait still ends (VLAB_ETIMEDOUT), after a
// bounded number of platform calls: 1 s in steps doubling from 1 us to 1 ms
// is 1009 steps, plus the margin 1137, three calls each (status, now,
// delay): below 4000.  The guard makes an unbounded wait end at 10^7 reads.
TEST_F(Core, ResetWithAFrozenClockIsBoundedInIterations)
{
	fp.frozen_clock = true;
	fd.status = 3;
	fd.reset_stuck = true;
	fd.guard_reads = 10000000;
	EXPECT_EQ(vlab_virtio_reset(&fd.d), VLAB_ETIMEDOUT);
	const uint64_t calls = fp.time_calls + fd.status_reads;
	EXPECT_LT(calls, 4000u) << fp.time_calls << " platform time calls, " << fd.status_reads
	                        << " status reads";
	EXPECT_TRUE(fd.d.broken);
	EXPECT_EQ(vlab_wait_max_steps(VLAB_DEFAULT_TIMEOUT_NS, 1000, 1000000), 1137u);
}

// The wait helper itself.
TEST(Wait, FixedStepsEndAtTheDeadlineWithAMovingClock)
{
	FakePlatform fp;
	struct vlab_wait w;
	vlab_wait_start(&w, &fp.plat, 10000, 1000);
	unsigned n = 0;
	while (vlab_wait_step(&w))
		n++;
	EXPECT_EQ(n, 10u);
	EXPECT_EQ(fp.now, 10000u);
	// A step that does not divide the timeout: the last delay is cut short.
	fp.now = 0;
	vlab_wait_start(&w, &fp.plat, 2500, 1000);
	n = 0;
	while (vlab_wait_step(&w))
		n++;
	EXPECT_EQ(n, 3u);
	EXPECT_EQ(fp.now, 2500u);
}

TEST(Wait, AFrozenClockEndsAtTheIterationBound)
{
	FakePlatform fp;
	fp.frozen_clock = true;
	struct vlab_wait w;
	vlab_wait_start(&w, &fp.plat, 1000000, 1000);
	uint64_t n = 0;
	while (vlab_wait_step(&w) && n < 100000000)
		n++;
	EXPECT_EQ(n, 1000u + 125u + 2u) << "timeout / step, an eighth more, and 2";
	EXPECT_EQ(vlab_wait_max_steps(1000000, 1000, 1000), n);
}

TEST(Wait, GrowingStepsDoubleUpToTheMaximum)
{
	FakePlatform fp;
	struct vlab_wait w;
	std::vector<uint64_t> delays;
	vlab_wait_start_growing(&w, &fp.plat, 10000, 1000, 4000);
	uint64_t last = fp.now;
	while (vlab_wait_step(&w)) {
		delays.push_back(fp.now - last);
		last = fp.now;
	}
	EXPECT_EQ(delays, (std::vector<uint64_t>{1000, 2000, 4000, 3000}));
	EXPECT_EQ(vlab_wait_max_steps(10000, 1000, 4000), 4u + 0u + 2u);
	// A timeout of 0 does not wait at all.
	vlab_wait_start(&w, &fp.plat, 0, 1000);
	EXPECT_FALSE(vlab_wait_step(&w));
	EXPECT_EQ(fp.now, 10000u);
	// Huge steps do not overflow the bound.
	EXPECT_GE(vlab_wait_max_steps(~0ull, 1, ~0ull), 64u);
}

TEST_F(Core, StopResetsAndLeavesTheDeviceBrokenForTheFirstReason)
{
	fd.status = 0x0f;
	ASSERT_EQ(vlab_virtio_mark_broken(&fd.d, "first"), VLAB_EPROTO);
	fd.status_writes.clear();
	EXPECT_EQ(vlab_virtio_stop(&fd.d, "second"), 0);
	EXPECT_EQ(fd.status_writes, std::vector<uint8_t>{0}) << "a reset was written";
	EXPECT_TRUE(fd.d.broken);
	EXPECT_STREQ(fd.d.broken_why, "first");
	EXPECT_EQ(vlab_virtio_check(&fd.d), VLAB_EBROKEN);
	// A new initialisation starts with a reset, which makes it usable.
	EXPECT_EQ(vlab_virtio_begin(&fd.d), 0);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(Core, StopOfADeviceThatDoesNotResetSaysItIsWedged)
{
	fd.status = 0x0f;
	fd.reset_stuck = true;
	fd.d.timeout_ns = 5000;
	EXPECT_EQ(vlab_virtio_stop(&fd.d, "timed out"), VLAB_EWEDGED);
	EXPECT_TRUE(fd.d.broken);
	EXPECT_STREQ(fd.d.broken_why, "timed out");
	EXPECT_STREQ(vlab_errname(VLAB_EWEDGED), "VLAB_EWEDGED");
}

TEST_F(Core, NegotiationAcceptsOnlyOfferedSupportedImplemented)
{
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	             VLAB_BIT(VIRTIO_F_ORDER_PLATFORM) | VLAB_BIT(VIRTIO_F_RING_PACKED) |
	             VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) | VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	             VLAB_BIT(VIRTIO_F_IN_ORDER) | VLAB_BIT(VIRTIO_F_RING_RESET) | VLAB_BIT(5) | VLAB_BIT(6);
	uint64_t supported = VLAB_BIT(5) | VLAB_BIT(6) | VLAB_BIT(7) | VLAB_BIT(VIRTIO_F_RING_PACKED) |
	                     VLAB_BIT(VIRTIO_F_RING_EVENT_IDX);
	struct vlab_feature_dep deps[] = {{6, VLAB_BIT(7)}};
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, supported, VLAB_BIT(5), deps, 1), 0);
	uint64_t want = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	                VLAB_BIT(VIRTIO_F_ORDER_PLATFORM) | VLAB_BIT(VIRTIO_F_RING_PACKED) |
	                VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) | VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
	                VLAB_BIT(5);
	EXPECT_EQ(fd.written_features, want);
	EXPECT_EQ(fd.d.features, want);
	EXPECT_EQ(fd.d.device_features, fd.offered);
	EXPECT_EQ(fd.feature_reads, 1u);
	EXPECT_TRUE(fd.status & VIRTIO_STATUS_FEATURES_OK);
	EXPECT_EQ(fd.written_features & ~fd.offered, 0u) << "DRV-2.2.1-1";
}

TEST_F(Core, DependenciesAreDroppedToAFixedPoint)
{
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(1) | VLAB_BIT(2) | VLAB_BIT(4);
	// 1 needs 2, 2 needs 3 (not offered): one pass in this order would keep 1.
	struct vlab_feature_dep deps[] = {{1, VLAB_BIT(2)}, {2, VLAB_BIT(3)}};
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0x1e, 0, deps, 2), 0);
	EXPECT_EQ(fd.d.features, VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(4)) << "DRV-2.2.1-2";
}

TEST_F(Core, ModernWithoutVersion1IsRefused)
{
	fd.offered = VLAB_BIT(0);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	EXPECT_EQ(vlab_virtio_negotiate(&fd.d, 1, 0, nullptr, 0), VLAB_ENOTSUP);
	EXPECT_TRUE(fd.status & VIRTIO_STATUS_FAILED) << "DRV-2.2.1-4";
	EXPECT_EQ(fd.written_features, ~0ull) << "no features written";
}

TEST_F(Core, FeaturesOkRefusedFails)
{
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1);
	fd.refuse_features_ok = true;
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	EXPECT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), VLAB_ENOTSUP);
	EXPECT_TRUE(fd.status & VIRTIO_STATUS_FAILED) << "DRV-3.1.1-5";
	EXPECT_EQ(fd.d.features, 0u);
}

TEST_F(Core, RequiredFeatureMissingFails)
{
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(1);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	EXPECT_EQ(vlab_virtio_negotiate(&fd.d, 7, 4, nullptr, 0), VLAB_ENOTSUP);
	EXPECT_TRUE(fd.status & VIRTIO_STATUS_FAILED);
}

TEST_F(Core, LegacyNegotiatesLow32BitsWithoutFeaturesOk)
{
	fd.d.legacy = true;
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(VIRTIO_F_ACCESS_PLATFORM) | VLAB_BIT(3) |
	             VLAB_BIT(VIRTIO_F_ANY_LAYOUT) | VLAB_BIT(55);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, VLAB_BIT(3) | VLAB_BIT(55), 0, nullptr, 0), 0);
	EXPECT_EQ(fd.d.features, VLAB_BIT(3));
	EXPECT_FALSE(fd.status & VIRTIO_STATUS_FEATURES_OK);
}

TEST_F(Core, ConfigReadUsesFieldWidthsAndLittleEndian)
{
	Bring();
	for (unsigned i = 0; i < sizeof(fd.cfg); i++)
		fd.cfg[i] = (uint8_t)(0x10 + i);
	uint64_t v64 = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;
	uint8_t mac[6];
	fd.cfg_accesses.clear();
	ASSERT_EQ(vlab_virtio_config_read(&fd.d, 8, &v64, 8), 0);
	EXPECT_EQ(v64, 0x1f1e1d1c1b1a1918ull);
	std::vector<std::pair<uint32_t, unsigned>> want = {{8, 4}, {12, 4}};
	EXPECT_EQ(fd.cfg_accesses, want) << "DRV-4.2.2.2-5: 64-bit as two 32-bit";
	fd.cfg_accesses.clear();
	ASSERT_EQ(vlab_virtio_config_read(&fd.d, 4, &v32, 4), 0);
	EXPECT_EQ(v32, 0x17161514u);
	ASSERT_EQ(vlab_virtio_config_read(&fd.d, 2, &v16, 2), 0);
	EXPECT_EQ(v16, 0x1312u);
	want = {{4, 4}, {2, 2}};
	EXPECT_EQ(fd.cfg_accesses, want);
	fd.cfg_accesses.clear();
	ASSERT_EQ(vlab_virtio_config_read(&fd.d, 0, mac, 6), 0);
	EXPECT_EQ(fd.cfg_accesses.size(), 6u);
	EXPECT_EQ(mac[0], 0x10);
	EXPECT_EQ(mac[5], 0x15);
	EXPECT_EQ(vlab_virtio_config_read(&fd.d, 30, &v32, 4), VLAB_ERANGE);
	EXPECT_FALSE(fd.d.broken);

	uint32_t w = 0xa1b2c3d4u;
	ASSERT_EQ(vlab_virtio_config_write(&fd.d, 16, &w, 4), 0);
	EXPECT_EQ(fd.cfg[16], 0xd4);
	EXPECT_EQ(fd.cfg[19], 0xa1);
}

TEST_F(Core, ConfigWriteBeforeFeaturesOkIsRefused)
{
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	uint8_t b = 1;
	EXPECT_EQ(vlab_virtio_config_write(&fd.d, 0, &b, 1), VLAB_EINVAL) << "DRV-3.1.1-3";
	EXPECT_TRUE(fd.cfg_accesses.empty());
}

TEST_F(Core, UnstableConfigGenerationIsBounded)
{
	Bring();
	fd.generation_unstable = true;
	uint32_t v;
	EXPECT_EQ(vlab_virtio_config_read(&fd.d, 0, &v, 4), VLAB_EPROTO);
	EXPECT_TRUE(fd.d.broken);
	EXPECT_EQ(fd.cfg_accesses.size(), (size_t)VLAB_CONFIG_RETRIES) << "DRV-2.5.1-2";
	EXPECT_EQ(vlab_virtio_config_read(&fd.d, 0, &v, 4), VLAB_EBROKEN);
}

TEST_F(Core, CheckReportsNeedsResetAndBroken)
{
	Bring();
	EXPECT_EQ(vlab_virtio_check(&fd.d), 0);
	fd.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	EXPECT_EQ(vlab_virtio_check(&fd.d), VLAB_ENEEDSRESET);
	EXPECT_EQ(vlab_virtio_mark_broken(&fd.d, "test"), VLAB_EPROTO);
	EXPECT_EQ(vlab_virtio_mark_broken(&fd.d, "again"), VLAB_EPROTO);
	EXPECT_EQ(vlab_virtio_check(&fd.d), VLAB_EBROKEN);
	EXPECT_STREQ(fd.d.broken_why, "test");
	size_t broken_logs = 0;
	for (const auto &l : fp.logs)
		broken_logs += l.find("broken") != std::string::npos;
	EXPECT_EQ(broken_logs, 1u) << "logged once";
}

TEST_F(Core, InterruptsBeforeDriverOkAreIgnored)
{
	fd.isr = VIRTIO_ISR_QUEUE;
	EXPECT_EQ(vlab_virtio_interrupt(&fd.d), 0u);
	Bring(false);
	EXPECT_EQ(vlab_virtio_interrupt(&fd.d), 0u);
	EXPECT_EQ(fd.acks, 0u);
	ASSERT_EQ(vlab_virtio_driver_ok(&fd.d), 0);
	EXPECT_EQ(vlab_virtio_interrupt(&fd.d), VIRTIO_ISR_QUEUE);
	EXPECT_EQ(fd.acks, 1u);
}

// ---- Split virtqueue ----

class SplitRing : public Core {
protected:
	struct vlab_vq vq {};
	void TearDown() override
	{
		vlab_vq_teardown(&vq);
		EXPECT_EQ(fp.live_allocs, 0);
	}
	// The device's side: put (id, len) into the used ring and bump used.idx.
	void Complete(uint32_t id, uint32_t len)
	{
		uint16_t idx;
		std::memcpy(&idx, (const void *)(vq.used + 2), 2);
		uint8_t *e = (uint8_t *)vq.used + 4 + 8 * (idx & (vq.size - 1));
		std::memcpy(e, &id, 4);
		std::memcpy(e + 4, &len, 4);
		SetUsedIdx((uint16_t)(idx + 1));
	}
	// A queue of 8 with one chain (cookie c) published and notified.
	void StartOne(int *c)
	{
		Bring();
		ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
		fp.watch = &vq;
		ASSERT_EQ(AddOne(c), 0);
		ASSERT_EQ(vlab_vq_kick(&vq), 0);
	}
	void SetUsedIdx(uint16_t idx) { std::memcpy((void *)(vq.used + 2), &idx, 2); }
	uint16_t AvailIdx() const { return vq.avail[1]; }
	int AddOne(void *cookie, uint32_t in_len = 64)
	{
		static uint8_t buf[4096];
		struct vlab_sg in = {(vlab_addr_t)(uintptr_t)buf, in_len};
		return vlab_vq_add(&vq, nullptr, 0, &in, 1, cookie);
	}
	void ExpectBrokenAfter(int rc)
	{
		EXPECT_EQ(rc, VLAB_EPROTO);
		EXPECT_TRUE(fd.d.broken);
		unsigned notes = fd.notifies;
		int c = 0;
		EXPECT_EQ(AddOne(&c), VLAB_EBROKEN);
		EXPECT_EQ(vlab_vq_kick(&vq), VLAB_EBROKEN);
		void *ck;
		uint32_t len;
		EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EBROKEN);
		EXPECT_EQ(fd.notifies, notes) << "a broken device is not touched";
	}
};

TEST_F(SplitRing, SizeIsMinOfMaxCapAndOursRoundedDown)
{
	Bring(false);
	struct Case {
		uint16_t qmax, cap, want;
	} cases[] = {{256, 0, 256}, {1024, 0, VLAB_VQ_SIZE_MAX}, {100, 0, 64}, {256, 10, 8},
	             {3, 0, 2},     {1, 0, 1},                   {32768, 16, 16}};
	for (const auto &c : cases) {
		fd.qmax = c.qmax;
		ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, c.cap), 0);
		EXPECT_EQ(vq.size, c.want) << c.qmax << "/" << c.cap;
		EXPECT_EQ(fd.layout.size, c.want);
		EXPECT_EQ(vlab_vq_num_free(&vq), c.want);
		vlab_vq_teardown(&vq);
	}
	fd.qmax = 0;
	EXPECT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 0), VLAB_ENODEV);
	EXPECT_EQ(fp.live_allocs, 0);
}

TEST_F(SplitRing, LayoutIsAlignedPerSpec)
{
	Bring(false);
	for (uint16_t qmax : {1, 2, 4, 8, 64, 256}) {
		fd.qmax = qmax;
		ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 0), 0);
		const auto &l = fd.layout;
		EXPECT_EQ(l.desc % 16, 0u) << "DRV-2.7.1-1";
		EXPECT_EQ(l.avail % 2, 0u) << "DRV-2.7.1-1";
		EXPECT_EQ(l.used % 4, 0u) << "DRV-2.7.1-1";
		EXPECT_EQ(l.avail, l.desc + 16u * qmax);
		EXPECT_GE(l.used, l.avail + 2u * (3u + qmax));
		EXPECT_LT(l.used, l.avail + 2u * (3u + qmax) + 4u);
		EXPECT_GE(l.desc + vq.mem_len, l.used + 6u + 8u * qmax);
		EXPECT_EQ(l.desc, (vlab_addr_t)(uintptr_t)vq.mem);
		// Used flags start 0 (DRV-2.7.10.1-1).
		EXPECT_EQ(vq.used[0], 0);
		EXPECT_EQ(vq.used[1], 0);
		vlab_vq_teardown(&vq);
	}
}

TEST_F(SplitRing, LegacyLayoutIsContiguousWithAlignedUsedRing)
{
	fd.d.legacy = true;
	fd.d.legacy_align = 4096;
	fd.offered = 0;
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
	fd.qmax = 128;
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 0), 0);
	EXPECT_EQ(fd.layout.desc % 4096, 0u);
	EXPECT_EQ(fd.layout.avail, fd.layout.desc + 16 * 128);
	// 16*128 + 2*(3+128) = 2310 -> used at 4096.
	EXPECT_EQ(fd.layout.used, fd.layout.desc + 4096);
	EXPECT_EQ(vq.mem_len, 8192u);
}

TEST_F(SplitRing, ChainIsReadableThenWritableAndRoundTrips)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	struct vlab_sg out[2] = {{0x1000, 16}, {0x2000, 512}};
	struct vlab_sg in[1] = {{0x3000, 1}};
	int cookie = 0;
	ASSERT_EQ(vlab_vq_add(&vq, out, 2, in, 1, &cookie), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 5u);
	EXPECT_EQ(vlab_vq_in_flight(&vq), 3u);
	// Descriptors 0, 1, 2 from the fresh free list.
	EXPECT_EQ(vq.desc[0].addr, 0x1000u);
	EXPECT_EQ(vq.desc[0].flags, VIRTQ_DESC_F_NEXT);
	EXPECT_EQ(vq.desc[0].next, 1);
	EXPECT_EQ(vq.desc[1].flags, VIRTQ_DESC_F_NEXT);
	EXPECT_EQ(vq.desc[1].next, 2);
	EXPECT_EQ(vq.desc[1].len, 512u);
	EXPECT_EQ(vq.desc[2].flags, VIRTQ_DESC_F_WRITE) << "DRV-2.7.4.2-1";
	EXPECT_EQ(vq.avail[2], 0) << "ring[0] = head";
	EXPECT_EQ(AvailIdx(), 0) << "not published before kick";
	EXPECT_EQ(fd.notifies, 0u);

	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(AvailIdx(), 1);
	EXPECT_EQ(fd.notifies, 1u);
	EXPECT_EQ(vq.notifications, 1u);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u) << "nothing new, no notification";

	void *ck = nullptr;
	uint32_t len = 99;
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	Complete(0, 1);
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &cookie);
	EXPECT_EQ(len, 1u);
	EXPECT_EQ(vlab_vq_num_free(&vq), 8u);
	EXPECT_EQ(vq.completions, 1u);
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(SplitRing, ManyRoundsWrapTheIndices)
{
	Bring();
	int cookies[3];
	// 70000 rounds: the free-running 16-bit indices wrap.
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 4), 0);
	for (unsigned round = 0; round < 70000; round++) {
		struct vlab_sg out = {0x1000, 8}, in[2] = {{0x2000, 8}, {0x3000, 1}};
		uint16_t head = vq.free_head;
		ASSERT_EQ(vlab_vq_add(&vq, &out, 1, in, 2, &cookies[round % 3]), 0);
		ASSERT_EQ(vlab_vq_kick(&vq), 0);
		Complete(head, 9);
		void *ck;
		uint32_t len;
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0) << round;
		ASSERT_EQ(ck, &cookies[round % 3]);
		ASSERT_EQ(len, 9u);
		ASSERT_EQ(vlab_vq_num_free(&vq), 4u);
	}
	EXPECT_EQ(vq.completions, 70000u);
}

TEST_F(SplitRing, FreeListExhaustionIsBusy)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c[8];
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(AddOne(&c[i]), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 0u);
	int extra;
	EXPECT_EQ(AddOne(&extra), VLAB_EBUSY);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(3, 0);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &c[3]);
	EXPECT_EQ(AddOne(&extra), 0);
	EXPECT_EQ(AddOne(&extra), VLAB_EBUSY);
	EXPECT_FALSE(fd.d.broken);
}

// A completed head goes to the back of the free list: the next chain gets
// another head, so a device that completes the first chain a second time
// names a head that is not outstanding and is caught.  (With the head
// reused at once, the duplicate would pass for the new chain's completion,
// with the old length.)
TEST_F(SplitRing, CompletingAChainTwiceIsCaughtEvenAfterItsSlotIsReused)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int a, b;
	const uint16_t head_a = vq.free_head;
	ASSERT_EQ(AddOne(&a), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(head_a, 10);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	ASSERT_EQ(ck, &a);
	const uint16_t head_b = vq.free_head;
	ASSERT_EQ(AddOne(&b), 0);
	EXPECT_NE(head_b, head_a) << "the head just completed is not reused first";
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(head_a, 10); // the same chain again
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EPROTO);
	EXPECT_TRUE(fd.d.broken);
}

TEST_F(SplitRing, EveryDescriptorIsUsedBeforeAnyIsReused)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	std::vector<uint16_t> heads;
	for (int round = 0; round < 16; round++) {
		const uint16_t h = vq.free_head;
		heads.push_back(h);
		ASSERT_EQ(AddOne(&c), 0);
		ASSERT_EQ(vlab_vq_kick(&vq), 0);
		Complete(h, 1);
		void *ck;
		uint32_t len;
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0) << round;
	}
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(heads[i], i) << "round " << i;
		EXPECT_EQ(heads[i + 8], i) << "round " << i + 8;
	}
	EXPECT_EQ(vlab_vq_num_free(&vq), 8u);
}

TEST_F(SplitRing, BadChainsAreRefused)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 4), 0);
	struct vlab_sg big[5] = {{0x1000, 0x80000000u}, {0x2000, 0x80000000u}, {0, 1}, {0, 1}, {0, 1}};
	EXPECT_EQ(vlab_vq_add(&vq, big, 2, nullptr, 0, nullptr), VLAB_EINVAL) << "DRV-2.7.5.2-1";
	EXPECT_EQ(vlab_vq_add(&vq, big, 1, &big[1], 1, nullptr), VLAB_EINVAL);
	EXPECT_EQ(vlab_vq_add(&vq, nullptr, 0, nullptr, 0, nullptr), VLAB_EINVAL);
	EXPECT_EQ(vlab_vq_add(&vq, &big[2], 3, &big[2], 2, nullptr), VLAB_EINVAL) << "longer than the queue";
	EXPECT_EQ(vlab_vq_num_free(&vq), 4u);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(SplitRing, UsedIdxJumpBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	SetUsedIdx(300);
	void *ck;
	uint32_t len;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
	EXPECT_STREQ(fd.d.broken_why, "used.idx jumped");
}

TEST_F(SplitRing, UsedIdxAheadOfPublishedBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	SetUsedIdx(2); // only one chain was ever made available
	void *ck;
	uint32_t len;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
}

TEST_F(SplitRing, UsedIdOutOfRangeBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(8, 0);
	void *ck;
	uint32_t len;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
}

TEST_F(SplitRing, UsedIdNotAHeadBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	struct vlab_sg out = {0x1000, 8}, in = {0x2000, 8};
	int c;
	ASSERT_EQ(vlab_vq_add(&vq, &out, 1, &in, 1, &c), 0); // descriptors 0, 1
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(1, 0); // inside the chain, not its head
	void *ck;
	uint32_t len;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
}

TEST_F(SplitRing, SameIdCompletedTwiceBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c0, c1;
	ASSERT_EQ(AddOne(&c0), 0);
	ASSERT_EQ(AddOne(&c1), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(0, 4);
	Complete(0, 4);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &c0);
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
}

TEST_F(SplitRing, UsedLenAbovePostedBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c, 64), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(0, 65);
	void *ck = nullptr;
	uint32_t len = 0;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
	EXPECT_EQ(ck, nullptr) << "nothing reported for a bad completion";
}

TEST_F(SplitRing, UsedLenOnReadOnlyChainBreaksTheDevice)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	struct vlab_sg out = {0x1000, 512};
	int c;
	ASSERT_EQ(vlab_vq_add(&vq, &out, 1, nullptr, 0, &c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(0, 1);
	void *ck;
	uint32_t len;
	ExpectBrokenAfter(vlab_vq_pop(&vq, &ck, &len));
}

TEST_F(SplitRing, ResetClearsBrokenAndANewQueueWorks)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	SetUsedIdx(9);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EPROTO);
	ASSERT_EQ(vlab_virtio_reset(&fd.d), 0);
	EXPECT_FALSE(fd.d.broken);
	vlab_vq_teardown(&vq);
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Complete(0, 64);
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(len, 64u);
}

TEST_F(SplitRing, NoNotificationBeforeDriverOk)
{
	Bring(false);
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(AvailIdx(), 1) << "published";
	EXPECT_EQ(fd.notifies, 0u) << "DRV-3.1.1-7";
	ASSERT_EQ(vlab_virtio_driver_ok(&fd.d), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u) << "the first kick after DRIVER_OK notifies";
}

TEST_F(SplitRing, NoNotifyFlagSuppressesNotification)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	((volatile uint16_t *)vq.used)[0] = VIRTQ_USED_F_NO_NOTIFY;
	int c;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 0u) << "DRV-2.7.10.1-3";
	EXPECT_EQ(AvailIdx(), 1);
	((volatile uint16_t *)vq.used)[0] = 0;
	ASSERT_EQ(AddOne(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u) << "DRV-2.7.10.1-4";
}

// The barriers of the ring protocol, each where it must stand: the test
// watches the rings at every barrier and shared-memory read (see Event).

TEST_F(SplitRing, AvailIdxIsStoredAfterAWriteBarrierThatFollowsTheRing)
{
	Bring();
	ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, 8), 0);
	fp.watch = &vq;
	int c1, c2;
	ASSERT_EQ(AddOne(&c1), 0);
	ASSERT_EQ(AddOne(&c2, 32), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	fp.Note('-'); // the rings as the kick left them
	const FakePlatform::Event end = fp.events.back();
	ASSERT_EQ(end.avail[1], 2) << "both chains published";
	// DRV-2.7.13.3.1-1: a write (or full) barrier at which the descriptors
	// and ring entries already hold what the device will read and avail.idx
	// does not yet: it stands between those stores and the index store.
	bool found = false;
	for (const auto &e : fp.events) {
		if (e.avail[1] != 0)
			break; // the index is stored
		found |= (e.kind == 'w' || e.kind == 'm') && e.desc == end.desc &&
		         std::equal(e.avail.begin() + 2, e.avail.end(), end.avail.begin() + 2);
	}
	EXPECT_TRUE(found) << "no write barrier between the descriptor / ring entry stores and the "
	                      "avail.idx store (DRV-2.7.13.3.1-1)";
}

TEST_F(SplitRing, NotificationFlagsAreReadAfterAFullBarrierThatFollowsAvailIdx)
{
	int c;
	StartOne(&c);
	ASSERT_EQ(fd.notifies, 1u);
	// DRV-2.7.13.4.1-1: between the avail.idx store and the load of
	// used.flags, a full barrier (a store then a load: a write barrier is
	// not enough).
	size_t flags_read = 0;
	while (flags_read < fp.events.size() &&
	       !(fp.events[flags_read].kind == 'R' && fp.events[flags_read].addr == vq.used))
		flags_read++;
	ASSERT_LT(flags_read, fp.events.size()) << "used.flags was read to decide on notifying";
	bool found = false;
	for (size_t i = 0; i < flags_read; i++)
		found |= fp.events[i].kind == 'm' && fp.events[i].avail[1] == 1;
	EXPECT_TRUE(found) << "no full barrier between the avail.idx store and the used.flags load "
	                      "(DRV-2.7.13.4.1-1)";
}

TEST_F(SplitRing, UsedElementIsReadAfterAReadBarrierThatFollowsUsedIdx)
{
	int c;
	StartOne(&c);
	Complete(0, 64);
	fp.events.clear();
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	// The element is read only once used.idx says it is there, and no load
	// of it may be done before that of the index: a read (or full) barrier
	// between them (2.7.14, as DRV-2.7.13.3.1-1 on the device's side).
	const volatile uint8_t *idx = vq.used + 2, *ring = vq.used + 4;
	size_t i = 0;
	while (i < fp.events.size() && !(fp.events[i].kind == 'R' && fp.events[i].addr == idx))
		i++;
	ASSERT_LT(i, fp.events.size()) << "used.idx was read";
	bool barrier = false, element = false;
	for (i++; i < fp.events.size() && !element; i++) {
		const auto &e = fp.events[i];
		element = e.kind == 'R' && e.addr >= ring && e.addr < ring + 8u * vq.size;
		barrier |= e.kind == 'r' || e.kind == 'm';
		if (element) {
			EXPECT_TRUE(barrier) << "the used element is read with no read barrier after used.idx";
		}
	}
	EXPECT_TRUE(element) << "the used element was read";
}

// ---- Ring features: EVENT_IDX arithmetic, split EVENT_IDX and indirect ----

TEST(EventIdx, NeedEventIsTheHalfOpenRangeOldToNewWithWrapAround)
{
	// The device asked for a notification when entry event is added.
	EXPECT_TRUE(vlab_vq_need_event(4, 5, 4));    // exactly the one added
	EXPECT_FALSE(vlab_vq_need_event(5, 5, 4));   // the next one, not yet
	EXPECT_FALSE(vlab_vq_need_event(3, 5, 4));   // already passed before
	EXPECT_FALSE(vlab_vq_need_event(7, 7, 7));   // nothing added
	EXPECT_TRUE(vlab_vq_need_event(0xffff, 1, 0xfffe)); // across 2^16
	EXPECT_TRUE(vlab_vq_need_event(0, 1, 0xfffe));
	EXPECT_FALSE(vlab_vq_need_event(1, 1, 0xfffe));
	EXPECT_TRUE(vlab_vq_need_event(0, 0x10, 0xfff0));
	EXPECT_FALSE(vlab_vq_need_event(0x20, 0x10, 0xfff0));
	EXPECT_FALSE(vlab_vq_need_event(0xffef, 0x10, 0xfff0));
	EXPECT_TRUE(vlab_vq_need_event(0xfff0, 0x10, 0xfff0));
}

TEST_F(Core, RingFeaturesAreAcceptedWhenOfferedUnlessRefused)
{
	const uint64_t ring = VLAB_BIT(VIRTIO_F_RING_PACKED) | VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) |
	                      VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	for (unsigned refuse = 0; refuse < 8; refuse++) {
		uint64_t r = ((refuse & 1) ? VLAB_BIT(VIRTIO_F_RING_PACKED) : 0) |
		             ((refuse & 2) ? VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
		             ((refuse & 4) ? VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0);
		fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | ring;
		fd.d.refuse_features = r;
		ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
		ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
		EXPECT_EQ(fd.d.features, VLAB_BIT(VIRTIO_F_VERSION_1) | (ring & ~r)) << refuse;
	}
	// Not offered: not accepted (DRV-2.2.1-1).
	fd.d.refuse_features = 0;
	fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
	EXPECT_EQ(fd.d.features, VLAB_BIT(VIRTIO_F_VERSION_1));
}

TEST_F(Core, LegacyNeverAcceptsThePackedRing)
{
	fd.d.legacy = true;
	fd.offered = VLAB_BIT(VIRTIO_F_RING_EVENT_IDX) | VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
	EXPECT_EQ(fd.d.features, fd.offered) << "bits 28/29 exist on a legacy interface";
}

// A queue with ring features: Bring with more offered.
class RingFeatures : public Core {
protected:
	struct vlab_vq vq {};
	uint8_t buf[4096] = {};
	void TearDown() override
	{
		vlab_vq_teardown(&vq);
		EXPECT_EQ(fp.live_allocs, 0);
	}
	void BringWith(uint64_t extra, uint16_t cap = 8)
	{
		fd.offered = VLAB_BIT(VIRTIO_F_VERSION_1) | extra;
		ASSERT_EQ(vlab_virtio_begin(&fd.d), 0);
		ASSERT_EQ(vlab_virtio_negotiate(&fd.d, 0, 0, nullptr, 0), 0);
		ASSERT_EQ(vlab_virtio_driver_ok(&fd.d), 0);
		ASSERT_EQ(vlab_vq_setup(&vq, &fd.d, 0, cap), 0);
	}
	int AddIn(void *cookie, unsigned n_in = 1, uint32_t in_len = 64, unsigned n_out = 0)
	{
		struct vlab_sg out[8], in[8];
		for (unsigned i = 0; i < 8; i++) {
			out[i] = {(vlab_addr_t)(uintptr_t)buf + 16 * i, 16};
			in[i] = {(vlab_addr_t)(uintptr_t)buf + 1024 + 64 * i, in_len};
		}
		return vlab_vq_add(&vq, out, n_out, in, n_in, cookie);
	}
	uint16_t UsedIdx() { return *(volatile uint16_t *)(vq.used + 2); }
	void SplitComplete(uint32_t id, uint32_t len)
	{
		uint16_t idx = UsedIdx();
		uint8_t *e = (uint8_t *)vq.used + 4 + 8 * (idx & (vq.size - 1));
		std::memcpy(e, &id, 4);
		std::memcpy(e + 4, &len, 4);
		*(volatile uint16_t *)(vq.used + 2) = (uint16_t)(idx + 1);
	}
	volatile uint16_t &UsedEvent() { return vq.avail[2 + vq.size]; }
	volatile uint16_t &AvailEvent() { return *(volatile uint16_t *)(vq.used + 4 + 8 * vq.size); }
};

TEST_F(RingFeatures, SplitEventIdxNotifiesWhenAvailEventIsPassed)
{
	BringWith(VLAB_BIT(VIRTIO_F_RING_EVENT_IDX));
	ASSERT_TRUE(vq.event_idx);
	int c;
	// avail_event 0: the first entry (index 0) is the one.
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u) << "DRV-2.7.10.1-6";
	// avail_event still 0: entries 1 and 2 do not pass it.
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u) << "DRV-2.7.10.1-7";
	// The device asks for entry 3; NO_NOTIFY in used.flags is disregarded.
	*(volatile uint16_t *)vq.used = VIRTQ_USED_F_NO_NOTIFY;
	AvailEvent() = 3;
	ASSERT_EQ(AddIn(&c), 0); // entry 2
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u);
	ASSERT_EQ(AddIn(&c), 0); // entry 3
	ASSERT_EQ(AddIn(&c), 0); // entry 4: one kick for both, 3 is in [3, 5)
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 2u) << "DRV-2.7.10.1-5/6";
	EXPECT_EQ(vq.avail[0], 0) << "DRV-2.7.7.1-3";
}

TEST_F(RingFeatures, SplitEventIdxUsedEventFollowsPopsAndPollMode)
{
	BringWith(VLAB_BIT(VIRTIO_F_RING_EVENT_IDX));
	int c;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(UsedEvent(), 0) << "an interrupt at the first completion";
	SplitComplete(0, 1);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(UsedEvent(), 1) << "DRV-2.7.7.1-4: at the next entry";
	vlab_vq_disable_cb(&vq);
	EXPECT_EQ(vq.avail[0], 0) << "DRV-2.7.7.1-3: flags stay 0 with EVENT_IDX";
	EXPECT_EQ(UsedEvent(), 0) << "behind what was consumed: the device passed it";
	SplitComplete(1, 1);
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(UsedEvent(), 1);
	EXPECT_FALSE(vlab_vq_enable_cb(&vq)) << "nothing used yet";
	EXPECT_EQ(UsedEvent(), 2);
	SplitComplete(2, 1);
	vlab_vq_disable_cb(&vq);
	EXPECT_TRUE(vlab_vq_enable_cb(&vq)) << "a completion is already there";
}

TEST_F(RingFeatures, SplitPollModeSetsNoInterruptWithoutEventIdx)
{
	BringWith(0);
	vlab_vq_disable_cb(&vq);
	EXPECT_EQ(vq.avail[0], VIRTQ_AVAIL_F_NO_INTERRUPT) << "DRV-2.7.7.1-2";
	EXPECT_FALSE(vlab_vq_enable_cb(&vq));
	EXPECT_EQ(vq.avail[0], 0);
}

TEST_F(RingFeatures, SplitIndirectTableHoldsTheChainInOneSlot)
{
	BringWith(VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	ASSERT_NE(vq.ind, nullptr);
	int c, d;
	// Two descriptors: not worth a table.
	ASSERT_EQ(AddIn(&c, 1, 64, 1), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 6u);
	EXPECT_EQ(vq.desc[0].flags, VIRTQ_DESC_F_NEXT);
	// Four (1 out, 3 in): one ring slot holding an indirect table.
	ASSERT_EQ(AddIn(&d, 3, 64, 1), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 5u);
	EXPECT_EQ(vq.desc[2].flags, VIRTQ_DESC_F_INDIRECT) << "DRV-2.7.5.3.1-4: no NEXT";
	EXPECT_EQ(vq.desc[2].len, 4u * 16u);
	const volatile struct vlab_virtq_desc *t =
		(const volatile struct vlab_virtq_desc *)(uintptr_t)vq.desc[2].addr;
	EXPECT_EQ(t[0].addr, (uint64_t)(uintptr_t)buf);
	EXPECT_EQ(t[0].len, 16u);
	for (int i = 0; i < 4; i++) {
		uint16_t want = (i == 0 ? 0 : VIRTQ_DESC_F_WRITE) | (i < 3 ? VIRTQ_DESC_F_NEXT : 0);
		EXPECT_EQ(t[i].flags, want) << i << ": DRV-2.7.4.2-1, DRV-2.7.5.3.1-2";
		if (i < 3) {
			EXPECT_EQ(t[i].next, i + 1) << "DRV-2.7.5.3.1-5";
		}
	}
	EXPECT_EQ(t[3].addr, (uint64_t)(uintptr_t)buf + 1024 + 128);
	EXPECT_EQ(vq.indirect, 1u);
	EXPECT_EQ(vq.slots, 3u);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	SplitComplete(2, 100);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &d);
	EXPECT_EQ(len, 100u);
	EXPECT_EQ(vlab_vq_num_free(&vq), 6u) << "the first chain is still out";
	EXPECT_EQ(vq.ind_free & 1u, 1u) << "the table is back in the pool";
	// Eight descriptors with six slots free: they fit in one table.
	ASSERT_EQ(AddIn(&d, 8, 8, 0), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 5u);
	EXPECT_EQ(vq.indirect, 2u);
}

TEST_F(RingFeatures, SplitFullRingKeepsTheIndirectTableOfARefusedChain)
{
	BringWith(VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	ASSERT_NE(vq.ind, nullptr);
	const uint32_t pool = vq.ind_free;
	int c[8];
	unsigned k = 0;
	// Two-descriptor chains (no table) until no ring slot is left.
	while (vlab_vq_num_free(&vq) >= 2 && k < 8)
		ASSERT_EQ(AddIn(&c[k++], 1, 64, 1), 0);
	ASSERT_EQ(vlab_vq_num_free(&vq), 0u);
	// A chain long enough for a table, refused for want of a slot: the
	// table it would have used stays in the pool.
	int d;
	EXPECT_EQ(AddIn(&d, 3, 64, 1), VLAB_EBUSY);
	EXPECT_EQ(vq.ind_free, pool) << "no table lost to a refused chain";
}

TEST_F(RingFeatures, IndirectIsNotUsedUnlessNegotiated)
{
	BringWith(0);
	EXPECT_EQ(vq.ind, nullptr);
	int c;
	ASSERT_EQ(AddIn(&c, 3, 64, 1), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 4u) << "DRV-2.7.5.3.1-1";
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(vq.desc[i].flags & VIRTQ_DESC_F_INDIRECT, 0);
}

// ---- Packed virtqueue: the test plays the device on the descriptor ring ----

class PackedRing : public RingFeatures {
protected:
	// The device's side: its next slot and ring wrap counter.
	uint16_t dev_slot = 0;
	bool dev_wrap = true;
	uint16_t dev_avail = 0; // the device's next slot to read
	bool dev_avail_wrap = true;
	void Bring(uint64_t extra = 0, uint16_t cap = 8)
	{
		BringWith(VLAB_BIT(VIRTIO_F_RING_PACKED) | extra, cap);
		ASSERT_EQ(vq.kind, VLAB_VQ_PACKED);
	}
	volatile struct vlab_pvirtq_desc &D(unsigned i) { return vq.pdesc[i]; }
	bool IsAvail(unsigned i, bool wrap)
	{
		uint16_t f = D(i).flags;
		return ((f & VIRTQ_DESC_F_AVAIL) != 0) == wrap && ((f & VIRTQ_DESC_F_USED) != 0) != wrap;
	}
	// Take the next available list (checking its wrap bits); its ID and length.
	bool TakeAvail(uint16_t *id, unsigned *ndesc)
	{
		if (!IsAvail(dev_avail, dev_avail_wrap))
			return false;
		unsigned n = 0;
		uint16_t f;
		do {
			EXPECT_TRUE(IsAvail(dev_avail, dev_avail_wrap)) << "slot " << dev_avail;
			f = D(dev_avail).flags;
			*id = D(dev_avail).id;
			n++;
			if (++dev_avail == vq.size) {
				dev_avail = 0;
				dev_avail_wrap = !dev_avail_wrap;
			}
		} while ((f & VIRTQ_DESC_F_NEXT) && n <= vq.size);
		*ndesc = n;
		return true;
	}
	// Write a used descriptor at the device's slot, then skip n slots.
	void Used(uint16_t id, uint32_t len, unsigned n, bool write = true, int wrap = -1)
	{
		bool w = wrap < 0 ? dev_wrap : wrap != 0;
		D(dev_slot).id = id;
		D(dev_slot).len = len;
		D(dev_slot).flags = (uint16_t)((w ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0) |
		                               (write ? VIRTQ_DESC_F_WRITE : 0));
		dev_slot = (uint16_t)(dev_slot + n);
		if (dev_slot >= vq.size) {
			dev_slot = (uint16_t)(dev_slot - vq.size);
			dev_wrap = !dev_wrap;
		}
	}
	volatile uint16_t *DrvEvent() { return vq.drv_event; }
	volatile uint16_t *DevEvent() { return vq.dev_event; }
	void ExpectBroken(int rc)
	{
		EXPECT_EQ(rc, VLAB_EPROTO);
		EXPECT_TRUE(fd.d.broken);
		int c;
		unsigned notes = fd.notifies;
		EXPECT_EQ(AddIn(&c), VLAB_EBROKEN);
		EXPECT_EQ(vlab_vq_kick(&vq), VLAB_EBROKEN);
		void *ck;
		uint32_t len;
		EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EBROKEN);
		EXPECT_EQ(fd.notifies, notes);
	}
	// The next pop finds the device's breach, named why.
	void ExpectPopBreaks(const char *why)
	{
		void *ck;
		uint32_t len;
		ExpectBroken(vlab_vq_pop(&vq, &ck, &len));
		EXPECT_STREQ(fd.d.broken_why, why);
	}
};

TEST_F(PackedRing, LayoutIsAlignedPerSpec)
{
	Bring(0, 64);
	const struct vlab_vq_layout &l = fd.layout;
	EXPECT_EQ(l.size, 64u);
	EXPECT_EQ(l.desc % 16, 0u) << "DRV-2.8.11-1";
	EXPECT_EQ(l.avail, l.desc + 16u * 64) << "driver event suppression";
	EXPECT_EQ(l.avail % 4, 0u) << "DRV-2.8.11-1";
	EXPECT_EQ(l.used, l.avail + 4u) << "device event suppression";
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_ENABLE);
}

TEST_F(PackedRing, ListIsExposedByItsHeadAtTheKickAndRoundTrips)
{
	Bring();
	int cookie;
	ASSERT_EQ(AddIn(&cookie, 2, 64, 1), 0); // 1 out, 2 in: slots 0..2
	EXPECT_EQ(vlab_vq_num_free(&vq), 5u);
	EXPECT_EQ(D(0).flags, 0) << "DRV-2.8.17-6: the head is exposed last, by the kick";
	EXPECT_EQ(D(1).flags, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
	EXPECT_EQ(D(2).flags, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_WRITE) << "DRV-2.8.17-3";
	EXPECT_EQ(D(1).id, D(2).id);
	EXPECT_EQ(D(2).addr, (uint64_t)(uintptr_t)buf + 1024 + 64);
	fp.events.clear();
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(D(0).flags, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_NEXT);
	ASSERT_FALSE(fp.events.empty());
	EXPECT_EQ(fp.events[0].kind, 'w') << "DRV-2.8.21.1.1-1";
	EXPECT_EQ(fd.notifies, 1u);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	EXPECT_EQ(n, 3u);
	void *ck = nullptr;
	uint32_t len = 0;
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	Used(id, 100, n);
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &cookie);
	EXPECT_EQ(len, 100u);
	EXPECT_EQ(vlab_vq_num_free(&vq), 8u);
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(PackedRing, ManyRoundsFlipBothWrapCountersAndCompleteOutOfOrder)
{
	Bring(0, 4);
	int cookies[8];
	std::vector<std::pair<uint16_t, unsigned>> taken;
	// 70000 rounds of two lists of 1 and 2 descriptors, completed in
	// reverse order: slots wrap every few rounds, the counters 2^16.
	for (unsigned round = 0; round < 70000; round++) {
		ASSERT_EQ(AddIn(&cookies[0], 1, 64), 0);
		ASSERT_EQ(AddIn(&cookies[1], 1, 64, 1), 0);
		ASSERT_EQ(vlab_vq_kick(&vq), 0);
		taken.clear();
		uint16_t id;
		unsigned n;
		while (TakeAvail(&id, &n))
			taken.push_back({id, n});
		ASSERT_EQ(taken.size(), 2u) << round;
		for (auto it = taken.rbegin(); it != taken.rend(); ++it)
			Used(it->first, 8, it->second);
		void *ck;
		uint32_t len;
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0) << round;
		EXPECT_EQ(ck, &cookies[1]);
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0) << round;
		EXPECT_EQ(ck, &cookies[0]);
		ASSERT_EQ(vlab_vq_num_free(&vq), 4u);
	}
	EXPECT_EQ(vq.completions, 140000u);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(PackedRing, FullRingIsBusyAndAChainLongerThanTheQueueIsRefused)
{
	Bring(0, 4);
	int c;
	EXPECT_EQ(AddIn(&c, 5), VLAB_EINVAL) << "DRV-2.8.17-2";
	ASSERT_EQ(AddIn(&c, 3), 0);
	EXPECT_EQ(AddIn(&c, 2), VLAB_EBUSY) << "DRV-2.8.17-5";
	ASSERT_EQ(AddIn(&c, 1), 0);
	EXPECT_EQ(AddIn(&c, 1), VLAB_EBUSY);
}

TEST_F(PackedRing, BufferIdOutOfRangeBreaksTheDevice)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	Used(8, 1, 1);
	ExpectPopBreaks("buffer ID out of range");
}

TEST_F(PackedRing, BufferIdNotOutstandingBreaksTheDevice)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used((uint16_t)(id + 5), 1, 1); // an ID never given out
	ExpectPopBreaks("buffer ID is not an outstanding chain");
}

TEST_F(PackedRing, ChainCompletedTwiceIsCaughtEvenAfterItsSlotsAreReused)
{
	Bring(0, 4);
	int a, b;
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ida;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&ida, &n));
	Used(ida, 1, n);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	// A new list in the next slot gets another ID (the free IDs are a FIFO).
	ASSERT_EQ(AddIn(&b), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t idb;
	ASSERT_TRUE(TakeAvail(&idb, &n));
	EXPECT_NE(idb, ida);
	Used(ida, 1, 1); // the first list again
	ExpectBroken(vlab_vq_pop(&vq, &ck, &len));
	EXPECT_STREQ(fd.d.broken_why, "buffer ID is not an outstanding chain");
}

TEST_F(PackedRing, UsedDescriptorWithTheWrongWrapBitBreaksTheDevice)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 1, 1, true, 0); // AVAIL = USED = 0 in the first lap
	ExpectPopBreaks("used descriptor with the wrong wrap counter");
}

TEST_F(PackedRing, UsedLengthAboveThePostedBreaksTheDevice)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c, 2, 64), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 129, n);
	ExpectPopBreaks("used length above the writable bytes posted");
}

TEST_F(PackedRing, UsedLengthWithoutWriteFlagCountsForAWritableList)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c, 1, 64, 1), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 33, n, false); // QEMU 7.2 leaves WRITE clear
	void *ck;
	uint32_t len = 0;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(len, 33u);
}

TEST_F(PackedRing, UsedLengthOfAReadOnlyListIsIgnored)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c, 0, 64, 1), 0); // device-readable only
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 5000, n, false); // len is reserved without WRITE
	void *ck;
	uint32_t len = 99;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(len, 0u);
}

TEST_F(PackedRing, UsedListLongerThanWhatWasExposedBreaksTheDevice)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	ASSERT_EQ(AddIn(&b, 3), 0); // added, not exposed: 3 slots
	uint16_t id = vq.pdesc[1].id;
	Used(id, 1, 3); // the device completes the unexposed list
	ExpectPopBreaks("used descriptors beyond the ones exposed");
}

TEST_F(PackedRing, NothingExposedIsNotRead)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c), 0); // not kicked
	Used(0, 1, 1);
	fp.events.clear();
	void *ck;
	uint32_t len;
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	EXPECT_TRUE(fp.events.empty()) << "no shared-memory read";
}

TEST_F(PackedRing, DeviceEventSuppressionDisableAndDesc)
{
	Bring(VLAB_BIT(VIRTIO_F_RING_EVENT_IDX), 4);
	int c;
	DevEvent()[1] = VIRTQ_EVENT_F_DISABLE;
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 0u);
	// DESC: notify when slot 2 of the first lap (wrap 1) is exposed.
	DevEvent()[0] = 2 | 0x8000;
	DevEvent()[1] = VIRTQ_EVENT_F_DESC;
	ASSERT_EQ(AddIn(&c), 0); // slot 1
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 0u);
	ASSERT_EQ(AddIn(&c), 0); // slot 2
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u);
	// Complete all three, then wrap: slot 3 (lap 1), slot 0 (lap 2, wrap 0).
	uint16_t id;
	unsigned n;
	void *ck;
	uint32_t len;
	while (TakeAvail(&id, &n))
		Used(id, 1, n);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	DevEvent()[0] = 0; // slot 0 of the second lap (wrap 0)
	ASSERT_EQ(AddIn(&c), 0); // slot 3
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 1u);
	ASSERT_EQ(AddIn(&c), 0); // slot 0, second lap
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 2u);
	// The same slot in the first lap's terms was passed long ago.
	DevEvent()[0] = 1 | 0x8000;
	ASSERT_EQ(AddIn(&c), 0); // slot 1, second lap
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(fd.notifies, 2u);
}

TEST_F(PackedRing, DriverEventSuppressionFollowsPopsAndPollMode)
{
	Bring(VLAB_BIT(VIRTIO_F_RING_EVENT_IDX), 4);
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_DESC);
	EXPECT_EQ(DrvEvent()[0], 0x8000) << "slot 0, wrap 1";
	int c;
	ASSERT_EQ(AddIn(&c, 3), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 1, n);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(DrvEvent()[0], 3 | 0x8000) << "the next used slot";
	vlab_vq_disable_cb(&vq);
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_DISABLE);
	ASSERT_EQ(AddIn(&c, 2), 0); // slots 3, 0
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_FALSE(vlab_vq_enable_cb(&vq));
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_DESC);
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 1, n);
	vlab_vq_disable_cb(&vq);
	EXPECT_TRUE(vlab_vq_enable_cb(&vq));
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(DrvEvent()[0], 1) << "slot 1 of the second lap, wrap 0";
}

TEST_F(PackedRing, PollModeWithoutEventIdxUsesEnableAndDisable)
{
	Bring();
	vlab_vq_disable_cb(&vq);
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_DISABLE);
	EXPECT_FALSE(vlab_vq_enable_cb(&vq));
	EXPECT_EQ(DrvEvent()[1], VIRTQ_EVENT_F_ENABLE);
}

TEST_F(PackedRing, IndirectTableCarriesWriteOnlyAndTakesOneSlot)
{
	Bring(VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	int c;
	ASSERT_EQ(AddIn(&c, 3, 64, 2), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 7u);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	EXPECT_EQ(D(0).flags, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_INDIRECT) << "DRV-2.8.19-4";
	EXPECT_EQ(D(0).len, 5u * 16u);
	const volatile struct vlab_pvirtq_desc *t =
		(const volatile struct vlab_pvirtq_desc *)(uintptr_t)D(0).addr;
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(t[i].flags, i < 2 ? 0 : VIRTQ_DESC_F_WRITE) << i << ": DRV-2.8.19-2";
		EXPECT_EQ(t[i].addr, (uint64_t)(uintptr_t)buf + (i < 2 ? 16 * i : 1024 + 64 * (i - 2)));
	}
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	EXPECT_EQ(n, 1u);
	Used(id, 192, 1);
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(len, 192u);
	EXPECT_EQ(vlab_vq_num_free(&vq), 8u);
	EXPECT_EQ(vq.indirect, 1u);
	EXPECT_EQ(vq.slots, 1u);
}

TEST_F(PackedRing, IndirectPoolExhaustedFallsBackToRingSlots)
{
	Bring(VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC), 64);
	int c;
	for (unsigned i = 0; i < VLAB_VQ_IND_TABLES; i++)
		ASSERT_EQ(AddIn(&c, 3), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 64u - VLAB_VQ_IND_TABLES);
	ASSERT_EQ(AddIn(&c, 3), 0);
	EXPECT_EQ(vlab_vq_num_free(&vq), 64u - VLAB_VQ_IND_TABLES - 3) << "no table left";
}

// Each packed-ring validation of vlab_vqi_packed_pop (driver/core/
// virtqueue_packed.c) against a device that misbehaves that way; the list is
// in docs/virtqueue.md ("Packed-ring validations and their tests").

TEST_F(PackedRing, ChainCompletedTwiceInARowBreaksTheDeviceAndKeepsTheOtherList)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(AddIn(&b), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ida, idb;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&ida, &n));
	ASSERT_TRUE(TakeAvail(&idb, &n));
	Used(ida, 1, 1);
	Used(ida, 1, 1); // where b's completion belongs
	void *ck = nullptr;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &a);
	ck = nullptr;
	ExpectBroken(vlab_vq_pop(&vq, &ck, &len));
	EXPECT_STREQ(fd.d.broken_why, "buffer ID is not an outstanding chain");
	EXPECT_EQ(ck, nullptr) << "b's buffers are not handed back: the device may still reach them";
	EXPECT_EQ(vlab_vq_in_flight(&vq), 1u);
}

TEST_F(PackedRing, UsedLengthAboveWhatAnIndirectListPostedBreaksTheDevice)
{
	Bring(VLAB_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	int c;
	ASSERT_EQ(AddIn(&c, 3, 64, 1), 0); // 192 writable bytes, through a table
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	ASSERT_EQ(vq.indirect, 1u);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	ASSERT_EQ(n, 1u);
	Used(id, 193, n);
	ExpectPopBreaks("used length above the writable bytes posted");
}

TEST_F(PackedRing, UsedLengthAllOnesBreaksTheDevice)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c, 2, 64), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 0xffffffffu, n);
	ExpectPopBreaks("used length above the writable bytes posted");
}

TEST_F(PackedRing, UsedDescriptorOfTheFirstLapSeenInTheSecondBreaksTheDevice)
{
	Bring(0, 4);
	int c;
	void *ck;
	uint32_t len;
	uint16_t id;
	unsigned n;
	for (int i = 0; i < 4; i++) { // one lap of single-slot lists
		ASSERT_EQ(AddIn(&c), 0);
		ASSERT_EQ(vlab_vq_kick(&vq), 0);
		ASSERT_TRUE(TakeAvail(&id, &n));
		Used(id, 1, n);
		ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	}
	ASSERT_FALSE(dev_wrap) << "the device is in the second lap";
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 1, n, true, 1); // AVAIL = USED = 1: the first lap's value
	ExpectBroken(vlab_vq_pop(&vq, &ck, &len));
	EXPECT_STREQ(fd.d.broken_why, "used descriptor with the wrong wrap counter");
}

TEST_F(PackedRing, DescriptorAvailableInTheOtherLapIsNotUsed)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	// AVAIL 0, USED 1: available (for wrap 0), not used; ID and length are
	// not read.
	D(0).id = 0;
	D(0).len = 1;
	D(0).flags = VIRTQ_DESC_F_USED;
	fp.events.clear();
	void *ck = nullptr;
	uint32_t len;
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	EXPECT_EQ(ck, nullptr);
	EXPECT_FALSE(fd.d.broken);
	unsigned reads = 0;
	for (const auto &e : fp.events)
		reads += e.kind == 'R';
	EXPECT_EQ(reads, 1u) << "the flags only";
}

TEST_F(PackedRing, DeviceThatDoesNotSkipAListsSlotsCompletesNothingMore)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a, 3), 0); // slots 0..2
	ASSERT_EQ(AddIn(&b), 0);    // slot 3
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ida, idb;
	unsigned na, nb;
	ASSERT_TRUE(TakeAvail(&ida, &na));
	ASSERT_TRUE(TakeAvail(&idb, &nb));
	Used(ida, 1, 1); // skips one slot, not three (2.8.7)
	Used(idb, 1, 1); // so b's used descriptor is written at slot 1
	void *ck = nullptr;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &a);
	ck = nullptr;
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN) << "slot 3 still holds b, available";
	EXPECT_EQ(ck, nullptr) << "b is not taken from a slot inside a's list";
	EXPECT_EQ(vlab_vq_in_flight(&vq), 1u);
}

TEST_F(PackedRing, DeviceThatSkipsTooFarCompletesNothingMore)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a), 0); // slot 0
	ASSERT_EQ(AddIn(&b), 0); // slot 1
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ida, idb;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&ida, &n));
	ASSERT_TRUE(TakeAvail(&idb, &n));
	Used(ida, 1, 2); // skips two slots for a list of one
	Used(idb, 1, 1); // b's used descriptor at slot 2
	void *ck = nullptr;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &a);
	ck = nullptr;
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN) << "slot 1 still holds b, available";
	EXPECT_EQ(ck, nullptr);
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(PackedRing, PopsAreBoundedByTheListsExposed)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(AddIn(&b), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ids[2];
	unsigned n;
	ASSERT_TRUE(TakeAvail(&ids[0], &n));
	ASSERT_TRUE(TakeAvail(&ids[1], &n));
	// A device that fills the whole ring with used descriptors.
	for (unsigned i = 0; i < vq.size; i++)
		Used(ids[i % 2], 1, 1);
	void *ck;
	uint32_t len;
	unsigned popped = 0;
	for (unsigned i = 0; i < 100 && vlab_vq_pop(&vq, &ck, &len) == 0; i++)
		popped++;
	EXPECT_EQ(popped, 2u);
	fp.events.clear();
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EAGAIN);
	EXPECT_TRUE(fp.events.empty()) << "nothing exposed and not used: no slot is read";
	EXPECT_FALSE(fd.d.broken);
}

TEST_F(PackedRing, EachUsedFieldIsReadOnceFlagsFirst)
{
	Bring();
	int c;
	ASSERT_EQ(AddIn(&c, 1, 64), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t id;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&id, &n));
	Used(id, 10, n);
	fp.events.clear();
	void *ck;
	uint32_t len;
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	std::string order;
	for (const auto &e : fp.events) {
		if (e.kind == 'R')
			order += e.addr == &D(0).flags ? 'F' : e.addr == &D(0).id ? 'I' : e.addr == &D(0).len ? 'L' : '?';
		else
			order += e.kind;
	}
	EXPECT_EQ(order, "FrIL") << "flags, read barrier, then the ID and the length, each once";
}

TEST_F(PackedRing, AfterABreachNothingIsHandedBackUntilTheQueueIsSetUpAgain)
{
	Bring();
	int a, b;
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(AddIn(&b), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	uint16_t ida, idb;
	unsigned n;
	ASSERT_TRUE(TakeAvail(&ida, &n));
	ASSERT_TRUE(TakeAvail(&idb, &n));
	Used(7, 1, 1); // not outstanding
	void *ck = nullptr;
	uint32_t len;
	ExpectBroken(vlab_vq_pop(&vq, &ck, &len));
	// Now correct completions of both: still nothing comes back.
	Used(ida, 1, 1);
	Used(idb, 1, 1);
	EXPECT_EQ(vlab_vq_pop(&vq, &ck, &len), VLAB_EBROKEN);
	EXPECT_EQ(ck, nullptr);
	EXPECT_EQ(vlab_vq_in_flight(&vq), 2u);
	// A reset and a new queue: the ring works from its first slot again.
	vlab_vq_teardown(&vq);
	vq = {};
	dev_slot = dev_avail = 0;
	dev_wrap = dev_avail_wrap = true;
	Bring();
	EXPECT_FALSE(fd.d.broken);
	ASSERT_EQ(AddIn(&a), 0);
	ASSERT_EQ(vlab_vq_kick(&vq), 0);
	ASSERT_TRUE(TakeAvail(&ida, &n));
	Used(ida, 5, n);
	ASSERT_EQ(vlab_vq_pop(&vq, &ck, &len), 0);
	EXPECT_EQ(ck, &a);
	EXPECT_EQ(len, 5u);
}

// ---- mmio probe against a register file ----

class MmioProbe : public testing::Test {
protected:
	FakePlatform fp;
	struct vlab_mmio m {};
	void SetUp() override
	{
		fp.regs[VIRTIO_MMIO_MAGIC_VALUE] = VIRTIO_MMIO_MAGIC;
		fp.regs[VIRTIO_MMIO_VERSION] = 2;
		fp.regs[VIRTIO_MMIO_DEVICE_ID] = VIRTIO_ID_BLOCK;
		fp.regs[VIRTIO_MMIO_VENDOR_ID] = 0x554d4551;
		fp.regs[VIRTIO_MMIO_STATUS] = 0;
		fp.regs[VIRTIO_MMIO_QUEUE_READY] = 0;
		fp.regs[VIRTIO_MMIO_QUEUE_PFN] = 0;
		fp.regs[VIRTIO_MMIO_QUEUE_NUM_MAX] = 64;
		fp.regs[VIRTIO_MMIO_INTERRUPT_STATUS] = 0;
	}
	int Probe(unsigned flags = 0) { return vlab_mmio_probe(&m, &fp.plat, fp.mmio_base, flags); }
	void ExpectOnly32BitControlAccesses()
	{
		for (const auto &a : fp.accesses) {
			if (a.off < VIRTIO_MMIO_CONFIG) {
				EXPECT_EQ(a.width, 4u) << "DRV-4.2.2.2-4 at 0x" << std::hex << a.off;
				EXPECT_EQ(a.off % 4, 0u);
			}
			EXPECT_FALSE(a.off >= VIRTIO_MMIO_SHM_SEL && a.off <= VIRTIO_MMIO_SHM_BASE_HIGH)
			    << "DRV-4.2.3.1.1-5";
		}
	}
};

TEST_F(MmioProbe, Version2Device)
{
	ASSERT_EQ(Probe(), 0);
	EXPECT_EQ(m.vdev.device_id, VIRTIO_ID_BLOCK);
	EXPECT_EQ(m.vdev.vendor_id, 0x554d4551u);
	EXPECT_FALSE(m.vdev.legacy);
	EXPECT_EQ(m.vdev.legacy_align, 0u);
	EXPECT_STREQ(m.vdev.name, "mmio@10001000");
	ASSERT_GE(fp.accesses.size(), 3u);
	EXPECT_EQ(fp.accesses[0].off, (uint64_t)VIRTIO_MMIO_MAGIC_VALUE) << "DRV-4.2.3.1.1-1";
	EXPECT_EQ(fp.accesses[1].off, (uint64_t)VIRTIO_MMIO_VERSION);
	EXPECT_EQ(fp.accesses[2].off, (uint64_t)VIRTIO_MMIO_DEVICE_ID) << "DRV-4.2.3.1.1-2";
	ExpectOnly32BitControlAccesses();
}

TEST_F(MmioProbe, WrongMagicOrVersionIsIgnored)
{
	fp.regs[VIRTIO_MMIO_MAGIC_VALUE] = 0xffffffffu;
	EXPECT_EQ(Probe(VLAB_MMIO_ALLOW_LEGACY), VLAB_ENODEV) << "DRV-4.2.2.2-6";
	fp.regs[VIRTIO_MMIO_MAGIC_VALUE] = VIRTIO_MMIO_MAGIC;
	fp.regs[VIRTIO_MMIO_VERSION] = 3;
	EXPECT_EQ(Probe(VLAB_MMIO_ALLOW_LEGACY), VLAB_ENODEV) << "DRV-4.2.2.2-8";
	fp.regs[VIRTIO_MMIO_VERSION] = 1;
	fp.logs.clear();
	EXPECT_EQ(Probe(), VLAB_ENOTSUP);
	EXPECT_EQ(fp.logs.size(), 1u) << "DRV-4.2.2.2-9: reported";
}

TEST_F(MmioProbe, EmptySlotIsSilentAndUntouched)
{
	fp.regs[VIRTIO_MMIO_DEVICE_ID] = 0;
	fp.logs.clear();
	EXPECT_EQ(Probe(), VLAB_ENODEV);
	EXPECT_TRUE(fp.logs.empty()) << "DRV-4.2.2.2-11";
	ASSERT_FALSE(fp.accesses.empty());
	EXPECT_EQ(fp.accesses.back().off, (uint64_t)VIRTIO_MMIO_DEVICE_ID) << "DRV-4.2.3.1.1-4";
}

TEST_F(MmioProbe, LegacyDeviceSetsPageSize)
{
	fp.regs[VIRTIO_MMIO_VERSION] = 1;
	ASSERT_EQ(Probe(VLAB_MMIO_ALLOW_LEGACY), 0);
	EXPECT_TRUE(m.vdev.legacy);
	EXPECT_EQ(m.vdev.legacy_align, VLAB_MMIO_LEGACY_PAGE);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_GUEST_PAGE_SIZE], VLAB_MMIO_LEGACY_PAGE);
}

TEST_F(MmioProbe, FeaturesSelectBeforeEachAccess)
{
	ASSERT_EQ(Probe(), 0);
	fp.dev_features = VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(9);
	fp.accesses.clear();
	EXPECT_EQ(m.vdev.ops->get_features(&m.vdev), fp.dev_features);
	m.vdev.ops->set_features(&m.vdev, VLAB_BIT(VIRTIO_F_VERSION_1) | VLAB_BIT(9));
	uint64_t last_sel = ~0ull;
	for (const auto &a : fp.accesses) {
		if (a.write && (a.off == VIRTIO_MMIO_DEVICE_FEATURES_SEL || a.off == VIRTIO_MMIO_DRIVER_FEATURES_SEL)) {
			last_sel = a.off;
			continue;
		}
		if (a.off == VIRTIO_MMIO_DEVICE_FEATURES) {
			EXPECT_EQ(last_sel, (uint64_t)VIRTIO_MMIO_DEVICE_FEATURES_SEL) << "DRV-4.2.2.2-12";
		}
		if (a.off == VIRTIO_MMIO_DRIVER_FEATURES) {
			EXPECT_EQ(last_sel, (uint64_t)VIRTIO_MMIO_DRIVER_FEATURES_SEL) << "DRV-4.2.2.2-13";
		}
		last_sel = ~0ull;
	}
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_DRIVER_FEATURES_SEL], 1u);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_DRIVER_FEATURES], 1u);
	ExpectOnly32BitControlAccesses();
}

TEST_F(MmioProbe, InterruptAckWritesOnlyDefinedBits)
{
	ASSERT_EQ(Probe(), 0);
	fp.regs[VIRTIO_MMIO_INTERRUPT_STATUS] = 0xfffffff1u;
	EXPECT_EQ(m.vdev.ops->interrupt_ack(&m.vdev), VIRTIO_ISR_QUEUE) << "DRV-4.2.2.2-18";
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_INTERRUPT_ACK], VIRTIO_ISR_QUEUE) << "DRV-4.2.2.2-20";
}

TEST_F(MmioProbe, QueueSetupProgramsRegistersAndRefusesALiveQueue)
{
	ASSERT_EQ(Probe(), 0);
	fp.dev_features = VLAB_BIT(VIRTIO_F_VERSION_1);
	fp.regs[VIRTIO_MMIO_STATUS] = 0;
	ASSERT_EQ(vlab_virtio_begin(&m.vdev), 0);
	ASSERT_EQ(vlab_virtio_negotiate(&m.vdev, 0, 0, nullptr, 0), 0);
	struct vlab_vq vq {};
	ASSERT_EQ(vlab_vq_setup(&vq, &m.vdev, 0, 0), 0);
	EXPECT_EQ(vq.size, 64);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_QUEUE_NUM], 64u);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_QUEUE_READY], 1u);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_QUEUE_DESC_LOW], (uint32_t)vq.layout.desc);
	EXPECT_EQ(fp.regs[VIRTIO_MMIO_QUEUE_DEVICE_HIGH], (uint32_t)(vq.layout.used >> 32));
	vlab_vq_teardown(&vq);
	// QueueReady still 1: a second setup of the same queue is refused.
	struct vlab_vq vq2 {};
	EXPECT_EQ(vlab_vq_setup(&vq2, &m.vdev, 0, 0), VLAB_EPROTO);
	EXPECT_TRUE(m.vdev.broken);
	EXPECT_EQ(fp.live_allocs, 0);
	ExpectOnly32BitControlAccesses();
}

TEST_F(MmioProbe, ConfigWindowIsBounded)
{
	ASSERT_EQ(Probe(), 0);
	uint32_t v;
	EXPECT_EQ(m.vdev.ops->config_read(&m.vdev, VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG - 4, 4, &v), 0);
	EXPECT_EQ(m.vdev.ops->config_read(&m.vdev, VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG, 4, &v),
	          VLAB_ERANGE);
	EXPECT_EQ(m.vdev.ops->config_read(&m.vdev, 0xfffffffcu, 4, &v), VLAB_ERANGE);
	EXPECT_EQ(m.vdev.ops->config_read(&m.vdev, 2, 4, &v), VLAB_EINVAL);
	ASSERT_FALSE(fp.accesses.empty());
	EXPECT_EQ(fp.accesses.back().off, (uint64_t)VIRTIO_MMIO_SIZE - 4);
}

} // namespace
