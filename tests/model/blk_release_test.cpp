// The release rule (docs/architecture.md): a buffer goes back to its owner
// only once the device can no longer reach it.  A slow device
// (DM_FAULT_DELAY: it takes a request and moves the data, writes the status
// and completes it later) shows whether the driver stops the device before
// it fails requests back; a device that does not reset shows what the
// driver does when it cannot stop it.  And every submitted request comes
// back exactly once: from vlab_blk_poll, or from the vlab_blk_wait that
// waited for it.
#include <cstring>
#include <set>


#include "blk_fixture.h"


namespace {

// Long after the driver's bound: the device is slow, not dead.
constexpr uint64_t kLate = 3 * VLAB_DEFAULT_TIMEOUT_NS;

class BlkRelease : public vlabtest::BlkTransportTest {
protected:
	static void Read(struct vlab_blk_req *r, uint64_t sector, uint8_t *buf, uint32_t len)
	{
		std::memset(r, 0, sizeof *r);
		r->op = VLAB_BLK_READ;
		r->sector = sector;
		r->buf = buf;
		r->len = len;
	}
	// The caller takes its buffer back and fills it; then the device has
	// all the time it wants.  Returns how many bytes it changed since.
	size_t WrittenAfterReturn(uint8_t *buf, size_t len)
	{
		std::memset(buf, 0x77, len);
		hx_advance(bm.m, 2 * kLate);
		size_t changed = 0;
		for (size_t i = 0; i < len; i++)
			changed += buf[i] != 0x77;
		return changed;
	}
	uint64_t Resets() { return bm.dev->dv->resets; }
	// Callers' buffers still mapped for the device (dma_map, no dma_unmap).
	uint64_t Mapped()
	{
		struct hx_arena_stats st;
		hx_arena_get_stats(bm.m, &st);
		return st.mapped;
	}
};

TEST_P(BlkRelease, TimedOutReadIsNeverWrittenAfterItReturns)
{
	bm.Bring();
	std::memset(bm.Disk(), 0x5c, 4096);
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_DELAY, kLate);
	uint64_t resets = Resets();
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_ETIMEDOUT);
	EXPECT_EQ(Resets(), resets + 1) << "the device is stopped before the read returns";
	EXPECT_EQ(Mapped(), 0u) << "given back to the CPU (dma_unmap) once stopped";
	EXPECT_EQ(WrittenAfterReturn(buf, 512), 0u) << "the device wrote into a buffer already handed back";
	EXPECT_TRUE(bm.vdev()->broken);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EBROKEN) << "broken until initialised again";
	Reinit();
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
	EXPECT_EQ(buf[0], 0x5c);
}

TEST_P(BlkRelease, ABadStatusStopsTheDeviceBeforeTheOtherRequestsGoBack)
{
	bm.Bring();
	std::memset(bm.Disk(), 0x5c, 4096);
	uint8_t *a = bm.Buf(512), *b = bm.Buf(512);
	struct vlab_blk_req ra, rb;
	Read(&ra, 0, a, 512);
	Read(&rb, 1, b, 512);
	bm.AddFault(DM_FAULT_DELAY, kLate);     // a: taken, worked on later
	bm.AddFault(DM_FAULT_BLK_STATUS, 0x42); // b: done now, with a status no device may write
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &ra), 0);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &rb), 0);
	uint64_t resets = Resets();
	std::set<struct vlab_blk_req *> back;
	for (int i = 0; i < 2; i++) {
		struct vlab_blk_req *done = nullptr;
		ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0) << i;
		EXPECT_TRUE(back.insert(done).second);
		EXPECT_TRUE(done->done);
		EXPECT_EQ(done->result, VLAB_EPROTO) << vlab_errname(done->result);
	}
	EXPECT_EQ(back, (std::set<struct vlab_blk_req *>{&ra, &rb}));
	EXPECT_EQ(Resets(), resets + 1) << "stopped before the requests went back";
	EXPECT_EQ(WrittenAfterReturn(a, 512), 0u) << "a was failed only because of b, then written";
	struct vlab_blk_req *done = nullptr;
	EXPECT_EQ(vlab_blk_poll(&bm.blk, &done), VLAB_EBROKEN);
	EXPECT_EQ(done, nullptr);
}

TEST_P(BlkRelease, EveryRequestFailedByATimeoutComesBackOnce)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(3 * 512);
	struct vlab_blk_req r[3];
	bm.AddFault(DM_FAULT_DELAY, kLate, 0, 0);
	for (int i = 0; i < 3; i++) {
		Read(&r[i], (uint64_t)i, buf + i * 512, 512);
		ASSERT_EQ(vlab_blk_submit(&bm.blk, &r[i]), 0);
	}
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r[1]), VLAB_ETIMEDOUT);
	std::set<struct vlab_blk_req *> back;
	struct vlab_blk_req *done = nullptr;
	int rc;
	for (int guard = 0; guard < 8 && (rc = vlab_blk_poll(&bm.blk, &done)) == 0; guard++) {
		EXPECT_TRUE(back.insert(done).second) << "returned twice";
		EXPECT_EQ(done->result, VLAB_ETIMEDOUT);
	}
	EXPECT_EQ(rc, VLAB_EBROKEN);
	EXPECT_EQ(back, (std::set<struct vlab_blk_req *>{&r[0], &r[2]})) << "r[1] came back from its wait";
	EXPECT_EQ(WrittenAfterReturn(buf, 3 * 512), 0u);
}

TEST_P(BlkRelease, ShutdownStopsTheDeviceBeforeRequestsGoBack)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	struct vlab_blk_req r;
	Read(&r, 0, buf, 512);
	bm.AddFault(DM_FAULT_DELAY, kLate);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	struct hx_arena_stats before, after;
	hx_arena_get_stats(bm.m, &before);
	vlab_blk_shutdown(&bm.blk);
	hx_arena_get_stats(bm.m, &after);
	EXPECT_TRUE(r.done);
	EXPECT_EQ(r.result, VLAB_ENODEV);
	EXPECT_LT(after.used, before.used) << "a device that reset gives its memory back";
	EXPECT_EQ(WrittenAfterReturn(buf, 512), 0u);
	bm.inited = false;
}

// A device that does not acknowledge the reset may still write: nothing it
// was given goes back as if it were safe, and no DMA memory is freed.
TEST_P(BlkRelease, ADeviceThatCannotBeStoppedKeepsItsBuffers)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512), *abuf = bm.Buf(512);
	struct vlab_blk_req ra;
	Read(&ra, 1, abuf, 512);
	bm.AddFault(DM_FAULT_DELAY, kLate, 0, 0);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &ra), 0);
	bm.AddFault(DM_FAULT_RESET_STUCK, 0, 0, 0);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EWEDGED);
	struct vlab_blk_req *done = nullptr;
	ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0);
	EXPECT_EQ(done, &ra);
	EXPECT_EQ(ra.result, VLAB_EWEDGED) << "its buffer may still be written: the caller must know";
	EXPECT_EQ(vlab_blk_poll(&bm.blk, &done), VLAB_EBROKEN);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EBROKEN);
	EXPECT_EQ(Mapped(), 2u) << "both buffers stay mapped: the device may still write them";
	struct hx_arena_stats before, after;
	hx_arena_get_stats(bm.m, &before);
	vlab_blk_shutdown(&bm.blk);
	hx_arena_get_stats(bm.m, &after);
	EXPECT_EQ(after.used, before.used) << "the ring and the headers stay reachable: not freed";
	EXPECT_EQ(after.frees, before.frees);
	EXPECT_EQ(after.mapped, 2u) << "not even shutdown unmaps them";
	bm.inited = false;
	expect_violations = true; // the stuck status makes the driver's next writes look odd
}

// The device could not be stopped when the driver gave up, but resets at
// shutdown: only then are its buffers unmapped and its memory freed.
TEST_P(BlkRelease, BuffersKeptByADeviceThatCouldNotBeStoppedGoBackAtALaterReset)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_DELAY, kLate);
	bm.AddFault(DM_FAULT_RESET_STUCK, 0, 0, 1); // the stop's reset only
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EWEDGED);
	EXPECT_EQ(Mapped(), 1u);
	struct hx_arena_stats before, after;
	hx_arena_get_stats(bm.m, &before);
	vlab_blk_shutdown(&bm.blk);
	hx_arena_get_stats(bm.m, &after);
	EXPECT_EQ(after.mapped, 0u) << "the reset that stopped it gives the buffer back";
	EXPECT_LT(after.used, before.used) << "and the queue memory";
	EXPECT_EQ(WrittenAfterReturn(buf, 512), 0u);
	bm.inited = false;
	Reinit();
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
	expect_violations = true; // the stuck status makes the driver's next writes look odd
}

// ---- Every request comes back once ----

TEST_P(BlkRelease, ASynchronousCallDoesNotSwallowAnotherRequestsCompletion)
{
	bm.Bring();
	std::memset(bm.Disk(), 0x5c, 4096);
	uint8_t *a = bm.Buf(512), *b = bm.Buf(512);
	struct vlab_blk_req ra;
	Read(&ra, 0, a, 512);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &ra), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 1, b, 1), 0);
	struct vlab_blk_req *done = nullptr;
	ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0) << "a's completion was lost";
	EXPECT_EQ(done, &ra);
	EXPECT_EQ(ra.result, 0);
	EXPECT_EQ(a[0], 0x5c);
	EXPECT_EQ(vlab_blk_poll(&bm.blk, &done), VLAB_EAGAIN);
	EXPECT_EQ(Mapped(), 0u) << "every buffer that came back was unmapped";
}

TEST_P(BlkRelease, EveryMapIsUnmappedOnceWhenTheRequestComesBack)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(8 * 512);
	struct hx_arena_stats st;
	hx_arena_get_stats(bm.m, &st);
	const uint64_t maps0 = st.maps;
	ASSERT_EQ(vlab_blk_write(&bm.blk, 0, buf, 8), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);
	char id[VIRTIO_BLK_ID_BYTES + 1];
	ASSERT_EQ(vlab_blk_get_id(&bm.blk, id), 0);
	EXPECT_EQ(vlab_blk_read(&bm.blk, bm.blk.info.capacity, buf, 1), VLAB_ERANGE) << "refused: never mapped";
	hx_arena_get_stats(bm.m, &st);
	EXPECT_EQ(st.maps - maps0, 3u);
	EXPECT_EQ(st.unmaps, st.maps);
	EXPECT_EQ(st.mapped, 0u);
}

TEST_P(BlkRelease, ACompletionThatArrivesDuringAWaitIsKeptForPoll)
{
	bm.Bring();
	uint8_t *a = bm.Buf(512), *b = bm.Buf(512);
	struct vlab_blk_req ra;
	Read(&ra, 0, a, 512);
	bm.AddFault(DM_FAULT_DELAY, VLAB_DEFAULT_TIMEOUT_NS / 100, 0, 2); // a and b, both slowly
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &ra), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 1, b, 1), 0);
	struct vlab_blk_req *done = nullptr;
	ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0);
	EXPECT_EQ(done, &ra);
	EXPECT_EQ(vlab_blk_poll(&bm.blk, &done), VLAB_EAGAIN);
}

INSTANTIATE_TEST_SUITE_P(Transports, BlkRelease, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
