/* SPDX-License-Identifier: MIT */
/* Inside the virtio-net model: what net.c, net_backend.c and net_pcap.c share. */
#ifndef DM_NET_INTERNAL_H
#define DM_NET_INTERNAL_H

#include "devmodel/net.h"

/* Write one frame to the capture, if one is open. */
void dm_net_capture_frame(struct dm_net *n, const uint8_t *frame, uint32_t len);

#endif
