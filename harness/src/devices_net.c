/* SPDX-License-Identifier: MIT */
/* Network devices: the virtio-net model with a backend, on any transport. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/net.h"
#include "hx_internal.h"
#include "vlab/net.h"

static void net_err(struct hx_machine *m, const char **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void net_err(struct hx_machine *m, const char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof m->err, fmt, ap);
	va_end(ap);
	if (err)
		*err = m->err;
}

void hx_net_opts_default(struct hx_net_opts *o)
{
	memset(o, 0, sizeof *o);
	o->transport = HX_MMIO;
	o->mtu = 1500;
	o->backend = HX_NET_LOOP;
}

static struct dm_net_backend *make_backend(struct hx_machine *m, struct dm_net *n,
                                           const struct hx_net_opts *o, const char **err)
{
	const char *why = NULL;

	switch (o->backend) {
	case HX_NET_LOOP:
		return dm_net_backend_loop();
	case HX_NET_QUEUE:
		return dm_net_backend_queue();
	case HX_NET_WIRE: /* joined below; nothing leaves until then */
	case HX_NET_SINK:
		return dm_net_backend_sink();
	case HX_NET_PCAP:
		if (!o->pcap_path) {
			net_err(m, err, "%s: the pcap backend needs a file", n->dv.name);
			return NULL;
		}
		if (dm_net_capture_start(n, o->pcap_path, &why) != 0) {
			net_err(m, err, "%s: capture to %s: %s", n->dv.name, o->pcap_path,
			        why ? why : "failed");
			return NULL;
		}
		return dm_net_backend_sink();
	}
	net_err(m, err, "%s: unknown backend %d", n->dv.name, (int)o->backend);
	return NULL;
}

void hx_net_cfg_qemu72(struct dm_net_cfg *c, enum hx_transport t)
{
	dm_net_cfg_qemu72(c, hx_transport_legacy_only(t));
	hx_qemu72_transport(&c->features, &c->queue_num_max, t);
}

struct hx_dev *hx_add_net(struct hx_machine *m, const struct hx_net_opts *o, const char **err)
{
	struct hx_net_opts def;
	struct dm_net_cfg cfg;
	struct dm_net_backend *be;
	struct hx_dev *d;
	struct dm_net *n;
	unsigned idx = hx_count_devs(m, VIRTIO_ID_NET);
	char name[24];

	if (!o) {
		hx_net_opts_default(&def);
		o = &def;
	}
	if (o->qemu_profile)
		hx_net_cfg_qemu72(&cfg, o->transport);
	else
		dm_net_cfg_default(&cfg);
	if (o->features_set)
		cfg.features = o->features;
	cfg.features = (cfg.features | o->features_on) & ~o->features_off;
	if (hx_transport_legacy_only(o->transport))
		cfg.features &= ~VLAB_BIT(VIRTIO_F_VERSION_1);
	if (o->no_mac)
		cfg.features &= ~VLAB_BIT(VIRTIO_NET_F_MAC);
	if (o->mac_set)
		memcpy(cfg.mac, o->mac, 6);
	else
		cfg.mac[5] = (uint8_t)(cfg.mac[5] + idx);
	if (o->mtu)
		cfg.mtu = o->mtu;
	if (o->backlog_set)
		cfg.rx_backlog = o->rx_backlog;
	if (o->max_pairs > DM_NET_MAX_PAIRS) {
		net_err(m, err, "max_pairs %u: the model serves 1 to %u queue pairs", (unsigned)o->max_pairs,
		        (unsigned)DM_NET_MAX_PAIRS);
		return NULL;
	}
	cfg.max_pairs = o->max_pairs;
	cfg.link_up = !o->link_down;
	if (o->backend == HX_NET_WIRE && o->wire_peer && !o->wire_peer->net) {
		net_err(m, err, "the wire peer is not a network device");
		return NULL;
	}

	snprintf(name, sizeof name, "net%u", idx);
	d = calloc(1, sizeof *d);
	n = dm_net_new(&cfg, &m->env, name);
	if (!d || !n) {
		free(d);
		dm_net_free(n);
		net_err(m, err, "%s: out of memory", name);
		return NULL;
	}
	be = make_backend(m, n, o, err);
	if (!be) {
		dm_net_free(n);
		free(d);
		return NULL;
	}
	dm_net_set_backend(n, be);
	d->device_id = VIRTIO_ID_NET;
	d->dv = &n->dv;
	d->net = n;
	if (hx_attach(m, d, o->transport, err) != 0) {
		dm_net_free(n);
		free(d);
		return NULL;
	}
	if (o->backend == HX_NET_WIRE && o->wire_peer)
		(void)hx_net_wire(o->wire_peer, d);
	return d;
}

int hx_net_wire(struct hx_dev *a, struct hx_dev *b)
{
	if (!a || !b || !a->net || !b->net)
		return -1;
	return dm_net_wire(a->net, b->net);
}
