// Fault injection for virtio-net: each net fault kind (and the core kinds
// that matter on a NIC), given as a fault plan in the text format
// (docs/fault-plans.md), against two-way traffic over every transport.
// Each case asserts the outcome (a clean error of the expected kind, or a
// recovery) and the accounting that proves nothing was lost silently:
// every frame injected is delivered intact or counted as dropped (by the
// device or by the driver, with its reason), and every frame the driver
// accepted for sending is collected intact, in order, or counted as
// dropped by the device with the link down.
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "devmodel/fault_plan.h"
#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

const uint8_t kPeer[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

// What the driver must end up reporting for a case.
enum class Outcome {
	kClean,       // every call succeeded; drops only as counted
	kBroken,      // the device broke the protocol: EPROTO, then EBROKEN until re-init
	kNeedsReset,  // the device asked for a reset: ENEEDSRESET until re-init
	kBusy,        // transmit completions stopped: sends refused with EBUSY, nothing lost
	kAsSplit,     // (packed_outcome only) the same as on a split ring
};

struct Case {
	const char *name;
	const char *plan;
	Outcome outcome;
	// Expected counts at the end (-1: not checked).
	int link_changes;
	bool link_up_at_end;
	int driver_drops_short, driver_drops_num_buffers;
	// The outcome on a packed ring when it differs (docs/fault-plans.md).
	Outcome packed_outcome = Outcome::kAsSplit;
};
void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

const Case kCases[] = {
	// Allowed by the spec: the link drops at the 5th frame sent and is back
	// 3 ms later (the receive waits advance virtual time).
	{"link_down_then_up", "fault link_down nth=5 value=3000000\n", Outcome::kClean, 2, true, 0, 0},
	{"link_down_for_good", "fault link_down nth=5\n", Outcome::kClean, 1, false, 0, 0},
	// Forbidden: a receive used.len shorter than header + Ethernet header,
	// a num_buffers of 0: the frame is dropped and counted, traffic goes on.
	{"rx_len_short", "fault net_rx_len nth=3 value=5 count=2\n", Outcome::kClean, 0, true, 2, 0},
	{"num_buffers_zero", "fault net_num_buffers nth=4 value=0\n", Outcome::kClean, 0, true, 0, 1},
	{"num_buffers_beyond", "fault net_num_buffers nth=2 value=4000\n", Outcome::kClean, 0, true, 0, 1},
	// Allowed: undefined header flags, garbage hdr_len and checksum fields
	// (tests/model/driver_conf_test.cpp asserts the frames intact).
	{"rx_hdr_garbage", "fault net_rx_hdr nth=2 count=3\n", Outcome::kClean, 0, true, 0, 0},
	// Forbidden: used.len above what was posted, a used.id that is not
	// outstanding, used.idx jumping past what is outstanding: broken,
	// sticky until re-init.  (On the receive queue, where every buffer is
	// outstanding, a jump reads stale entries of length 0: dropped as
	// short, which the NetControl suite covers.)
	{"used_len_above", "fault used_len queue=0 nth=6 value=1\n", Outcome::kBroken, -1, true, -1, -1},
	{"used_id_bad", "fault used_id queue=1 nth=3 value=999\n", Outcome::kBroken, -1, true, -1, -1},
	// Packed: no index to check; transmit completions are not where the
	// driver looks for them, as if they had stopped.
	{"used_idx_jump", "fault used_idx_jump queue=1 nth=4 value=7\n", Outcome::kBroken, -1, true, -1, -1,
	 Outcome::kBusy},
	// A receive buffer completed twice: the driver has reposted it by then,
	// under another head (the free list is a FIFO), so the duplicate names
	// a head that is not outstanding.
	{"rx_completed_twice", "fault used_id_dup queue=0 nth=5\n", Outcome::kBroken, -1, true, -1, -1},
	// Allowed: the device asks for a reset.
	{"needs_reset", "fault needs_reset queue=1 nth=4\n", Outcome::kNeedsReset, -1, true, -1, -1},
	// Forbidden in effect: transmit completions never come.
	{"tx_stall", "fault stall queue=1 nth=3 count=0\n", Outcome::kBusy, -1, true, -1, -1},
};


class NetFaults : public testing::TestWithParam<std::tuple<vlabtest::Ring, Case>> {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	const Case &c = std::get<1>(GetParam());
};

uint64_t Sum(const uint64_t *v, unsigned n)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return s;
}

TEST_P(NetFaults, OutcomeIsCleanAndNothingIsLostSilently)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_NO_FATAL_FAILURE(nm.ApplyPlan(n, c.plan));

	const unsigned kRounds = 40;
	std::vector<std::vector<uint8_t>> sent;  // accepted by the driver, in order
	unsigned injected = 0, inject_refused = 0, delivered = 0;
	int first_error = 0;
	for (unsigned i = 0; i < kRounds; i++) {
		const uint32_t rx_len = 14 + (i * 97) % 1501;
		const uint32_t tx_len = 14 + (i * 61 + 40) % 1501;
		// Receive direction.
		auto in = MakeFrame(rx_len, 1000 + i, n->net.mac, kPeer);
		if (dm_net_inject(n->model(), in.data(), rx_len) == 0)
			injected++;
		else
			inject_refused++;
		int rc = 0;
		auto got = Recv(n, &rc);
		if (rc == 0) {
			// The only frame that can arrive now is the one just injected.
			EXPECT_EQ(got, in) << "round " << i << " delivered a corrupted frame";
			delivered++;
		} else if (rc != VLAB_ETIMEDOUT && rc != VLAB_EAGAIN && !first_error) {
			first_error = rc;
		}
		// Transmit direction.
		auto out = MakeFrame(tx_len, 2000 + i, kPeer, n->net.mac);
		rc = vlab_net_send(&n->net, out.data(), tx_len);
		if (rc == 0)
			sent.push_back(out);
		else if (!first_error)
			first_error = rc;
		(void)vlab_net_interrupt(&n->net);
	}
	(void)vlab_net_tx_reclaim(&n->net);

	// What reached the wire: an in-order subsequence of what was accepted.
	std::vector<std::vector<uint8_t>> wire;
	std::vector<uint8_t> buf(65536);
	long l;
	while ((l = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size())) >= 0)
		wire.emplace_back(buf.begin(), buf.begin() + l);
	size_t j = 0;
	for (const auto &w : wire) {
		while (j < sent.size() && sent[j] != w)
			j++;
		ASSERT_LT(j, sent.size()) << "a frame on the wire that was never sent intact";
		j++;
	}

	const struct dm_net *model = n->model();
	const struct vlab_net_stats &st = n->net.stats;
	const uint64_t driver_drops = Sum(st.rx_dropped, VLAB_NET_DROP_COUNT);
	const Outcome outcome = std::get<0>(GetParam()).kind.packed && c.packed_outcome != Outcome::kAsSplit
	                            ? c.packed_outcome
	                            : c.outcome;
	switch (outcome) {
	case Outcome::kClean:
		EXPECT_EQ(first_error, 0) << vlab_errname(first_error);
		EXPECT_FALSE(n->bound.vdev->broken);
		// Receive: every frame the device took is delivered or counted.
		EXPECT_EQ(injected, delivered + driver_drops);
		// Transmit: every accepted frame is on the wire or was dropped by
		// the device because the link was down (inject_refused are the
		// receive-side link-down drops).
		EXPECT_EQ(sent.size(), wire.size() + (model->dropped[DM_NET_DROP_LINK_DOWN] - inject_refused));
		EXPECT_EQ(st.rx_frames, delivered);
		break;
	case Outcome::kBroken:
		EXPECT_TRUE(first_error == VLAB_EPROTO || first_error == VLAB_EBROKEN)
		    << vlab_errname(first_error);
		EXPECT_TRUE(n->bound.vdev->broken);
		EXPECT_EQ(vlab_net_send(&n->net, buf.data(), 60), VLAB_EBROKEN) << "broken is sticky";
		break;
	case Outcome::kNeedsReset:
		EXPECT_EQ(first_error, VLAB_ENEEDSRESET) << vlab_errname(first_error);
		break;
	case Outcome::kBusy:
		EXPECT_EQ(first_error, VLAB_EBUSY) << vlab_errname(first_error);
		EXPECT_GT(st.tx_busy, 0u);
		// Every accepted frame is on the wire or still owned by the device
		// (after a packed used_idx_jump some are both: sent, their
		// completions not where the driver looks).
		EXPECT_LE(wire.size(), sent.size());
		if (outcome == c.outcome) {
			EXPECT_EQ(vlab_net_tx_pending(&n->net) + wire.size(), sent.size());
		} else {
			EXPECT_GE(vlab_net_tx_pending(&n->net) + wire.size(), sent.size());
		}
		EXPECT_EQ(injected, delivered + driver_drops) << "receive goes on while transmit is stuck";
		break;
	case Outcome::kAsSplit:
		ADD_FAILURE() << "not an outcome";
		break;
	}
	if (c.link_changes >= 0) {
		EXPECT_EQ(st.link_changes, (uint64_t)c.link_changes);
	}
	EXPECT_EQ(n->net.link_up, c.link_up_at_end);
	if (c.driver_drops_short >= 0) {
		EXPECT_EQ(st.rx_dropped[VLAB_NET_DROP_SHORT], (uint64_t)c.driver_drops_short);
	}
	if (c.driver_drops_num_buffers >= 0) {
		EXPECT_EQ(st.rx_dropped[VLAB_NET_DROP_NUM_BUFFERS], (uint64_t)c.driver_drops_num_buffers);
	}

	// Recovery: a fresh initialisation on a device without faults works and
	// carries frames both ways.
	dm_virtio_clear_faults(n->dev->dv);
	dm_net_set_link(n->model(), true);
	vlab_net_shutdown(&n->net);
	n->inited = false;
	ASSERT_EQ(vlab_net_init(&n->net, n->bound.vdev, nullptr), 0);
	n->inited = true;
	auto in = MakeFrame(300, 7, n->net.mac, kPeer);
	ASSERT_EQ(dm_net_inject(n->model(), in.data(), 300), 0);
	int rc = 0;
	EXPECT_EQ(Recv(n, &rc), in) << vlab_errname(rc);
	auto out = MakeFrame(200, 8, kPeer, n->net.mac);
	ASSERT_EQ(vlab_net_send(&n->net, out.data(), 200), 0);
	while ((l = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size())) >= 0)
		wire.emplace_back(buf.begin(), buf.begin() + l);
	ASSERT_FALSE(wire.empty());
	EXPECT_EQ(wire.back(), out);

	// The driver never broke the spec on the way (faults make the device
	// misbehave, not the driver).
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

INSTANTIATE_TEST_SUITE_P(Plans, NetFaults,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::ValuesIn(kCases)),
                         vlabtest::CaseName<Case>);

// The control queue under a plan: an ERR answer is an error for that
// command only; an ack that is neither OK nor ERR breaks the device; a
// command that is never answered times out in bounded virtual time and
// breaks the device.  A fresh initialisation recovers in every case.
struct CtrlCase {
	const char *name;
	const char *plan;
	int want_rc;
	bool broken;
};
void PrintTo(const CtrlCase &c, std::ostream *os) { *os << c.name; }

const CtrlCase kCtrlCases[] = {
	{"ack_err", "fault net_ctrl_ack value=1\n", VLAB_EIO, false},
	{"ack_garbage", "fault net_ctrl_ack value=7\n", VLAB_EPROTO, true},
	{"never_answered", "fault stall queue=2\n", VLAB_ETIMEDOUT, true},
};

class NetCtrlFaults : public testing::TestWithParam<std::tuple<vlabtest::Ring, CtrlCase>> {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	const CtrlCase &c = std::get<1>(GetParam());
};

TEST_P(NetCtrlFaults, CommandFailsCleanlyAndReinitRecovers)
{
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	ASSERT_TRUE(n->net.has_ctrl);
	ASSERT_NO_FATAL_FAILURE(nm.ApplyPlan(n, c.plan));
	const struct vlab_platform *p = hx_platform(nm.m);
	const uint64_t t0 = vlab_plat_now(p);
	EXPECT_EQ(vlab_net_set_promisc(&n->net, true), c.want_rc);
	const uint64_t waited = vlab_plat_now(p) - t0;
	EXPECT_LE(waited, 2 * vlab_virtio_timeout(n->bound.vdev)) << "the wait is bounded";
	EXPECT_EQ(n->bound.vdev->broken, c.broken);
	if (c.broken) {
		EXPECT_EQ(vlab_net_set_allmulti(&n->net, true), VLAB_EBROKEN) << "broken is sticky";
	} else {
		EXPECT_EQ(n->net.stats.ctrl_errors, 1u);
		EXPECT_EQ(vlab_net_set_allmulti(&n->net, true), 0) << "the next command is fine";
	}
	dm_virtio_clear_faults(n->dev->dv);
	vlab_net_shutdown(&n->net);
	n->inited = false;
	ASSERT_EQ(vlab_net_init(&n->net, n->bound.vdev, nullptr), 0);
	n->inited = true;
	EXPECT_EQ(vlab_net_set_promisc(&n->net, true), 0);
	EXPECT_TRUE(n->model()->promisc);
	EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
}

INSTANTIATE_TEST_SUITE_P(Plans, NetCtrlFaults,
                         testing::Combine(testing::ValuesIn(vlabtest::RingDiagonal()),
                                          testing::ValuesIn(kCtrlCases)),
                         vlabtest::CaseName<CtrlCase>);

// Every net kind of the fault table has a case above.
TEST(NetFaultCoverage, EveryNetKindIsExercised)
{
	std::set<std::string> named;
	for (const auto &c : kCases) {
		std::string p(c.plan);
		named.insert(p.substr(6, p.find(' ', 6) - 6));
	}
	for (const auto &c : kCtrlCases) {
		std::string p(c.plan);
		named.insert(p.substr(6, p.find(' ', 6) - 6));
	}
	for (int k = DM_FAULT_NET_RX_LEN; k <= DM_FAULT_NET_RX_HDR; k++) {
		const char *name = dm_fault_name(static_cast<enum dm_fault_kind>(k));
		EXPECT_TRUE(named.count(name)) << name << " has no fault-injection case";
	}
}

} // namespace
