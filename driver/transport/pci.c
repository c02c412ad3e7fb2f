/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci probe: identify the function (4.1.2), set up its BARs, walk
 * its capability list for the virtio structures (4.1.4) and choose the
 * interface.  The list is the device's: the walk is bounded, a pointer
 * into the header or a capability running past config space is an error,
 * each structure must lie inside an implemented BAR, and no two structures
 * (nor one and a transitional device's legacy registers) may overlap.
 */
#include "pci_priv.h"

#if VLAB_CFG_PCI /* vlab/config.h */

/* At most this many capabilities fit in the 192 bytes after the header
 * (4 bytes each at least): more means the list loops. */
#define CAP_WALK_MAX 48
#define CAP_AREA_FIRST 0x40u
#define VIRTIO_CAP_LEN 16u
#define NOTIFY_CAP_LEN 20u

uint32_t vlab_pci_virtio_type(const struct vlab_pci_func *f)
{
	/* DRV-4.1.2.2-1/2; the revision is not looked at (DRV-4.1.2.2-3). */
	if (f->vendor != VIRTIO_PCI_VENDOR)
		return 0;
	if (f->device >= VIRTIO_PCI_MODERN_FIRST && f->device <= VIRTIO_PCI_MODERN_LAST)
		return f->device - VIRTIO_PCI_MODERN_FIRST;
	if (f->device >= VIRTIO_PCI_TRANSITIONAL_FIRST && f->device <= VIRTIO_PCI_TRANSITIONAL_LAST)
		return f->subsys_id; /* the virtio type of a transitional device (4.1.2.1) */
	return 0;
}

static uint32_t cfg(struct vlab_pci *p, uint16_t off, unsigned width)
{
	return vlab_pci_cfg_read(p->host, p->id.bus, p->id.dev, p->id.fn, off, width);
}

static int malformed(struct vlab_pci *p, const char *why, unsigned pos)
{
	vlab_log(p->vdev.plat, VLAB_LOG_ERROR, "%s: malformed capability list at 0x%02x: %s", p->name,
	         pos, why);
	return VLAB_EPROTO;
}

static struct vlab_pci_region *region_for(struct vlab_pci *p, uint8_t type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG: return &p->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG: return &p->notify;
	case VIRTIO_PCI_CAP_ISR_CFG: return &p->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG: return &p->device;
	default: return NULL; /* PCI_CFG, shared memory, vendor data: not used */
	}
}

static int vendor_cap(struct vlab_pci *p, unsigned pos)
{
	if (pos + VIRTIO_CAP_LEN > VLAB_PCI_CFG_SIZE)
		return malformed(p, "virtio capability runs past the end of config space", pos);
	uint8_t cap_len = (uint8_t)cfg(p, (uint16_t)(pos + 2), 1);
	uint8_t type = (uint8_t)cfg(p, (uint16_t)(pos + 3), 1);
	uint8_t bar = (uint8_t)cfg(p, (uint16_t)(pos + 4), 1);

	struct vlab_pci_region *r = region_for(p, type);
	/* DRV-4.1.4.1-1: unknown cfg_type skipped. */
	if (!r)
		return VLAB_OK;
	/* DRV-4.1.4.1-4: a reserved BAR number skipped. */
	if (bar >= VLAB_PCI_NBARS)
		return VLAB_OK;
	/* DRV-4.1.4.1-2: the first instance of each type. */
	if (r->present)
		return VLAB_OK;
	/* DRV-4.1.4.1-3/6: longer is fine; shorter than the fields it must
	 * hold is not a capability we can use. */
	unsigned need = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? NOTIFY_CAP_LEN : VIRTIO_CAP_LEN;
	if (cap_len < need)
		return malformed(p, "cap_len shorter than the virtio capability", pos);
	if (pos + need > VLAB_PCI_CFG_SIZE)
		return malformed(p, "virtio capability runs past the end of config space", pos);
	r->bar = bar;
	r->cap = (uint8_t)pos;
	r->off = cfg(p, (uint16_t)(pos + 8), 4);
	r->len = cfg(p, (uint16_t)(pos + 12), 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		p->notify_mult = cfg(p, (uint16_t)(pos + 16), 4);
	r->present = true;
	return VLAB_OK;
}

static int walk_caps(struct vlab_pci *p)
{
	uint8_t seen[VLAB_PCI_CFG_SIZE / 4 / 8] = {0};

	if (!(cfg(p, VLAB_PCI_STATUS, 2) & VLAB_PCI_STATUS_CAP_LIST))
		return VLAB_OK; /* no capabilities: a legacy-only device */
	/* The bottom two bits of every pointer are reserved (PCI 3.0, 6.7). */
	unsigned pos = cfg(p, VLAB_PCI_CAP_PTR, 1) & 0xfcu;
	for (unsigned n = 0; pos != 0; n++) {
		if (n >= CAP_WALK_MAX)
			return malformed(p, "too many capabilities (the list loops)", pos);
		if (pos < CAP_AREA_FIRST)
			return malformed(p, "capability pointer into the header", pos);
		if (seen[pos / 32] & (1u << (pos / 4 % 8)))
			return malformed(p, "capability list loops", pos);
		seen[pos / 32] |= (uint8_t)(1u << (pos / 4 % 8));

		uint8_t id = (uint8_t)cfg(p, (uint16_t)pos, 1);
		uint8_t next = (uint8_t)cfg(p, (uint16_t)(pos + 1), 1);
		if (id == VLAB_PCI_CAP_ID_VNDR) {
			int rc = vendor_cap(p, pos);
			if (rc != 0)
				return rc;
		} else if (id == VLAB_PCI_CAP_ID_MSIX && p->msix_cap == 0) {
			if (pos + 12 > VLAB_PCI_CFG_SIZE)
				return malformed(p, "MSI-X capability runs past the end of config space", pos);
			p->msix_cap = (uint8_t)pos;
			/* DRV-4.1.5.1.2.2-1: any table size 0..0x7ff works. */
			p->msix_vectors = (uint16_t)((cfg(p, (uint16_t)(pos + 2), 2) & 0x7ffu) + 1);
		}
		pos = next & 0xfcu;
	}
	return VLAB_OK;
}

/* A structure inside its BAR, with the length its use needs. */
static int check_region(struct vlab_pci *p, struct vlab_pci_region *r, const char *what,
                        uint32_t min_len)
{
	if (!r->present)
		return VLAB_OK;
	const struct vlab_pci_bar *b = &p->bar[r->bar];
	if (b->size == 0) {
		vlab_log(p->vdev.plat, VLAB_LOG_ERROR, "%s: %s structure in BAR %u, which has size 0",
		         p->name, what, r->bar);
		return VLAB_EPROTO;
	}
	if ((uint64_t)r->off + r->len > b->size) {
		vlab_log(p->vdev.plat, VLAB_LOG_ERROR,
		         "%s: %s structure 0x%x+0x%x beyond BAR %u (0x%llx bytes)", p->name, what, (unsigned)r->off,
		         (unsigned)r->len, r->bar, (unsigned long long)b->size);
		return VLAB_EPROTO;
	}
	if (r->len < min_len) {
		vlab_log(p->vdev.plat, VLAB_LOG_ERROR, "%s: %s structure of %u bytes, need %u", p->name,
		         what, (unsigned)r->len, (unsigned)min_len);
		return VLAB_EPROTO;
	}
	return VLAB_OK;
}

/* One register range in a BAR, for the overlap check. */
struct span {
	const char *what;
	uint8_t bar;
	uint64_t off, len;
};

static void add_span(struct span *s, unsigned *n, const char *what, const struct vlab_pci_region *r)
{
	if (r->present && r->len > 0)
		s[(*n)++] = (struct span){what, r->bar, r->off, r->len};
}

/*
 * No structure on top of another: a write meant for one would land in the
 * other (a device-config write on the legacy QueuePFN or QueueNotify, a
 * notify on the common configuration).  The legacy register block of a
 * transitional device counts too: the header at the start of its I/O
 * BAR 0, 0x18 bytes when it has MSI-X (the two vector fields), else 0x14.
 * BARs themselves never overlap (vlab_pci_setup_function).
 */
static int check_disjoint(struct vlab_pci *p)
{
	struct span s[5];
	unsigned n = 0;
	add_span(s, &n, "common configuration", &p->common);
	add_span(s, &n, "notify", &p->notify);
	add_span(s, &n, "ISR", &p->isr);
	add_span(s, &n, "device configuration", &p->device);
	if (p->transitional && p->bar[0].io)
		s[n++] = (struct span){"legacy header", 0, 0,
		                       p->msix_cap ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG};
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++) {
			if (s[i].bar != s[j].bar || s[i].off >= s[j].off + s[j].len ||
			    s[j].off >= s[i].off + s[i].len)
				continue;
			vlab_log(p->vdev.plat, VLAB_LOG_ERROR,
			         "%s: %s structure 0x%llx+0x%llx overlaps the %s structure 0x%llx+0x%llx in BAR %u",
			         p->name, s[i].what, (unsigned long long)s[i].off, (unsigned long long)s[i].len,
			         s[j].what, (unsigned long long)s[j].off, (unsigned long long)s[j].len, s[i].bar);
			return VLAB_EPROTO;
		}
	return VLAB_OK;
}

static int check_modern(struct vlab_pci *p)
{
	int rc;
	if (!p->common.present) {
		vlab_log(p->vdev.plat, VLAB_LOG_ERROR, "%s: no common configuration capability", p->name);
		return VLAB_EPROTO;
	}
	if (!p->notify.present || !p->isr.present) {
		vlab_log(p->vdev.plat, VLAB_LOG_ERROR, "%s: no %s capability", p->name,
		         p->notify.present ? "ISR" : "notify");
		return VLAB_EPROTO;
	}
	if ((rc = check_region(p, &p->common, "common configuration", VIRTIO_PCI_COMMON_MIN_LEN)) ||
	    (rc = check_region(p, &p->notify, "notify", 2)) ||
	    (rc = check_region(p, &p->isr, "ISR", 1)) ||
	    (rc = check_region(p, &p->device, "device configuration", 0)))
		return rc;
	return check_disjoint(p);
}

int vlab_pci_probe(struct vlab_pci *p, struct vlab_pci_host *h, uint8_t bus, uint8_t dev,
                   uint8_t fn, unsigned flags)
{
	if (!p || !h || !h->plat || !h->plat->ops || dev >= 32 || fn >= 8)
		return VLAB_EINVAL;
	vlab_memset(p, 0, sizeof(*p));
	p->host = h;
	p->vdev.plat = h->plat;
	p->id.bus = bus;
	p->id.dev = dev;
	p->id.fn = fn;
#if VLAB_CFG_LOG
	vlab_snprintf(p->name, sizeof(p->name), "pci %02x:%02x.%x", bus, dev, fn);
#else
	vlab_memcpy(p->name, "pci", 4); /* the name is for log lines */
#endif
	p->vdev.name = p->name;

	uint32_t id = cfg(p, VLAB_PCI_VENDOR_ID, 4);
	uint32_t ss = cfg(p, VLAB_PCI_SUBSYS_VENDOR, 4);
	uint32_t cr = cfg(p, VLAB_PCI_REVISION, 4);
	p->id.vendor = (uint16_t)id;
	p->id.device = (uint16_t)(id >> 16);
	p->id.subsys_vendor = (uint16_t)ss;
	p->id.subsys_id = (uint16_t)(ss >> 16);
	p->id.revision = (uint8_t)cr;
	p->id.class_code = cr >> 8;
	uint32_t type = vlab_pci_virtio_type(&p->id);
	if (type == 0)
		return VLAB_ENODEV;
	p->transitional = p->id.device <= VIRTIO_PCI_TRANSITIONAL_LAST;

	int rc = vlab_pci_setup_function(h, bus, dev, fn, p->bar);
	if (rc != 0)
		return rc;
	rc = walk_caps(p);
	if (rc != 0)
		return rc;

	bool has_modern = p->common.present || p->notify.present || p->isr.present;
	bool has_legacy = p->transitional && p->bar[0].io && p->bar[0].size >= 0x20;
	bool use_legacy;
	if (has_legacy && (flags & VLAB_PCI_FORCE_LEGACY))
		use_legacy = true;
	else if (has_modern || !p->transitional)
		use_legacy = false; /* a transitional device: its modern interface */
	else
		use_legacy = true;

	if (use_legacy) {
		if (!has_legacy) {
			vlab_log(h->plat, VLAB_LOG_ERROR, "%s: transitional device without a legacy I/O BAR",
			         p->name);
			return VLAB_EPROTO;
		}
		/* Also refused when compiled out (VLAB_CFG_PCI_LEGACY, vlab/config.h). */
		if (!VLAB_CFG_PCI_LEGACY || !(flags & (VLAB_PCI_ALLOW_LEGACY | VLAB_PCI_FORCE_LEGACY))) {
			vlab_log(h->plat, VLAB_LOG_INFO, "%s: legacy virtio-pci device not enabled", p->name);
			return VLAB_ENOTSUP;
		}
#if VLAB_CFG_PCI_LEGACY
		p->modern = false;
		p->vdev.ops = &vlab_pci_legacy_ops;
		p->vdev.legacy = true;
		p->vdev.legacy_align = VIRTIO_PCI_LEGACY_ALIGN;
#endif
	} else {
		rc = check_modern(p);
		if (rc != 0)
			return rc;
		p->modern = true;
		p->vdev.ops = &vlab_pci_modern_ops;
	}
	p->msix_ok = p->modern && p->msix_vectors > 0;
	p->vdev.transport = p;
	p->vdev.device_id = type;
	/* The virtio vendor of a PCI device: its subsystem vendor (as
	 * U-Boot's virtio_pci does). */
	p->vdev.vendor_id = p->id.subsys_vendor;
	return VLAB_OK;
}
#else
typedef int vlab_transport_pci_compiled_out; /* ISO C: no empty translation unit */
#endif
