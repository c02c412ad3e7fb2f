/* SPDX-License-Identifier: MIT */
/*
 * vlab-scenario: the host side of the QEMU cross-check.
 *
 *   vlab-scenario run --scenario blk --transport NAME --model-transport T
 *                     --image PATH [--serial TEXT] [--blk-props P=V,...]
 *   vlab-scenario run --scenario net --transport NAME --model-transport T
 *                     [--host-mtu N] [--props LIST]
 *   vlab-scenario run --scenario rng --transport NAME --model-transport T
 *       Runs the scenario against the device model, configured with the
 *       QEMU 7.2 profile: blk on a copy of the disk the image saw; net with
 *       the peer (net_peer.h) behind the NIC; --host-mtu N offers
 *       VIRTIO_NET_F_MTU with mtu N, as QEMU's host_mtu=N property does;
 *       --props takes QEMU's -device properties the profile follows,
 *       comma-separated (the matrix rows' props): host_mtu=N,
 *       mrg_rxbuf=on|off, mq=on|off (MQ offered, one queue pair, as over
 *       dgram), queues=N (the netdev's queues: max_virtqueue_pairs N with
 *       mq=on, as QEMU's -netdev ...,queues=N), vnet_hdr=on|off (on: the netdev has a vnet header, as a
 *       tap: CSUM, GUEST_CSUM and the TSO/UFO/ECN bits offered),
 *       csum=on|off and guest_csum=on|off (off takes CSUM or GUEST_CSUM
 *       away with vnet_hdr=on; without it QEMU withdraws both anyway).  Transcript lines go to
 *       stdout as "T: <line>", the peer's as "P: <line>", driver log lines
 *       to stderr.  Exit 0 on pass, 1 on a failed scenario, a model
 *       violation or a peer that did not get every frame, 2 on bad usage.
 *       --record FILE writes the run's trace (docs/trace-format.md).
 *       --ring PROPS: the ring options QEMU's device got, by its property
 *       names, comma-separated (packed=on|off, indirect_desc=on|off,
 *       event_idx=on|off), on top of the profile's offer, so the model
 *       offers what QEMU offered (run-matrix.sh's ring rows).
 *       --blk-props: the row's QEMU virtio-blk -device properties, which
 *       the model then has too (hx_blk_prop).
 *   vlab-scenario replay FILE
 *       Runs the scenario the trace names against the trace instead of a
 *       device (docs/trace-format.md): the "T: " transcript, then exit 0
 *       when the run matched the trace to its end, 1 on a divergence (the
 *       report on stdout), 2 on a bad trace ("FILE:LINE: reason").
 *   vlab-scenario replay --inject FILE
 *       The same for an edited trace (fault injection): reads answered by
 *       position whatever their address; the report adds the edited value
 *       the driver read and what it logged and the scenario said after it.
 *   vlab-scenario peer --port-file PATH [--timeout SECONDS]
 *       The net scenario's peer for QEMU on loopback UDP (peer_udp.c).
 *   vlab-scenario peer-tap --ifname NAME --ready-file PATH [--timeout SECONDS]
 *       The same peer on a tap device, through a packet socket with vnet
 *       headers (peer_tap.c; run-matrix.sh's tap rows).
 *   vlab-scenario mkdisk PATH        the fresh disk: the pristine pattern
 *   vlab-scenario sfdisk-script      the partition table, as sfdisk input
 *   vlab-scenario checkdisk PATH     after a run: the scenario's writes are
 *                                    on the disk and nothing else changed
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/bind.h"
#include "harness/machine.h"
#include "harness/net.h"
#include "harness/trace.h"
#include "host_tool.h"
#include "pattern.h"
#include "scenario.h"
#include "vlab/blk.h"
#include "vlab/net.h"

#define SECTOR 512u
/* GPT: protective MBR + header + 32 entry sectors at the start; 32 + 1 at the end. */
#define GPT_HEAD_SECTORS 34u
#define GPT_TAIL_SECTORS 33u

int host_usage(void)
{
	fprintf(stderr,
	        "usage: vlab-scenario run --scenario blk --transport NAME --model-transport T --image PATH [--serial TEXT]\n"
	        "                         [--ring PROPS] [--blk-props P=V,...]  (QEMU's virtio-blk properties: " HX_BLK_PROP_NAMES ")\n"
	        "                         [--record FILE]\n"
	        "       vlab-scenario run --scenario net --transport NAME --model-transport T [--host-mtu N]\n"
	        "                         [--ring PROPS] [--props host_mtu=N,queues=N,mrg_rxbuf|mq|csum|guest_csum|vnet_hdr=on|off] [--record FILE]\n"
	        "       vlab-scenario run --scenario rng --transport NAME --model-transport T [--ring PROPS]\n"
	        "                         [--record FILE]\n"
	        "       (--ring: packed=on|off,indirect_desc=on|off,event_idx=on|off, QEMU's property names)\n"
	        "       vlab-scenario replay [--inject] FILE\n"
	        "       vlab-scenario peer --port-file PATH [--timeout SECONDS]\n"
	        "       vlab-scenario peer-tap --ifname NAME --ready-file PATH [--timeout SECONDS]\n"
	        "       vlab-scenario mkdisk PATH | sfdisk-script | checkdisk PATH\n");
	return 2;
}

bool host_peer_frame(struct sc_net_peer *p, const uint8_t *frame, uint32_t len, uint8_t *ans,
                     uint32_t *ans_len)
{
	const unsigned k = p->next;
	bool ok = sc_net_peer_frame(p, frame, len, ans, ans_len);
	if (ok && p->last_csum)
		printf("P: checksum frame: %u bytes, IPv4 and UDP checksums right, answered partial\n", len);
	else if (ok)
		printf("P: frame %u: %u bytes as expected, answered\n", k, len);
	else
		printf("P: rejected: %s\n", p->why);
	fflush(stdout);
	return ok;
}

int host_peer_verdict(const struct sc_net_peer *p)
{
	bool ok = sc_net_peer_done(p);
	printf("P: %u of %u frames answered%s, %u rejected: %s\n", p->answered, SC_NET_NFRAMES,
	       p->csum_answered ? " and the checksum frame" : "", p->rejected, ok ? "pass" : "FAIL");
	fflush(stdout);
	return ok ? 0 : 1;
}

/* The peer behind the model's NIC: what the NIC transmits is answered at
 * once, into the NIC's receive path. */
struct peer_backend {
	struct dm_net_backend be;
	struct sc_net_peer peer;
	uint8_t ans[SC_NET_PEER_MAX_FRAME];
};

static void peer_transmit(struct dm_net_backend *be, const uint8_t *frame, uint32_t len)
{
	struct peer_backend *pb = (struct peer_backend *)be;
	uint32_t alen = 0;
	if (host_peer_frame(&pb->peer, frame, len, pb->ans, &alen) && be->nic) {
		if (pb->peer.ans_partial)
			(void)dm_net_inject_partial(be->nic, pb->ans, alen);
		else
			(void)dm_net_inject(be->nic, pb->ans, alen);
	}
}

static void peer_destroy(struct dm_net_backend *be)
{
	(void)be; /* static */
}

static struct peer_backend peer_be = {.be = {.kind = "peer", .transmit = peer_transmit, .destroy = peer_destroy}};

/* The ring features QEMU's -device properties turn on or off (--ring). */
struct ring_opts {
	uint64_t on, off;
};

/* --ring "packed=on,indirect_desc=off,...": 0, or -1 with a message. */
static int parse_ring(const char *s, struct ring_opts *r)
{
	while (*s) {
		char tok[32];
		size_t n = strcspn(s, ",");
		int rc = -1;
		if (n > 0 && n < sizeof tok) {
			memcpy(tok, s, n);
			tok[n] = '\0';
			rc = dm_ring_option(tok, &r->on, &r->off);
		}
		if (rc != 1) {
			fprintf(stderr, "vlab-scenario: --ring: '%.*s' is not packed=, indirect_desc= or event_idx= "
			        "with on or off\n", (int)n, s);
			return -1;
		}
		s += n;
		if (*s == ',' && *++s == '\0') {
			fprintf(stderr, "vlab-scenario: --ring: a trailing comma\n");
			return -1;
		}
	}
	return 0;
}

/* QEMU -device properties the net profile follows. */
struct net_props {
	unsigned long host_mtu; /* 0: not set (no VIRTIO_NET_F_MTU, as QEMU) */
	bool no_mrg_rxbuf;      /* mrg_rxbuf=off */
	bool mq;                /* mq=on: MQ offered, max_virtqueue_pairs 1 (the dgram netdev has one queue) */
	unsigned long queues;   /* queues=N: the netdev's queues (max_virtqueue_pairs with mq=on); 0: 1 */
	bool vnet_hdr;          /* vnet_hdr=on: the netdev has a vnet header (tap): the offloads offered */
	bool no_csum, no_guest_csum; /* csum=off, guest_csum=off (with vnet_hdr=on) */
};

/* What QEMU 7.2 adds to its offer when the netdev has a vnet header (a
 * tap; docs/qemu-profile.md, seen in the tap rows): CSUM, GUEST_CSUM,
 * GUEST_TSO4/TSO6/ECN/UFO, HOST_TSO4/TSO6/ECN/UFO (bits 0, 1, 7-14). */
#define NET_VNET_HDR_FEATURES                                                                       \
	(VLAB_BIT(VIRTIO_NET_F_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM) | VLAB_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	 VLAB_BIT(VIRTIO_NET_F_GUEST_TSO6) | VLAB_BIT(VIRTIO_NET_F_GUEST_ECN) | VLAB_BIT(VIRTIO_NET_F_GUEST_UFO) | \
	 VLAB_BIT(VIRTIO_NET_F_HOST_TSO4) | VLAB_BIT(VIRTIO_NET_F_HOST_TSO6) | VLAB_BIT(VIRTIO_NET_F_HOST_ECN) |   \
	 VLAB_BIT(VIRTIO_NET_F_HOST_UFO))

static bool parse_mtu(const char *s, unsigned long *mtu)
{
	char *end = NULL;
	errno = 0;
	*mtu = strtoul(s, &end, 10);
	return !errno && end && !*end && end != s && *mtu >= 68 && *mtu <= 65535;
}

/* The netdev's queues=N: 1..DM_NET_MAX_PAIRS. */
static bool parse_queues(const char *s, unsigned long *q)
{
	char *end = NULL;
	errno = 0;
	*q = strtoul(s, &end, 10);
	return !errno && end && !*end && end != s && *q >= 1 && *q <= DM_NET_MAX_PAIRS;
}

/* "host_mtu=9000,mrg_rxbuf=off": 0, or -1 with a message. */
static int parse_props(const char *list, struct net_props *np)
{
	char buf[256];
	if (strlen(list) >= sizeof buf) {
		fprintf(stderr, "vlab-scenario: --props is too long\n");
		return -1;
	}
	strcpy(buf, list);
	for (char *prop = buf, *next; prop; prop = next) {
		next = strchr(prop, ',');
		if (next)
			*next++ = '\0';
		char *val = strchr(prop, '=');
		if (val)
			*val++ = '\0';
		if (val && !strcmp(prop, "host_mtu") && parse_mtu(val, &np->host_mtu))
			continue;
		if (val && !strcmp(prop, "queues") && parse_queues(val, &np->queues))
			continue;
		const bool on_off = val && (!strcmp(val, "on") || !strcmp(val, "off"));
		if (on_off && !strcmp(prop, "mrg_rxbuf")) {
			np->no_mrg_rxbuf = !strcmp(val, "off");
			continue;
		}
		if (on_off && !strcmp(prop, "mq")) {
			np->mq = !strcmp(val, "on");
			continue;
		}
		if (on_off && !strcmp(prop, "vnet_hdr")) {
			np->vnet_hdr = !strcmp(val, "on");
			continue;
		}
		/* Without a vnet header QEMU withdraws both whatever these say
		 * (dgram; docs/qemu-profile.md). */
		if (on_off && !strcmp(prop, "csum")) {
			np->no_csum = !strcmp(val, "off");
			continue;
		}
		if (on_off && !strcmp(prop, "guest_csum")) {
			np->no_guest_csum = !strcmp(val, "off");
			continue;
		}
		fprintf(stderr, "vlab-scenario: --props: '%s%s%s' is not one of host_mtu=68..65535, "
		        "queues=1..%u, mrg_rxbuf|mq|csum|guest_csum|vnet_hdr=on|off\n",
		        prop, val ? "=" : "", val ? val : "", (unsigned)DM_NET_MAX_PAIRS);
		return -1;
	}
	return 0;
}

/* The NIC QEMU gets (-device virtio-net-*,mac=...[,host_mtu=N][,mrg_rxbuf=off]
 * and the ring properties), with the peer behind it. */
static struct hx_dev *add_net(struct hx_machine *m, enum hx_transport t, const struct net_props *np,
                              const struct ring_opts *ring, const char **err)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct hx_net_opts o;
	hx_net_opts_default(&o);
	o.transport = t;
	o.qemu_profile = true;
	o.mac_set = true;
	memcpy(o.mac, mac, sizeof mac);
	struct dm_net_cfg q;
	hx_net_cfg_qemu72(&q, t);
	o.features = q.features;
	if (np->host_mtu) {
		o.features |= VLAB_BIT(VIRTIO_NET_F_MTU);
		o.mtu = (uint16_t)np->host_mtu;
	}
	if (np->no_mrg_rxbuf)
		o.features &= ~VLAB_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (np->mq)
		o.features |= VLAB_BIT(VIRTIO_NET_F_MQ);
	o.max_pairs = (uint16_t)np->queues; /* shown only with MQ, as QEMU */
	if (np->vnet_hdr)
		o.features |= NET_VNET_HDR_FEATURES;
	if (np->vnet_hdr && np->no_csum)
		o.features &= ~VLAB_BIT(VIRTIO_NET_F_CSUM);
	if (np->vnet_hdr && np->no_guest_csum)
		o.features &= ~VLAB_BIT(VIRTIO_NET_F_GUEST_CSUM);
	o.features_set = o.features != q.features;
	o.features_on = ring->on;
	o.features_off = ring->off;
	o.backend = HX_NET_SINK;
	struct hx_dev *d = hx_add_net(m, &o, err);
	if (d) {
		sc_net_peer_init(&peer_be.peer);
		dm_net_set_backend(d->net, &peer_be.be);
	}
	return d;
}

static struct hx_dev *add_blk(struct hx_machine *m, enum hx_transport t, const char *image,
                              const char *serial, const struct hx_blk_opts *props,
                              const struct ring_opts *ring, const char **err)
{
	struct hx_blk_opts o = *props;
	o.transport = t;
	o.image = image;
	/* What QEMU 7.2 offers on this transport, plus the serial the runner
	 * gave QEMU's device. */
	hx_blk_cfg_qemu72(&o.cfg, o.transport);
	if (serial) {
		memset(o.cfg.serial, 0, sizeof o.cfg.serial);
		memcpy(o.cfg.serial, serial, strlen(serial));
	}
	o.cfg_set = true;
	o.features_on = ring->on;
	o.features_off = ring->off;
	return hx_add_blk(m, &o, err);
}

static void out_line(void *ctx, const char *text)
{
	(void)ctx;
	printf("T: %s\n", text);
}

static void log_line(void *ctx, enum vlab_log_level lvl, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "log: %s: %s\n", hx_log_level_name(lvl), msg);
}

/* Probe result rc, then the scenario on the probed device, listed on a
 * bus of its own (hx_vbus_one); failures. */
static unsigned run_bound(struct sc_out *out, int rc, struct hx_bound *bound, const char *transport)
{
	struct hx_vbus *hb = rc ? NULL : hx_vbus_one(bound);
	if (rc || !hb) {
		sc_fail(out, "probe: %s", vlab_errname(rc ? rc : VLAB_ENOMEM));
		return 1;
	}
	const struct sc_dev sd = {.bd = &hb->bus.devs[0],
	                          .vdev = bound->vdev,
	                          .pci = hx_transport_is_pci(bound->transport) ? &bound->pci : NULL,
	                          .transport = transport};
	unsigned failures = sc_run(out, &sd);
	hx_vbus_free(hb);
	return failures;
}

/* The value of option opt in a trace's command line, into buf. */
static bool command_opt(const char *command, const char *opt, char *buf, size_t n)
{
	const char *s = strstr(command, opt);
	size_t k = 0;
	if (!s || s[strlen(opt)] != ' ')
		return false;
	s += strlen(opt) + 1;
	while (s[k] && s[k] != ' ')
		k++;
	if (!k || k >= n)
		return false;
	memcpy(buf, s, k);
	buf[k] = '\0';
	return true;
}

static void replay_log(void *ctx, enum vlab_log_level lvl, const char *msg)
{
	if (lvl <= VLAB_LOG_INFO)
		log_line(ctx, lvl, msg);
}

/* Inject mode: each transcript line also goes to the replayer's report. */
static void inject_line(void *ctx, const char *text)
{
	out_line(NULL, text);
	hx_replay_transcript(ctx, text);
}

static int cmd_replay(const char *path, bool inject)
{
	char err[512], transport[64];
	struct hx_trace *t = hx_trace_load(path, err, sizeof err);
	if (!t) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	unsigned cline = 1;
	const char *command = hx_trace_header_nth(t, "command", 0, &cline);
	if (!strncmp(command, "vlab ", 5) || !strcmp(command, "vlab")) {
		fprintf(stderr, "%s:%u: a vlab trace (command %.40s): replay it with 'vlab replay %s'\n", path, cline,
		        command, path);
		hx_trace_free(t);
		return 2;
	}
	if (!strncmp(command, "fuzz_", 5)) {
		int n = (int)strcspn(command, " ");
		fprintf(stderr, "%s:%u: a fuzz trace (target %.*s): replay it with 'FUZZ_REPLAY=%s build/gcc/fuzz/%.*s'\n",
		        path, cline, n, command, path, n, command);
		hx_trace_free(t);
		return 2;
	}
	if (strncmp(command, "run ", 4) != 0 || !command_opt(command, "--transport", transport, sizeof transport)) {
		fprintf(stderr, "%s:%u: the command line names no --transport\n", path, cline);
		hx_trace_free(t);
		return 2;
	}
	struct hx_replay *r = hx_replay_new(t, replay_log, NULL);
	if (!r) {
		fprintf(stderr, "vlab-scenario: out of memory\n");
		hx_trace_free(t);
		return 1;
	}
	struct hx_bound bound;
	struct sc_out out = {.line = inject ? inject_line : out_line, .ctx = r};
	hx_replay_set_inject(r, inject);
	(void)run_bound(&out, hx_replay_bind(r, &bound), &bound, transport);
	bool ok = hx_replay_finish(r);
	if (ok)
		printf("replay: %zu events, the run matched the trace to its end\n", hx_trace_nevents(t));
	if (!ok || inject)
		printf("%s", hx_replay_report(r));
	fflush(stdout);
	hx_replay_free(r);
	hx_trace_free(t);
	return ok ? 0 : 1;
}

/* "prop=value,prop=value" (hx_blk_prop) into o; false after a message. */
static bool parse_blk_props(struct hx_blk_opts *o, const char *list)
{
	char buf[256];

	if (strlen(list) >= sizeof buf) {
		fprintf(stderr, "vlab-scenario: --blk-props is too long\n");
		return false;
	}
	strcpy(buf, list);
	for (char *tok = buf, *next; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		const char *why = "not a property the model has (" HX_BLK_PROP_NAMES ")";
		if (hx_blk_prop(o, tok, &why) <= 0) {
			fprintf(stderr, "vlab-scenario: --blk-props: '%s': %s\n", tok, why);
			return false;
		}
	}
	return true;
}

static int cmd_run(int argc, char **argv)
{
	const char *scenario = NULL, *transport = NULL, *model_transport = NULL, *image = NULL;
	const char *serial = NULL, *host_mtu_arg = NULL, *props = NULL, *record = NULL, *ring_arg = NULL;
	const char *blk_props = NULL;
	/* The command as the trace header keeps it: every option but --record. */
	char command[1024] = "run";
	size_t clen = 3;
	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;
		if (!strcmp(argv[i], "--scenario"))
			slot = &scenario;
		else if (!strcmp(argv[i], "--transport"))
			slot = &transport;
		else if (!strcmp(argv[i], "--model-transport"))
			slot = &model_transport;
		else if (!strcmp(argv[i], "--image"))
			slot = &image;
		else if (!strcmp(argv[i], "--serial"))
			slot = &serial;
		else if (!strcmp(argv[i], "--host-mtu"))
			slot = &host_mtu_arg;
		else if (!strcmp(argv[i], "--props"))
			slot = &props;
		else if (!strcmp(argv[i], "--record"))
			slot = &record;
		else if (!strcmp(argv[i], "--ring"))
			slot = &ring_arg;
		else if (!strcmp(argv[i], "--blk-props"))
			slot = &blk_props;
		if (!slot || i + 1 >= argc || strchr(argv[i + 1], '\n') || strchr(argv[i + 1], ' ')) {
			fprintf(stderr, "vlab-scenario: unknown option, missing value or a value with spaces: %s\n", argv[i]);
			return host_usage();
		}
		if (slot != &record && clen < sizeof command)
			clen += (size_t)snprintf(command + clen, sizeof command - clen, " %s %s", argv[i], argv[i + 1]);
		*slot = argv[++i];
	}
	if (!scenario || !transport || !model_transport)
		return host_usage();
	const bool net = !strcmp(scenario, "net");
	const bool rng = !strcmp(scenario, "rng");
	if (!net && !rng && strcmp(scenario, "blk") != 0) {
		fprintf(stderr, "vlab-scenario: unknown scenario '%s' (known: blk, net, rng)\n", scenario);
		return 2;
	}
	if (!net && !rng && !image)
		return host_usage();
	int t = hx_transport_parse(model_transport);
	if (t < 0) {
		fprintf(stderr, "vlab-scenario: the model has no transport '%s'\n", model_transport);
		return 2;
	}
	struct net_props np = {0};
	if (host_mtu_arg && (!net || !parse_mtu(host_mtu_arg, &np.host_mtu))) {
		fprintf(stderr, "vlab-scenario: --host-mtu takes a number from 68 to 65535, for --scenario net\n");
		return 2;
	}
	if (props && (!net || parse_props(props, &np) != 0)) {
		if (!net)
			fprintf(stderr, "vlab-scenario: --props is for --scenario net\n");
		return 2;
	}
	struct ring_opts ring = {0, 0};
	if (ring_arg && parse_ring(ring_arg, &ring) != 0)
		return 2;
	/* The row's QEMU -device properties (the same text QEMU was given). */
	struct hx_blk_opts bprops;
	hx_blk_opts_default(&bprops);
	if (blk_props && !parse_blk_props(&bprops, blk_props))
		return 2;
	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES) {
		fprintf(stderr, "vlab-scenario: --serial is longer than %u bytes\n", VIRTIO_BLK_ID_BYTES);
		return 2;
	}

	struct hx_machine_cfg mc;
	hx_machine_cfg_default(&mc);
	struct hx_machine *m = hx_machine_new(&mc);
	if (!m) {
		fprintf(stderr, "vlab-scenario: out of memory\n");
		return 1;
	}
	hx_set_log(m, log_line, NULL, VLAB_LOG_INFO);

	const char *err = NULL;
	struct hx_rng_opts ro;
	hx_rng_opts_default(&ro);
	ro.transport = (enum hx_transport)t;
	ro.features_on = ring.on;
	ro.features_off = ring.off;
	struct hx_dev *dev = net   ? add_net(m, (enum hx_transport)t, &np, &ring, &err)
	                     : rng ? hx_add_rng(m, &ro, &err)
	                           : add_blk(m, (enum hx_transport)t, image, serial, &bprops, &ring, &err);
	if (!dev) {
		fprintf(stderr, "vlab-scenario: %s\n", err ? err : "cannot add the device");
		hx_machine_free(m);
		return 1;
	}
	FILE *trace = NULL;
	struct hx_trace_rec *rec = NULL;
	if (record) {
		char producer[128], device[128], cmd[1100], bind[512];
		hx_trace_producer_line(&mc, producer, sizeof producer);
		snprintf(device, sizeof device, "device 0 %s transport=%s", scenario,
		         hx_transport_name(dev->transport));
		snprintf(cmd, sizeof cmd, "command %s", command);
		const char *header[] = {producer, device, cmd, bind};
		if (clen >= sizeof command || hx_trace_bind_line(m, dev, VLAB_MMIO_ALLOW_LEGACY, bind, sizeof bind)) {
			fprintf(stderr, "vlab-scenario: --record: this run cannot be described in a trace\n");
			hx_machine_free(m);
			return 2;
		}
		trace = fopen(record, "w");
		rec = trace ? hx_trace_record_start(m, trace, header, 4) : NULL;
		if (!rec) {
			fprintf(stderr, "vlab-scenario: --record %s: %s\n", record, trace ? "write failed" : strerror(errno));
			if (trace)
				fclose(trace);
			hx_machine_free(m);
			return 2;
		}
	}
	struct hx_bound bound;
	struct sc_out out = {.line = out_line};
	unsigned failures = run_bound(&out, hx_bind(m, dev, &bound, VLAB_MMIO_ALLOW_LEGACY), &bound, transport);
	if (rec) {
		char why[160];
		int rrc = hx_trace_record_stop(rec, why, sizeof why);
		if (fclose(trace) != 0 || rrc != 0) {
			fprintf(stderr, "vlab-scenario: --record %s: %s\n", record, rrc && why[0] ? why : "write failed");
			failures++;
		}
	}
	if (net && host_peer_verdict(&peer_be.peer) != 0)
		failures++;
	const struct dm_report *r = hx_report(m);
	if (r->count) {
		static char text[65536];
		dm_report_format(r, text, sizeof text);
		fprintf(stderr, "vlab-scenario: the model recorded %u violation(s):\n%s", r->count, text);
		printf("model: %u violation(s)\n", r->count);
		failures++;
	}
	fflush(stdout);
	hx_machine_free(m);
	return failures ? 1 : 0;
}

static int cmd_mkdisk(const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "vlab-scenario: %s: %s\n", path, strerror(errno));
		return 1;
	}
	uint8_t sec[SECTOR];
	for (uint32_t lba = 0; lba < SC_DISK_SECTORS; lba++) {
		for (uint32_t i = 0; i < SECTOR; i++)
			sec[i] = sc_pattern_byte(SC_SEED_PRISTINE, lba, i);
		if (fwrite(sec, 1, SECTOR, f) != SECTOR) {
			fprintf(stderr, "vlab-scenario: %s: write failed\n", path);
			fclose(f);
			return 1;
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "vlab-scenario: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_sfdisk_script(void)
{
	/* Fixed GUIDs: the same table on every run. */
	printf("label: gpt\n"
	       "label-id: 6A1F5C2E-0B7D-4E39-9C1A-5D2B7F0E4A11\n"
	       "first-lba: 34\n"
	       "start=%u, size=%u, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
	       "uuid=3C8E1B52-7D40-4F6A-A2B9-1E5C7D3F9A01, name=\"%s\"\n"
	       "start=%u, size=%u, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
	       "uuid=3C8E1B52-7D40-4F6A-A2B9-1E5C7D3F9A02, name=\"%s\"\n",
	       SC_PART_DATA_START, SC_PART_DATA_SECTORS, SC_PART_DATA_NAME, SC_PART_SCRATCH_START,
	       SC_PART_SCRATCH_SECTORS, SC_PART_SCRATCH_NAME);
	return 0;
}

/* The last extent written is then zeroed (WRITE_ZEROES, scenarios/blk.c:
 * zeroes_and_check): it must read as zeroes, and counts as written. */
#define CHECK_ZEROED 0xffffffffu
/* Which seed sector lba must hold after a scenario run. */
static uint32_t expected_seed(uint64_t lba)
{
	static const struct sc_extent writes[SC_NWRITES] = SC_WRITES_INIT;
	for (unsigned i = 0; i < SC_NWRITES; i++) {
		uint64_t s = SC_PART_SCRATCH_START + writes[i].off;
		if (lba >= s && lba < s + writes[i].count)
			return i == SC_NWRITES - 1 ? CHECK_ZEROED : SC_SEED_WRITE;
	}
	return SC_SEED_PRISTINE;
}

static int cmd_checkdisk(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "vlab-scenario: %s: %s\n", path, strerror(errno));
		return 1;
	}
	uint8_t sec[SECTOR];
	uint64_t written_ok = 0, pristine_ok = 0, bad = 0, lba;
	for (lba = 0; fread(sec, 1, SECTOR, f) == SECTOR; lba++) {
		/* The partition table areas are sfdisk's. */
		if (lba < GPT_HEAD_SECTORS || lba >= SC_DISK_SECTORS - GPT_TAIL_SECTORS)
			continue;
		uint32_t seed = expected_seed(lba);
		bool ok = true;
		for (uint32_t i = 0; i < SECTOR && ok; i++)
			ok = sec[i] == (seed == CHECK_ZEROED ? 0 : sc_pattern_byte(seed, lba, i));
		if (!ok) {
			if (bad < 8)
				fprintf(stderr, "checkdisk: sector %llu does not hold the %s pattern\n",
				        (unsigned long long)lba, seed == CHECK_ZEROED ? "zeroed" : seed == SC_SEED_WRITE ? "written" : "pristine");
			bad++;
		} else if (seed != SC_SEED_PRISTINE) {
			written_ok++;
		} else {
			pristine_ok++;
		}
	}
	fclose(f);
	if (lba != SC_DISK_SECTORS) {
		fprintf(stderr, "checkdisk: %s has %llu sectors, expected %u\n", path, (unsigned long long)lba,
		        SC_DISK_SECTORS);
		return 1;
	}
	uint64_t want_written = 0;
	static const struct sc_extent writes[SC_NWRITES] = SC_WRITES_INIT;
	for (unsigned i = 0; i < SC_NWRITES; i++)
		want_written += writes[i].count;
	printf("checkdisk: %llu written sectors hold the written pattern (of %llu), %llu untouched sectors "
	       "hold the pristine pattern, %llu bad\n",
	       (unsigned long long)written_ok, (unsigned long long)want_written,
	       (unsigned long long)pristine_ok, (unsigned long long)bad);
	return bad || written_ok != want_written ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return host_usage();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "replay") && argc == 3)
		return cmd_replay(argv[2], false);
	if (!strcmp(argv[1], "replay") && argc == 4 && !strcmp(argv[2], "--inject"))
		return cmd_replay(argv[3], true);
	if (!strcmp(argv[1], "mkdisk") && argc == 3)
		return cmd_mkdisk(argv[2]);
	if (!strcmp(argv[1], "sfdisk-script") && argc == 2)
		return cmd_sfdisk_script();
	if (!strcmp(argv[1], "checkdisk") && argc == 3)
		return cmd_checkdisk(argv[2]);
	if (!strcmp(argv[1], "peer"))
		return cmd_peer(argc - 2, argv + 2);
	if (!strcmp(argv[1], "peer-tap"))
		return cmd_peer_tap(argc - 2, argv + 2);
	return host_usage();
}
