// The release rule on virtio-net (issue 10, items 1 and 5): a buffer the
// driver gave the device (its own receive, transmit and control DMA memory)
// is reused, re-posted or freed only after the device returned it in the
// used ring or after a reset the device acknowledged.  Whenever the driver
// gives up on the device (a control command that times out, a protocol
// breach, DEVICE_NEEDS_RESET) it stops the device first; when the device
// does not acknowledge that reset the call says VLAB_EWEDGED and nothing is
// freed.  Shutdown drains the transmit queue (bounded) before its reset and
// counts what it had to drop.
#include <ostream>
#include <string>
#include <vector>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;

namespace {

const uint8_t kPeer[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

uint64_t ArenaUsed(struct hx_machine *m)
{
	struct hx_arena_stats st;
	hx_arena_get_stats(m, &st);
	return st.used;
}

std::vector<std::vector<uint8_t>> Wire(Nic *n)
{
	std::vector<std::vector<uint8_t>> wire;
	std::vector<uint8_t> buf(65536);
	long l;
	while ((l = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size())) >= 0)
		wire.emplace_back(buf.begin(), buf.begin() + l);
	return wire;
}

struct Logs {
	std::vector<std::string> lines;
	static void Take(void *ctx, enum vlab_log_level, const char *msg)
	{
		static_cast<Logs *>(ctx)->lines.push_back(msg);
	}
	bool Has(const std::string &s) const
	{
		for (const auto &l : lines)
			if (l.find(s) != std::string::npos)
				return true;
		return false;
	}
};

// ---- Giving up: stop the device first ----

// What makes the driver give up, and the call that finds out.
struct GiveUpCase {
	const char *name;
	const char *plan;
	int want_rc;  // what the call returns when the device resets
	int (*act)(Nic *n);
};

int SendTwo(Nic *n)
{
	auto f = MakeFrame(100, 1, kPeer, n->net.mac);
	int rc = vlab_net_send(&n->net, f.data(), 100);
	if (rc)
		return rc;
	return vlab_net_send(&n->net, f.data(), 100);
}

int SendThenReclaim(Nic *n)
{
	auto f = MakeFrame(100, 1, kPeer, n->net.mac);
	int rc = vlab_net_send(&n->net, f.data(), 100);
	if (rc)
		return rc;
	return vlab_net_tx_reclaim(&n->net);
}

int InjectThenRecv(Nic *n)
{
	auto f = MakeFrame(200, 2, n->net.mac, kPeer);
	if (dm_net_inject(n->model(), f.data(), 200) != 0)
		return 1; // not an error code the driver has
	std::vector<uint8_t> buf(n->net.max_frame);
	uint32_t len = 0;
	return vlab_net_recv(&n->net, buf.data(), (uint32_t)buf.size(), &len);
}

int SetAllmulti(Nic *n)
{
	return vlab_net_set_allmulti(&n->net, true);
}

const GiveUpCase kGiveUpCases[] = {
	// A command never answered; one answered 2 s late (after the 1 s
	// timeout: the device must not carry it out once the driver has told
	// its caller it failed); an ack that is neither OK nor ERR.
	{"ctrl_never_answered", "fault stall queue=2\n", VLAB_ETIMEDOUT, SetAllmulti},
	{"ctrl_answered_late", "fault delay queue=2 value=2000000000\n", VLAB_ETIMEDOUT, SetAllmulti},
	{"ctrl_ack_garbage", "fault net_ctrl_ack value=7\n", VLAB_EPROTO, SetAllmulti},
	// Protocol breaches found in transmit and receive completions.
	{"tx_used_id", "fault used_id queue=1 nth=1 value=999\n", VLAB_EPROTO, SendThenReclaim},
	{"rx_used_len", "fault used_len queue=0 nth=1 value=1\n", VLAB_EPROTO, InjectThenRecv},
	// The device asks for a reset.
	{"needs_reset", "fault needs_reset queue=1 nth=1\n", VLAB_ENEEDSRESET, SendTwo},
};

void PrintTo(const GiveUpCase &c, std::ostream *os)
{
	*os << c.name;
}

class NetGiveUp : public testing::TestWithParam<std::tuple<vlabtest::Ring, GiveUpCase, bool>> {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	const GiveUpCase &c = std::get<1>(GetParam());
	const bool stuck = std::get<2>(GetParam()); // the device does not acknowledge resets
};

std::string GiveUpName(const testing::TestParamInfo<std::tuple<vlabtest::Ring, GiveUpCase, bool>> &info)
{
	return vlabtest::Ident(std::get<0>(info.param)) +
	       "_" + std::get<1>(info.param).name + (std::get<2>(info.param) ? "_reset_stuck" : "");
}

TEST_P(NetGiveUp, DeviceIsStoppedBeforeAnythingIsReleased)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	struct dm_virtio *dv = n->dev->dv;
	const struct vlab_platform *p = hx_platform(nm.m);
	std::string plan = c.plan;
	if (stuck)
		plan += "fault reset_stuck count=2\n"; // the stop's reset and shutdown's
	ASSERT_NO_FATAL_FAILURE(nm.ApplyPlan(n, plan.c_str()));
	const uint64_t resets = dv->resets;

	EXPECT_EQ(c.act(n), stuck ? VLAB_EWEDGED : c.want_rc);
	EXPECT_EQ(dv->resets, resets + 1) << "the device was reset when the driver gave up";
	EXPECT_TRUE(n->bound.vdev->broken);

	// Later calls fail fast: no new reset, no time spent.
	const uint64_t t0 = vlab_plat_now(p);
	auto f = MakeFrame(60, 3, kPeer, n->net.mac);
	std::vector<uint8_t> buf(n->net.max_frame);
	uint32_t len = 0;
	EXPECT_EQ(vlab_net_send(&n->net, f.data(), 60), VLAB_EBROKEN);
	EXPECT_EQ(vlab_net_recv(&n->net, buf.data(), (uint32_t)buf.size(), &len), VLAB_EBROKEN);
	EXPECT_EQ(vlab_net_tx_reclaim(&n->net), VLAB_EBROKEN);
	EXPECT_EQ(vlab_net_set_promisc(&n->net, false), VLAB_EBROKEN);
	EXPECT_EQ(vlab_net_update_link(&n->net), VLAB_EBROKEN);
	EXPECT_EQ(vlab_plat_now(p), t0);
	EXPECT_EQ(dv->resets, resets + 1);

	// A late answer finds a reset device: the command is not carried out.
	hx_advance(nm.m, 3000000000ull);
	EXPECT_FALSE(n->model()->allmulti) << "a command reported as failed was carried out";

	// Shutdown frees the buffers only after a reset the device acknowledged.
	const uint64_t used = ArenaUsed(nm.m);
	if (stuck) {
		EXPECT_EQ(vlab_net_shutdown(&n->net), VLAB_EWEDGED);
		EXPECT_EQ(ArenaUsed(nm.m), used) << "DMA memory freed after a reset that failed";
		EXPECT_EQ(vlab_net_send(&n->net, f.data(), 60), VLAB_EBROKEN);
	} else {
		EXPECT_EQ(vlab_net_shutdown(&n->net), 0);
		EXPECT_LT(ArenaUsed(nm.m), used);
	}
	n->inited = false;

	// A device that resets again can be initialised again, and works.
	dm_virtio_clear_faults(dv);
	ASSERT_EQ(vlab_net_init(&n->net, n->bound.vdev, nullptr), 0);
	n->inited = true;
	ASSERT_EQ(vlab_net_send(&n->net, f.data(), 60), 0);
	auto wire = Wire(n);
	ASSERT_FALSE(wire.empty());
	EXPECT_EQ(wire.back(), f);
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

INSTANTIATE_TEST_SUITE_P(Cases, NetGiveUp,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::ValuesIn(kGiveUpCases), testing::Bool()),
                         GiveUpName);

// ---- Shutdown: drain the transmit queue first ----

class NetShutdown : public testing::TestWithParam<vlabtest::Ring> {
protected:
	NetMachine nm{GetParam()};
	Logs logs;
	Nic *Bring()
	{
		nm.opts.backend = HX_NET_QUEUE;
		Nic *n = nm.Bring();
		hx_set_log(nm.m, Logs::Take, &logs, VLAB_LOG_DEBUG);
		return n;
	}
	std::vector<std::vector<uint8_t>> Queue(Nic *n, unsigned count)
	{
		std::vector<std::vector<uint8_t>> sent;
		for (unsigned i = 0; i < count; i++) {
			auto f = MakeFrame(60 + 10 * i, 100 + i, kPeer, n->net.mac);
			EXPECT_EQ(vlab_net_send(&n->net, f.data(), (uint32_t)f.size()), 0) << i;
			sent.push_back(f);
		}
		return sent;
	}
};

// A device slow to send (each frame goes out 300 ms after it was queued):
// shutdown waits for the frames instead of resetting them away (16 frames
// of a QEMU run never left).
TEST_P(NetShutdown, FramesQueuedToASlowDeviceAreSentBeforeTheReset)
{
	Nic *n = Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_NO_FATAL_FAILURE(nm.ApplyPlan(n, "fault delay queue=1 value=300000000 count=0\n"));
	auto sent = Queue(n, 16);
	EXPECT_EQ(vlab_net_tx_pending(&n->net), 16u);
	EXPECT_TRUE(Wire(n).empty()) << "the device holds them";

	EXPECT_EQ(vlab_net_shutdown(&n->net), 0);
	n->inited = false;
	EXPECT_EQ(Wire(n), sent) << "every queued frame reached the wire, in order";
	EXPECT_EQ(n->net.stats.tx_dropped_at_shutdown, 0u);
	EXPECT_EQ(n->net.stats.tx_completed, 16u);
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

// A device that never sends: shutdown ends in bounded time (the device
// timeout, 1 s of virtual time) and says how many frames were dropped.
TEST_P(NetShutdown, FramesADeviceNeverSendsAreCountedAsDropped)
{
	Nic *n = Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_NO_FATAL_FAILURE(nm.ApplyPlan(n, "fault stall queue=1 count=0\n"));
	Queue(n, 5);
	const struct vlab_platform *p = hx_platform(nm.m);
	const uint64_t t0 = vlab_plat_now(p);

	EXPECT_EQ(vlab_net_shutdown(&n->net), 0);
	n->inited = false;
	EXPECT_LE(vlab_plat_now(p) - t0, 2 * vlab_virtio_timeout(n->bound.vdev)) << "bounded";
	EXPECT_EQ(n->net.stats.tx_dropped_at_shutdown, 5u);
	EXPECT_TRUE(logs.Has("5 queued frames dropped")) << "the drop is logged";
	EXPECT_TRUE(Wire(n).empty());
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

// A clean shutdown costs no wait and drops nothing.
TEST_P(NetShutdown, NothingQueuedNothingDropped)
{
	Nic *n = Bring();
	ASSERT_NE(n, nullptr);
	auto sent = Queue(n, 3);
	const struct vlab_platform *p = hx_platform(nm.m);
	const uint64_t t0 = vlab_plat_now(p);
	EXPECT_EQ(vlab_net_shutdown(&n->net), 0);
	n->inited = false;
	EXPECT_EQ(vlab_plat_now(p), t0);
	EXPECT_EQ(Wire(n), sent);
	EXPECT_EQ(n->net.stats.tx_dropped_at_shutdown, 0u);
	EXPECT_FALSE(logs.Has("dropped"));
}

INSTANTIATE_TEST_SUITE_P(Transports, NetShutdown, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
