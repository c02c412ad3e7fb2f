// virtio-net checksum offload (CSUM, GUEST_CSUM; 5.1.6.2, 5.1.6.4) over
// every transport: transmit frames whose checksum the device completes
// (the model checks DRV-5.1.6.2.1-15/16/17 and puts the completed frame on
// the wire), and received frames whose checksum claims are weighed
// (docs/attack-surface.md N11-N13): a device that lies about a checksum
// never gets a corrupt frame reported as verified.  Any model violation
// not expected fails the test.
#include <cstring>
#include <string>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;

namespace {

const uint8_t kPeer[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

enum class Kind { kTcp4, kUdp4, kTcp6, kUdp6, kTcp4Vlan };
const Kind kKinds[] = {Kind::kTcp4, Kind::kUdp4, Kind::kTcp6, Kind::kUdp6, Kind::kTcp4Vlan};
const char *Name(Kind k)
{
	switch (k) {
	case Kind::kTcp4: return "tcp4";
	case Kind::kUdp4: return "udp4";
	case Kind::kTcp6: return "tcp6";
	case Kind::kUdp6: return "udp6";
	case Kind::kTcp4Vlan: return "tcp4 vlan";
	}
	return "?";
}

// The test's own Internet checksum (RFC 1071).
uint32_t Sum(const uint8_t *p, size_t len, uint32_t s = 0)
{
	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)(p[i] << 8) + (i + 1 < len ? p[i + 1] : 0);
	return s;
}
uint16_t Fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}
void Put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

// A frame of kind k, payload bytes from seed, every checksum right.
// *field: where the TCP/UDP checksum is; *pseudo: the pseudo-header sum.
struct IpFrame {
	std::vector<uint8_t> f;
	size_t start = 0, field = 0;
	uint16_t pseudo = 0;
	// The same frame as a stack offloading its checksum leaves it.
	std::vector<uint8_t> Partial() const
	{
		auto p = f;
		Put16(p.data() + field, pseudo);
		return p;
	}
};

IpFrame Build(Kind k, uint32_t payload, uint32_t seed, const uint8_t *dst, const uint8_t *src)
{
	const bool v6 = k == Kind::kTcp6 || k == Kind::kUdp6;
	const bool udp = k == Kind::kUdp4 || k == Kind::kUdp6;
	const size_t l2 = k == Kind::kTcp4Vlan ? 18 : 14, l3 = v6 ? 40 : 20, l4 = udp ? 8 : 20;
	const size_t seg = l4 + payload;
	IpFrame r;
	r.f.assign(l2 + l3 + seg, 0);
	uint8_t *f = r.f.data();
	std::memcpy(f, dst, 6);
	std::memcpy(f + 6, src, 6);
	if (k == Kind::kTcp4Vlan) {
		Put16(f + 12, 0x8100);
		Put16(f + 14, 42);
	}
	Put16(f + l2 - 2, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + l2;
	const uint8_t proto = udp ? 17 : 6;
	uint32_t ps;
	if (v6) {
		ip[0] = 0x60;
		Put16(ip + 4, (uint16_t)seg);
		ip[6] = proto;
		ip[7] = 64;
		for (int i = 0; i < 32; i++)
			ip[8 + i] = (uint8_t)(0x20 + i * 7 + seed);
		ps = Sum(ip + 8, 32);
	} else {
		ip[0] = 0x45;
		Put16(ip + 2, (uint16_t)(l3 + seg));
		ip[8] = 64;
		ip[9] = proto;
		for (int i = 0; i < 8; i++)
			ip[12 + i] = (uint8_t)(10 + i * 13 + seed);
		Put16(ip + 10, (uint16_t)~Fold(Sum(ip, 20)));
		ps = Sum(ip + 12, 8);
	}
	ps += proto + (uint32_t)seg;
	uint8_t *t = ip + l3;
	Put16(t, (uint16_t)(1000 + seed));
	Put16(t + 2, 80);
	if (udp)
		Put16(t + 4, (uint16_t)seg);
	else
		t[12] = 0x50;
	for (uint32_t i = 0; i < payload; i++)
		t[l4 + i] = (uint8_t)(seed * 31 + i * 7);
	r.start = l2 + l3;
	r.field = r.start + (udp ? 6 : 16);
	r.pseudo = Fold(ps);
	uint16_t c = (uint16_t)~Fold(Sum(t, seg, ps));
	if (udp && c == 0)
		c = 0xffff;
	Put16(f + r.field, c);
	return r;
}

std::vector<uint8_t> RecvCsum(Nic *n, enum vlab_net_csum *csum, int *rc)
{
	std::vector<uint8_t> buf(n->net.max_frame);
	uint32_t len = 0;
	*rc = vlab_net_recv_wait_csum(&n->net, buf.data(), (uint32_t)buf.size(), &len, csum, 1000000);
	if (*rc)
		return {};
	buf.resize(len);
	return buf;
}

class NetCsum : public testing::TestWithParam<enum hx_transport> {
protected:
	NetMachine nm{GetParam()};
	bool expect_clean = true;
	void TearDown() override
	{
		if (expect_clean) {
			EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
		}
	}
	// A NIC offering the default features plus extra (queue backend).
	Nic *Bring(uint64_t extra, const struct vlab_net_cfg *cfg = nullptr)
	{
		struct dm_net_cfg def;
		dm_net_cfg_default(&def);
		nm.opts.features_set = true;
		nm.opts.features = def.features | extra;
		nm.opts.backend = HX_NET_QUEUE;
		return nm.Bring(cfg);
	}
	static constexpr uint64_t kBoth = VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM);
	std::vector<uint8_t> Wire(Nic *n)
	{
		std::vector<uint8_t> buf(65536);
		long l = dm_net_queue_pop(n->model(), buf.data(), (uint32_t)buf.size());
		if (l < 0)
			return {};
		buf.resize((size_t)l);
		return buf;
	}
};

// CSUM: the frame goes out with NEEDS_CSUM at the checksum its headers
// place; the model checks the request (DRV-5.1.6.2.1-15/16/17) and
// completes it: the wire has the frame with its checksum right.
TEST_P(NetCsum, OffloadedTransmitIsCompletedOnTheWire)
{
	Nic *n = Bring(kBoth);
	ASSERT_NE(n, nullptr);
	ASSERT_TRUE(n->net.csum);
	ASSERT_TRUE(n->net.guest_csum);
	uint32_t seed = 1;
	for (Kind k : kKinds) {
		for (uint32_t payload : {0u, 1u, 333u, 1400u}) {
			IpFrame good = Build(k, payload, seed++, kPeer, n->net.mac);
			auto partial = good.Partial();
			ASSERT_NE(partial, good.f);
			ASSERT_EQ(vlab_net_send_csum(&n->net, partial.data(), (uint32_t)partial.size()), 0)
			    << Name(k) << " payload " << payload;
			EXPECT_EQ(Wire(n), good.f) << Name(k) << " payload " << payload;
		}
	}
	EXPECT_GT(dm_report_check_count(hx_report(nm.m), "DRV-5.1.6.2.1-17"), 0u);
	EXPECT_GT(dm_report_check_count(hx_report(nm.m), "DRV-5.1.6.2.1-16"), 0u);
	// A plain send still goes out with flags 0, as it is.
	auto plain = MakeFrame(100, 3, kPeer, n->net.mac);
	ASSERT_EQ(vlab_net_send(&n->net, plain.data(), 100), 0);
	EXPECT_EQ(Wire(n), plain);
}

// What the driver cannot offload is refused before anything is queued.
TEST_P(NetCsum, SendCsumRefusesWhatItCannotOffload)
{
	Nic *n = Bring(kBoth);
	ASSERT_NE(n, nullptr);
	auto raw = MakeFrame(100, 1, kPeer, n->net.mac); // ethertype 0x88b5
	EXPECT_EQ(vlab_net_send_csum(&n->net, raw.data(), 100), VLAB_EINVAL);
	IpFrame t = Build(Kind::kTcp4, 50, 2, kPeer, n->net.mac);
	auto trailing = t.Partial();
	trailing.push_back(0);
	EXPECT_EQ(vlab_net_send_csum(&n->net, trailing.data(), (uint32_t)trailing.size()), VLAB_EINVAL)
	    << "bytes after the segment: the checksum would cover them";
	auto frag = t.Partial();
	frag[14 + 6] |= 0x20; // more fragments
	EXPECT_EQ(vlab_net_send_csum(&n->net, frag.data(), (uint32_t)frag.size()), VLAB_EINVAL);
	auto shortip = t.Partial();
	Put16(shortip.data() + 14 + 2, 2000); // IP length beyond the frame
	EXPECT_EQ(vlab_net_send_csum(&n->net, shortip.data(), (uint32_t)shortip.size()), VLAB_EINVAL);
	auto icmp = t.Partial();
	icmp[14 + 9] = 1;
	EXPECT_EQ(vlab_net_send_csum(&n->net, icmp.data(), (uint32_t)icmp.size()), VLAB_EINVAL);
	EXPECT_EQ(n->net.stats.tx_frames, 0u);
	EXPECT_EQ(Wire(n), std::vector<uint8_t>{});
}

TEST_P(NetCsum, WithoutCsumOffloadIsNotSupportedAndFlagsAreIgnored)
{
	Nic *n = Bring(0);
	ASSERT_NE(n, nullptr);
	EXPECT_FALSE(n->net.csum);
	EXPECT_FALSE(n->net.guest_csum);
	IpFrame t = Build(Kind::kUdp4, 64, 5, kPeer, n->net.mac);
	auto p = t.Partial();
	EXPECT_EQ(vlab_net_send_csum(&n->net, p.data(), (uint32_t)p.size()), VLAB_ENOTSUP);
	// Received: the device completes a partial frame itself
	// (DEV-5.1.6.4.1-6) and the driver reports nothing checked.
	IpFrame in = Build(Kind::kTcp6, 200, 6, n->net.mac, kPeer);
	auto ip = in.Partial();
	ASSERT_EQ(dm_net_inject_partial(n->model(), ip.data(), (uint32_t)ip.size()), 0);
	enum vlab_net_csum c = VLAB_NET_CSUM_VERIFIED;
	int rc = 0;
	EXPECT_EQ(RecvCsum(n, &c, &rc), in.f) << vlab_errname(rc);
	EXPECT_EQ(c, VLAB_NET_CSUM_NONE);
	// A device that sets checksum flags anyway is not listened to
	// (DRV-5.1.6.4.2-1/2): the frame is delivered, unchecked.
	nm.AddFault(n, DM_FAULT_NET_RX_NEEDS_CSUM, 9999);
	ASSERT_EQ(dm_net_inject(n->model(), in.f.data(), (uint32_t)in.f.size()), 0);
	EXPECT_EQ(RecvCsum(n, &c, &rc), in.f) << vlab_errname(rc);
	EXPECT_EQ(c, VLAB_NET_CSUM_NONE);
}

// GUEST_CSUM, honest device: DATA_VALID on a frame the model verified is
// the device's word (DEVICE), or VERIFIED when the driver checks it;
// NEEDS_CSUM is completed (COMPLETED) into the frame with its checksum
// right; a frame without flags is not checked (DRV-5.1.6.4.2-5).
TEST_P(NetCsum, ReceivedChecksumClaimsAreReportedForWhatTheyAre)
{
	for (bool verify : {false, true}) {
		SCOPED_TRACE(verify ? "rx_csum_verify" : "device's word");
		struct vlab_net_cfg cfg = {};
		cfg.rx_csum_verify = verify;
		Nic *n = Bring(kBoth, &cfg);
		ASSERT_NE(n, nullptr);
		uint32_t seed = 10;
		for (Kind k : kKinds) {
			IpFrame in = Build(k, 100 + seed, seed, n->net.mac, kPeer);
			seed++;
			enum vlab_net_csum c = VLAB_NET_CSUM_NONE;
			int rc = 0;
			ASSERT_EQ(dm_net_inject(n->model(), in.f.data(), (uint32_t)in.f.size()), 0);
			EXPECT_EQ(RecvCsum(n, &c, &rc), in.f) << Name(k) << " " << vlab_errname(rc);
			EXPECT_EQ(c, verify ? VLAB_NET_CSUM_VERIFIED : VLAB_NET_CSUM_DEVICE)
			    << Name(k) << ": " << vlab_net_csum_name(c);
			auto p = in.Partial();
			ASSERT_EQ(dm_net_inject_partial(n->model(), p.data(), (uint32_t)p.size()), 0);
			EXPECT_EQ(RecvCsum(n, &c, &rc), in.f) << Name(k) << " " << vlab_errname(rc);
			EXPECT_EQ(c, VLAB_NET_CSUM_COMPLETED) << Name(k) << ": " << vlab_net_csum_name(c);
		}
		// A bad checksum from the network: no DATA_VALID, not checked.
		IpFrame bad = Build(Kind::kUdp6, 40, 3, n->net.mac, kPeer);
		bad.f.back() ^= 1;
		auto raw = MakeFrame(120, 4, n->net.mac, kPeer);
		for (const auto &f : {bad.f, raw}) {
			enum vlab_net_csum c = VLAB_NET_CSUM_VERIFIED;
			int rc = 0;
			ASSERT_EQ(dm_net_inject(n->model(), f.data(), (uint32_t)f.size()), 0);
			EXPECT_EQ(RecvCsum(n, &c, &rc), f) << vlab_errname(rc);
			EXPECT_EQ(c, VLAB_NET_CSUM_NONE) << vlab_net_csum_name(c);
		}
		EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_CSUM], 0u);
		vlab_net_shutdown(&n->net);
		n->inited = false;
	}
}

// A lying device: each lie is dropped and counted as csum, or reported as
// the device's word, never as verified; traffic goes on after it.
struct Lie {
	const char *name;
	enum dm_fault_kind kind;
	uint64_t value;
	bool verify;            // vlab_net_cfg.rx_csum_verify
	bool dropped;           // else delivered, reported as DEVICE
};
void PrintTo(const Lie &l, std::ostream *os) { *os << l.name; }
const Lie kLies[] = {
	// DATA_VALID on a frame corrupted after the device's check.
	{"data_valid_corrupt_verified", DM_FAULT_NET_RX_DATA_VALID, 0, true, true},
	{"data_valid_corrupt_unverified", DM_FAULT_NET_RX_DATA_VALID, 0, false, false},
	// NEEDS_CSUM on a whole frame: the field holds the full checksum, not
	// the pseudo-header sum (N13).
	{"needs_csum_not_pseudo", DM_FAULT_NET_RX_NEEDS_CSUM, 0, false, true},
	// csum_start beyond the frame, at the IP header, one byte off (N12).
	{"needs_csum_start_beyond", DM_FAULT_NET_RX_NEEDS_CSUM, 9999, false, true},
	{"needs_csum_start_ip_header", DM_FAULT_NET_RX_NEEDS_CSUM, 14, true, true},
	{"needs_csum_start_off_by_one", DM_FAULT_NET_RX_NEEDS_CSUM, 35, false, true},
};

class NetCsumLies : public testing::TestWithParam<std::tuple<enum hx_transport, Lie>> {
protected:
	NetMachine nm{std::get<0>(GetParam())};
	const Lie &lie = std::get<1>(GetParam());
	void TearDown() override { EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m); }
};

TEST_P(NetCsumLies, LyingClaimIsNeverReportedVerified)
{
	struct dm_net_cfg def;
	dm_net_cfg_default(&def);
	nm.opts.features_set = true;
	nm.opts.features = def.features | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM);
	nm.opts.backend = HX_NET_QUEUE;
	struct vlab_net_cfg cfg = {};
	cfg.rx_csum_verify = lie.verify;
	Nic *n = nm.Bring(&cfg);
	ASSERT_NE(n, nullptr);
	IpFrame in = Build(Kind::kTcp4, 300, 7, n->net.mac, kPeer);
	nm.AddFault(n, lie.kind, lie.value);
	ASSERT_EQ(dm_net_inject(n->model(), in.f.data(), (uint32_t)in.f.size()), 0);
	enum vlab_net_csum c = VLAB_NET_CSUM_NONE;
	int rc = 0;
	auto got = RecvCsum(n, &c, &rc);
	if (lie.dropped) {
		EXPECT_EQ(rc, VLAB_ETIMEDOUT) << "delivered as " << vlab_net_csum_name(c);
		EXPECT_EQ(n->net.stats.rx_dropped[VLAB_NET_DROP_CSUM], 1u);
	} else {
		ASSERT_EQ(rc, 0) << vlab_errname(rc);
		EXPECT_EQ(c, VLAB_NET_CSUM_DEVICE) << vlab_net_csum_name(c);
		EXPECT_NE(got, in.f) << "the fault corrupts the frame";
	}
	EXPECT_FALSE(n->bound.vdev->broken) << "a checksum lie is the frame's, not the ring's";
	// The next frame is fine.
	IpFrame next = Build(Kind::kUdp6, 80, 8, n->net.mac, kPeer);
	ASSERT_EQ(dm_net_inject(n->model(), next.f.data(), (uint32_t)next.f.size()), 0);
	EXPECT_EQ(RecvCsum(n, &c, &rc), next.f) << vlab_errname(rc);
	EXPECT_EQ(c, lie.verify ? VLAB_NET_CSUM_VERIFIED : VLAB_NET_CSUM_DEVICE);
}

// The model's transmit checks can fail: a caller that leaves the full
// checksum (not the pseudo-header sum) in the field, or a wrong IPv4
// header checksum, breaks DRV-5.1.6.2.1-16 / -15 (the driver computes no
// checksum, net.h); the frame still goes out.
TEST_P(NetCsum, ModelCatchesARequestWithoutThePseudoHeaderSum)
{
	expect_clean = false;
	Nic *n = Bring(kBoth);
	ASSERT_NE(n, nullptr);
	IpFrame t = Build(Kind::kTcp4, 60, 9, kPeer, n->net.mac);
	ASSERT_EQ(vlab_net_send_csum(&n->net, t.f.data(), (uint32_t)t.f.size()), 0);
	EXPECT_FALSE(Wire(n).empty());
	EXPECT_EQ(dm_report_violation_count(hx_report(nm.m), "DRV-5.1.6.2.1-16"), 1u);
	auto badip = t.Partial();
	badip[14 + 10] ^= 1;
	ASSERT_EQ(vlab_net_send_csum(&n->net, badip.data(), (uint32_t)badip.size()), 0);
	EXPECT_EQ(dm_report_violation_count(hx_report(nm.m), "DRV-5.1.6.2.1-15"), 1u);
	EXPECT_EQ(hx_report(nm.m)->count, 2u) << vlabtest::ViolationText(nm.m);
}

INSTANTIATE_TEST_SUITE_P(All, NetCsum, testing::ValuesIn(vlabtest::AllTransports()), vlabtest::TransportName);
INSTANTIATE_TEST_SUITE_P(All, NetCsumLies,
                         testing::Combine(testing::ValuesIn(vlabtest::AllTransports()), testing::ValuesIn(kLies)),
                         [](const testing::TestParamInfo<std::tuple<enum hx_transport, Lie>> &i) {
	                         return std::string(std::get<1>(i.param).name) + "_" +
	                                vlabtest::TransportName(testing::TestParamInfo<enum hx_transport>(
	                                    std::get<0>(i.param), i.index));
                         });

} // namespace

namespace {
// Every receive-checksum fault kind has a case above.
TEST(NetCsumFaultCoverage, EveryChecksumKindIsExercised)
{
	for (enum dm_fault_kind k : {DM_FAULT_NET_RX_DATA_VALID, DM_FAULT_NET_RX_NEEDS_CSUM}) {
		bool found = false;
		for (const auto &l : kLies)
			found = found || l.kind == k;
		EXPECT_TRUE(found) << dm_fault_name(k) << " has no case";
	}
}
} // namespace
