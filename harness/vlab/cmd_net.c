/* SPDX-License-Identifier: MIT */
/*
 * The `net` command: virtio-net devices of the machine through the net
 * driver.  info, send, recv, capture, and ping between two NICs (ARP and
 * ICMP echo, answered by a tiny host-side responder on the target NIC).
 *
 * --net options are parsed here (cli_net_parse) and the devices built
 * after the block devices (cli_net_build); NICs with backend=wire are
 * joined in pairs, in the order given.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/bind.h"
#include "harness/net.h"
#include "vlab/err.h"
#include "vlab/net.h"
#include "vlab_cli.h"

#define MAX_NICS HX_MMIO_SLOTS
#define WAIT_NS 10000000ull /* 10 ms of virtual time for an answer */
#define IP_BASE 0xc0a84c00u /* 192.168.76.0/24: NIC n is .(n + 1) */

struct cli_nic {
	struct hx_dev *hx;
	struct vlab_bus_dev *bd; /* on the bus (cli_bus), once found */
	struct vlab_net *net;    /* the driver's state, bd->priv */
	bool up;      /* driver initialised */
	/* Why it is not usable: its initialisation failed (`virtio scan`
	 * tries again); empty when it is. */
	char failed[CLI_FAILED_MAX];
};

static struct {
	struct hx_net_opts opts[MAX_NICS];
	unsigned nspec;
	struct cli_nic nic[MAX_NICS];
	unsigned nnic;
} g;

/* ---- options ---- */

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

int cli_net_parse(const char *spec, enum hx_transport def_transport)
{
	struct hx_net_opts *o;
	char *copy, *save = NULL, *tok;
	int rc = 0;

	if (g.nspec == MAX_NICS) {
		fprintf(stderr, "vlab: at most %u network devices\n", MAX_NICS);
		return 2;
	}
	o = &g.opts[g.nspec];
	hx_net_opts_default(o);
	o->transport = def_transport;
	copy = strdup(spec ? spec : "");
	if (!copy)
		return 1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "transport=", 10)) {
			int t = hx_transport_parse(tok + 10);
			if (t < 0) {
				fprintf(stderr, "vlab: --net: unknown transport '%s'\n", tok + 10);
				rc = 2;
				break;
			}
			o->transport = (enum hx_transport)t;
		} else if (!strcmp(tok, "mac=none")) {
			o->no_mac = true;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (!parse_mac(tok + 4, o->mac) || (o->mac[0] & 1u)) {
				fprintf(stderr, "vlab: --net: '%s' is not a unicast MAC address "
				                "(xx:xx:xx:xx:xx:xx)\n",
				        tok + 4);
				rc = 2;
				break;
			}
			o->mac_set = true;
		} else if (!strncmp(tok, "mtu=", 4)) {
			uint64_t mtu;
			if (!cli_parse_uint(tok + 4, &mtu) || mtu < 68 || mtu > 65535) {
				fprintf(stderr, "vlab: --net: mtu '%s' is not a number from 68 to 65535\n",
				        tok + 4);
				rc = 2;
				break;
			}
			o->mtu = (uint16_t)mtu;
		} else if ((rc = dm_ring_option(tok, &o->features_on, &o->features_off)) != 0) {
			if (rc < 0) {
				fprintf(stderr, "vlab: --net: '%s': a ring option takes on or off\n", tok);
				rc = 2;
				break;
			}
			rc = 0;
		} else if (!strcmp(tok, "backend=loop")) {
			o->backend = HX_NET_LOOP;
		} else if (!strcmp(tok, "backend=wire")) {
			o->backend = HX_NET_WIRE;
		} else if (!strncmp(tok, "backend=pcap=", 13) && tok[13]) {
			o->backend = HX_NET_PCAP;
			o->pcap_path = strdup(tok + 13); /* lives until exit */
		} else {
			fprintf(stderr, "vlab: --net: unknown option '%s' (transport=, mac=, mtu=, "
			                "backend=loop|wire|pcap=FILE, packed=, indirect_desc=, event_idx=)\n",
			        tok);
			rc = 2;
			break;
		}
	}
	free(copy);
	if (rc == 0)
		g.nspec++;
	return rc;
}

int cli_net_add_replay(enum hx_transport t, const char *kind)
{
	int rc = cli_net_parse(!strcmp(kind, "wire") ? "backend=wire" : "", t);

	if (rc == 0 && !strcmp(kind, "sink"))
		g.opts[g.nspec - 1].backend = HX_NET_SINK;
	return rc;
}

int cli_net_add(const struct hx_net_opts *o)
{
	if (g.nspec == MAX_NICS)
		return -1;
	g.opts[g.nspec++] = *o;
	return 0;
}

struct vlab_net *cli_net_driver(unsigned i)
{
	return i < g.nnic && g.nic[i].up ? g.nic[i].net : NULL;
}

void cli_net_forget(void)
{
	memset(&g, 0, sizeof g);
}

int cli_net_build(struct cli *c)
{
	struct hx_dev *pending_wire = NULL;

	for (unsigned i = 0; i < g.nspec; i++) {
		const char *err = NULL;
		struct hx_dev *d = hx_add_net(c->m, &g.opts[i], &err);

		if (!d) {
			fprintf(stderr, "vlab: --net: %s\n", err ? err : "cannot create the device");
			return 1;
		}
		g.nic[g.nnic].hx = d;
		g.nnic++;
		if (g.opts[i].backend == HX_NET_WIRE) {
			if (pending_wire) {
				hx_net_wire(pending_wire, d);
				pending_wire = NULL;
			} else {
				pending_wire = d;
			}
		}
	}
	return 0;
}

void cli_net_shutdown(struct cli *c)
{
	cli_bus_handoff(c); /* every device removed, the NICs with them */
	memset(g.nic, 0, sizeof g.nic);
	g.nnic = 0;
}

/* ---- binding ---- */

static struct cli_nic *nic_up(struct cli *c, unsigned i)
{
	struct cli_nic *n;
	int rc;

	if (i >= g.nnic) {
		printf("net: no network device %u (there %s %u; see --net)\n", i,
		       g.nnic == 1 ? "is" : "are", g.nnic);
		return NULL;
	}
	n = &g.nic[i];
	if (n->up)
		return n;
	if (n->failed[0]) {
		printf("net %u: not usable: %s; 'virtio scan' tries again\n", i, n->failed);
		return NULL;
	}
	n->bd = cli_bus_dev_of(c, n->hx, &rc);
	if (n->bd)
		rc = n->bd->bound ? 0 : vlab_bus_probe(n->bd);
	if (rc) {
		snprintf(n->failed, sizeof n->failed, "virtio-net init failed: %s", vlab_strerror(rc));
		printf("net %u: %s\n", i, n->failed);
		return NULL;
	}
	n->net = n->bd->priv;
	n->up = true;
	return n;
}

static int nic_stop(void *drv)
{
	return vlab_bus_remove(((struct cli_nic *)drv)->bd);
}

static int nic_start(void *drv)
{
	return vlab_bus_probe(((struct cli_nic *)drv)->bd);
}

int cli_net_rescan(struct cli *c)
{
	int rc = CLI_OK;

	for (unsigned i = 0; i < g.nnic; i++) {
		struct cli_nic *n = &g.nic[i];
		char name[16];

		if (!n->up && !n->failed[0])
			continue; /* not bound yet: the first net command binds it */
		if (!n->bd) {
			/* Its transport never probed: bind it from scratch. */
			n->failed[0] = '\0';
			if (!nic_up(c, i))
				rc = CLI_FAIL;
			continue;
		}
		snprintf(name, sizeof name, "net %u", i);
		n->up = cli_reprobe(name, n->bd->vdev, n->failed, nic_stop, nic_start, n) == CLI_OK;
		if (!n->up)
			rc = CLI_FAIL;
	}
	return rc;
}

/* Numbers typed to the net commands are hex, 0x optional, as every other
 * vlab command's and U-Boot's. */
static bool dev_arg(const char *s, unsigned *out)
{
	uint64_t v;
	if (!cli_parse_hex(s, &v) || v >= MAX_NICS)
		return false;
	*out = (unsigned)v;
	return true;
}

static void mac_str(const uint8_t *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- info ---- */

static int net_info(struct cli *c, int argc, char **argv)
{
	unsigned first = 0, last;

	if (argc > 2 || (argc == 2 && !dev_arg(argv[1], &first)))
		return CLI_USAGE;
	if (g.nnic == 0) {
		printf("No network devices (add one with --net)\n");
		return argc == 2 ? CLI_FAIL : CLI_OK;
	}
	if (argc == 2 && first >= g.nnic) {
		printf("net info: no network device %u (there are %u)\n", first, g.nnic);
		return CLI_FAIL;
	}
	last = argc == 2 ? first + 1 : g.nnic;
	for (unsigned i = first; i < last; i++) {
		struct cli_nic *n = nic_up(c, i);
		const struct vlab_net_stats *s;
		char mac[18];

		if (!n)
			return CLI_FAIL;
		(void)vlab_net_interrupt(n->net); /* pick up a link change */
		s = &n->net->stats;
		mac_str(n->net->mac, mac);
		char where[40];
		if (n->hx->vpci) /* a PCI function: name it by bus:device.function */
			snprintf(where, sizeof where, "00:%02x.%x", n->hx->pci_dev, n->hx->pci_fn);
		else
			snprintf(where, sizeof where, "0x%08" PRIx64, n->hx->base);
		/* "device N" is the machine's index, as a fault plan's device=N. */
		printf("net %u: virtio-net on %s at %s, backend %s, device %u\n", i,
		       hx_transport_name(n->hx->transport), where,
		       n->hx->net->backend ? n->hx->net->backend->kind : "none", n->hx->index);
		printf("    MAC %s (%s), link %s, MTU %u\n", mac,
		       n->net->mac_from_device ? "from the device" : "locally administered",
		       n->net->link_up ? "up" : "down", n->net->mtu);
		printf("    header %u bytes, %s receive buffers (%u of %u bytes), %u transmit slots%s\n",
		       n->net->hdr_len, n->net->mrg ? "mergeable" : "whole-frame", n->net->nrx,
		       n->net->rx_buf_len, n->net->ntx, n->net->has_ctrl ? ", control queue" : "");
		if (n->net->max_pairs_offered) /* MQ negotiated */
			printf("    queue pairs: %u in use, %u set up, max_virtqueue_pairs %u\n", n->net->pairs,
			       n->net->pairs_set_up, n->net->max_pairs_offered);
		printf("    rx %" PRIu64 " frames %" PRIu64 " bytes, tx %" PRIu64 " frames %" PRIu64
		       " bytes, tx busy %" PRIu64 "\n",
		       s->rx_frames, s->rx_bytes, s->tx_frames, s->tx_bytes, s->tx_busy);
		printf("    rx dropped:");
		for (unsigned r = 0; r < VLAB_NET_DROP_COUNT; r++)
			printf(" %s %" PRIu64, vlab_net_drop_name((enum vlab_net_drop)r), s->rx_dropped[r]);
		if (s->rx_buffers_discarded)
			printf(" (%" PRIu64 " buffers taken back after a num_buffers that lied)", s->rx_buffers_discarded);
		printf("\n    device dropped:");
		for (unsigned r = 0; r < DM_NET_DROP_COUNT; r++)
			printf(" %s %" PRIu64, dm_net_drop_name((enum dm_net_drop)r), n->hx->net->dropped[r]);
		printf("\n");
	}
	return CLI_OK;
}

/* ---- send / recv ---- */

static int net_send(struct cli *c, int argc, char **argv)
{
	unsigned dev;
	uint64_t len, count = 1;
	uint8_t dst[6], *f;
	struct cli_nic *n;

	if (argc < 4 || argc > 5 || !dev_arg(argv[1], &dev))
		return CLI_USAGE;
	if (!cli_parse_hex(argv[3], &len)) {
		printf("net send: '%s' is not a length (hex, as every number here)\n", argv[3]);
		return CLI_FAIL;
	}
	if (argc == 5 && !cli_parse_hex(argv[4], &count)) {
		printf("net send: '%s' is not a count (hex, as every number here)\n", argv[4]);
		return CLI_FAIL;
	}
	n = nic_up(c, dev);
	if (!n)
		return CLI_FAIL;
	if (!strcmp(argv[2], "bcast"))
		memset(dst, 0xff, 6);
	else if (!strcmp(argv[2], "self"))
		memcpy(dst, n->net->mac, 6);
	else if (!parse_mac(argv[2], dst)) {
		printf("net send: '%s' is not a MAC address (or bcast, self)\n", argv[2]);
		return CLI_FAIL;
	}
	if (len < VLAB_ETH_HLEN || len > n->net->max_frame) {
		printf("net send: length 0x%" PRIx64 " (%" PRIu64 " bytes) outside 0x%x..0x%x (%u..%u: 14 + MTU)\n",
		       len, len, VLAB_ETH_HLEN, n->net->max_frame, VLAB_ETH_HLEN, n->net->max_frame);
		return CLI_FAIL;
	}
	f = malloc(len);
	if (!f)
		return CLI_FAIL;
	for (uint64_t k = 0; k < count; k++) {
		int rc;
		memcpy(f, dst, 6);
		memcpy(f + 6, n->net->mac, 6);
		f[12] = 0x88;
		f[13] = 0xb5; /* local experimental ethertype */
		for (uint64_t i = 14; i < len; i++)
			f[i] = (uint8_t)(i + k);
		rc = vlab_net_send(n->net, f, (uint32_t)len);
		for (unsigned tries = 0; rc == VLAB_EBUSY && tries < 100; tries++) {
			hx_advance(c->m, 1000);
			rc = vlab_net_send(n->net, f, (uint32_t)len);
		}
		if (rc) {
			printf("net send: frame %" PRIu64 ": %s\n", k, vlab_strerror(rc));
			free(f);
			return CLI_FAIL;
		}
	}
	free(f);
	hx_run_pending(c->m);
	printf("net %u: sent %" PRIu64 " frame%s of %" PRIu64 " bytes\n", dev, count,
	       count == 1 ? "" : "s", len);
	return CLI_OK;
}

static int net_recv(struct cli *c, int argc, char **argv)
{
	unsigned dev = 0, frames = 0;
	struct cli_nic *n;
	uint8_t *buf;

	if (argc > 2 || (argc == 2 && !dev_arg(argv[1], &dev)))
		return CLI_USAGE;
	n = nic_up(c, dev);
	if (!n)
		return CLI_FAIL;
	hx_run_pending(c->m);
	buf = malloc(n->net->max_frame);
	if (!buf)
		return CLI_FAIL;
	for (;;) {
		uint32_t len = 0;
		char d[18], s[18];
		int rc = vlab_net_recv(n->net, buf, n->net->max_frame, &len);

		if (rc == VLAB_EAGAIN)
			break;
		if (rc) {
			printf("net recv: %s\n", vlab_strerror(rc));
			free(buf);
			return CLI_FAIL;
		}
		mac_str(buf, d);
		mac_str(buf + 6, s);
		printf("net %u: %u bytes %s > %s type 0x%02x%02x:", dev, len, s, d, buf[12], buf[13]);
		for (uint32_t i = 14; i < len && i < 30; i++)
			printf(" %02x", buf[i]);
		printf("%s\n", len > 30 ? " ..." : "");
		frames++;
	}
	free(buf);
	printf("net %u: %u frame%s received\n", dev, frames, frames == 1 ? "" : "s");
	return CLI_OK;
}

static int net_capture(struct cli *c, int argc, char **argv)
{
	unsigned dev;
	const char *err = NULL;

	(void)c;
	if (argc != 3 || !dev_arg(argv[1], &dev))
		return CLI_USAGE;
	if (dev >= g.nnic) {
		printf("net: no network device %u\n", dev);
		return CLI_FAIL;
	}
	if (!strcmp(argv[2], "off")) {
		dm_net_capture_stop(g.nic[dev].hx->net);
		printf("net %u: capture stopped (%" PRIu64 " frames)\n", dev, g.nic[dev].hx->net->captured);
		return CLI_OK;
	}
	if (dm_net_capture_start(g.nic[dev].hx->net, argv[2], &err) != 0) {
		printf("net capture: %s\n", err ? err : "cannot start");
		return CLI_FAIL;
	}
	printf("net %u: capturing to %s\n", dev, argv[2]);
	return CLI_OK;
}

/* ---- ping: ARP and ICMP echo ---- */

static uint32_t nic_ip(unsigned i)
{
	return IP_BASE + 1 + i;
}

static void ip_str(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static uint16_t get16be(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32be(const uint8_t *p)
{
	return ((uint32_t)get16be(p) << 16) | get16be(p + 2);
}

/* The Internet checksum (RFC 1071). */
static uint16_t inet_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16be(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define ARP_LEN 28
#define PING_DATA 56

static int send_arp(struct cli_nic *n, uint16_t op, const uint8_t *dst_mac, uint32_t sip,
                    const uint8_t *tha, uint32_t tip)
{
	uint8_t f[60];
	memset(f, 0, sizeof f); /* padded to the Ethernet minimum */
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, n->net->mac, 6);
	put16be(f + 12, ETH_ARP);
	put16be(f + 14, 1);      /* Ethernet */
	put16be(f + 16, ETH_IP);
	f[18] = 6;
	f[19] = 4;
	put16be(f + 20, op);
	memcpy(f + 22, n->net->mac, 6);
	put32be(f + 28, sip);
	memcpy(f + 32, tha, 6);
	put32be(f + 38, tip);
	return vlab_net_send(n->net, f, sizeof f);
}

static int send_icmp(struct cli_nic *n, const uint8_t *dst_mac, uint32_t sip, uint32_t dip, uint8_t type,
                     const uint8_t *icmp, size_t icmp_len)
{
	uint8_t f[14 + 20 + 8 + PING_DATA];
	uint8_t *ip = f + 14, *ic = ip + 20;

	if (icmp_len > 8 + PING_DATA)
		return VLAB_EINVAL;
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, n->net->mac, 6);
	put16be(f + 12, ETH_IP);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(20 + icmp_len));
	ip[6] = 0x40; /* don't fragment */
	ip[8] = 64;   /* ttl */
	ip[9] = 1;    /* ICMP */
	put32be(ip + 12, sip);
	put32be(ip + 16, dip);
	put16be(ip + 10, inet_csum(ip, 20));
	memcpy(ic, icmp, icmp_len);
	ic[0] = type;
	ic[1] = 0;
	put16be(ic + 2, 0);
	put16be(ic + 2, inet_csum(ic, icmp_len));
	return vlab_net_send(n->net, f, (uint32_t)(14 + 20 + icmp_len));
}

/* One frame for n within WAIT_NS: 0, or an error (VLAB_ETIMEDOUT). */
static int wait_frame(struct cli_nic *n, uint8_t *buf, uint32_t *len)
{
	return vlab_net_recv_wait(n->net, buf, n->net->max_frame, len, WAIT_NS);
}

/* The responder on NIC idx: answers ARP requests and echo requests for its
 * address, ignores everything else. Returns true when it answered one. */
static bool respond(struct cli_nic *n, unsigned idx, const uint8_t *f, uint32_t len)
{
	uint32_t me = nic_ip(idx);

	if (len >= 14 + ARP_LEN && get16be(f + 12) == ETH_ARP && get16be(f + 20) == 1 &&
	    get32be(f + 38) == me) {
		return send_arp(n, 2, f + 22, me, f + 22, get32be(f + 28)) == 0;
	}
	if (len >= 14 + 20 + 8 && get16be(f + 12) == ETH_IP && f[14] == 0x45 && f[23] == 1 &&
	    get32be(f + 30) == me && f[34] == 8) {
		uint32_t tot = get16be(f + 16);
		if (tot < 28 || 14u + tot > len || inet_csum(f + 14, 20) != 0 ||
		    inet_csum(f + 34, tot - 20) != 0)
			return false;
		return send_icmp(n, f + 6, me, get32be(f + 26), 0, f + 34, tot - 20) == 0;
	}
	return false;
}

static int net_ping(struct cli *c, int argc, char **argv)
{
	unsigned from = 0, to = 1;
	uint64_t count = 3;
	struct cli_nic *a, *b;
	uint8_t *buf, peer[6], bcast[6], zero[6] = {0};
	uint32_t len;
	unsigned received = 0;
	char ips[16], ipd[16], macs[18];
	int rc;

	if (argc > 4 || (argc >= 3 && (!dev_arg(argv[1], &from) || !dev_arg(argv[2], &to))) || argc == 2)
		return CLI_USAGE;
	if (argc == 4 && (!cli_parse_hex(argv[3], &count) || count == 0 || count > 1000)) {
		printf("net ping: count '%s' is not 1..0x3e8 (hex: 1000)\n", argv[3]);
		return CLI_FAIL;
	}
	if (from == to) {
		printf("net ping: source and target are the same device\n");
		return CLI_FAIL;
	}
	a = nic_up(c, from);
	b = a ? nic_up(c, to) : NULL;
	if (!a || !b)
		return CLI_FAIL;
	buf = malloc(a->net->max_frame > b->net->max_frame ? a->net->max_frame : b->net->max_frame);
	if (!buf)
		return CLI_FAIL;
	ip_str(nic_ip(from), ips);
	ip_str(nic_ip(to), ipd);
	printf("PING %s from %s (net %u -> net %u): %d data bytes\n", ipd, ips, from, to, PING_DATA);

	/* ARP: who has the target's address? */
	memset(bcast, 0xff, 6);
	rc = send_arp(a, 1, bcast, nic_ip(from), zero, nic_ip(to));
	for (;;) {
		if (rc)
			break;
		rc = wait_frame(b, buf, &len);
		if (rc)
			break;
		if (respond(b, to, buf, len))
			break;
	}
	for (bool found = false; !rc && !found;) {
		rc = wait_frame(a, buf, &len);
		if (!rc && len >= 42 && get16be(buf + 12) == ETH_ARP && get16be(buf + 20) == 2 &&
		    get32be(buf + 28) == nic_ip(to)) {
			memcpy(peer, buf + 22, 6);
			found = true;
		}
	}
	if (rc) {
		printf("ARP: no answer from %s (%s)\n", ipd, vlab_strerror(rc));
		free(buf);
		return CLI_FAIL;
	}
	mac_str(peer, macs);
	printf("ARP: %s is at %s\n", ipd, macs);

	for (uint64_t seq = 1; seq <= count; seq++) {
		uint8_t icmp[8 + PING_DATA];
		/* The time the driver sees (a replay answers it from the trace). */
		uint64_t t0 = c->plat->ops->now_ns(c->plat->ctx);
		bool ok = false;

		memset(icmp, 0, sizeof icmp);
		put16be(icmp + 4, 0x766c); /* id "vl" */
		put16be(icmp + 6, (uint16_t)seq);
		for (int i = 0; i < PING_DATA; i++)
			icmp[8 + i] = (uint8_t)(i + seq);
		rc = send_icmp(a, peer, nic_ip(from), nic_ip(to), 8, icmp, sizeof icmp);
		/* The target answers... */
		while (!rc) {
			rc = wait_frame(b, buf, &len);
			if (!rc && respond(b, to, buf, len))
				break;
		}
		/* ...and the source checks the reply. */
		while (!rc && !ok) {
			rc = wait_frame(a, buf, &len);
			if (rc || len < 14 + 20 + 8 + PING_DATA || get16be(buf + 12) != ETH_IP || buf[23] != 1 ||
			    buf[34] != 0)
				continue;
			ok = get32be(buf + 26) == nic_ip(to) && get16be(buf + 38) == 0x766c &&
			     get16be(buf + 40) == (uint16_t)seq && inet_csum(buf + 34, 8 + PING_DATA) == 0 &&
			     memcmp(buf + 42, icmp + 8, PING_DATA) == 0;
			if (ok) {
				received++;
				printf("%d bytes from %s: icmp_seq=%" PRIu64 " ttl=%u time=%.3f ms (virtual)\n",
				       8 + PING_DATA, ipd, seq, buf[22],
				       (double)(c->plat->ops->now_ns(c->plat->ctx) - t0) / 1e6);
			}
		}
		if (!ok)
			printf("no reply for icmp_seq=%" PRIu64 " (%s)\n", seq, vlab_strerror(rc));
		rc = 0;
	}
	free(buf);
	printf("--- %s ping statistics ---\n", ipd);
	printf("%" PRIu64 " packets transmitted, %u received, %u%% packet loss\n", count, received,
	       (unsigned)((count - received) * 100 / count));
	return received == count ? CLI_OK : CLI_FAIL;
}

int cmd_net(struct cli *c, int argc, char **argv)
{
	if (argc < 2)
		return CLI_USAGE;
	if (!strcmp(argv[1], "info"))
		return net_info(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "send"))
		return net_send(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "recv"))
		return net_recv(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "capture"))
		return net_capture(c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "ping"))
		return net_ping(c, argc - 1, argv + 1);
	return CLI_USAGE;
}
