// The recorder writes only traces that replay reads (docs/trace-format.md,
// "Limits"): an unmap carries every byte of its mapping, so a mapping over
// 1 MiB (one vlab_blk_read of 2 MiB) must parse, and one beyond
// HX_TRACE_MAX_PAYLOAD, or a file beyond HX_TRACE_MAX_FILE, must fail the
// recording with the reason, not leave a trace that replay refuses at load.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness/trace.h"
// The parsed events (what fuzz_trace_parse checks too): harness-internal.
#include "../../harness/src/trace_internal.h"

namespace {

// A platform whose DMA is the identity and whose clock stands still: the
// recorder passes calls on to it.
uint64_t StubNow(void *) { return 7; }
int StubMap(void *, const void *cpu, size_t, enum vlab_dma_dir, vlab_addr_t *dev)
{
	*dev = (vlab_addr_t)(uintptr_t)cpu;
	return 0;
}

struct Recording {
	struct vlab_platform_ops ops {};
	struct vlab_platform plat {};
	char *text = nullptr;
	size_t len = 0;
	FILE *f = nullptr;
	struct hx_trace_rec *rec = nullptr;

	Recording()
	{
		ops.dma_map = StubMap;
		ops.now_ns = StubNow;
		plat.ops = &ops;
		f = open_memstream(&text, &len);
		const char *header[] = {"producer fuzz target=test", "command test", "bind mmio base=0x10001000 flags=0x1"};
		if (f)
			rec = hx_trace_record_platform(&plat, StubNow, nullptr, f, header, 3);
	}
	~Recording()
	{
		if (f)
			std::fclose(f);
		std::free(text);
	}
	// Map and unmap len bytes the device wrote (FROM_DEVICE), filled with v.
	void MapUnmap(std::vector<uint8_t> &buf)
	{
		vlab_addr_t dev = 0;
		ASSERT_EQ(vlab_plat_dma_map(&plat, buf.data(), buf.size(), VLAB_DMA_FROM_DEVICE, &dev), 0);
		vlab_plat_dma_unmap(&plat, buf.data(), buf.size(), VLAB_DMA_FROM_DEVICE, dev);
	}
	std::string Stop(int want)
	{
		char why[160] = "x";
		EXPECT_EQ(hx_trace_record_stop(rec, why, sizeof why), want);
		std::fflush(f);
		return why;
	}
};

TEST(TraceLimits, AnUnmapOfTwoMiBIsRecordedAndParsedWithEveryByte)
{
	Recording r;
	ASSERT_NE(r.rec, nullptr);
	std::vector<uint8_t> buf(2u << 20);
	for (size_t i = 0; i < buf.size(); i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 12));
	r.MapUnmap(buf);
	EXPECT_EQ(r.Stop(0), "");
	char err[200] = "";
	struct hx_trace *t = hx_trace_parse("t", r.text, r.len, err, sizeof err);
	ASSERT_NE(t, nullptr) << err;
	bool found = false;
	for (size_t i = 0; i < t->nev; i++) {
		const struct hx_ev *e = &t->ev[i];
		if (e->op != HX_EV_UNMAP)
			continue;
		found = true;
		ASSERT_EQ(e->len, buf.size());
		EXPECT_EQ(std::memcmp(e->data, buf.data(), buf.size()), 0);
	}
	EXPECT_TRUE(found);
	hx_trace_free(t);
}

TEST(TraceLimits, AMappingBeyondTheLimitFailsTheRecordingWithTheReason)
{
	Recording r;
	ASSERT_NE(r.rec, nullptr);
	std::vector<uint8_t> buf((size_t)HX_TRACE_MAX_PAYLOAD + 4096);
	r.MapUnmap(buf);
	const std::string why = r.Stop(-1);
	EXPECT_NE(why.find("more than 128 MiB"), std::string::npos) << why;
	// The oversized bytes were not written out: the file stays small.
	EXPECT_LT(r.len, 4096u);
}

// A trace file over HX_TRACE_MAX_FILE, which replay would not load, fails
// the recording too.  The file is made that long by a hole (a sparse
// temporary file), not by writing 512 MiB.
TEST(TraceLimits, ATraceFileBeyondTheLimitFailsTheRecordingWithTheReason)
{
	FILE *f = std::tmpfile();
	ASSERT_NE(f, nullptr);
	struct vlab_platform_ops ops {};
	ops.dma_map = StubMap;
	ops.now_ns = StubNow;
	struct vlab_platform plat {};
	plat.ops = &ops;
	const char *header[] = {"producer fuzz target=test", "command test", "bind mmio base=0x10001000 flags=0x1"};
	struct hx_trace_rec *rec = hx_trace_record_platform(&plat, StubNow, nullptr, f, header, 3);
	ASSERT_NE(rec, nullptr);
	std::vector<uint8_t> buf(64);
	vlab_addr_t dev = 0;
	ASSERT_EQ(vlab_plat_dma_map(&plat, buf.data(), buf.size(), VLAB_DMA_FROM_DEVICE, &dev), 0);
	ASSERT_EQ(std::fseek(f, HX_TRACE_MAX_FILE, SEEK_CUR), 0);
	vlab_plat_dma_unmap(&plat, buf.data(), buf.size(), VLAB_DMA_FROM_DEVICE, dev);
	char why[160] = "";
	EXPECT_EQ(hx_trace_record_stop(rec, why, sizeof why), -1);
	EXPECT_NE(std::string(why).find("larger than 512 MiB"), std::string::npos) << why;
	std::fclose(f);
}

} // namespace
