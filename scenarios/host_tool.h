/* SPDX-License-Identifier: MIT */
/* What the parts of vlab-scenario (host_main.c, peer_udp.c, peer_tap.c) share. */
#ifndef VLAB_SC_HOST_TOOL_H
#define VLAB_SC_HOST_TOOL_H

#include "net_peer.h"

int host_usage(void);
/* vlab-scenario peer --port-file PATH [--timeout SECONDS] */
int cmd_peer(int argc, char **argv);
/* The peers' deadline, timeout seconds from now; wait for fd to be
 * readable before it: 1 readable, 0 not (yet: ask again), -1 it passed. */
double host_peer_deadline(double timeout);
int host_peer_wait(int fd, double deadline);
/* vlab-scenario peer-tap --ifname NAME --ready-file PATH [--timeout SECONDS] */
int cmd_peer_tap(int argc, char **argv);
/* The peer's step with its "P: " line on stdout (the same lines behind
 * QEMU's NIC and behind the model's, so the runner compares them too). */
bool host_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                     uint32_t *ans_len);
/* The peer's closing "P: " line; 0 when every frame came and none was rejected. */
int host_peer_verdict(const struct sc_net_peer *p);

#endif
