#include "net_fixture.h"

#include <cstdio>
#include <cstring>

#include "devmodel/fault_plan.h"

namespace vlabtest {

NetMachine::NetMachine(enum hx_transport t, const struct hx_machine_cfg *mc) : transport(t)
{
	struct hx_machine_cfg cfg;
	hx_machine_cfg_default(&cfg);
	if (mc)
		cfg = *mc;
	m = hx_machine_new(&cfg);
	hx_net_opts_default(&opts);
	opts.transport = t;
}

NetMachine::NetMachine(const Ring &r, const struct hx_machine_cfg *mc) : NetMachine(r.t, mc)
{
	ring_ = &r.kind;
}

NetMachine::~NetMachine()
{
	for (Nic *n : nics) {
		if (n->inited)
			vlab_net_shutdown(&n->net);
		delete n;
	}
	hx_machine_free(m);
}

Nic *NetMachine::Add()
{
	const char *err = nullptr;
	Nic *nic = new Nic;
	if (ring_)
		RingFeatures(*ring_, &opts.features_on, &opts.features_off);
	nic->dev = hx_add_net(m, &opts, &err);
	EXPECT_NE(nic->dev, nullptr) << (err ? err : "?");
	if (!nic->dev) {
		delete nic;
		return nullptr;
	}
	nics.push_back(nic);
	return nic;
}

int NetMachine::Init(Nic *nic, const struct vlab_net_cfg *cfg)
{
	int rc = hx_bind(m, nic->dev, &nic->bound, VLAB_MMIO_ALLOW_LEGACY);
	if (rc)
		return rc;
	rc = vlab_net_init(&nic->net, nic->bound.vdev, cfg);
	nic->inited = rc == 0;
	if (nic->inited && ring_) {
		ExpectRingKind(nic->net.rxq, *ring_);
		ExpectRingKind(nic->net.txq, *ring_);
		if (vlab_vq_live(&nic->net.ctrlq))
			ExpectRingKind(nic->net.ctrlq, *ring_);
	}
	return rc;
}

Nic *NetMachine::Bring(const struct vlab_net_cfg *cfg)
{
	Nic *nic = Add();
	if (!nic)
		return nullptr;
	int rc = Init(nic, cfg);
	EXPECT_EQ(rc, 0) << vlab_errname(rc);
	return rc == 0 ? nic : nullptr;
}

void NetMachine::AddFault(Nic *nic, enum dm_fault_kind k, uint64_t value, uint64_t nth, uint64_t count)
{
	struct dm_fault f;
	std::memset(&f, 0, sizeof f);
	f.kind = k;
	f.queue = -1;
	f.nth = nth;
	f.count = count;
	f.value = value;
	ASSERT_TRUE(dm_virtio_add_fault(nic->dev->dv, &f));
}

void NetMachine::ApplyPlan(Nic *nic, const char *text)
{
	struct dm_fault_plan plan;
	char err[DM_FAULT_PLAN_ERR_MAX];
	dm_fault_plan_init(&plan);
	ASSERT_EQ(dm_fault_plan_parse(&plan, text, "net.plan", err, sizeof err), 0) << err;
	ASSERT_GE(dm_fault_plan_apply(&plan, nic->dev->dv, 0, err, sizeof err), 0) << err;
}

std::vector<uint8_t> MakeFrame(uint32_t len, uint32_t seed, const uint8_t *dst, const uint8_t *src)
{
	static const uint8_t def_src[6] = {0x02, 0, 0, 0, 0, 0x99};
	std::vector<uint8_t> f(len);
	uint32_t x = seed * 2654435761u + len;
	for (uint32_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		f[i] = (uint8_t)(x >> 16);
	}
	for (uint32_t i = 0; i < 6 && i < len; i++)
		f[i] = dst[i];
	for (uint32_t i = 0; i < 6 && 6 + i < len; i++)
		f[6 + i] = (src ? src : def_src)[i];
	if (len >= 14) {
		f[12] = 0x88;
		f[13] = 0xb5;
	}
	return f;
}

std::vector<uint8_t> Recv(Nic *nic, int *rcp)
{
	std::vector<uint8_t> buf(nic->net.max_frame);
	uint32_t len = 0;
	int rc = vlab_net_recv_wait(&nic->net, buf.data(), (uint32_t)buf.size(), &len, 1000000);
	if (rcp)
		*rcp = rc;
	if (rc != 0)
		return {};
	buf.resize(len);
	return buf;
}

std::string Hex(const std::vector<uint8_t> &v, size_t max)
{
	std::string s;
	char b[4];
	for (size_t i = 0; i < v.size() && i < max; i++) {
		std::snprintf(b, sizeof b, "%02x", v[i]);
		s += b;
	}
	if (v.size() > max)
		s += "...";
	return s;
}

} // namespace vlabtest
