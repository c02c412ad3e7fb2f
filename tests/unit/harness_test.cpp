// The host harness on its own: guest RAM arena, bus dispatch, scheduler and
// virtual clock, the model's env, the platform's dma_map, the MMIO slots.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/machine.h"
#include "vlab/err.h"
#include "vlab/mmio.h"

namespace {

struct MachineDeleter {
	void operator()(struct hx_machine *m) const { hx_machine_free(m); }
};
using Machine = std::unique_ptr<struct hx_machine, MachineDeleter>;

Machine NewMachine(uint64_t ram_size = 0, enum hx_sched_policy policy = HX_SCHED_IMMEDIATE,
                   uint64_t seed = 1)
{
	struct hx_machine_cfg c;
	hx_machine_cfg_default(&c);
	if (ram_size)
		c.ram_size = ram_size;
	c.policy = policy;
	c.seed = seed;
	Machine m(hx_machine_new(&c));
	EXPECT_NE(m, nullptr);
	return m;
}

// ---------------------------------------------------------------- defaults

TEST(Machine, Defaults)
{
	struct hx_machine_cfg c;
	hx_machine_cfg_default(&c);
	EXPECT_EQ(c.ram_base, 0x80000000ull);
	EXPECT_EQ(c.ram_size, 64ull << 20);
	EXPECT_EQ(c.seed, 1u);
	EXPECT_EQ(c.policy, HX_SCHED_IMMEDIATE);
	EXPECT_EQ(c.max_delay_ns, 50000u);

	Machine m(hx_machine_new(nullptr));
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(hx_ram_base(m.get()), 0x80000000ull);
	EXPECT_EQ(hx_ram_size(m.get()), 64ull << 20);
	EXPECT_EQ(hx_now(m.get()), 0u);
	EXPECT_EQ(hx_pending(m.get()), 0u);
	EXPECT_EQ(hx_ndevs(m.get()), 0u);
	EXPECT_EQ(hx_report(m.get())->count, 0u);
	EXPECT_EQ(hx_env(m.get())->report, hx_report(m.get()));
}

TEST(Machine, RefusesBadRam)
{
	struct hx_machine_cfg c;
	hx_machine_cfg_default(&c);
	c.ram_size = 0;
	EXPECT_EQ(hx_machine_new(&c), nullptr);
	hx_machine_cfg_default(&c);
	c.ram_base = UINT64_MAX - 4095; // would wrap past the top
	c.ram_size = 8192;
	EXPECT_EQ(hx_machine_new(&c), nullptr);
}

TEST(Machine, TransportNames)
{
	EXPECT_STREQ(hx_transport_name(HX_MMIO_LEGACY), "mmio-legacy");
	EXPECT_STREQ(hx_transport_name(HX_MMIO), "mmio");
	EXPECT_EQ(hx_transport_parse("mmio-legacy"), HX_MMIO_LEGACY);
	EXPECT_EQ(hx_transport_parse("mmio"), HX_MMIO);
	EXPECT_EQ(hx_transport_parse("pci-legacy"), HX_PCI_LEGACY);
	EXPECT_EQ(hx_transport_parse("pci-transitional"), HX_PCI_TRANSITIONAL);
	EXPECT_EQ(hx_transport_parse("pci"), HX_PCI);
	EXPECT_STREQ(hx_transport_name(HX_PCI), "pci");
	EXPECT_EQ(hx_transport_parse("usb"), -1);
	EXPECT_EQ(hx_transport_parse(""), -1);
	EXPECT_EQ(hx_transport_parse(nullptr), -1);

	struct hx_blk_opts o;
	hx_blk_opts_default(&o);
	EXPECT_EQ(o.transport, HX_MMIO);
	EXPECT_EQ(o.image, nullptr);
	EXPECT_EQ(o.ram_bytes, 16ull << 20);
	EXPECT_FALSE(o.read_only);
	EXPECT_FALSE(o.cfg_set);
}

// ---------------------------------------------------------------- arena

TEST(Arena, AllocIsZeroedAndAlignedOnTheDeviceAddress)
{
	Machine m = NewMachine();
	std::vector<std::pair<void *, size_t>> blocks;
	for (size_t align = 1; align <= 65536; align <<= 1) {
		for (size_t size : {size_t{1}, size_t{3}, size_t{100}, size_t{4096}}) {
			uint64_t dev = 0;
			void *p = hx_dma_alloc(m.get(), size, align, &dev);
			ASSERT_NE(p, nullptr) << "size " << size << " align " << align;
			EXPECT_EQ(dev % align, 0u) << "align " << align;
			EXPECT_GE(dev, hx_ram_base(m.get()));
			EXPECT_EQ(hx_ram_ptr(m.get(), dev, size), p);
			// Host pointers are aligned too (up to a page), so volatile
			// 16/32-bit loads of ring fields are aligned.
			size_t host_align = align < 4096 ? align : 4096;
			EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % host_align, 0u);
			blocks.push_back({p, size});
		}
	}
	// Blocks never overlap.
	for (size_t i = 0; i < blocks.size(); i++)
		for (size_t j = i + 1; j < blocks.size(); j++) {
			auto a = reinterpret_cast<uintptr_t>(blocks[i].first);
			auto b = reinterpret_cast<uintptr_t>(blocks[j].first);
			EXPECT_TRUE(a + blocks[i].second <= b || b + blocks[j].second <= a);
		}
	for (auto &b : blocks)
		hx_dma_free(m.get(), b.first, b.second);

	// Dirty a block, free it, allocate it again: zero-filled.
	uint64_t dev1, dev2;
	auto *p = static_cast<uint8_t *>(hx_dma_alloc(m.get(), 256, 64, &dev1));
	ASSERT_NE(p, nullptr);
	std::memset(p, 0xa5, 256);
	hx_dma_free(m.get(), p, 256);
	auto *q = static_cast<uint8_t *>(hx_dma_alloc(m.get(), 256, 64, &dev2));
	ASSERT_EQ(q, p); // first fit takes the same place
	EXPECT_EQ(dev1, dev2);
	for (int i = 0; i < 256; i++)
		ASSERT_EQ(q[i], 0) << i;
	hx_dma_free(m.get(), q, 256);

	// The same for large blocks (zeroed by whole pages, the ends cleared):
	// a block that starts and ends inside pages, dirtied from end to end
	// together with its neighbours, comes back all zeroes, and the
	// neighbours keep their bytes.
	const size_t big = 300 * 1024 + 123;
	auto *lead = static_cast<uint8_t *>(hx_dma_alloc(m.get(), 100, 1, nullptr));
	auto *r = static_cast<uint8_t *>(hx_dma_alloc(m.get(), big, 1, nullptr));
	auto *tail = static_cast<uint8_t *>(hx_dma_alloc(m.get(), 100, 1, nullptr));
	ASSERT_NE(lead, nullptr);
	ASSERT_NE(r, nullptr);
	ASSERT_NE(tail, nullptr);
	ASSERT_NE(reinterpret_cast<uintptr_t>(r) % 4096, 0u) << "the block starts inside a page";
	std::memset(lead, 0x11, 100);
	std::memset(r, 0x5a, big);
	std::memset(tail, 0x22, 100);
	hx_dma_free(m.get(), r, big);
	auto *r2 = static_cast<uint8_t *>(hx_dma_alloc(m.get(), big, 1, nullptr));
	ASSERT_EQ(r2, r);
	for (size_t i = 0; i < big; i++)
		ASSERT_EQ(r2[i], 0) << i;
	for (int i = 0; i < 100; i++) {
		ASSERT_EQ(lead[i], 0x11) << i;
		ASSERT_EQ(tail[i], 0x22) << i;
	}
	hx_dma_free(m.get(), r2, big);
	hx_dma_free(m.get(), lead, 100);
	hx_dma_free(m.get(), tail, 100);

	struct hx_arena_stats st;
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.used, 0u);
	EXPECT_EQ(st.allocs, st.frees);
	EXPECT_EQ(st.bad_frees, 0u);
	EXPECT_EQ(st.free_ranges, 1u);
	EXPECT_EQ(st.largest_free, hx_ram_size(m.get()));
}

TEST(Arena, RefusesAlignmentThatIsNotAPowerOfTwo)
{
	Machine m = NewMachine();
	uint64_t dev;
	EXPECT_EQ(hx_dma_alloc(m.get(), 64, 3, &dev), nullptr);
	EXPECT_EQ(hx_dma_alloc(m.get(), 64, 4096 + 1, &dev), nullptr);
	struct hx_arena_stats st;
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.failed_allocs, 2u);
	EXPECT_EQ(st.allocs, 0u);
}

TEST(Arena, Exhaustion)
{
	Machine m = NewMachine(64 * 1024);
	uint64_t dev;
	EXPECT_EQ(hx_dma_alloc(m.get(), 64 * 1024 + 1, 1, &dev), nullptr);
	void *all = hx_dma_alloc(m.get(), 64 * 1024, 4096, &dev);
	ASSERT_NE(all, nullptr);
	EXPECT_EQ(dev, hx_ram_base(m.get()));
	EXPECT_EQ(hx_dma_alloc(m.get(), 1, 1, &dev), nullptr);
	hx_dma_free(m.get(), all, 64 * 1024);
	// An alignment no free range can satisfy fails too.
	EXPECT_EQ(hx_dma_alloc(m.get(), 16, size_t{1} << 40, &dev), nullptr);
	EXPECT_NE(hx_dma_alloc(m.get(), 1, 1, &dev), nullptr);

	struct hx_arena_stats st;
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.failed_allocs, 3u);
	EXPECT_EQ(st.peak_used, 64u * 1024);
}

TEST(Arena, FreeCoalescesNeighboursInAnyOrder)
{
	const size_t kBlock = 4096;
	const uint64_t kRam = 8 * kBlock;
	// Free orders: ascending, descending, middle-out.
	const std::vector<std::vector<int>> orders = {
		{0, 1, 2, 3, 4, 5, 6, 7}, {7, 6, 5, 4, 3, 2, 1, 0}, {3, 5, 1, 7, 0, 2, 6, 4}};
	for (const auto &order : orders) {
		Machine m = NewMachine(kRam);
		void *b[8];
		for (int i = 0; i < 8; i++) {
			b[i] = hx_dma_alloc(m.get(), kBlock, kBlock, nullptr);
			ASSERT_NE(b[i], nullptr);
		}
		EXPECT_EQ(hx_dma_alloc(m.get(), 1, 1, nullptr), nullptr);
		for (int i : order)
			hx_dma_free(m.get(), b[i], kBlock);
		struct hx_arena_stats st;
		hx_arena_get_stats(m.get(), &st);
		EXPECT_EQ(st.free_ranges, 1u);
		EXPECT_EQ(st.largest_free, kRam);
		EXPECT_EQ(st.used, 0u);
		// Only possible if every neighbour was merged back.
		void *whole = hx_dma_alloc(m.get(), kRam, 1, nullptr);
		EXPECT_NE(whole, nullptr);
	}
}

TEST(Arena, HolesAreReusedFirstFit)
{
	Machine m = NewMachine(64 * 1024);
	void *a = hx_dma_alloc(m.get(), 1024, 16, nullptr);
	void *b = hx_dma_alloc(m.get(), 1024, 16, nullptr);
	void *c = hx_dma_alloc(m.get(), 1024, 16, nullptr);
	ASSERT_TRUE(a && b && c);
	hx_dma_free(m.get(), b, 1024);
	struct hx_arena_stats st;
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.free_ranges, 2u); // the hole and the tail
	EXPECT_EQ(hx_dma_alloc(m.get(), 512, 16, nullptr), b);
	// Too big for the rest of the hole: goes after c.
	void *d = hx_dma_alloc(m.get(), 1024, 16, nullptr);
	EXPECT_GT(reinterpret_cast<uintptr_t>(d), reinterpret_cast<uintptr_t>(c));
}

TEST(Arena, BadFreesAreCountedAndHarmless)
{
	Machine m = NewMachine(64 * 1024);
	std::vector<std::string> lines;
	hx_set_log(
		m.get(),
		[](void *ctx, enum vlab_log_level, const char *msg) {
			static_cast<std::vector<std::string> *>(ctx)->push_back(msg);
		},
		&lines, VLAB_LOG_DEBUG);
	void *a = hx_dma_alloc(m.get(), 4096, 16, nullptr);
	ASSERT_NE(a, nullptr);
	hx_dma_free(m.get(), a, 4096);
	hx_dma_free(m.get(), a, 4096); // double free
	int local = 0;
	hx_dma_free(m.get(), &local, sizeof local); // not arena memory
	struct hx_arena_stats st;
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.bad_frees, 2u);
	EXPECT_EQ(st.frees, 1u);
	EXPECT_EQ(st.free_ranges, 1u);
	EXPECT_EQ(lines.size(), 2u);
	hx_dma_free(m.get(), nullptr, 10); // a no-op, as free(NULL)
	hx_arena_get_stats(m.get(), &st);
	EXPECT_EQ(st.bad_frees, 2u);
}

// ---------------------------------------------------------------- dma_map

TEST(Platform, DmaMapInsideAndOutsideTheArena)
{
	Machine m = NewMachine();
	const struct vlab_platform *p = hx_platform(m.get());
	uint64_t dev = 0;
	auto *buf = static_cast<uint8_t *>(p->ops->dma_alloc(p->ctx, 512, 512, &dev));
	ASSERT_NE(buf, nullptr);

	vlab_addr_t got = 0;
	EXPECT_EQ(p->ops->dma_map(p->ctx, buf, 512, VLAB_DMA_FROM_DEVICE, &got), VLAB_OK);
	EXPECT_EQ(got, dev);
	EXPECT_EQ(p->ops->dma_map(p->ctx, buf + 100, 10, VLAB_DMA_FROM_DEVICE, &got), VLAB_OK);
	EXPECT_EQ(got, dev + 100);

	uint8_t stack_buf[16];
	EXPECT_EQ(p->ops->dma_map(p->ctx, stack_buf, sizeof stack_buf, VLAB_DMA_FROM_DEVICE, &got), VLAB_EINVAL);
	std::vector<uint8_t> heap_buf(64);
	EXPECT_EQ(p->ops->dma_map(p->ctx, heap_buf.data(), heap_buf.size(), VLAB_DMA_FROM_DEVICE, &got), VLAB_EINVAL);

	// The last bytes of RAM map; one byte further does not.
	uint64_t end = hx_ram_base(m.get()) + hx_ram_size(m.get());
	auto *tail = static_cast<uint8_t *>(hx_ram_ptr(m.get(), end - 4, 4));
	ASSERT_NE(tail, nullptr);
	EXPECT_EQ(p->ops->dma_map(p->ctx, tail, 4, VLAB_DMA_FROM_DEVICE, &got), VLAB_OK);
	EXPECT_EQ(got, end - 4);
	EXPECT_EQ(p->ops->dma_map(p->ctx, tail, 5, VLAB_DMA_FROM_DEVICE, &got), VLAB_EINVAL);
	EXPECT_EQ(p->ops->dma_map(p->ctx, tail, SIZE_MAX, VLAB_DMA_FROM_DEVICE, &got), VLAB_EINVAL);
	p->ops->dma_free(p->ctx, buf, 512);
}

TEST(Platform, SharedMemoryReadsAndBarriers)
{
	Machine m = NewMachine();
	const struct vlab_platform *p = hx_platform(m.get());
	auto *buf = static_cast<uint8_t *>(hx_dma_alloc(m.get(), 64, 8, nullptr));
	ASSERT_NE(buf, nullptr);
	uint16_t v16 = 0xbeef;
	uint32_t v32 = 0xcafef00d;
	std::memcpy(buf, &v16, 2);
	std::memcpy(buf + 4, &v32, 4);
	EXPECT_EQ(vlab_plat_shm_read16(p, buf), 0xbeef);
	EXPECT_EQ(vlab_plat_shm_read32(p, buf + 4), 0xcafef00du);
	uint8_t out[6];
	vlab_plat_shm_read(p, out, buf, 6);
	EXPECT_EQ(std::memcmp(out, buf, 6), 0);
	vlab_plat_mb(p);
	vlab_plat_rmb(p);
	vlab_plat_wmb(p);
	hx_dma_free(m.get(), buf, 64);
}

TEST(Platform, LogDefaultsAndFilter)
{
	Machine m = NewMachine();
	const struct vlab_platform *p = hx_platform(m.get());
	std::vector<std::pair<int, std::string>> lines;
	hx_set_log(
		m.get(),
		[](void *ctx, enum vlab_log_level l, const char *msg) {
			static_cast<std::vector<std::pair<int, std::string>> *>(ctx)->push_back({l, msg});
		},
		&lines, VLAB_LOG_INFO);
	p->ops->log(p->ctx, VLAB_LOG_ERROR, "e");
	p->ops->log(p->ctx, VLAB_LOG_INFO, "i");
	p->ops->log(p->ctx, VLAB_LOG_DEBUG, "d");
	ASSERT_EQ(lines.size(), 2u);
	EXPECT_EQ(lines[0], std::make_pair(int{VLAB_LOG_ERROR}, std::string("e")));
	EXPECT_EQ(lines[1], std::make_pair(int{VLAB_LOG_INFO}, std::string("i")));

	// The default goes to stderr, WARN and above.
	hx_set_log(m.get(), nullptr, nullptr, VLAB_LOG_WARN);
	testing::internal::CaptureStderr();
	p->ops->log(p->ctx, VLAB_LOG_WARN, "careful");
	p->ops->log(p->ctx, VLAB_LOG_INFO, "chatty");
	EXPECT_EQ(testing::internal::GetCapturedStderr(), "vlab: warn: careful\n");
}

// ---------------------------------------------------------------- bus

struct Access {
	bool write;
	uint64_t off;
	unsigned width;
	uint32_t val;
	bool operator==(const Access &o) const
	{
		return write == o.write && off == o.off && width == o.width && val == o.val;
	}
};

std::ostream &operator<<(std::ostream &os, const Access &a)
{
	return os << (a.write ? "W" : "R") << " off=0x" << std::hex << a.off << std::dec << " w=" << a.width
	          << " val=0x" << std::hex << a.val << std::dec;
}

struct Recorder {
	std::vector<Access> log;
	static uint32_t Read(void *ctx, uint64_t off, unsigned width)
	{
		auto *r = static_cast<Recorder *>(ctx);
		uint32_t v = 0xa0b0c000u | static_cast<uint32_t>(off);
		r->log.push_back({false, off, width, v});
		return v; // the bus truncates to the width
	}
	static void Write(void *ctx, uint64_t off, unsigned width, uint32_t val)
	{
		static_cast<Recorder *>(ctx)->log.push_back({true, off, width, val});
	}
};

const struct hx_mmio_ops kRecorderOps = {Recorder::Read, Recorder::Write};
constexpr uint64_t kDevBase = 0x20000000ull;

TEST(Bus, DispatchesByAddressWithOffsetAndWidth)
{
	Machine m = NewMachine();
	Recorder a, b;
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase, 0x100, &kRecorderOps, &a), 0);
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase + 0x1000, 0x100, &kRecorderOps, &b), 0);
	const struct vlab_platform *p = hx_platform(m.get());

	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0x11), 0x11);
	EXPECT_EQ(vlab_plat_read16(p, kDevBase + 0x22), 0xc022);
	EXPECT_EQ(vlab_plat_read32(p, kDevBase + 0x44), 0xa0b0c044u);
	vlab_plat_write8(p, kDevBase + 1, 0x5a);
	vlab_plat_write16(p, kDevBase + 2, 0x1234);
	vlab_plat_write32(p, kDevBase + 4, 0xdeadbeef);
	vlab_plat_write32(p, kDevBase + 0x10fc, 7);

	std::vector<Access> want_a = {{false, 0x11, 1, 0xa0b0c011u}, {false, 0x22, 2, 0xa0b0c022u},
	                              {false, 0x44, 4, 0xa0b0c044u}, {true, 1, 1, 0x5a},
	                              {true, 2, 2, 0x1234},          {true, 4, 4, 0xdeadbeef}};
	EXPECT_EQ(a.log, want_a);
	std::vector<Access> want_b = {{true, 0xfc, 4, 7}};
	EXPECT_EQ(b.log, want_b);
	EXPECT_EQ(hx_stray_accesses(m.get()), 0u);
}

TEST(Bus, UnmappedAccessesReadAllOnesAndCountAsStray)
{
	Machine m = NewMachine();
	Recorder r;
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase, 0x100, &kRecorderOps, &r), 0);
	const struct vlab_platform *p = hx_platform(m.get());
	EXPECT_EQ(hx_stray_accesses(m.get()), 0u);

	EXPECT_EQ(vlab_plat_read8(p, 0x30000000), 0xff);
	EXPECT_EQ(vlab_plat_read16(p, 0x30000000), 0xffff);
	EXPECT_EQ(vlab_plat_read32(p, 0x30000000), 0xffffffffu);
	EXPECT_EQ(hx_stray_accesses(m.get()), 3u);
	vlab_plat_write32(p, 0x30000000, 1);
	EXPECT_EQ(hx_stray_accesses(m.get()), 4u);
	// Guest RAM is not on the register bus.
	EXPECT_EQ(vlab_plat_read32(p, hx_ram_base(m.get())), 0xffffffffu);
	// An access running past a region's end is not the region's.
	EXPECT_EQ(vlab_plat_read32(p, kDevBase + 0xfe), 0xffffffffu);
	EXPECT_EQ(vlab_plat_read32(p, kDevBase - 2), 0xffffffffu);
	// The top of the address space does not wrap around.
	EXPECT_EQ(vlab_plat_read32(p, UINT64_MAX - 1), 0xffffffffu);
	EXPECT_EQ(hx_stray_accesses(m.get()), 8u);
	EXPECT_TRUE(r.log.empty());
	// The last byte of the region is still the region's.
	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0xff), 0xff);
	ASSERT_EQ(r.log.size(), 1u);
	EXPECT_EQ(r.log[0].off, 0xffu);
}

// The bus tries the region of the last access first (issue 15): a region
// mapped in front of it since, an access running past its end and one in
// the gap after it still go where the search sends them.
TEST(Bus, TheLastRegionTriedFirstChangesNoAccessAfterAMapInFrontOfIt)
{
	Machine m = NewMachine();
	Recorder a, b;
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase + 0x1000, 0x100, &kRecorderOps, &a), 0);
	const struct vlab_platform *p = hx_platform(m.get());
	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0x1010), 0x10);
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase, 0x100, &kRecorderOps, &b), 0); // takes a's place in the map
	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0x1020), 0x20);
	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0x30), 0x30);
	EXPECT_EQ(vlab_plat_read8(p, kDevBase + 0x1040), 0x40);
	const uint64_t stray = hx_stray_accesses(m.get());
	EXPECT_EQ(vlab_plat_read32(p, kDevBase + 0x10fe), 0xffffffffu); // past a's end
	EXPECT_EQ(vlab_plat_read32(p, kDevBase + 0x1100), 0xffffffffu); // just after it
	EXPECT_EQ(vlab_plat_read32(p, kDevBase + 0x800), 0xffffffffu);  // between b and a
	EXPECT_EQ(hx_stray_accesses(m.get()), stray + 3);
	std::vector<Access> want_a = {{false, 0x10, 1, 0xa0b0c010u}, {false, 0x20, 1, 0xa0b0c020u},
	                              {false, 0x40, 1, 0xa0b0c040u}};
	std::vector<Access> want_b = {{false, 0x30, 1, 0xa0b0c030u}};
	EXPECT_EQ(a.log, want_a);
	EXPECT_EQ(b.log, want_b);
}

TEST(Bus, RefusesOverlappingRegions)
{
	Machine m = NewMachine();
	Recorder r;
	ASSERT_EQ(hx_map_mmio(m.get(), kDevBase, 0x100, &kRecorderOps, &r), 0);
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase, 0x100, &kRecorderOps, &r), -1);        // same
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase + 0xff, 1, &kRecorderOps, &r), -1);     // last byte
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase - 0x100, 0x101, &kRecorderOps, &r), -1); // first byte
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase - 0x10, 0x1000, &kRecorderOps, &r), -1); // covers it
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase + 0x10, 0x10, &kRecorderOps, &r), -1);  // inside
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase, 0, &kRecorderOps, &r), -1);            // empty
	EXPECT_EQ(hx_map_mmio(m.get(), UINT64_MAX, 2, &kRecorderOps, &r), -1);          // wraps
	// The virtio-mmio slots are taken from the start.
	EXPECT_EQ(hx_map_mmio(m.get(), HX_MMIO_SLOT_BASE + 0x800, 4, &kRecorderOps, &r), -1);
	// Neighbours touching either end are fine.
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase + 0x100, 0x100, &kRecorderOps, &r), 0);
	EXPECT_EQ(hx_map_mmio(m.get(), kDevBase - 0x100, 0x100, &kRecorderOps, &r), 0);
	EXPECT_EQ(hx_map_mmio(m.get(), UINT64_MAX, 1, &kRecorderOps, &r), 0);
}

TEST(Bus, PortIoHasItsOwnMap)
{
	Machine m = NewMachine();
	Recorder r;
	ASSERT_EQ(hx_map_pio(m.get(), 0xc000, 0x40, &kRecorderOps, &r), 0);
	EXPECT_EQ(hx_map_pio(m.get(), 0xc020, 4, &kRecorderOps, &r), -1);
	EXPECT_EQ(hx_map_pio(m.get(), 0xfffffff0u, 0x20, &kRecorderOps, &r), -1); // past 4 GiB
	EXPECT_EQ(hx_map_pio(m.get(), 0x100, 0, &kRecorderOps, &r), -1);
	const struct vlab_platform *p = hx_platform(m.get());
	EXPECT_EQ(p->ops->pio_read8(p->ctx, 0xc012), 0x12);
	EXPECT_EQ(p->ops->pio_read16(p->ctx, 0xc014), 0xc014);
	EXPECT_EQ(p->ops->pio_read32(p->ctx, 0xc018), 0xa0b0c018u);
	p->ops->pio_write8(p->ctx, 0xc001, 1);
	p->ops->pio_write16(p->ctx, 0xc002, 2);
	p->ops->pio_write32(p->ctx, 0xc004, 3);
	std::vector<Access> want = {{false, 0x12, 1, 0xa0b0c012u}, {false, 0x14, 2, 0xa0b0c014u},
	                            {false, 0x18, 4, 0xa0b0c018u}, {true, 1, 1, 1},
	                            {true, 2, 2, 2},               {true, 4, 4, 3}};
	EXPECT_EQ(r.log, want);
	// Port space and MMIO space are separate.
	EXPECT_EQ(vlab_plat_read32(p, 0xc000), 0xffffffffu);
	EXPECT_EQ(p->ops->pio_read32(p->ctx, 0x80), 0xffffffffu);
	EXPECT_EQ(p->ops->pio_read8(p->ctx, 0x80), 0xff);
	p->ops->pio_write32(p->ctx, 0x80, 0);
	EXPECT_EQ(hx_stray_accesses(m.get()), 4u);
	EXPECT_EQ(r.log.size(), want.size());
}

// ---------------------------------------------------------------- scheduler

struct Trace {
	struct hx_machine *m = nullptr;
	std::vector<std::pair<int, uint64_t>> ran; // (id, time)
};

struct Piece {
	Trace *t;
	int id;
	static void Run(void *arg)
	{
		auto *p = static_cast<Piece *>(arg);
		p->t->ran.push_back({p->id, hx_now(p->t->m)});
	}
};

TEST(Scheduler, ImmediateRunsInlineAtTheNotification)
{
	Machine m = NewMachine();
	Trace t{m.get(), {}};
	Piece a{&t, 1};
	struct dm_env *env = hx_env(m.get());
	env->schedule(env->ctx, Piece::Run, &a, "test");
	ASSERT_EQ(t.ran.size(), 1u);
	EXPECT_EQ(t.ran[0], std::make_pair(1, uint64_t{0}));
	EXPECT_EQ(hx_pending(m.get()), 0u);
	EXPECT_EQ(hx_now(m.get()), 0u);
}

struct Nest {
	struct hx_machine *m;
	std::vector<std::string> log;
	int depth = 0;
	static void Inner(void *arg)
	{
		auto *n = static_cast<Nest *>(arg);
		n->log.push_back("inner");
	}
	static void Outer(void *arg)
	{
		auto *n = static_cast<Nest *>(arg);
		n->log.push_back("outer begin");
		struct dm_env *env = hx_env(n->m);
		env->schedule(env->ctx, Inner, n, "inner");
		env->schedule(env->ctx, Inner, n, "inner");
		n->log.push_back("outer end");
	}
};

TEST(Scheduler, ImmediateWorkScheduledFromWorkRunsRightAfterNotInside)
{
	Machine m = NewMachine();
	Nest n{m.get(), {}};
	struct dm_env *env = hx_env(m.get());
	env->schedule(env->ctx, Nest::Outer, &n, "outer");
	std::vector<std::string> want = {"outer begin", "outer end", "inner", "inner"};
	EXPECT_EQ(n.log, want);
	EXPECT_EQ(hx_pending(m.get()), 0u);
	struct hx_sched_stats st;
	hx_sched_get_stats(m.get(), &st);
	EXPECT_EQ(st.scheduled, 3u);
	EXPECT_EQ(st.run, 3u);
	EXPECT_EQ(st.nested, 2u);
}

std::vector<std::pair<int, uint64_t>> DeferredRun(uint64_t seed, unsigned n)
{
	Machine m = NewMachine(0, HX_SCHED_DEFERRED, seed);
	Trace t{m.get(), {}};
	std::vector<Piece> pieces;
	for (unsigned i = 0; i < n; i++)
		pieces.push_back({&t, static_cast<int>(i)});
	struct dm_env *env = hx_env(m.get());
	for (auto &p : pieces)
		env->schedule(env->ctx, Piece::Run, &p, "test");
	EXPECT_TRUE(t.ran.empty()); // nothing runs at the notification
	EXPECT_EQ(hx_pending(m.get()), n);
	EXPECT_EQ(hx_run_pending(m.get()), n);
	EXPECT_EQ(hx_pending(m.get()), 0u);
	EXPECT_EQ(t.ran.size(), n);
	uint64_t prev = 0;
	for (auto &r : t.ran) {
		EXPECT_GT(r.second, 0u);         // delay in (0, max_delay]
		EXPECT_LE(r.second, 50000u);
		EXPECT_GE(r.second, prev);       // in time order
		prev = r.second;
	}
	EXPECT_EQ(hx_now(m.get()), prev);
	return t.ran;
}

TEST(Scheduler, DeferredIsReproducibleFromTheSeed)
{
	auto a = DeferredRun(42, 32);
	auto b = DeferredRun(42, 32);
	EXPECT_EQ(a, b);
	auto c = DeferredRun(43, 32);
	EXPECT_NE(a, c);
	// Delays are spread, not all the same.
	bool differ = false;
	for (auto &r : a)
		differ |= r.second != a[0].second;
	EXPECT_TRUE(differ);
	// With 32 pieces a seeded order is not the scheduling order.
	bool reordered = false;
	for (size_t i = 0; i < a.size(); i++)
		reordered |= a[i].first != static_cast<int>(i);
	EXPECT_TRUE(reordered);
}

TEST(Scheduler, AdvanceRunsOnlyWhatIsDue)
{
	Machine m = NewMachine(0, HX_SCHED_DEFERRED, 7);
	Trace t{m.get(), {}};
	std::vector<Piece> pieces;
	for (int i = 0; i < 16; i++)
		pieces.push_back({&t, i});
	struct dm_env *env = hx_env(m.get());
	for (auto &p : pieces)
		env->schedule(env->ctx, Piece::Run, &p, "test");
	hx_advance(m.get(), 25000);
	EXPECT_EQ(hx_now(m.get()), 25000u);
	for (auto &r : t.ran)
		EXPECT_LE(r.second, 25000u);
	EXPECT_EQ(t.ran.size() + hx_pending(m.get()), 16u);
	// The platform's delay is the same thing: time passes, due work runs.
	const struct vlab_platform *p = hx_platform(m.get());
	vlab_plat_delay(p, 25000);
	EXPECT_EQ(vlab_plat_now(p), 50000u);
	EXPECT_EQ(t.ran.size(), 16u);
	EXPECT_EQ(hx_pending(m.get()), 0u);
}

TEST(Scheduler, ScheduleAtOrdersByTimeThenInsertion)
{
	Machine m = NewMachine(); // policy does not matter to schedule_at
	Trace t{m.get(), {}};
	const uint64_t delays[] = {1000, 500, 1000, 200, 1000, 500, 0};
	std::vector<Piece> pieces;
	for (int i = 0; i < 7; i++)
		pieces.push_back({&t, i});
	struct dm_env *env = hx_env(m.get());
	for (int i = 0; i < 7; i++)
		env->schedule_at(env->ctx, Piece::Run, &pieces[i], delays[i]);
	EXPECT_TRUE(t.ran.empty()); // even a zero delay waits for the clock
	EXPECT_EQ(hx_pending(m.get()), 7u);
	hx_advance(m.get(), 2000);
	std::vector<std::pair<int, uint64_t>> want = {{6, 0},    {3, 200},  {1, 500},  {5, 500},
	                                              {0, 1000}, {2, 1000}, {4, 1000}};
	EXPECT_EQ(t.ran, want);
	EXPECT_EQ(hx_now(m.get()), 2000u);

	// Relative to now, and saturating instead of wrapping.
	t.ran.clear();
	env->schedule_at(env->ctx, Piece::Run, &pieces[0], 10);
	env->schedule_at(env->ctx, Piece::Run, &pieces[1], UINT64_MAX);
	hx_advance(m.get(), 10);
	ASSERT_EQ(t.ran.size(), 1u);
	EXPECT_EQ(t.ran[0], std::make_pair(0, uint64_t{2010}));
	EXPECT_EQ(hx_run_pending(m.get()), 1u);
	EXPECT_EQ(hx_now(m.get()), UINT64_MAX);
}

TEST(Scheduler, BatchedReleasesAtFourPiecesOrAtTheDeadline)
{
	Machine m = NewMachine(0, HX_SCHED_BATCHED, 3);
	Trace t{m.get(), {}};
	std::vector<Piece> pieces;
	for (int i = 0; i < 6; i++)
		pieces.push_back({&t, i});
	struct dm_env *env = hx_env(m.get());
	for (int i = 0; i < 3; i++)
		env->schedule(env->ctx, Piece::Run, &pieces[i], "test");
	EXPECT_TRUE(t.ran.empty());
	EXPECT_EQ(hx_pending(m.get()), 3u);
	env->schedule(env->ctx, Piece::Run, &pieces[3], "test");
	std::vector<std::pair<int, uint64_t>> want = {{0, 0}, {1, 0}, {2, 0}, {3, 0}};
	EXPECT_EQ(t.ran, want);
	EXPECT_EQ(hx_pending(m.get()), 0u);

	// Fewer than four: they wait for the seeded deadline, at most max_delay.
	env->schedule(env->ctx, Piece::Run, &pieces[4], "test");
	env->schedule(env->ctx, Piece::Run, &pieces[5], "test");
	EXPECT_EQ(t.ran.size(), 4u);
	hx_advance(m.get(), 50000);
	ASSERT_EQ(t.ran.size(), 6u);
	EXPECT_EQ(t.ran[4].first, 4);
	EXPECT_EQ(t.ran[5].first, 5);
	EXPECT_GT(t.ran[4].second, 0u);
	EXPECT_EQ(t.ran[4].second, t.ran[5].second);
	EXPECT_EQ(hx_run_pending(m.get()), 0u); // the stale deadline of the first batch ran nothing
	struct hx_sched_stats st;
	hx_sched_get_stats(m.get(), &st);
	EXPECT_EQ(st.batches, 2u);
	EXPECT_EQ(st.run, 6u);
}

// ---------------------------------------------------------------- env

TEST(Env, GuestMemoryAccessIsBoundsChecked)
{
	Machine m = NewMachine(1 << 20);
	struct dm_env *env = hx_env(m.get());
	const uint64_t base = hx_ram_base(m.get()), size = hx_ram_size(m.get());
	uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {};

	EXPECT_TRUE(env->mem_write(env->ctx, base, in, 8));
	EXPECT_TRUE(env->mem_read(env->ctx, base, out, 8));
	EXPECT_EQ(std::memcmp(in, out, 8), 0);
	EXPECT_EQ(static_cast<uint8_t *>(hx_ram_ptr(m.get(), base, 8))[7], 8);
	// The last bytes of RAM, and no further.
	EXPECT_TRUE(env->mem_write(env->ctx, base + size - 8, in, 8));
	EXPECT_TRUE(env->mem_read(env->ctx, base + size - 8, out, 8));
	EXPECT_FALSE(env->mem_write(env->ctx, base + size - 7, in, 8));
	EXPECT_FALSE(env->mem_read(env->ctx, base + size - 7, out, 8));
	EXPECT_FALSE(env->mem_read(env->ctx, base + size, out, 1));
	EXPECT_FALSE(env->mem_read(env->ctx, base - 1, out, 2));
	EXPECT_FALSE(env->mem_read(env->ctx, 0, out, 1));
	// Addresses and lengths that wrap around 2^64 are refused, not
	// reduced into RAM.
	EXPECT_FALSE(env->mem_read(env->ctx, UINT64_MAX - 3, out, 8));
	EXPECT_FALSE(env->mem_write(env->ctx, UINT64_MAX, in, 2));
	EXPECT_FALSE(env->mem_read(env->ctx, base + 8, out, SIZE_MAX));
	EXPECT_FALSE(env->mem_write(env->ctx, base + 8, in, SIZE_MAX - 7));
	EXPECT_EQ(hx_ram_ptr(m.get(), base + 8, UINT64_MAX - 7), nullptr);
	EXPECT_EQ(hx_ram_ptr(m.get(), UINT64_MAX - 1, 4), nullptr);
	// A refused write changes nothing.
	uint8_t last = *static_cast<uint8_t *>(hx_ram_ptr(m.get(), base + size - 1, 1));
	uint8_t ff[2] = {0xff, 0xff};
	EXPECT_FALSE(env->mem_write(env->ctx, base + size - 1, ff, 2));
	EXPECT_EQ(*static_cast<uint8_t *>(hx_ram_ptr(m.get(), base + size - 1, 1)), last);
	// Zero bytes anywhere in RAM is fine.
	EXPECT_TRUE(env->mem_read(env->ctx, base + size, out, 0));
}

TEST(Env, ClockAndInterruptLines)
{
	Machine m = NewMachine();
	struct dm_env *env = hx_env(m.get());
	hx_advance(m.get(), 1234);
	EXPECT_EQ(env->now_ns(env->ctx), 1234u);
	EXPECT_FALSE(hx_irq_level(m.get(), 3));
	env->irq(env->ctx, 3, true);
	env->irq(env->ctx, 3, true);
	EXPECT_TRUE(hx_irq_level(m.get(), 3));
	EXPECT_FALSE(hx_irq_level(m.get(), 2));
	EXPECT_EQ(hx_irq_raises(m.get(), 3), 2u);
	env->irq(env->ctx, 3, false);
	EXPECT_FALSE(hx_irq_level(m.get(), 3));
	EXPECT_EQ(hx_irq_raises(m.get(), 3), 2u);
	EXPECT_FALSE(hx_irq_level(m.get(), 100000));
	EXPECT_EQ(hx_irq_raises(m.get(), 100000), 0u);
}

// ---------------------------------------------------------------- mmio slots and devices

TEST(Slots, EmptySlotsShowDeviceIdZero)
{
	Machine m = NewMachine();
	const struct vlab_platform *p = hx_platform(m.get());
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++) {
		uint64_t base = HX_MMIO_SLOT_BASE + uint64_t{HX_MMIO_SLOT_SIZE} * i;
		EXPECT_EQ(vlab_plat_read32(p, base + VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u) << "slot " << i;
		EXPECT_EQ(vlab_plat_read32(p, base + 0x008), 0u) << "slot " << i; // DeviceID
		EXPECT_EQ(vlab_plat_read32(p, base + 0x00c), HX_MMIO_VENDOR_ID) << "slot " << i;
		// Writes to an empty slot are ignored, as QEMU's are.
		vlab_plat_write32(p, base + 0x070, 0xf);
		EXPECT_EQ(vlab_plat_read32(p, base + 0x008), 0u);
	}
	EXPECT_EQ(hx_stray_accesses(m.get()), 0u);
	// Just past the last slot: nothing.
	EXPECT_EQ(vlab_plat_read32(p, HX_MMIO_SLOT_BASE + HX_MMIO_SLOT_SIZE * HX_MMIO_SLOTS), 0xffffffffu);
	EXPECT_EQ(vlab_plat_read32(p, HX_MMIO_SLOT_BASE - 4), 0xffffffffu);
	EXPECT_EQ(hx_stray_accesses(m.get()), 2u);
}

TEST(Slots, DevicesFillTheSlotsInOrder)
{
	Machine m = NewMachine();
	const struct vlab_platform *p = hx_platform(m.get());
	struct hx_blk_opts o;
	hx_blk_opts_default(&o);
	o.ram_bytes = 64 * 1024;
	const char *err = nullptr;
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++) {
		o.transport = i % 2 ? HX_MMIO_LEGACY : HX_MMIO;
		struct hx_dev *d = hx_add_blk(m.get(), &o, &err);
		ASSERT_NE(d, nullptr) << (err ? err : "?");
		EXPECT_EQ(d->index, i);
		EXPECT_EQ(d->slot, i);
		EXPECT_EQ(d->base, HX_MMIO_SLOT_BASE + uint64_t{HX_MMIO_SLOT_SIZE} * i);
		EXPECT_EQ(d->irq_line, 1 + i);
		EXPECT_EQ(d->dv->irq_line, 1 + i);
		EXPECT_EQ(d->device_id, 2u);
		EXPECT_EQ(d->transport, o.transport);
		EXPECT_EQ(d->dv->legacy, o.transport == HX_MMIO_LEGACY);
		EXPECT_EQ(d->blk->store->size, 64u * 1024);
		EXPECT_EQ(hx_dev_at(m.get(), i), d);
		EXPECT_EQ(vlab_plat_read32(p, d->base + VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
		EXPECT_EQ(vlab_plat_read32(p, d->base + 0x004), o.transport == HX_MMIO_LEGACY ? 1u : 2u);
		EXPECT_EQ(vlab_plat_read32(p, d->base + 0x008), 2u);
		if (i + 1 < HX_MMIO_SLOTS) {
			EXPECT_EQ(vlab_plat_read32(p, d->base + HX_MMIO_SLOT_SIZE + 0x008), 0u);
		}
	}
	EXPECT_STREQ(hx_dev_at(m.get(), 0)->dv->name, "blk0");
	EXPECT_STREQ(hx_dev_at(m.get(), 7)->dv->name, "blk7");
	EXPECT_EQ(hx_ndevs(m.get()), HX_MMIO_SLOTS);
	EXPECT_EQ(hx_dev_at(m.get(), HX_MMIO_SLOTS), nullptr);
	err = nullptr;
	EXPECT_EQ(hx_add_blk(m.get(), &o, &err), nullptr);
	ASSERT_NE(err, nullptr);
	EXPECT_NE(std::string(err).find("slot"), std::string::npos) << err;
}

TEST(Slots, AddBlkErrors)
{
	Machine m = NewMachine();
	struct hx_blk_opts o;
	hx_blk_opts_default(&o);
	const char *err = nullptr;

	o.ram_bytes = 1000;
	EXPECT_EQ(hx_add_blk(m.get(), &o, &err), nullptr);
	ASSERT_NE(err, nullptr);
	EXPECT_NE(std::string(err).find("512"), std::string::npos) << err;

	hx_blk_opts_default(&o);
	o.image = "/nonexistent-dir/disk.img";
	err = nullptr;
	EXPECT_EQ(hx_add_blk(m.get(), &o, &err), nullptr);
	ASSERT_NE(err, nullptr);
	std::string e = err;
	EXPECT_EQ(e.find("/nonexistent-dir/disk.img"), 0u) << e;
	EXPECT_NE(e.find("No such file"), std::string::npos) << e;
	EXPECT_EQ(e.find("/nonexistent-dir/disk.img", 1), std::string::npos) << "path named twice: " << e;

	hx_blk_opts_default(&o);
	o.transport = HX_TRANSPORT_COUNT;
	EXPECT_EQ(hx_add_blk(m.get(), &o, &err), nullptr);
	EXPECT_EQ(hx_ndevs(m.get()), 0u);

	// A failed add leaves the slot free.
	hx_blk_opts_default(&o);
	o.ram_bytes = 4096;
	struct hx_dev *d = hx_add_blk(m.get(), &o, &err);
	ASSERT_NE(d, nullptr) << err;
	EXPECT_EQ(d->base, HX_MMIO_SLOT_BASE);
}

TEST(Slots, ImageFileAndReadOnly)
{
	std::string path = std::string(VLAB_BINARY_DIR) + "/harness_test_disk.img";
	{
		FILE *f = std::fopen(path.c_str(), "wb");
		ASSERT_NE(f, nullptr);
		std::vector<uint8_t> data(8192, 0x5a);
		ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
		std::fclose(f);
	}
	Machine m = NewMachine();
	struct hx_blk_opts o;
	hx_blk_opts_default(&o);
	o.image = path.c_str();
	o.read_only = true;
	const char *err = nullptr;
	struct hx_dev *d = hx_add_blk(m.get(), &o, &err);
	ASSERT_NE(d, nullptr) << err;
	EXPECT_EQ(d->blk->store->size, 8192u);
	EXPECT_TRUE(d->blk->read_only);
	EXPECT_NE(d->dv->host_features & VLAB_BIT(5), 0u); // VIRTIO_BLK_F_RO

	// An image whose size is not a multiple of 512 is refused.
	std::string odd = std::string(VLAB_BINARY_DIR) + "/harness_test_odd.img";
	{
		FILE *f = std::fopen(odd.c_str(), "wb");
		ASSERT_NE(f, nullptr);
		std::fputs("not a sector", f);
		std::fclose(f);
	}
	o.image = odd.c_str();
	o.read_only = false;
	EXPECT_EQ(hx_add_blk(m.get(), &o, &err), nullptr);
	ASSERT_NE(err, nullptr);
	EXPECT_NE(std::string(err).find("512"), std::string::npos) << err;
	std::remove(path.c_str());
	std::remove(odd.c_str());
}

} // namespace
