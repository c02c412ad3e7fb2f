// Records every descriptor chain a driver makes available to a model
// device, as the device is about to process it: a test can then check the
// shape of what the driver asked for (segment sizes and counts), not just
// that the data arrived.  Both ring kinds: on a split queue the chains named
// by the available ring from the device's last_avail on; on a packed queue
// the descriptors available in ring order from the device's next slot and
// wrap counter on.  An indirect descriptor is recorded as the entries of its
// table (and counted in Indirect()).  What it records is what the driver
// wrote; a malformed chain is recorded as far as it goes (the model judges
// it, not the recorder).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "devmodel/virtio.h"

struct hx_machine;

namespace vlabtest {

struct RecordedSeg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

class ChainRecorder {
public:
	// Interposes on dv's queue work until destroyed (declare it after the
	// machine that owns dv, so that it goes first).
	ChainRecorder(struct hx_machine *m, struct dm_virtio *dv);
	~ChainRecorder();
	ChainRecorder(const ChainRecorder &) = delete;
	ChainRecorder &operator=(const ChainRecorder &) = delete;

	// The chains made available on queue q, in ring order.
	const std::vector<std::vector<RecordedSeg>> &Chains(uint16_t q) const { return chains_[q]; }
	// How many of them went through an indirect table.
	uint64_t Indirect(uint16_t q) const { return indirect_[q]; }

private:
	static void Work(void *dev, struct dm_virtio *dv, uint16_t q);
	void Record(uint16_t q);
	void RecordSplit(uint16_t q);
	void RecordPacked(uint16_t q);
	// Appends the entries of the indirect table at addr (len bytes).
	void Table(std::vector<RecordedSeg> &chain, uint64_t addr, uint32_t len, bool packed);

	struct hx_machine *m_;
	struct dm_virtio *dv_;
	const struct dm_device_ops *orig_;
	struct dm_device_ops ops_;
	uint64_t epoch_ = ~0ull;
	uint16_t next_[DM_MAX_QUEUES] = {}; // split: avail entry; packed: ring slot
	bool wrap_[DM_MAX_QUEUES] = {};     // packed: the wrap counter at next_
	uint64_t indirect_[DM_MAX_QUEUES] = {};
	std::vector<std::vector<RecordedSeg>> chains_[DM_MAX_QUEUES];
};

// virtio-blk chains (header, data segments, status byte) against a device's
// seg_max and size_max: how many break them (with the segment lengths of the
// first), and how many carry the most allowed (seg_max x size_max bytes).
struct BlkLimits {
	unsigned bad = 0, full = 0;
	std::string first_bad;
};
BlkLimits CheckBlkLimits(const std::vector<std::vector<RecordedSeg>> &chains, uint32_t seg_max,
                         uint32_t size_max);

} // namespace vlabtest
