/* SPDX-License-Identifier: MIT */
#include "devmodel/fault.h"

#include <string.h>

const char *dm_fault_name(enum dm_fault_kind k)
{
	switch (k) {
	case DM_FAULT_NONE: return "none";
	case DM_FAULT_BLK_IOERR: return "blk_ioerr";
	case DM_FAULT_BLK_UNSUPP: return "blk_unsupp";
	case DM_FAULT_NEEDS_RESET: return "needs_reset";
	case DM_FAULT_CONFIG_CHANGE: return "config_change";
	case DM_FAULT_DELAY: return "delay";
	case DM_FAULT_STALL: return "stall";
	case DM_FAULT_USED_ID: return "used_id";
	case DM_FAULT_USED_ID_DUP: return "used_id_dup";
	case DM_FAULT_USED_LEN: return "used_len";
	case DM_FAULT_USED_IDX_JUMP: return "used_idx_jump";
	case DM_FAULT_BLK_STATUS: return "blk_status";
	case DM_FAULT_RESET_STUCK: return "reset_stuck";
	case DM_FAULT_FEATURES_OK_REFUSED: return "features_ok_refused";
	case DM_FAULT_CONFIG_GEN_UNSTABLE: return "config_gen_unstable";
	case DM_FAULT_GET_ID_UNTERMINATED: return "get_id_unterminated";
	case DM_FAULT_CAPACITY_CHANGE: return "capacity_change";
	case DM_FAULT_OUT_OF_ORDER: return "out_of_order";
	case DM_FAULT_QUEUE_NUM_MAX: return "queue_num_max";
	case DM_FAULT_IRQ_STORM: return "irq_storm";
	case DM_FAULT_AVAIL_EVENT: return "avail_event";
	case DM_FAULT_CAPACITY_TEAR: return "capacity_tear";
	case DM_FAULT_NET_RX_LEN: return "net_rx_len";
	case DM_FAULT_NET_NUM_BUFFERS: return "net_num_buffers";
	case DM_FAULT_NET_CTRL_ACK: return "net_ctrl_ack";
	case DM_FAULT_NET_LINK_DOWN: return "link_down";
	case DM_FAULT_NET_RX_HDR: return "net_rx_hdr";
	case DM_FAULT_RNG_SHORT: return "rng_short";
	case DM_FAULT_RNG_EMPTY: return "rng_empty";
	case DM_FAULT_NET_RX_DATA_VALID: return "net_rx_data_valid";
	case DM_FAULT_NET_RX_NEEDS_CSUM: return "net_rx_needs_csum";
	case DM_FAULT_NET_RX_QUEUE: return "net_rx_queue";
	case DM_FAULT_KIND_COUNT: break;
	}
	return "unknown";
}

enum dm_fault_kind dm_fault_parse_kind(const char *name)
{
	if (!name)
		return DM_FAULT_NONE;
	for (int k = DM_FAULT_NONE + 1; k < DM_FAULT_KIND_COUNT; k++)
		if (strcmp(name, dm_fault_name((enum dm_fault_kind)k)) == 0)
			return (enum dm_fault_kind)k;
	return DM_FAULT_NONE;
}
