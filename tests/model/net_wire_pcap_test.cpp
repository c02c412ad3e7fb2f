// virtio-net: two NICs joined by a wire talk to each other, and a pcap
// capture written by the model reads back through tshark with the same
// frames.  Over every transport.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "net_fixture.h"

using vlabtest::MakeFrame;
using vlabtest::NetMachine;
using vlabtest::Nic;
using vlabtest::Recv;

namespace {

class NetWirePcap : public testing::TestWithParam<vlabtest::Ring> {
protected:
	NetMachine nm{GetParam()};
	void TearDown() override
	{
		EXPECT_EQ(hx_report(nm.m)->count, 0u) << vlabtest::ViolationText(nm.m);
	}
};

TEST_P(NetWirePcap, TwoNicsOnAWireTalkBothWays)
{
	nm.opts.backend = HX_NET_WIRE;
	Nic *a = nm.Bring();
	ASSERT_NE(a, nullptr);
	nm.opts.wire_peer = a->dev;
	Nic *b = nm.Bring();
	ASSERT_NE(b, nullptr);
	ASSERT_NE(std::memcmp(a->net.mac, b->net.mac, 6), 0);
	for (uint32_t len = 14; len <= 1514; len += 50) {
		auto f = MakeFrame(len, len, b->net.mac, a->net.mac);
		ASSERT_EQ(vlab_net_send(&a->net, f.data(), len), 0);
		EXPECT_EQ(Recv(b), f) << "a -> b, len " << len;
		auto g = MakeFrame(len, len + 1, a->net.mac, b->net.mac);
		ASSERT_EQ(vlab_net_send(&b->net, g.data(), len), 0);
		EXPECT_EQ(Recv(a), g) << "b -> a, len " << len;
	}
	EXPECT_EQ(a->model()->tx_frames, b->model()->rx_frames);
	EXPECT_EQ(b->model()->tx_frames, a->model()->rx_frames);
}

std::string RunCapture(const std::string &cmd, int *status)
{
	std::string out;
	FILE *p = popen(cmd.c_str(), "r");
	if (!p) {
		*status = -1;
		return out;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		out.append(buf, n);
	*status = pclose(p);
	return out;
}

bool HaveTshark()
{
	return std::system("command -v tshark >/dev/null 2>&1") == 0;
}

TEST_P(NetWirePcap, PcapReadBackByTsharkListsTheSameFrames)
{
	std::string path = std::string(VLAB_BINARY_DIR) + "/net_capture_" +
	                   vlabtest::Ident(GetParam()) + "_" + std::to_string(getpid()) + ".pcap";
	nm.opts.backend = HX_NET_QUEUE;
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	const char *err = nullptr;
	ASSERT_EQ(dm_net_capture_start(n->model(), path.c_str(), &err), 0) << (err ? err : "?");
	std::vector<std::vector<uint8_t>> frames;
	for (uint32_t i = 0; i < 20; i++) {
		uint32_t len = 14 + i * 77;
		auto f = MakeFrame(len, i, n->net.mac);
		if (i % 2) {
			ASSERT_EQ(vlab_net_send(&n->net, f.data(), len), 0); // transmitted
		} else {
			ASSERT_EQ(dm_net_inject(n->model(), f.data(), len), 0); // received
			ASSERT_EQ(Recv(n), f);
		}
		frames.push_back(f);
	}
	dm_net_capture_stop(n->model());
	EXPECT_EQ(n->model()->captured, frames.size());
	if (!HaveTshark()) {
		std::remove(path.c_str());
		GTEST_SKIP() << "tshark not installed (apt-get install tshark): capture written but not read back";
	}
	int status = 0;
	std::string out = RunCapture("tshark -r '" + path + "' -T fields -e frame.len -e eth.dst -e eth.src -e eth.type 2>/dev/null",
	                             &status);
	ASSERT_EQ(status, 0) << out;
	std::istringstream lines(out);
	std::string line;
	size_t i = 0;
	for (; std::getline(lines, line); i++) {
		ASSERT_LT(i, frames.size()) << line;
		const auto &f = frames[i];
		char want[128];
		std::snprintf(want, sizeof want,
		              "%zu\t%02x:%02x:%02x:%02x:%02x:%02x\t%02x:%02x:%02x:%02x:%02x:%02x\t0x%02x%02x",
		              f.size(), f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11],
		              f[12], f[13]);
		EXPECT_EQ(line, want) << "frame " << i;
	}
	EXPECT_EQ(i, frames.size());
	// Byte for byte: the hex dump of the last frame's payload.
	std::string data = RunCapture("tshark -r '" + path + "' -Y 'frame.number == 20' -T fields -e data 2>/dev/null",
	                              &status);
	ASSERT_EQ(status, 0);
	while (!data.empty() && (data.back() == '\n' || data.back() == '\r'))
		data.pop_back();
	std::vector<uint8_t> payload(frames[19].begin() + 14, frames[19].end());
	EXPECT_EQ(data, vlabtest::Hex(payload, payload.size()));
	std::remove(path.c_str());
}

TEST_P(NetWirePcap, CaptureToAnUnwritablePathGivesAMessage)
{
	Nic *n = nm.Bring();
	ASSERT_NE(n, nullptr);
	const char *err = nullptr;
	EXPECT_EQ(dm_net_capture_start(n->model(), "/nonexistent-dir/x.pcap", &err), -1);
	ASSERT_NE(err, nullptr);
	EXPECT_NE(std::string(err).find("nonexistent"), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(All, NetWirePcap, testing::ValuesIn(vlabtest::RingDiagonal()),
                         vlabtest::RingName);

} // namespace
