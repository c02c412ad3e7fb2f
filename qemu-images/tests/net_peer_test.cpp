// The net scenario's peer (scenarios/net_peer.c): it answers exactly the
// frames of the protocol, in order, and nothing else.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "net_peer.h"

namespace {

const uint8_t kNic[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

std::vector<uint8_t> Frame(unsigned k, const uint8_t *mac = kNic, uint32_t largest = SC_NET_MAX_FRAME)
{
	std::vector<uint8_t> f(sc_net_frame_len(k, largest));
	sc_net_build_frame(k, (uint32_t)f.size(), mac, f.data());
	return f;
}

// Every frame of the protocol on a NIC whose largest frame is largest.
void AnswersEveryFrameInOrder(uint32_t largest)
{
	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t ans[SC_NET_PEER_MAX_FRAME], want[SC_NET_PEER_MAX_FRAME];
	for (unsigned k = 0; k < SC_NET_NFRAMES; k++) {
		std::vector<uint8_t> f = Frame(k, kNic, largest);
		uint32_t len = 0;
		ASSERT_TRUE(sc_net_peer_frame(&p, f.data(), (uint32_t)f.size(), ans, &len)) << k << ": " << p.why;
		ASSERT_EQ(len, f.size());
		sc_net_build_answer(k, len, kNic, want);
		EXPECT_EQ(memcmp(ans, want, len), 0) << k;
		EXPECT_EQ(memcmp(ans, kNic, 6), 0) << "the answer goes to the NIC";
		EXPECT_EQ(memcmp(ans + 6, sc_net_peer_mac, 6), 0);
		if (len > 14) {
			EXPECT_NE(memcmp(ans + 14, f.data() + 14, len - 14), 0) << "the payload is transformed";
		}
	}
	EXPECT_TRUE(sc_net_peer_done(&p));
}

TEST(NetPeer, AnswersEveryFrameInOrder)
{
	AnswersEveryFrameInOrder(SC_NET_MAX_FRAME);
	EXPECT_EQ(sc_net_frame_len(SC_NET_NSINGLE - 1, SC_NET_MAX_FRAME), SC_NET_MAX_FRAME);
	EXPECT_EQ(sc_net_frame_len(SC_NET_K_LARGEST, 1000), SC_NET_MAX_FRAME) << "as listed below 1514";
}

// QEMU's host_mtu=9000 (and the largest MTU): the largest frames follow
// the MTU, and the peer, which does not know it, answers them.
TEST(NetPeer, TheLargestFramesFollowTheMtu)
{
	EXPECT_EQ(sc_net_frame_len(SC_NET_K_LARGEST - 1, 9014), 9013u);
	EXPECT_EQ(sc_net_frame_len(SC_NET_K_LARGEST, 9014), 9014u);
	EXPECT_EQ(sc_net_frame_len(SC_NET_K_LARGEST - 2, 9014), 1000u) << "the others stay";
	AnswersEveryFrameInOrder(9014);
	AnswersEveryFrameInOrder(SC_NET_PEER_MAX_FRAME);
	// Not above the largest there is, not below the listed length.
	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t ans[SC_NET_PEER_MAX_FRAME];
	uint32_t len = 0;
	for (unsigned k = 0; k + 1 < SC_NET_K_LARGEST; k++) {
		std::vector<uint8_t> f = Frame(k);
		ASSERT_TRUE(sc_net_peer_frame(&p, f.data(), (uint32_t)f.size(), ans, &len)) << k;
	}
	std::vector<uint8_t> f(SC_NET_PEER_MAX_FRAME + 1);
	sc_net_build_frame(SC_NET_K_LARGEST - 1, (uint32_t)f.size(), kNic, f.data());
	EXPECT_FALSE(sc_net_peer_frame(&p, f.data(), (uint32_t)f.size(), ans, &len));
	sc_net_build_frame(SC_NET_K_LARGEST - 1, 1512, kNic, f.data());
	EXPECT_FALSE(sc_net_peer_frame(&p, f.data(), 1512, ans, &len));
	EXPECT_EQ(p.rejected, 2u);
}

TEST(NetPeer, RejectsWhatItDoesNotExpect)
{
	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t ans[SC_NET_PEER_MAX_FRAME];
	uint32_t len = 0;
	std::vector<uint8_t> f1 = Frame(1);
	EXPECT_FALSE(sc_net_peer_frame(&p, f1.data(), (uint32_t)f1.size(), ans, &len)) << "frame 1 before 0";
	std::vector<uint8_t> f0 = Frame(0);
	ASSERT_TRUE(sc_net_peer_frame(&p, f0.data(), (uint32_t)f0.size(), ans, &len));
	f1[14] ^= 1; // frame 1 is 15 bytes: its one payload byte
	EXPECT_FALSE(sc_net_peer_frame(&p, f1.data(), (uint32_t)f1.size(), ans, &len)) << "a flipped bit";
	const uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	std::vector<uint8_t> g = Frame(1, other);
	EXPECT_FALSE(sc_net_peer_frame(&p, g.data(), (uint32_t)g.size(), ans, &len)) << "another source";
	EXPECT_EQ(p.rejected, 3u);
	EXPECT_FALSE(sc_net_peer_done(&p));
}

// The checksum frame (CSUM, GUEST_CSUM): what the driver sends partial, a
// device completes at csum_start + csum_offset into a frame whose IPv4 and
// UDP checksums are right; the peer takes it only so, before frame 0 or
// between frames, once, and answers it partial.
TEST(NetPeer, TheChecksumFrame)
{
	uint8_t partial[SC_NET_CSUM_LEN], whole[SC_NET_CSUM_LEN];
	sc_net_build_csum_frame(kNic, true, partial);
	sc_net_build_csum_frame(kNic, false, whole);
	EXPECT_FALSE(sc_net_udp_csum_ok(partial, SC_NET_CSUM_LEN)) << "partial: the pseudo-header sum only";
	EXPECT_TRUE(sc_net_udp_csum_ok(whole, SC_NET_CSUM_LEN));
	EXPECT_NE(whole[SC_NET_CSUM_START + 6] | whole[SC_NET_CSUM_START + 7], 0) << "0 would mean no UDP checksum";
	ASSERT_TRUE(sc_net_csum_complete(partial, SC_NET_CSUM_LEN, SC_NET_CSUM_START, SC_NET_CSUM_OFFSET));
	EXPECT_EQ(memcmp(partial, whole, SC_NET_CSUM_LEN), 0) << "completed as a device would";
	EXPECT_FALSE(sc_net_csum_complete(partial, SC_NET_CSUM_LEN, SC_NET_CSUM_LEN - 1, 0)) << "a field past the end";
	EXPECT_FALSE(sc_net_csum_complete(partial, SC_NET_CSUM_LEN, SC_NET_CSUM_START, 0xffffu));

	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t ans[SC_NET_PEER_MAX_FRAME];
	uint32_t len = 0;
	uint8_t bad[SC_NET_CSUM_LEN];
	memcpy(bad, whole, sizeof bad);
	bad[SC_NET_CSUM_LEN - 1] ^= 1;
	EXPECT_FALSE(sc_net_peer_frame(&p, bad, SC_NET_CSUM_LEN, ans, &len)) << "a wrong UDP checksum";
	sc_net_build_csum_frame(kNic, true, bad);
	EXPECT_FALSE(sc_net_peer_frame(&p, bad, SC_NET_CSUM_LEN, ans, &len)) << "left partial";
	ASSERT_TRUE(sc_net_peer_frame(&p, whole, SC_NET_CSUM_LEN, ans, &len)) << p.why;
	EXPECT_TRUE(p.last_csum && p.ans_partial && p.csum_answered);
	ASSERT_EQ(len, SC_NET_CSUM_LEN);
	uint8_t want[SC_NET_CSUM_LEN];
	sc_net_build_csum_answer(kNic, true, want);
	EXPECT_EQ(memcmp(ans, want, len), 0);
	ASSERT_TRUE(sc_net_csum_complete(ans, len, SC_NET_CSUM_START, SC_NET_CSUM_OFFSET));
	EXPECT_TRUE(sc_net_udp_csum_ok(ans, len)) << "the answer, completed, is whole";
	sc_net_build_csum_answer(kNic, false, want);
	EXPECT_EQ(memcmp(ans, want, len), 0);
	EXPECT_FALSE(sc_net_peer_frame(&p, whole, SC_NET_CSUM_LEN, ans, &len)) << "only once";
	// The frames of the protocol still come in order after it.
	std::vector<uint8_t> f0 = Frame(0);
	EXPECT_TRUE(sc_net_peer_frame(&p, f0.data(), (uint32_t)f0.size(), ans, &len));
	EXPECT_FALSE(p.last_csum || p.ans_partial);
	EXPECT_EQ(p.rejected, 3u);
}

} // namespace
