/* SPDX-License-Identifier: MIT */
/*
 * vlab-scenario peer: the net scenario's peer for QEMU, on loopback UDP
 * (QEMU's -netdev dgram, one Ethernet frame per datagram).  It binds
 * 127.0.0.1 on a port the kernel picks and writes that port to a file, so
 * parallel rows never collide; QEMU's NIC is told to send there.  Each
 * frame is answered to the address it came from (QEMU's own socket).
 * Ends by itself: when every frame was answered, or at the deadline.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host_tool.h"
#include "net_peer.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double host_peer_deadline(double timeout)
{
	return now_s() + timeout;
}

int host_peer_wait(int fd, double deadline)
{
	double left = deadline - now_s();
	if (left <= 0)
		return -1;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, (int)(left * 1000) + 1) > 0; /* EINTR or the deadline: the caller asks again */
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "peer: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_peer(int argc, char **argv)
{
	const char *port_file = NULL;
	double timeout = 30;
	for (int i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[i + 1]);
		else
			return host_usage();
	}
	if (!port_file || argc % 2 != 0 || !(timeout > 0))
		return host_usage();

	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = 0};
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t mlen = sizeof me;
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) != 0 ||
	    getsockname(s, (struct sockaddr *)&me, &mlen) != 0) {
		fprintf(stderr, "peer: socket: %s\n", strerror(errno));
		return 1;
	}
	if (write_port_file(port_file, ntohs(me.sin_port)) != 0)
		return 1;

	struct sc_net_peer p;
	sc_net_peer_init(&p);
	static uint8_t buf[65536], ans[SC_NET_PEER_MAX_FRAME];
	const double deadline = host_peer_deadline(timeout);
	int w;
	while (p.next < SC_NET_NFRAMES && (w = host_peer_wait(s, deadline)) >= 0) {
		if (w == 0)
			continue;
		struct sockaddr_in from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		/* Only loopback traffic is ours. */
		if (flen != sizeof from || from.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			continue;
		uint32_t alen = 0;
		if (host_peer_frame(&p, buf, (uint32_t)n, ans, &alen) &&
		    sendto(s, ans, alen, 0, (struct sockaddr *)&from, flen) != (ssize_t)alen)
			fprintf(stderr, "peer: sending the answer: %s\n", strerror(errno));
	}
	close(s);
	return host_peer_verdict(&p);
}
