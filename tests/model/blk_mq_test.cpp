// virtio-blk multi-queue (issue 17; spec 5.2.2, VIRTIO_BLK_F_MQ): the driver
// negotiates MQ, reads num_queues once, uses as many queues as it can (each
// checked as queue 0 is) and spreads requests over them part by part, round
// robin; completions come back from any queue.  A device that lies about
// num_queues costs queues (a log line), never the disk (attack surface C11).
// The model serves every queue and checks each one (TearDown: no violation).
#include <cstring>
#include <string>
#include <vector>

#include "blk_fixture.h"
#include "devmodel/fault_plan.h"

namespace {

constexpr uint64_t kSlow = 200000; // ns a delayed request takes (virtual time)

using vlabtest::Has;

class BlkMq : public vlabtest::BlkTransportTest {
protected:
	std::vector<std::string> log;

	// The device with QEMU's num-queues=n (MQ offered when n > 1).
	void BringQueues(unsigned n)
	{
		const char *why = nullptr;
		std::string prop = "num-queues=" + std::to_string(n);
		ASSERT_EQ(hx_blk_prop(&bm.opts, prop.c_str(), &why), 1) << (why ? why : "");
		Capture();
		bm.Bring();
	}
	void Capture() { vlabtest::Capture(bm.m, &log, VLAB_LOG_INFO); }
	bool Logged(const std::string &what) const { return Has(log, what); }
	struct vlab_vq *Q(unsigned i) { return i == 0 ? &bm.blk.vq : &bm.blk.mq[i - 1]; }
};

TEST_P(BlkMq, NegotiatedAndEveryQueueSetUp)
{
	BringQueues(4);
	EXPECT_TRUE(vlab_virtio_has(bm.vdev(), VIRTIO_BLK_F_MQ));
	EXPECT_EQ(bm.blk.info.num_queues_offered, 4u);
	EXPECT_EQ(bm.blk.info.num_queues, 4u);
	for (unsigned q = 0; q < 4; q++) {
		EXPECT_TRUE(vlab_vq_live(Q(q))) << "queue " << q;
		EXPECT_EQ(vlab_vq_size(Q(q)), vlab_vq_size(Q(0))) << "queue " << q;
		vlabtest::ExpectRingKind(*Q(q), GetParam().kind);
	}
	vlabtest::ExpectReadWriteWorks(bm);
}

TEST_P(BlkMq, OneQueueWithoutMq)
{
	BringQueues(1);
	EXPECT_FALSE(vlab_virtio_has(bm.vdev(), VIRTIO_BLK_F_MQ)) << "QEMU offers MQ only above one queue";
	EXPECT_EQ(bm.blk.info.num_queues_offered, 0u) << "num_queues is not read without MQ (DRV-2.5.1-3)";
	EXPECT_EQ(bm.blk.info.num_queues, 1u);
	vlabtest::ExpectReadWriteWorks(bm);
}

// Eight one-block requests, all in the device's hands at once on four
// queues (the device works on each later: DM_FAULT_DELAY), come back from
// every queue with the right data.
TEST_P(BlkMq, RequestsInFlightOnEveryQueueAtOnce)
{
	BringQueues(4);
	constexpr unsigned kReqs = 8;
	for (unsigned i = 0; i < kReqs * 8 * 512; i++)
		bm.Disk()[i] = static_cast<uint8_t>(i * 13 + i / 512);
	bm.AddFault(DM_FAULT_DELAY, kSlow, 0, 0);
	struct vlab_blk_req r[kReqs];
	uint8_t *buf[kReqs];
	for (unsigned i = 0; i < kReqs; i++) {
		buf[i] = bm.Buf(4096);
		std::memset(&r[i], 0, sizeof r[i]);
		r[i].op = VLAB_BLK_READ;
		r[i].sector = 8u * i;
		r[i].buf = buf[i];
		r[i].len = 4096;
		ASSERT_EQ(vlab_blk_submit(&bm.blk, &r[i]), 0) << i;
	}
	for (unsigned q = 0; q < 4; q++)
		EXPECT_EQ(Q(q)->chains - Q(q)->completions, 2u) << "queue " << q << ": round robin, two chains each";
	unsigned done = 0;
	for (unsigned i = 0; i < kReqs; i++) {
		ASSERT_EQ(vlab_blk_wait(&bm.blk, &r[i]), 0) << i;
		done++;
		EXPECT_EQ(std::memcmp(buf[i], bm.Disk() + i * 4096, 4096), 0) << i;
	}
	EXPECT_EQ(done, kReqs);
	for (unsigned q = 0; q < 4; q++) {
		EXPECT_EQ(vlab_vq_in_flight(Q(q)), 0u) << "queue " << q;
		EXPECT_EQ(Q(q)->completions, 2u) << "queue " << q;
	}
}

// One request larger than one virtio request: its parts go to several
// queues and it finishes when the last did.
TEST_P(BlkMq, ALargeRequestIsSpreadOverTheQueues)
{
	hx_blk_opts_cfg(&bm.opts, &bm.opts.cfg);
	bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_SIZE_MAX);
	bm.opts.cfg.size_max = 4096;
	bm.opts.cfg.seg_max = 1; // one 4 KiB segment per virtio request
	bm.opts.cfg_set = true;
	BringQueues(3);
	ASSERT_EQ(bm.blk.max_req_bytes, 4096u);
	uint8_t *buf = bm.Buf(6 * 4096);
	for (unsigned i = 0; i < 6 * 4096; i++)
		buf[i] = static_cast<uint8_t>(i * 7 + 1);
	ASSERT_EQ(vlab_blk_write(&bm.blk, 0, buf, 6 * 8), 0);
	EXPECT_EQ(std::memcmp(bm.Disk(), buf, 6 * 4096), 0);
	for (unsigned q = 0; q < 3; q++)
		EXPECT_EQ(Q(q)->chains, 2u) << "queue " << q << ": six parts, two per queue";
}

struct Lie {
	const char *name;
	uint16_t served, claimed;
	unsigned uses;       // queues the driver uses
	const char *logged;  // the line that says why
};

class BlkMqLiesCase : public testing::WithParamInterface<std::tuple<vlabtest::Ring, Lie>>,
                      public testing::Test {
protected:
	vlabtest::BlkMachine bm{std::get<0>(GetParam())};
	std::vector<std::string> log;
	void TearDown() override { EXPECT_EQ(vlabtest::ViolationText(bm.m), ""); }
};

const Lie kLies[] = {
	{"zero", 4, 0, 1, "num_queues is 0 with MQ: using one queue"},
	{"more_than_the_transport_has", 2, 65535, 2, "the transport has no queue 2: using 2"},
	{"one_above_the_transport", 3, 4, 3, "the transport has no queue 3: using 3"},
	{"more_than_the_driver_uses", 8, 8, VLAB_BLK_MAX_QUEUES, "num_queues 8: using " VLAB_BLK_STR(VLAB_BLK_MAX_QUEUES)},
};

TEST_P(BlkMqLiesCase, CostsQueuesNotTheDisk)
{
	const Lie &c = std::get<1>(GetParam());
	hx_blk_opts_cfg(&bm.opts, &bm.opts.cfg);
	bm.opts.cfg.features |= VLAB_BIT(VIRTIO_BLK_F_MQ);
	bm.opts.cfg.num_queues = c.served;
	bm.opts.cfg.num_queues_lies = true;
	bm.opts.cfg.num_queues_claimed = c.claimed;
	bm.opts.cfg_set = true;
	vlabtest::Capture(bm.m, &log, VLAB_LOG_INFO);
	bm.Bring();
	EXPECT_EQ(bm.blk.info.num_queues_offered, c.claimed);
	EXPECT_EQ(bm.blk.info.num_queues, c.uses);
	EXPECT_TRUE(Has(log, c.logged)) << "no log line \"" << c.logged << "\"";
	// Requests over every queue in use, and the disk intact.
	uint8_t *buf = bm.Buf(4096);
	for (unsigned i = 0; i < 2 * c.uses; i++) {
		std::memset(buf, static_cast<int>(i + 1), 4096);
		ASSERT_EQ(vlab_blk_write(&bm.blk, 8u * i, buf, 8), 0) << i;
		ASSERT_EQ(bm.Disk()[i * 4096 + 100], i + 1) << i;
	}
	EXPECT_FALSE(bm.vdev()->broken);
}

// The caller's limit (vlab_blk_cfg.max_queues).
TEST_P(BlkMq, TheCallersLimitIsKept)
{
	const char *why = nullptr;
	ASSERT_EQ(hx_blk_prop(&bm.opts, "num-queues=4", &why), 1);
	Capture();
	bm.Add();
	ASSERT_EQ(bm.Probe(), 0);
	struct vlab_blk_cfg cfg;
	std::memset(&cfg, 0, sizeof cfg);
	cfg.max_queues = 2;
	ASSERT_EQ(vlab_blk_init_cfg(&bm.blk, bm.vdev(), &cfg), 0);
	bm.inited = true;
	EXPECT_EQ(bm.blk.info.num_queues, 2u);
	EXPECT_TRUE(Logged("num_queues 4: using 2"));
	vlabtest::ExpectReadWriteWorks(bm);
}

// A fault plan aimed at queue 2: an IOERR there fails only the request
// carried on queue 2; a used entry there naming a chain it does not hold
// breaks the device, which is stopped before any request goes back.
TEST_P(BlkMq, AFaultPlanOnQueue2)
{
	BringQueues(4);
	struct dm_fault_plan plan;
	char err[DM_FAULT_PLAN_ERR_MAX];
	dm_fault_plan_init(&plan);
	ASSERT_EQ(dm_fault_plan_parse(&plan, "fault blk_ioerr queue=2\n", "q2.plan", err, sizeof err), 0) << err;
	ASSERT_EQ(dm_fault_plan_apply(&plan, bm.dev->dv, 0, err, sizeof err), 1) << err;
	bm.AddFault(DM_FAULT_DELAY, kSlow, 0, 0); // all four in flight together
	struct vlab_blk_req r[4];
	for (unsigned i = 0; i < 4; i++) {
		std::memset(&r[i], 0, sizeof r[i]);
		r[i].op = VLAB_BLK_READ;
		r[i].sector = 8u * i;
		r[i].buf = bm.Buf(4096);
		r[i].len = 4096;
		ASSERT_EQ(vlab_blk_submit(&bm.blk, &r[i]), 0);
	}
	// Round robin from queue 0: request i on queue i.
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r[0]), 0);
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r[1]), 0);
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r[2]), VLAB_EIO) << "the one on queue 2";
	EXPECT_EQ(vlab_blk_wait(&bm.blk, &r[3]), 0);
	EXPECT_FALSE(bm.vdev()->broken);

	dm_fault_plan_init(&plan);
	ASSERT_EQ(dm_fault_plan_parse(&plan, "fault used_id value=200 queue=2\n", "q2.plan", err, sizeof err), 0)
	        << err;
	ASSERT_EQ(dm_fault_plan_apply(&plan, bm.dev->dv, 0, err, sizeof err), 1) << err;
	const uint64_t resets = bm.dev->dv->resets;
	for (unsigned i = 0; i < 4; i++)
		ASSERT_EQ(vlab_blk_submit(&bm.blk, &r[i]), 0);
	int rc[4];
	for (unsigned i = 0; i < 4; i++)
		rc[i] = vlab_blk_wait(&bm.blk, &r[i]);
	EXPECT_TRUE(bm.vdev()->broken) << "a bad used id on queue 2 breaks the device";
	EXPECT_EQ(bm.dev->dv->resets, resets + 1) << "stopped before the requests went back";
	unsigned failed = 0;
	for (unsigned i = 0; i < 4; i++)
		failed += rc[i] != 0;
	EXPECT_GE(failed, 1u);
	EXPECT_NE(rc[2], 0) << "the request on queue 2 never completed";
	Reinit();
	EXPECT_EQ(bm.blk.info.num_queues, 4u);
	vlabtest::ExpectReadWriteWorks(bm);
}

// A queue after queue 0 of another size (PCI shows each queue's own:
// modern, smaller; legacy, fixed above the driver's VLAB_VQ_SIZE_MAX, which
// the queue setup refuses): the queues from there on are not used, the
// disk is.  virtio-mmio has one QueueNumMax for all: four queues there.
TEST_P(BlkMq, AQueueOfAnotherSizeEndsTheCount)
{
	const char *why = nullptr;
	ASSERT_EQ(hx_blk_prop(&bm.opts, "num-queues=4", &why), 1);
	Capture();
	bm.Add();
	const bool pci = hx_transport_is_pci(GetParam().t);
	const bool legacy = GetParam().t == HX_PCI_LEGACY;
	bm.dev->dv->queue_size[2] = legacy ? 2 * VLAB_VQ_SIZE_MAX : 64;
	ASSERT_EQ(bm.Probe(), 0);
	ASSERT_EQ(bm.Init(), 0) << "a queue that does not fit costs queues, not the disk";
	EXPECT_EQ(bm.blk.info.num_queues, pci ? 2u : 4u);
	if (pci) {
		EXPECT_TRUE(Logged(legacy ? "queue 2 not usable" : "queue 2 has 64 entries")) << GetParam().t;
	}
	vlabtest::ExpectReadWriteWorks(bm);
	uint8_t *buf = bm.Buf(8 * 4096);
	ASSERT_EQ(vlab_blk_read(&bm.blk, 0, buf, 64), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, BlkMq, testing::ValuesIn(vlabtest::RingDiagonal()), vlabtest::RingName);
INSTANTIATE_TEST_SUITE_P(Transports, BlkMqLiesCase,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()), testing::ValuesIn(kLies)),
                         vlabtest::CaseName<Lie>);

} // namespace
