// A machine with virtio-net model devices and the net driver bound to them.
// The fixture owning it fails the test on any model violation it does not
// expect (see NetTest in the net_*_test.cpp files).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "blk_fixture.h"
#include "harness/bind.h"
#include "harness/net.h"
#include "vlab/net.h"

namespace vlabtest {

// One NIC: model device and driver.
struct Nic {
	struct hx_dev *dev = nullptr;
	struct hx_bound bound {};
	struct vlab_net net {};
	bool inited = false;
	struct dm_net *model() { return dev->net; }
};

class NetMachine {
public:
	explicit NetMachine(enum hx_transport t, const struct hx_machine_cfg *mc = nullptr);
	// Every NIC offers exactly the ring features of r.kind (applied at each
	// Add(), on top of opts), and Init() checks the driver took that ring.
	explicit NetMachine(const Ring &r, const struct hx_machine_cfg *mc = nullptr);
	~NetMachine();
	NetMachine(const NetMachine &) = delete;
	NetMachine &operator=(const NetMachine &) = delete;

	// Options for the next Add().
	struct hx_net_opts opts;
	// Adds a NIC with opts (fails the test on error); returns its index.
	Nic *Add();
	// Probes and initialises the driver of nic (cfg may be null).
	int Init(Nic *nic, const struct vlab_net_cfg *cfg = nullptr);
	// Add + Init, asserting success.
	Nic *Bring(const struct vlab_net_cfg *cfg = nullptr);
	void AddFault(Nic *nic, enum dm_fault_kind k, uint64_t value = 0, uint64_t nth = 0,
	              uint64_t count = 1);
	// A fault plan in the text format (docs/fault-plans.md), parsed and given
	// to nic's device (fails the test on a parse or apply error).
	void ApplyPlan(Nic *nic, const char *text);

	struct hx_machine *m = nullptr;
	enum hx_transport transport;
	std::vector<Nic *> nics;

private:
	const RingKind *ring_ = nullptr;
};

// A frame of len bytes: dst, src, ethertype 0x88b5 (local experimental),
// then a pattern from seed.
std::vector<uint8_t> MakeFrame(uint32_t len, uint32_t seed, const uint8_t *dst,
                               const uint8_t *src = nullptr);
// Receive one frame (waiting up to 1 ms of virtual time); empty when none.
std::vector<uint8_t> Recv(Nic *nic, int *rc = nullptr);
std::string Hex(const std::vector<uint8_t> &v, size_t max = 32);

} // namespace vlabtest
