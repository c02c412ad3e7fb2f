/* SPDX-License-Identifier: MIT */
/*
 * Devices on the machine.  The MMIO layout is QEMU's riscv virt machine:
 * HX_MMIO_SLOTS virtio-mmio slots of HX_MMIO_SLOT_SIZE bytes from
 * HX_MMIO_SLOT_BASE, slot i on interrupt line 1 + i.  Every slot is mapped
 * from the start; an unused one answers as QEMU's do, a virtio-mmio header
 * with DeviceID 0, so a driver scanning the slots sees "no device" rather
 * than a bus error.  Adding a device puts its front end into the next free
 * slot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/net.h"
#include "harness/pci_host.h"
#include "hx_internal.h"
#include "vlab/blk.h"
#include "vlab/virtio.h"

static const char *const transport_names[HX_TRANSPORT_COUNT] = {
	[HX_MMIO_LEGACY] = "mmio-legacy",
	[HX_MMIO] = "mmio",
	[HX_PCI_LEGACY] = "pci-legacy",
	[HX_PCI_TRANSITIONAL] = "pci-transitional",
	[HX_PCI] = "pci",
};

const char *hx_transport_name(enum hx_transport t)
{
	if ((unsigned)t < HX_TRANSPORT_COUNT && transport_names[t])
		return transport_names[t];
	return "?";
}

int hx_transport_parse(const char *s)
{
	if (!s)
		return -1;
	for (int t = 0; t < HX_TRANSPORT_COUNT; t++)
		if (transport_names[t] && strcmp(s, transport_names[t]) == 0)
			return t;
	return -1;
}

void hx_blk_opts_default(struct hx_blk_opts *o)
{
	memset(o, 0, sizeof *o);
	o->transport = HX_MMIO;
	o->image = NULL;
	o->ram_bytes = 16ull << 20;
	dm_blk_cfg_default(&o->cfg);
}

/* ---- the slots ---- */

static uint32_t slot_read(void *ctx, uint64_t off, unsigned width)
{
	struct hx_slot *s = ctx;
	struct dm_mmio *fe = s->dev ? &s->dev->mmio : &s->empty;
	return dm_mmio_read(fe, (uint32_t)off, width);
}

static void slot_write(void *ctx, uint64_t off, unsigned width, uint32_t val)
{
	struct hx_slot *s = ctx;
	/* QEMU's virtio-mmio without a backend ignores every write. */
	if (s->dev)
		dm_mmio_write(&s->dev->mmio, (uint32_t)off, width, val);
}

static const struct hx_mmio_ops slot_ops = {
	.read = slot_read,
	.write = slot_write,
};

int hx_slots_init(struct hx_machine *m)
{
	const struct dm_mmio_cfg cfg = {.version = 2, .vendor_id = HX_MMIO_VENDOR_ID};
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++) {
		struct hx_slot *s = &m->slots[i];
		s->m = m;
		s->index = i;
		s->base = HX_MMIO_SLOT_BASE + (uint64_t)i * HX_MMIO_SLOT_SIZE;
		dm_mmio_init(&s->empty, &cfg, NULL);
		if (hx_bus_map(&m->mmio, s->base, HX_MMIO_SLOT_SIZE, &slot_ops, s) != 0)
			return -1;
	}
	return 0;
}

static struct hx_slot *free_slot(struct hx_machine *m)
{
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++)
		if (!m->slots[i].dev)
			return &m->slots[i];
	return NULL;
}

static void set_err(struct hx_machine *m, const char **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(struct hx_machine *m, const char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof m->err, fmt, ap);
	va_end(ap);
	if (err)
		*err = m->err;
}

static bool push_dev(struct hx_machine *m, struct hx_dev *d)
{
	if (m->ndevs == m->capdevs) {
		unsigned cap = m->capdevs ? m->capdevs * 2 : 8;
		struct hx_dev **v = realloc(m->devs, cap * sizeof *v);
		if (!v)
			return false;
		m->devs = v;
		m->capdevs = cap;
	}
	m->devs[m->ndevs++] = d;
	return true;
}

/* The backing store of a block device, or NULL with the error set. */
static struct dm_store *open_store(struct hx_machine *m, const struct hx_blk_opts *o, const char **err)
{
	struct dm_store *st;
	if (o->image) {
		const char *why = NULL;
		st = dm_store_file(o->image, o->read_only, &why);
		if (!st) {
			if (!why)
				why = "cannot open";
			/* Name the file once, whether or not the model did. */
			if (strncmp(why, o->image, strlen(o->image)) == 0)
				set_err(m, err, "%s", why);
			else
				set_err(m, err, "%s: %s", o->image, why);
			return NULL;
		}
	} else {
		st = dm_store_ram(o->ram_bytes);
		if (!st) {
			set_err(m, err, "RAM disk of %llu bytes: out of memory",
			        (unsigned long long)o->ram_bytes);
			return NULL;
		}
	}
	if (st->size % 512 != 0) {
		set_err(m, err, "%s: size %llu is not a multiple of 512 bytes",
		        o->image ? o->image : "RAM disk", (unsigned long long)st->size);
		if (st->close)
			st->close(st);
		return NULL;
	}
	return st;
}

/* A power of two in 512..65536 (QEMU takes up to 2 MiB; the driver 64 KiB). */
static bool block_size_ok(unsigned long v)
{
	return v >= 512 && v <= 65536 && (v & (v - 1)) == 0;
}

/* "on"/"off" (also QEMU's true/false, yes/no) into *v; false if neither. */
static bool parse_onoff(const char *s, bool *v)
{
	if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes")) {
		*v = true;
		return true;
	}
	if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no")) {
		*v = false;
		return true;
	}
	return false;
}

/* tok's value when it is "name=value", else NULL. */
static const char *prop_value(const char *tok, const char *name)
{
	size_t n = strlen(name);

	return strncmp(tok, name, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

static bool parse_ulong(const char *s, unsigned long *v)
{
	char *end = NULL;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno == 0 && end && *end == '\0';
}

/* A pair of on/off properties (a=on|off, b=on|off) into 0 unset, 1 off,
 * 2 on: 1 taken, 0 neither name, -1 a bad value (*why = bad). */
static int onoff_prop(const char *tok, const char *a, uint8_t *da, const char *b, uint8_t *db, const char *bad,
                      const char **why)
{
	const char *v = prop_value(tok, a);
	uint8_t *dst = da;
	bool on;

	if (!v) {
		v = prop_value(tok, b);
		dst = db;
	}
	if (!v)
		return 0;
	if (!parse_onoff(v, &on)) {
		*why = bad;
		return -1;
	}
	*dst = on ? 2 : 1;
	return 1;
}

int hx_blk_prop(struct hx_blk_opts *o, const char *tok, const char **why)
{
	const char *v;
	unsigned long n = 0;

	if ((v = prop_value(tok, "logical_block_size")) || (v = prop_value(tok, "physical_block_size"))) {
		if (!parse_ulong(v, &n) || !block_size_ok(n)) {
			*why = "a block size is a power of two from 512 to 65536";
			return -1;
		}
		if (tok[0] == 'l')
			o->logical_block_size = (uint32_t)n;
		else
			o->physical_block_size = (uint32_t)n;
		return 1;
	}
	int rc;
	if ((rc = onoff_prop(tok, "config-wce", &o->config_wce, "write-cache", &o->write_cache,
	                     "config-wce and write-cache take on or off", why)) ||
	    (rc = onoff_prop(tok, "discard", &o->discard, "write-zeroes", &o->write_zeroes,
	                     "discard and write-zeroes take on or off", why)))
		return rc;
	if ((v = prop_value(tok, "max-discard-sectors")) || (v = prop_value(tok, "max-write-zeroes-sectors"))) {
		/* QEMU refuses 0 and anything above BDRV_REQUEST_MAX_SECTORS. */
		if (!parse_ulong(v, &n) || n < 1 || n > 0x3fffff) {
			*why = "max-discard-sectors and max-write-zeroes-sectors are 1 to 0x3fffff";
			return -1;
		}
		if (tok[4] == 'd')
			o->max_discard_sectors = (uint32_t)n;
		else
			o->max_write_zeroes_sectors = (uint32_t)n;
		return 1;
	}
	if ((v = prop_value(tok, "num-queues"))) {
		/* QEMU takes up to 1024; the model serves 8 (DM_MAX_QUEUES is
		 * more, for virtio-net's pairs and control queue). */
		if (!parse_ulong(v, &n) || n < 1 || n > 8) {
			_Static_assert(DM_MAX_QUEUES >= 8, "num-queues names 8");
			*why = "num-queues is 1 to 8 (the queues the model serves)";
			return -1;
		}
		o->num_queues = (uint16_t)n;
		return 1;
	}
	if ((v = prop_value(tok, "queue-size"))) {
		if (!parse_ulong(v, &n) || n < 4 || n > 1024 || (n & (n - 1))) {
			*why = "queue-size is a power of two from 4 to 1024";
			return -1;
		}
		o->queue_size = (uint16_t)n;
		return 1;
	}
	return 0;
}

static unsigned log2u(uint32_t v)
{
	unsigned e = 0;

	while (v > 1) {
		v >>= 1;
		e++;
	}
	return e;
}

void hx_blk_opts_cfg(const struct hx_blk_opts *o, struct dm_blk_cfg *cfg)
{
	if (o->cfg_set)
		*cfg = o->cfg;
	else if (o->qemu_profile)
		hx_blk_cfg_qemu72(cfg, o->transport);
	else
		dm_blk_cfg_default(cfg);
	if (o->read_only)
		cfg->features |= VLAB_BIT(VIRTIO_BLK_F_RO);
	cfg->features = (cfg->features | o->features_on) & ~o->features_off;
	/* QEMU's block sizes: blk_size is the logical one, the topology's
	 * physical_block_exp the physical one's power of two above it, and
	 * the discard granularity (by default) one logical block. */
	if (o->logical_block_size) {
		cfg->features |= VLAB_BIT(VIRTIO_BLK_F_BLK_SIZE);
		cfg->blk_size = o->logical_block_size;
		cfg->discard_sector_alignment = o->logical_block_size / 512;
		/* The sectors per track rounded down to whole logical blocks
		 * (63 -> 56 with 4096-byte blocks); the cylinders as they were. */
		cfg->sectors = (uint8_t)(cfg->sectors & ~(o->logical_block_size / 512 - 1u));
	}
	/* QEMU's queue-size: the size its virtio-pci shows (its virtio-mmio
	 * shows 1024 whatever it is), and seg_max two below it. */
	if (o->queue_size) {
		cfg->seg_max = o->queue_size - 2u;
		if (hx_transport_is_pci(o->transport))
			cfg->queue_num_max = o->queue_size;
	}
	/* QEMU's config-wce (the feature) and write-cache (the cache's
	 * initial mode, the writeback field). */
	if (o->config_wce)
		cfg->features = o->config_wce == 2 ? cfg->features | VLAB_BIT(VIRTIO_BLK_F_CONFIG_WCE)
		                              : cfg->features & ~VLAB_BIT(VIRTIO_BLK_F_CONFIG_WCE);
	if (o->write_cache)
		cfg->writeback = o->write_cache == 2;
	/* QEMU's num-queues: MQ offered only above one queue. */
	if (o->num_queues) {
		cfg->num_queues = o->num_queues;
		cfg->features = o->num_queues > 1 ? cfg->features | VLAB_BIT(VIRTIO_BLK_F_MQ)
		                                  : cfg->features & ~VLAB_BIT(VIRTIO_BLK_F_MQ);
	}
	if (o->physical_block_size && o->physical_block_size > cfg->blk_size)
		cfg->physical_block_exp = (uint8_t)log2u(o->physical_block_size / cfg->blk_size);
	/* QEMU's discard and write-zeroes (the features, with its limits:
	 * one segment, BDRV_REQUEST_MAX_SECTORS, one logical block of
	 * alignment, may unmap) and max-*-sectors. */
	if (o->discard) {
		cfg->features = o->discard == 2 ? cfg->features | VLAB_BIT(VIRTIO_BLK_F_DISCARD)
		                                : cfg->features & ~VLAB_BIT(VIRTIO_BLK_F_DISCARD);
		if (o->discard == 2 && !cfg->max_discard_seg) {
			cfg->max_discard_sectors = 0x3fffff;
			cfg->max_discard_seg = 1;
			cfg->discard_sector_alignment = cfg->blk_size >= 512 ? cfg->blk_size / 512 : 1;
		}
	}
	if (o->write_zeroes) {
		cfg->features = o->write_zeroes == 2 ? cfg->features | VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES)
		                                     : cfg->features & ~VLAB_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
		if (o->write_zeroes == 2 && !cfg->max_write_zeroes_seg) {
			cfg->max_write_zeroes_sectors = 0x3fffff;
			cfg->max_write_zeroes_seg = 1;
			cfg->write_zeroes_may_unmap = 1;
		}
	}
	if (o->max_discard_sectors)
		cfg->max_discard_sectors = o->max_discard_sectors;
	if (o->max_write_zeroes_sectors)
		cfg->max_write_zeroes_sectors = o->max_write_zeroes_sectors;
}

struct hx_dev *hx_add_blk(struct hx_machine *m, const struct hx_blk_opts *o, const char **err)
{
	struct hx_blk_opts def;
	if (!o) {
		hx_blk_opts_default(&def);
		o = &def;
	}
	if (!o->image && o->ram_bytes % 512 != 0) {
		set_err(m, err, "RAM disk size %llu is not a multiple of 512 bytes",
		        (unsigned long long)o->ram_bytes);
		return NULL;
	}

	struct dm_blk_cfg cfg;
	hx_blk_opts_cfg(o, &cfg);
	if (o->physical_block_size && o->physical_block_size < cfg.blk_size) {
		set_err(m, err, "physical_block_size %u is below the logical block size %u",
		        (unsigned)o->physical_block_size, (unsigned)cfg.blk_size);
		return NULL;
	}

	struct hx_dev *d = calloc(1, sizeof *d);
	if (!d) {
		set_err(m, err, "out of memory");
		return NULL;
	}
	struct dm_store *st = open_store(m, o, err);
	if (!st) {
		free(d);
		return NULL;
	}
	char name[24];
	snprintf(name, sizeof name, "blk%u", m->nblk);
	/* The store belongs to the device from here on. */
	struct dm_blk *b = dm_blk_new(&cfg, st, &m->env, name);
	if (!b) {
		set_err(m, err, "%s: the device model refused the configuration", name);
		if (st->close)
			st->close(st);
		free(d);
		return NULL;
	}
	d->device_id = b->dv.ops ? b->dv.ops->device_id : VIRTIO_ID_BLOCK;
	d->dv = &b->dv;
	d->blk = b;
	if (hx_attach(m, d, o->transport, err) != 0) {
		dm_blk_free(b);
		free(d);
		return NULL;
	}
	m->nblk++;
	return d;
}

bool hx_transport_is_pci(enum hx_transport t)
{
	return t == HX_PCI_LEGACY || t == HX_PCI_TRANSITIONAL || t == HX_PCI;
}

void hx_qemu72_transport(uint64_t *features, uint16_t *queue_num_max, enum hx_transport t)
{
	/* QEMU's virtio-pci shows a queue's size (the device's queue-size,
	 * 256), where its virtio-mmio shows VIRTQUEUE_MAX_SIZE (1024). */
	if (hx_transport_is_pci(t))
		*queue_num_max = 256;
	/* Its legacy PCI interface also offers BAD_FEATURE (bit 30), which
	 * its virtio-mmio does not (seen on QEMU 7.2; docs/qemu-profile.md). */
	if (t == HX_PCI_LEGACY)
		*features |= VLAB_BIT(30);
}

void hx_blk_cfg_qemu72(struct dm_blk_cfg *c, enum hx_transport t)
{
	dm_blk_cfg_qemu72(c, hx_transport_legacy_only(t));
	hx_qemu72_transport(&c->features, &c->queue_num_max, t);
}

bool hx_transport_legacy_only(enum hx_transport t)
{
	return t == HX_MMIO_LEGACY || t == HX_PCI_LEGACY;
}

static int attach_mmio(struct hx_machine *m, struct hx_dev *d, enum hx_transport t, const char **err)
{
	struct hx_slot *slot = free_slot(m);
	if (!slot) {
		set_err(m, err, "no free virtio-mmio slot (all %u in use)", HX_MMIO_SLOTS);
		return -1;
	}
	const bool legacy = t == HX_MMIO_LEGACY;
	const struct dm_mmio_cfg mcfg = {.version = legacy ? 1 : 2, .vendor_id = HX_MMIO_VENDOR_ID};
	d->dv->irq_line = 1 + slot->index;
	d->dv->legacy = legacy;
	d->base = slot->base;
	d->slot = slot->index;
	d->irq_line = d->dv->irq_line;
	dm_mmio_init(&d->mmio, &mcfg, d->dv);
	slot->dev = d;
	return 0;
}

int hx_attach(struct hx_machine *m, struct hx_dev *d, enum hx_transport t, const char **err)
{
	int rc;
	switch (t) {
	case HX_MMIO_LEGACY:
	case HX_MMIO:
		rc = attach_mmio(m, d, t, err);
		break;
	case HX_PCI_LEGACY:
	case HX_PCI_TRANSITIONAL:
	case HX_PCI:
		rc = hx_pci_attach(m, d, t, err);
		break;
	default:
		set_err(m, err, "transport %s is not supported", hx_transport_name(t));
		return -1;
	}
	if (rc != 0)
		return rc;
	d->transport = t;
	d->index = m->ndevs;
	if (!push_dev(m, d)) {
		set_err(m, err, "out of memory");
		/* Undo the attachment: the slot is free again. */
		for (unsigned i = 0; i < HX_MMIO_SLOTS; i++)
			if (m->slots[i].dev == d)
				m->slots[i].dev = NULL;
		hx_pci_dev_free(m, d);
		return -1;
	}
	return 0;
}

unsigned hx_ndevs(struct hx_machine *m)
{
	return m->ndevs;
}

unsigned hx_count_devs(struct hx_machine *m, uint32_t device_id)
{
	unsigned c = 0;
	for (unsigned i = 0; i < m->ndevs; i++)
		if (m->devs[i]->device_id == device_id)
			c++;
	return c;
}

struct hx_dev *hx_dev_at(struct hx_machine *m, unsigned i)
{
	return i < m->ndevs ? m->devs[i] : NULL;
}

void hx_devices_free(struct hx_machine *m)
{
	for (unsigned i = 0; i < m->ndevs; i++) {
		struct hx_dev *d = m->devs[i];
		hx_pci_dev_free(m, d); /* gives the device its env back first */
		if (d->blk)
			dm_blk_free(d->blk);
		if (d->net)
			dm_net_free(d->net);
		dm_rng_free(d->rng);
		free(d);
	}
	for (unsigned i = 0; i < HX_MMIO_SLOTS; i++)
		m->slots[i].dev = NULL;
	free(m->devs);
	m->devs = NULL;
	m->ndevs = m->capdevs = 0;
	hx_pci_free(m);
}
