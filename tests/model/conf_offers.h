// The offers the harness builds for the device tables' tests
// (device_table_test.cpp, device_conf_test.cpp): the model's defaults and
// QEMU 7.2's profile on each transport.
#pragma once

#include <vector>

extern "C" {
#include "devmodel/blk.h"
#include "devmodel/net.h"
#include "harness/machine.h"
#include "harness/net.h"
}

namespace conftest {

// The default configuration, then QEMU 7.2's on each transport.
template <typename Cfg>
std::vector<Cfg> Offers(void (*def)(Cfg *), void (*qemu)(Cfg *, enum hx_transport))
{
	std::vector<Cfg> v(1 + HX_TRANSPORT_COUNT);
	def(&v[0]);
	for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
		qemu(&v[1 + t], static_cast<enum hx_transport>(t));
	return v;
}

inline std::vector<dm_blk_cfg> BlkOffers() { return Offers(dm_blk_cfg_default, hx_blk_cfg_qemu72); }
inline std::vector<dm_net_cfg> NetOffers() { return Offers(dm_net_cfg_default, hx_net_cfg_qemu72); }

} // namespace conftest
