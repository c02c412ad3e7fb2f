// A machine with one virtio-blk model device and the driver bound to it.
// Any violation the model records fails the test in TearDown, unless the
// test says it expects some (expect_violations).
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "harness/bind.h"
#include "harness/machine.h"
#include "vlab/blk.h"
#include "vlab/mmio.h"

namespace vlabtest {

std::string ViolationText(struct hx_machine *m);
// Every transport the host model offers, for INSTANTIATE_TEST_SUITE_P.
std::vector<enum hx_transport> AllTransports();
// Test names and gtest's "GetParam() = ..." lines: the transport's name as
// an identifier (mmio_legacy), the policy's (deferred).
std::string Ident(enum hx_transport t);
const char *PolicyName(enum hx_sched_policy p);
std::string TransportName(const testing::TestParamInfo<enum hx_transport> &info);

// A ring kind (docs/virtqueue.md, "Ring kinds in the test suites"): which of
// VIRTIO_F_RING_PACKED, INDIRECT_DESC and EVENT_IDX the model device offers
// (and so the driver negotiates); every other ring feature is withdrawn.
struct RingKind {
	const char *name; // split, split_indirect, split_event_idx, packed, ...
	bool packed, indirect, event_idx;
};
// The six kinds: split, split_indirect, split_event_idx, packed,
// packed_indirect, packed_event_idx.
const std::vector<RingKind> &AllRingKinds();
const RingKind &RingNamed(const char *name);

// A transport and a ring kind: the parameter of the suites that run over
// both.  It converts to its transport, so a suite's GetParam() still reads
// as the transport where one is expected.
struct Ring {
	enum hx_transport t;
	RingKind kind;
	operator enum hx_transport() const { return t; }
};
// Can kind run on t?  The packed ring needs VERSION_1, which the legacy-only
// transports (mmio-legacy, pci-legacy) do not have.
bool RingFits(enum hx_transport t, const RingKind &kind);
// Every ring kind on every transport it fits (the core datapath suites).
std::vector<Ring> AllRings();
// Six: each kind on one transport, every transport at least once (the
// other suites; docs/virtqueue.md says why).
std::vector<Ring> RingDiagonal();
// AllRings() without those in some.
std::vector<Ring> RingsBeside(const std::vector<Ring> &some);
// "<transport>_<kind>", e.g. mmio_packed_event_idx.
std::string Ident(const Ring &r);
std::string RingName(const testing::TestParamInfo<Ring> &info);
// "<transport>_<kind>_<case name>" for a (ring, case) parameter whose case
// has a name member.
template <typename C>
std::string CaseName(const testing::TestParamInfo<std::tuple<Ring, C>> &info)
{
	return Ident(std::get<0>(info.param)) + "_" + std::get<1>(info.param).name;
}
// The feature bits a device offers on top of its defaults (on) and withdraws
// (off) for kind.
void RingFeatures(const RingKind &kind, uint64_t *on, uint64_t *off);
// The ring a driver queue got matches kind (fails the test otherwise).
void ExpectRingKind(const struct vlab_vq &vq, const RingKind &kind);

class BlkMachine {
public:
	explicit BlkMachine(enum hx_transport t, const struct hx_machine_cfg *mc = nullptr);
	// The device offers exactly the ring features of r.kind (applied at
	// Add(), on top of opts), and Init() checks the driver took that ring.
	explicit BlkMachine(const Ring &r, const struct hx_machine_cfg *mc = nullptr);
	~BlkMachine();
	BlkMachine(const BlkMachine &) = delete;
	BlkMachine &operator=(const BlkMachine &) = delete;

	// Options for the device, changed before Add().
	struct hx_blk_opts opts;
	// Adds the device (fails the test on error).
	struct hx_dev *Add();
	// Probes the transport (whichever it is) and initialises the blk driver.
	int Probe(unsigned flags = VLAB_MMIO_ALLOW_LEGACY);
	struct vlab_virtio_dev *vdev() { return bound.vdev; }
	int Init(uint16_t queue_cap = 0);
	// Add + Probe + Init, asserting success.
	void Bring();
	// Guest DMA buffer of n bytes.
	uint8_t *Buf(size_t n);
	uint8_t *Disk(); // the RAM disk's bytes
	void AddFault(enum dm_fault_kind k, uint64_t value = 0, uint64_t nth = 0, uint64_t count = 1);

	struct hx_machine *m = nullptr;
	struct hx_dev *dev = nullptr;
	struct hx_bound bound {};
	struct vlab_blk blk {};
	bool inited = false;

private:
	std::vector<std::pair<void *, size_t>> bufs_;
	const RingKind *ring_ = nullptr;
};

// Driver log lines at level and above into *log (replaces the machine's
// log sink), and whether a line of log contains what.
void Capture(struct hx_machine *m, std::vector<std::string> *log, enum vlab_log_level level);
bool Has(const std::vector<std::string> &log, const std::string &what);

// 8 sectors at sector 8 written with a pattern and read back (the disk
// works); on a RAM disk its bytes are the pattern too.
void ExpectReadWriteWorks(BlkMachine &bm);

// A test over transports and ring kinds with one blk machine.  A model
// violation the test does not expect (expect_violations) fails it.
class BlkTransportTest : public testing::TestWithParam<Ring> {
protected:
	BlkMachine bm{GetParam()};
	bool expect_violations = false;
	void TearDown() override;
	// Shut the driver down and initialise it again, asserting success.
	void Reinit();
};

} // namespace vlabtest

// gtest prints parameters with these (found by argument-dependent lookup)
// instead of a dump of their bytes.
void PrintTo(enum hx_transport t, std::ostream *os);
void PrintTo(enum hx_sched_policy p, std::ostream *os);
namespace vlabtest {
void PrintTo(const Ring &r, std::ostream *os);
}
