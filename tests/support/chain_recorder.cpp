#include "chain_recorder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <sstream>

#include "harness/machine.h"

namespace vlabtest {

namespace {
// Descriptor flags (VIRTIO 1.2, 2.7.5, 2.8.1).
constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kDescAvail = 1u << 7, kDescUsed = 1u << 15;

std::map<const struct dm_virtio *, ChainRecorder *> &Recorders()
{
	static std::map<const struct dm_virtio *, ChainRecorder *> r;
	return r;
}
} // namespace

ChainRecorder::ChainRecorder(struct hx_machine *m, struct dm_virtio *dv) : m_(m), dv_(dv), orig_(dv->ops)
{
	ops_ = *orig_;
	ops_.queue_work = Work;
	dv_->ops = &ops_;
	Recorders()[dv_] = this;
}

ChainRecorder::~ChainRecorder()
{
	dv_->ops = orig_;
	Recorders().erase(dv_);
}

void ChainRecorder::Work(void *dev, struct dm_virtio *dv, uint16_t q)
{
	ChainRecorder *r = Recorders().at(dv);
	if (q < DM_MAX_QUEUES)
		r->Record(q);
	r->orig_->queue_work(dev, dv, q);
}

// Little-endian ring fields (the host is; a legacy device uses the guest's
// order, the same here).
void ChainRecorder::Record(uint16_t q)
{
	if (dv_->epoch != epoch_) { // a reset: the rings start again
		epoch_ = dv_->epoch;
		for (uint16_t i = 0; i < DM_MAX_QUEUES; i++) {
			const struct dm_vq &v = dv_->vq[i];
			next_[i] = v.ready ? v.last_avail : 0;
			wrap_[i] = v.ready && v.packed ? v.avail_wrap : true; // 2.8.1: starts at 1
		}
	}
	if (dv_->vq[q].packed)
		RecordPacked(q);
	else
		RecordSplit(q);
}

void ChainRecorder::Table(std::vector<RecordedSeg> &chain, uint64_t addr, uint32_t len, bool packed)
{
	const unsigned n = len / 16;
	const uint8_t *t = static_cast<const uint8_t *>(hx_ram_ptr(m_, addr, len));
	ASSERT_TRUE(t && n) << "indirect table outside guest RAM or empty";
	// Split: linked by next from entry 0 (at most n steps); packed: in order.
	unsigned i = 0;
	for (unsigned k = 0; k < n && i < n; k++) {
		const uint8_t *e = t + 16u * i;
		RecordedSeg s;
		uint16_t flags, next;
		std::memcpy(&s.addr, e, 8);
		std::memcpy(&s.len, e + 8, 4);
		std::memcpy(&flags, e + (packed ? 14 : 12), 2);
		std::memcpy(&next, e + 14, 2);
		s.writable = flags & kDescWrite;
		chain.push_back(s);
		if (packed)
			i++;
		else if (flags & kDescNext)
			i = next;
		else
			break;
	}
}

void ChainRecorder::RecordSplit(uint16_t q)
{
	const struct dm_vq &vq = dv_->vq[q];
	const uint8_t *avail = static_cast<const uint8_t *>(hx_ram_ptr(m_, vq.avail, 4 + 2u * vq.num));
	const uint8_t *desc = static_cast<const uint8_t *>(hx_ram_ptr(m_, vq.desc, 16u * vq.num));
	ASSERT_TRUE(avail && desc && vq.num) << "queue " << q << " rings outside guest RAM";
	uint16_t idx;
	std::memcpy(&idx, avail + 2, 2);
	for (; next_[q] != idx; next_[q]++) {
		uint16_t d;
		std::memcpy(&d, avail + 4 + 2u * (next_[q] % vq.num), 2);
		std::vector<RecordedSeg> chain;
		for (unsigned n = 0; n < vq.num; n++) { // a chain is at most num long
			ASSERT_LT(d, vq.num) << "descriptor index";
			const uint8_t *e = desc + 16u * d;
			RecordedSeg s;
			uint16_t flags, next;
			std::memcpy(&s.addr, e, 8);
			std::memcpy(&s.len, e + 8, 4);
			std::memcpy(&flags, e + 12, 2);
			std::memcpy(&next, e + 14, 2);
			if (flags & kDescIndirect) {
				indirect_[q]++;
				Table(chain, s.addr, s.len, false);
				break;
			}
			s.writable = flags & kDescWrite;
			chain.push_back(s);
			if (!(flags & kDescNext))
				break;
			d = next;
		}
		chains_[q].push_back(chain);
	}
}

// Packed (2.8.1): a descriptor is available when its AVAIL flag equals the
// wrap counter and its USED flag does not; a list takes consecutive slots,
// NEXT on all but the last.
void ChainRecorder::RecordPacked(uint16_t q)
{
	const struct dm_vq &vq = dv_->vq[q];
	const uint8_t *desc = static_cast<const uint8_t *>(hx_ram_ptr(m_, vq.desc, 16u * vq.num));
	ASSERT_TRUE(desc && vq.num) << "queue " << q << " ring outside guest RAM";
	auto available = [&](const uint8_t *e) {
		uint16_t flags;
		std::memcpy(&flags, e + 14, 2);
		return ((flags & kDescAvail) != 0) == wrap_[q] && ((flags & kDescUsed) != 0) != wrap_[q];
	};
	auto step = [&]() {
		if (++next_[q] >= vq.num) {
			next_[q] = 0;
			wrap_[q] = !wrap_[q];
		}
	};
	// At most num lists are available at once.
	for (unsigned lists = 0; lists < vq.num && available(desc + 16u * next_[q]); lists++) {
		std::vector<RecordedSeg> chain;
		for (unsigned n = 0; n < vq.num; n++) { // a list is at most num long
			const uint8_t *e = desc + 16u * next_[q];
			RecordedSeg s;
			uint16_t flags;
			std::memcpy(&s.addr, e, 8);
			std::memcpy(&s.len, e + 8, 4);
			std::memcpy(&flags, e + 14, 2);
			step();
			if (flags & kDescIndirect) {
				indirect_[q]++;
				Table(chain, s.addr, s.len, true);
				break;
			}
			s.writable = flags & kDescWrite;
			chain.push_back(s);
			if (!(flags & kDescNext) || !available(desc + 16u * next_[q]))
				break;
		}
		chains_[q].push_back(chain);
	}
}

BlkLimits CheckBlkLimits(const std::vector<std::vector<RecordedSeg>> &chains, uint32_t seg_max,
                         uint32_t size_max)
{
	BlkLimits r;
	for (const auto &c : chains) {
		bool ok = c.size() >= 2 && c.size() - 2 <= seg_max;
		uint64_t data = 0;
		for (size_t i = 1; ok && i + 1 < c.size(); i++) {
			ok = c[i].len <= size_max;
			data += c[i].len;
		}
		if (!ok && r.bad++ == 0) {
			std::ostringstream os;
			os << "segment lengths";
			for (const auto &seg : c)
				os << " " << seg.len;
			r.first_bad = os.str();
		}
		r.full += ok && data == uint64_t{seg_max} * size_max;
	}
	return r;
}

} // namespace vlabtest
