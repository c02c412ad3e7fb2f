// The driver against a device that misbehaves, one test per item of the
// hardening list (docs/attack-surface.md names the test that proves each
// check).  The device misbehaves through model faults, over every transport.
// A model violation the test does not expect fails it.
#include <cstring>

#include "blk_fixture.h"

using vlabtest::BlkMachine;

namespace {

class Hardening : public vlabtest::BlkTransportTest {
protected:
	// Add + Probe, then a fault that must be in place before Init.
	void AddProbe()
	{
		ASSERT_NE(bm.Add(), nullptr);
		ASSERT_EQ(bm.Probe(), 0);
	}
	// Legacy virtio-pci: the device dictates the queue size (QueueNum is
	// read-only), so the driver can only take it or refuse it.
	bool FixedQueueSize() const { return GetParam() == HX_PCI_LEGACY; }
};

// ---- Queue size from the device ----

TEST_P(Hardening, QueueSizeZeroIsNoQueue)
{
	AddProbe();
	bm.AddFault(DM_FAULT_QUEUE_NUM_MAX, 0); // fires at the reset of Init
	int rc = bm.Init();
	EXPECT_EQ(rc, VLAB_ENODEV) << vlab_errname(rc);
	EXPECT_TRUE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_FAILED) << "DRV-3.1.1-5";
	EXPECT_FALSE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_DRIVER_OK);
}

TEST_P(Hardening, QueueSizeAboveTheCapIsClamped)
{
	AddProbe();
	bm.AddFault(DM_FAULT_QUEUE_NUM_MAX, 65535);
	if (FixedQueueSize()) {
		EXPECT_EQ(bm.Init(), VLAB_ERANGE) << "a size above the cap cannot be taken";
		return;
	}
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_EQ(bm.blk.vq.size, VLAB_VQ_SIZE_MAX);
	uint8_t *buf = bm.Buf(4096);
	std::memset(bm.Disk(), 0x3c, 4096);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), 0);
	EXPECT_EQ(buf[4095], 0x3c);
}

TEST_P(Hardening, QueueSizeNotAPowerOfTwoIsRoundedDown)
{
	AddProbe();
	bm.AddFault(DM_FAULT_QUEUE_NUM_MAX, 100);
	if (FixedQueueSize()) {
		EXPECT_EQ(bm.Init(), VLAB_ERANGE) << "a size that is not a power of two cannot be taken";
		return;
	}
	ASSERT_EQ(bm.Init(), 0);
	EXPECT_EQ(bm.blk.vq.size, 64u);
	uint8_t *buf = bm.Buf(512);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 1, buf, 1), 0);
}

TEST_P(Hardening, QueueTooSmallForOneRequestIsAConfigError)
{
	AddProbe();
	bm.AddFault(DM_FAULT_QUEUE_NUM_MAX, 3); // rounded down to 2: no room for header+data+status
	int rc = bm.Init();
	EXPECT_EQ(rc, FixedQueueSize() ? VLAB_ERANGE : VLAB_ECONFIG) << vlab_errname(rc);
	EXPECT_TRUE(dm_virtio_get_status(bm.dev->dv) & VIRTIO_STATUS_FAILED);
}

// ---- Config values: bounded, read once into private memory ----

TEST_P(Hardening, CapacityWhoseByteSizeOverflowsIsRefused)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_CAPACITY_CHANGE, 1ull << 60);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0); // the device changes its mind here
	// The config interrupt: the new capacity is impossible, the device broken.
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), VLAB_EPROTO);
	EXPECT_TRUE(bm.vdev()->broken);
	EXPECT_EQ(bm.blk.info.capacity, bm.opts.ram_bytes / 512) << "old value kept";
	// And a fresh initialisation refuses it too.
	vlab_blk_shutdown(&bm.blk);
	bm.inited = false;
	EXPECT_EQ(bm.Init(), VLAB_ECONFIG);
}

TEST_P(Hardening, ConfigIsReadOnceAndAgainOnlyOnAConfigChange)
{
	bm.opts.ram_bytes = 1 << 20; // 2048 sectors
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_CAPACITY_CHANGE, 1024);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 0, buf, 1), 0);
	// The device's config says 1024 now; the driver's private copy is the
	// value it validated, until it handles the config interrupt.
	EXPECT_EQ(bm.blk.info.capacity, 2048u);
	EXPECT_TRUE(dm_virtio_isr_read(bm.dev->dv) & VIRTIO_ISR_CONFIG);
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), 0);
	EXPECT_EQ(bm.blk.info.capacity, 1024u);
	// Beyond the new capacity: refused by the driver, never sent (the model
	// would record DRV-5.2.6.1-1).
	EXPECT_EQ(vlab_blk_read(&bm.blk, 1500, buf, 1), VLAB_ERANGE);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 1023, buf, 1), 0);
	EXPECT_FALSE(bm.vdev()->broken);
}

TEST_P(Hardening, CapacityGrowingBeyondTheMediumGivesIoErrorsNotSuccess)
{
	bm.opts.ram_bytes = 1 << 20;
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_CAPACITY_CHANGE, 4096);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
	ASSERT_EQ(vlab_blk_interrupt(&bm.blk, 0), 0);
	EXPECT_EQ(bm.blk.info.capacity, 4096u);
	std::memset(buf, 0x42, 512);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 3000, buf, 1), VLAB_EIO);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 3000, buf, 1), VLAB_EIO);
	EXPECT_EQ(buf[0], 0) << "a failed read shows nothing (the buffer was zeroed)";
	EXPECT_FALSE(bm.vdev()->broken);
}

// ---- Used ring (the checks exist: each is made to happen here too) ----

TEST_P(Hardening, OkWithAShortUsedLengthIsNotSuccess)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(4096);
	bm.AddFault(DM_FAULT_USED_LEN, 0xfffffffeull); // writable bytes - 2
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 8), VLAB_EPROTO);
	EXPECT_TRUE(bm.vdev()->broken);
}

TEST_P(Hardening, GetIdLongerThanPostedBreaksTheDevice)
{
	bm.Bring();
	char id[21];
	bm.AddFault(DM_FAULT_USED_LEN, 5); // claims 26 bytes for a 21-byte chain
	EXPECT_EQ(vlab_blk_get_id(&bm.blk, id), VLAB_EPROTO);
	EXPECT_STREQ(id, "");
	EXPECT_TRUE(bm.vdev()->broken);
}

TEST_P(Hardening, GetIdWithoutNulOrTextIsRefused)
{
	bm.Bring();
	char id[21];
	bm.AddFault(DM_FAULT_GET_ID_UNTERMINATED);
	EXPECT_EQ(vlab_blk_get_id(&bm.blk, id), VLAB_EPROTO);
	EXPECT_STREQ(id, "");
	// The ID is the only casualty: I/O goes on.
	uint8_t *buf = bm.Buf(512);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(Hardening, StatusByteOutsideOkIoerrUnsuppBreaksTheDevice)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_BLK_STATUS, 3);
	EXPECT_EQ(vlab_blk_write(&bm.blk, 0, buf, 1), VLAB_EPROTO);
	EXPECT_TRUE(bm.vdev()->broken);
}

TEST_P(Hardening, CompletionsInAnyOrderAreMatchedToTheirRequests)
{
	// Small requests, so one 64 KiB write is 16 virtio requests in one kick.
	dm_blk_cfg_default(&bm.opts.cfg);
	bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX);
	bm.opts.cfg.size_max = 4096;
	bm.opts.cfg.seg_max = 1;
	bm.opts.cfg_set = true;
	bm.Bring();
	const uint32_t bytes = 64 * 1024;
	uint8_t *out = bm.Buf(bytes), *in = bm.Buf(bytes);
	for (uint32_t i = 0; i < bytes; i++)
		out[i] = static_cast<uint8_t>(i * 13 + 1);
	bm.AddFault(DM_FAULT_OUT_OF_ORDER, 0, 0, 0);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 8, out, bytes / 512), 0);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 8, in, bytes / 512), 0);
	EXPECT_EQ(std::memcmp(in, out, bytes), 0);
	EXPECT_EQ(std::memcmp(bm.Disk() + 8 * 512, out, bytes), 0);
	EXPECT_GT(bm.dev->dv->faults[0].fired, 1u) << "completions were reordered";
}

// ---- Interrupts ----

TEST_P(Hardening, InterruptsBeforeDriverOkAreIgnored)
{
	AddProbe();
	bm.AddFault(DM_FAULT_IRQ_STORM, 0, 0, 0);
	ASSERT_EQ(vlab_virtio_begin(bm.vdev()), 0); // status writes: the device interrupts
	ASSERT_NE(bm.dev->dv->isr, 0u);
	uint64_t seen = bm.dev->dv->faults[0].seen;
	EXPECT_EQ(vlab_virtio_interrupt(bm.vdev()), 0u);
	EXPECT_EQ(bm.dev->dv->faults[0].seen, seen) << "interrupt status not even read";
	EXPECT_NE(bm.dev->dv->isr, 0u) << "nor acknowledged";
	// blk's entry, during init, before its queue exists: nothing either.
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), VLAB_EINVAL); // never initialised
	ASSERT_EQ(bm.Init(), 0);
	uint8_t *buf = bm.Buf(512);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(Hardening, InterruptsAfterResetAreIgnored)
{
	bm.Bring();
	bm.AddFault(DM_FAULT_IRQ_STORM, 0, 0, 0);
	vlab_blk_shutdown(&bm.blk); // reset: the stormy device interrupts right after
	bm.inited = false;
	ASSERT_NE(bm.dev->dv->isr, 0u);
	uint64_t seen = bm.dev->dv->faults[0].seen;
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), 0);
	EXPECT_EQ(vlab_virtio_interrupt(bm.vdev()), 0u);
	EXPECT_EQ(bm.dev->dv->faults[0].seen, seen);
}

TEST_P(Hardening, InterruptStormCostsBoundedWorkPerCall)
{
	bm.Bring();
	const unsigned kReqs = 8;
	uint8_t *bufs = bm.Buf(kReqs * 512);
	for (unsigned i = 0; i < kReqs; i++)
		std::memset(bm.Disk() + i * 512, 0x10 + i, 512);
	struct vlab_blk_req reqs[kReqs];
	std::memset(reqs, 0, sizeof reqs);
	for (unsigned i = 0; i < kReqs; i++) {
		reqs[i].op = VLAB_BLK_READ;
		reqs[i].sector = i;
		reqs[i].buf = bufs + i * 512;
		reqs[i].len = 512;
		ASSERT_EQ(vlab_blk_submit(&bm.blk, &reqs[i]), 0);
	}
	bm.AddFault(DM_FAULT_IRQ_STORM, 0, 0, 0);
	// Every call consumes at most its budget, then stops: the storm never
	// turns one call into unbounded work.
	unsigned consumed = 0;
	for (int call = 0; call < 1000; call++) {
		int n = vlab_blk_interrupt(&bm.blk, 3);
		ASSERT_GE(n, 0) << vlab_errname(n);
		ASSERT_LE(n, 3);
		consumed += static_cast<unsigned>(n);
	}
	EXPECT_EQ(consumed, kReqs);
	EXPECT_GE(bm.dev->dv->faults[0].seen, 1000u) << "the device interrupted on every call";
	EXPECT_FALSE(bm.vdev()->broken);
	for (unsigned i = 0; i < kReqs; i++) {
		struct vlab_blk_req *done = nullptr;
		ASSERT_EQ(vlab_blk_poll(&bm.blk, &done), 0);
		ASSERT_NE(done, nullptr);
		EXPECT_EQ(done->result, 0);
		unsigned k = static_cast<unsigned>(done - reqs);
		ASSERT_LT(k, kReqs);
		EXPECT_EQ(bufs[k * 512], 0x10 + k);
		EXPECT_EQ(bufs[k * 512 + 511], 0x10 + k);
	}
	struct vlab_blk_req *none = nullptr;
	EXPECT_EQ(vlab_blk_poll(&bm.blk, &none), VLAB_EAGAIN);
}

TEST_P(Hardening, ProtocolBreachSeenInTheInterruptPathIsSticky)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	struct vlab_blk_req r;
	std::memset(&r, 0, sizeof r);
	r.op = VLAB_BLK_READ;
	r.buf = buf;
	r.len = 512;
	bm.AddFault(DM_FAULT_USED_ID, 0xffff);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), VLAB_EPROTO);
	EXPECT_TRUE(r.done);
	EXPECT_EQ(r.result, VLAB_EPROTO);
	uint64_t notes = bm.dev->dv->notifications;
	EXPECT_EQ(vlab_blk_interrupt(&bm.blk, 0), VLAB_EBROKEN);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EBROKEN);
	EXPECT_EQ(vlab_blk_config_changed(&bm.blk), VLAB_EBROKEN);
	EXPECT_EQ(bm.dev->dv->notifications, notes);
	Reinit();
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

// ---- Waits ----

TEST_P(Hardening, CompletionThatNeverComesTimesOutAndBreaks)
{
	bm.Bring();
	uint8_t *buf = bm.Buf(512);
	bm.AddFault(DM_FAULT_STALL);
	uint64_t t0 = hx_now(bm.m);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_ETIMEDOUT);
	EXPECT_GE(hx_now(bm.m) - t0, VLAB_DEFAULT_TIMEOUT_NS);
	EXPECT_TRUE(bm.vdev()->broken);
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), VLAB_EBROKEN);
	Reinit();
	EXPECT_EQ(vlab_blk_read(&bm.blk, 0, buf, 1), 0);
}

TEST_P(Hardening, ResetThatNeverCompletesIsBounded)
{
	AddProbe();
	bm.AddFault(DM_FAULT_RESET_STUCK, 0, 0, 0);
	uint64_t t0 = hx_now(bm.m);
	EXPECT_EQ(bm.Init(), VLAB_ETIMEDOUT);
	EXPECT_LT(hx_now(bm.m) - t0, 2 * VLAB_DEFAULT_TIMEOUT_NS) << "one bound, not a loop of them";
	expect_violations = true; // the stuck status makes the next writes look odd to the model
}

// ---- Nothing private reaches the device ----

TEST_P(Hardening, DeviceWritableBuffersAreZeroedBeforeTheyArePosted)
{
	bm.Bring();
	std::memset(bm.Disk(), 0x5c, 4096);
	uint8_t *buf = bm.Buf(4096);
	std::memset(buf, 0xa5, 4096); // "private" data left in the caller's buffer
	struct vlab_blk_req r;
	std::memset(&r, 0, sizeof r);
	r.op = VLAB_BLK_READ;
	r.buf = buf;
	r.len = 4096;
	// The device takes the request and stops before writing anything: look
	// at the buffer as it sees it.
	bm.AddFault(DM_FAULT_NEEDS_RESET);
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	ASSERT_EQ(bm.dev->dv->vq[0].popped, bm.dev->dv->vq[0].pushed + 1) << "posted and taken";
	const uint8_t *seen = static_cast<const uint8_t *>(hx_ram_ptr(bm.m, r.buf_dev, 4096));
	ASSERT_NE(seen, nullptr);
	for (int i = 0; i < 4096; i++)
		ASSERT_EQ(seen[i], 0) << "byte " << i;
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r), VLAB_ENEEDSRESET);
}

TEST_P(Hardening, GetIdBufferIsZeroedBeforeItIsPosted)
{
	bm.Bring();
	uint8_t *ibuf = bm.blk.slot_mem + bm.blk.nslots * 32u;
	std::memset(ibuf, 0xee, 20);
	bm.AddFault(DM_FAULT_NEEDS_RESET);
	struct vlab_blk_req r;
	std::memset(&r, 0, sizeof r);
	r.op = VLAB_BLK_GET_ID;
	r.buf = ibuf;
	r.len = 20;
	ASSERT_EQ(vlab_blk_submit(&bm.blk, &r), 0);
	for (int i = 0; i < 20; i++)
		ASSERT_EQ(ibuf[i], 0);
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r), VLAB_ENEEDSRESET);
}

INSTANTIATE_TEST_SUITE_P(Transports, Hardening, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
