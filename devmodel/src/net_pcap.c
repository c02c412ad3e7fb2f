/* SPDX-License-Identifier: MIT */
/*
 * pcap capture of a model NIC's traffic through libpcap: a "dead" handle of
 * link type Ethernet and a dump file, one record per frame, time-stamped
 * with the machine's virtual time (so captures are reproducible).
 */
#define _DEFAULT_SOURCE /* u_char, suseconds_t in libpcap's headers */
#include <stdio.h>
#include <string.h>

#include "net_internal.h"

#ifdef VLAB_HAVE_PCAP
#include <pcap/pcap.h>

int dm_net_capture_start(struct dm_net *n, const char *path, const char **err)
{
	pcap_t *p;
	pcap_dumper_t *d;

	if (!n || !path) {
		if (err)
			*err = "no capture file given";
		return -1;
	}
	dm_net_capture_stop(n);
	p = pcap_open_dead(DLT_EN10MB, (int)DM_NET_MAX_FRAME);
	if (!p) {
		snprintf(n->capture_err, sizeof n->capture_err, "%s: pcap_open_dead failed", path);
		if (err)
			*err = n->capture_err;
		return -1;
	}
	d = pcap_dump_open(p, path);
	if (!d) {
		snprintf(n->capture_err, sizeof n->capture_err, "%s", pcap_geterr(p));
		pcap_close(p);
		if (err)
			*err = n->capture_err;
		return -1;
	}
	n->capture_pcap = p;
	n->capture = d;
	n->captured = 0;
	return 0;
}

void dm_net_capture_stop(struct dm_net *n)
{
	if (!n || !n->capture)
		return;
	pcap_dump_close(n->capture);
	pcap_close(n->capture_pcap);
	n->capture = NULL;
	n->capture_pcap = NULL;
}

void dm_net_capture_frame(struct dm_net *n, const uint8_t *frame, uint32_t len)
{
	struct pcap_pkthdr h;
	uint64_t ns;

	if (!n->capture)
		return;
	ns = dm_virtio_now(&n->dv);
	memset(&h, 0, sizeof h);
	h.ts.tv_sec = (time_t)(ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)((ns % 1000000000u) / 1000u);
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)n->capture, &h, frame);
	/* Readable while the run goes on (vlab, tests). */
	pcap_dump_flush(n->capture);
	n->captured++;
}

#else /* !VLAB_HAVE_PCAP */

int dm_net_capture_start(struct dm_net *n, const char *path, const char **err)
{
	(void)n;
	(void)path;
	if (err)
		*err = "built without libpcap: no capture";
	return -1;
}

void dm_net_capture_stop(struct dm_net *n)
{
	(void)n;
}

void dm_net_capture_frame(struct dm_net *n, const uint8_t *frame, uint32_t len)
{
	(void)n;
	(void)frame;
	(void)len;
}

#endif
