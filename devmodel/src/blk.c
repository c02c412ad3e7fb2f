/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk device (5.2): config space, request processing, and the checks
 * of the driver's requests (5.2.6.1).
 */
#include "devmodel/blk.h"

#include <stdlib.h>
#include <string.h>

#include "devmodel/spec.h"

/* Config layout (5.2.4) beyond what vlab/blk.h names. */
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_SECTOR_ALIGNMENT 44
#define CFG_MAX_WRITE_ZEROES_SECTORS 48
#define CFG_MAX_WRITE_ZEROES_SEG 52
#define CFG_WRITE_ZEROES_MAY_UNMAP 56
#define CFG_BYTES 60
/* Size without DISCARD/WRITE_ZEROES, as QEMU sizes it (up to num_queues). */
#define CFG_BASE_LEN 36

#define BLK_HDR_BYTES 16u
#define IO_CHUNK 65536u

void dm_blk_cfg_default(struct dm_blk_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->features = DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_BLK_F_SEG_MAX) |
	              DM_BIT(DM_VIRTIO_BLK_F_BLK_SIZE) | DM_BIT(DM_VIRTIO_BLK_F_FLUSH);
	c->blk_size = 512;
	c->seg_max = 126;
	c->num_queues = 1;
	c->queue_num_max = 256;
	strcpy(c->serial, "vlab-blk");
}

/* QEMU 7.2 virtio-blk on virtio-mmio, defaults; see docs/qemu-profile.md. */
void dm_blk_cfg_qemu72(struct dm_blk_cfg *c, bool legacy)
{
	memset(c, 0, sizeof *c);
	c->features = DM_BIT(DM_VIRTIO_BLK_F_SEG_MAX) | DM_BIT(DM_VIRTIO_BLK_F_GEOMETRY) |
	              DM_BIT(DM_VIRTIO_BLK_F_BLK_SIZE) | DM_BIT(DM_VIRTIO_BLK_F_FLUSH) |
	              DM_BIT(DM_VIRTIO_BLK_F_TOPOLOGY) | DM_BIT(DM_VIRTIO_BLK_F_CONFIG_WCE) |
	              DM_BIT(DM_VIRTIO_BLK_F_DISCARD) | DM_BIT(DM_VIRTIO_BLK_F_WRITE_ZEROES) |
	              DM_BIT(DM_VIRTIO_F_RING_INDIRECT_DESC) | DM_BIT(DM_VIRTIO_F_RING_EVENT_IDX);
	if (legacy) {
		/* Legacy: NOTIFY_ON_EMPTY stays, ANY_LAYOUT is cleared by
		 * virtio-blk, SCSI (bit 7) is added; only 32 bits are visible. */
		c->features |= DM_BIT(DM_VIRTIO_F_NOTIFY_ON_EMPTY) | DM_BIT(7);
	} else {
		/* Modern: legacy-only bits (NOTIFY_ON_EMPTY, ANY_LAYOUT) hidden. */
		c->features |= DM_BIT(DM_VIRTIO_F_VERSION_1) | DM_BIT(DM_VIRTIO_F_RING_RESET);
	}
	c->blk_size = 512;
	c->seg_max = 256 - 2;        /* seg-max-adjust: queue-size - 2 */
	c->cylinders = 0;            /* derived from the capacity (16 heads, 63 sectors) */
	c->heads = 16;
	c->sectors = 63;
	c->physical_block_exp = 0;
	c->alignment_offset = 0;
	c->min_io_size = 0;
	c->opt_io_size = 0;
	c->writeback = 1;            /* cache=writeback */
	c->num_queues = 1;
	c->serial[0] = '\0';         /* no serial property: GET_ID answers "" */
	c->queue_num_max = 1024;     /* VIRTQUEUE_MAX_SIZE, what virtio-mmio reports */
	c->max_discard_sectors = 0x3fffff;      /* BDRV_REQUEST_MAX_SECTORS */
	c->max_discard_seg = 1;
	c->discard_sector_alignment = 1;        /* 512-byte granularity in sectors */
	c->max_write_zeroes_sectors = 0x3fffff;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;
}

static uint64_t capacity_sectors(const struct dm_blk *b)
{
	uint64_t cap = b->store ? b->store->size / DM_VIRTIO_BLK_SECTOR_SIZE : 0;

	/* DM_FAULT_CAPACITY_CHANGE (or _TEAR): once it fired, the device reports its
	 * value (the last such fault in the table that fired wins); sectors
	 * beyond the store fail with IOERR. */
	for (unsigned i = 0; i < b->dv.nfaults; i++)
		if ((b->dv.faults[i].kind == DM_FAULT_CAPACITY_CHANGE ||
		     b->dv.faults[i].kind == DM_FAULT_CAPACITY_TEAR) &&
		    b->dv.faults[i].fired)
			cap = b->dv.faults[i].value;
	return cap;
}

static bool offered(const struct dm_blk *b, unsigned bit)
{
	return (b->dv.host_features >> bit) & 1u;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void build_config(const struct dm_blk *b, uint8_t cfg[CFG_BYTES])
{
	const struct dm_blk_cfg *c = &b->cfg;
	uint16_t cyl = c->cylinders;

	memset(cfg, 0, CFG_BYTES); /* DEV-5.2.5.2-4: unused0/unused1 are 0 */
	put_le(cfg + DM_VIRTIO_BLK_CFG_CAPACITY, capacity_sectors(b), 8);
	put_le(cfg + DM_VIRTIO_BLK_CFG_SIZE_MAX, c->size_max, 4);
	put_le(cfg + DM_VIRTIO_BLK_CFG_SEG_MAX, c->seg_max, 4);
	if (cyl == 0 && offered(b, DM_VIRTIO_BLK_F_GEOMETRY)) {
		uint64_t cyls = capacity_sectors(b) / (16 * 63);
		cyl = (uint16_t)(cyls > 16383 ? 16383 : cyls < 2 ? 2 : cyls);
	}
	put_le(cfg + DM_VIRTIO_BLK_CFG_GEOMETRY, cyl, 2);
	cfg[DM_VIRTIO_BLK_CFG_GEOMETRY + 2] = c->heads;
	cfg[DM_VIRTIO_BLK_CFG_GEOMETRY + 3] = c->sectors;
	put_le(cfg + DM_VIRTIO_BLK_CFG_BLK_SIZE, c->blk_size, 4);
	cfg[DM_VIRTIO_BLK_CFG_TOPOLOGY] = c->physical_block_exp;
	cfg[DM_VIRTIO_BLK_CFG_TOPOLOGY + 1] = c->alignment_offset;
	put_le(cfg + DM_VIRTIO_BLK_CFG_TOPOLOGY + 2, c->min_io_size, 2);
	put_le(cfg + DM_VIRTIO_BLK_CFG_TOPOLOGY + 4, c->opt_io_size, 4);
	cfg[DM_VIRTIO_BLK_CFG_WRITEBACK] = b->writeback;
	put_le(cfg + DM_VIRTIO_BLK_CFG_NUM_QUEUES,
	       c->num_queues_lies ? c->num_queues_claimed : c->num_queues ? c->num_queues : 1, 2);
	put_le(cfg + CFG_MAX_DISCARD_SECTORS, c->max_discard_sectors, 4);
	put_le(cfg + CFG_MAX_DISCARD_SEG, c->max_discard_seg, 4);
	put_le(cfg + CFG_DISCARD_SECTOR_ALIGNMENT, c->discard_sector_alignment, 4);
	put_le(cfg + CFG_MAX_WRITE_ZEROES_SECTORS, c->max_write_zeroes_sectors, 4);
	put_le(cfg + CFG_MAX_WRITE_ZEROES_SEG, c->max_write_zeroes_seg, 4);
	cfg[CFG_WRITE_ZEROES_MAY_UNMAP] = c->write_zeroes_may_unmap;
}

static uint32_t blk_config_len(void *dev)
{
	struct dm_blk *b = dev;
	uint32_t len = CFG_BASE_LEN;
	if (offered(b, DM_VIRTIO_BLK_F_DISCARD))
		len = CFG_DISCARD_SECTOR_ALIGNMENT + 4;
	if (offered(b, DM_VIRTIO_BLK_F_WRITE_ZEROES))
		len = CFG_WRITE_ZEROES_MAY_UNMAP + 1;
	return len;
}

static uint32_t blk_config_read(void *dev, uint32_t off, unsigned width)
{
	struct dm_blk *b = dev;
	uint8_t cfg[CFG_BYTES];
	uint32_t v = 0;

	/* DRV-2.5.1-3: the fields of 5.2.4 that exist only with a feature. */
	static const struct dm_cfg_field optional[] = {
		{DM_VIRTIO_BLK_CFG_SIZE_MAX, 4, DM_VIRTIO_BLK_F_SIZE_MAX},
		{DM_VIRTIO_BLK_CFG_SEG_MAX, 4, DM_VIRTIO_BLK_F_SEG_MAX},
		{DM_VIRTIO_BLK_CFG_GEOMETRY, 4, DM_VIRTIO_BLK_F_GEOMETRY},
		{DM_VIRTIO_BLK_CFG_BLK_SIZE, 4, DM_VIRTIO_BLK_F_BLK_SIZE},
		{DM_VIRTIO_BLK_CFG_TOPOLOGY, 8, DM_VIRTIO_BLK_F_TOPOLOGY},
		{DM_VIRTIO_BLK_CFG_WRITEBACK, 1, DM_VIRTIO_BLK_F_CONFIG_WCE},
		{DM_VIRTIO_BLK_CFG_NUM_QUEUES, 2, DM_VIRTIO_BLK_F_MQ},
		{CFG_MAX_DISCARD_SECTORS, 12, DM_VIRTIO_BLK_F_DISCARD},
		{CFG_MAX_WRITE_ZEROES_SECTORS, 9, DM_VIRTIO_BLK_F_WRITE_ZEROES},
	};
	dm_virtio_check_cfg_read(&b->dv, optional, sizeof optional / sizeof optional[0], off, width);
	/* DM_FAULT_CAPACITY_TEAR: the capacity changes between its halves
	 * (DRV-2.5.1-1: the driver must not take two reads as one). */
	if (off == DM_VIRTIO_BLK_CFG_CAPACITY + 4 && dm_virtio_fault_hit(&b->dv, DM_FAULT_CAPACITY_TEAR, -1))
		dm_virtio_config_changed(&b->dv);
	if (off <= DM_VIRTIO_BLK_CFG_WRITEBACK && off + width > DM_VIRTIO_BLK_CFG_WRITEBACK &&
	    offered(b, DM_VIRTIO_BLK_F_CONFIG_WCE) && !b->dv.legacy) {
		/* Its value depends on the features: not before FEATURES_OK
		 * (which a legacy interface does not have). */
		dm_virtio_checked(&b->dv, "DRV-5.2.5.1-4");
		if (!(b->dv.driver_status & DM_VIRTIO_STATUS_FEATURES_OK))
			dm_virtio_violation(&b->dv, "DRV-5.2.5.1-4", "writeback read before FEATURES_OK");
	}
	build_config(b, cfg);
	for (unsigned i = 0; i < width && off + i < CFG_BYTES; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void blk_config_write(void *dev, uint32_t off, unsigned width, uint32_t val)
{
	struct dm_blk *b = dev;
	(void)width;
	/* Only writeback is writable, with CONFIG_WCE (5.2.6.1-11). */
	if (off == DM_VIRTIO_BLK_CFG_WRITEBACK && offered(b, DM_VIRTIO_BLK_F_CONFIG_WCE) && !b->cfg.writeback_fixed)
		b->writeback = (uint8_t)(val & 0xff) ? 1 : 0;
}

static void blk_reset(void *dev)
{
	struct dm_blk *b = dev;
	b->writeback = b->cfg.writeback;
	/* DEV-5.2.5.2-3: with CONFIG_WCE but not FLUSH, writeback starts at 0. */
	if (offered(b, DM_VIRTIO_BLK_F_CONFIG_WCE) && !offered(b, DM_VIRTIO_BLK_F_FLUSH))
		b->writeback = 0;
}

static void blk_features_ok(void *dev, uint64_t features)
{
	struct dm_blk *b = dev;
	if (offered(b, DM_VIRTIO_BLK_F_RO)) {
		dm_virtio_checked(&b->dv, "DRV-5.2.6.1-2");
		if (!((features >> DM_VIRTIO_BLK_F_RO) & 1u))
			dm_virtio_violation(&b->dv, "DRV-5.2.6.1-2",
			                    "VIRTIO_BLK_F_RO offered but not accepted");
	}
}

static uint32_t handle(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c);

/* DM_FAULT_DELAY (dm_virtio_defer): a slow device takes the request now and
 * moves the data, writes the status and completes it later, as a real
 * device may (2.7.13: the buffers are the device's until it returns them). */
static void delayed_fire(struct dm_virtio *dv, struct dm_vq *vq, const struct dm_chain *c)
{
	dm_vq_push(vq, c->head, handle(dv->dev, vq, c));
}

static void complete(struct dm_blk *b, struct dm_vq *vq, uint16_t head, uint32_t len)
{
	if (dm_virtio_fault_hit(&b->dv, DM_FAULT_STALL, vq->index))
		return; /* never completes */
	dm_vq_push(vq, head, len);
}

/* Status byte at the last writable byte; returns the used length. */
static uint32_t finish(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c,
                       uint32_t data_written, uint8_t status)
{
	struct dm_fault *f = dm_virtio_fault_hit(&b->dv, DM_FAULT_BLK_STATUS, vq->index);
	if (f)
		status = (uint8_t)f->value;
	if (status == DM_VIRTIO_BLK_S_IOERR)
		b->errors++;
	else if (status == DM_VIRTIO_BLK_S_UNSUPP)
		b->unsupported++;
	dm_chain_write(vq, c, c->writable_len - 1, &status, 1);
	return data_written + 1;
}

/* "q<n>" in buf, for a violation's place: formatted only when one is
 * recorded, never on the datapath (issue 15). */
static const char *qname(char buf[8], uint16_t q)
{
	snprintf(buf, 8, "q%u", q);
	return buf;
}

/* Does [sector, sector + nsec) fit in cap sectors? */
static bool fits(uint64_t sector, uint64_t nsec, uint64_t cap)
{
	return sector <= cap && nsec <= cap - sector;
}

static bool range_ok(struct dm_blk *b, uint64_t sector, uint64_t len, uint16_t q)
{
	uint64_t cap = capacity_sectors(b);
	uint64_t medium = b->store ? b->store->size / DM_VIRTIO_BLK_SECTOR_SIZE : 0;
	uint64_t nsec = len / DM_VIRTIO_BLK_SECTOR_SIZE + (len % DM_VIRTIO_BLK_SECTOR_SIZE != 0);
	char where[8];

	/* In sectors: a capacity near 2^64 bytes (a fault) must not wrap. */
	if (!fits(sector, nsec, cap) && fits(sector, nsec, medium)) {
		/* DM_FAULT_CAPACITY_CHANGE shrank the disk under requests the
		 * driver had already made: they fail, and the driver is not to
		 * blame (it cannot have seen the new capacity yet). */
		return false;
	}
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-1");
	if (!fits(sector, nsec, cap)) {
		dm_virtio_violation_where(&b->dv, qname(where, q), "DRV-5.2.6.1-1",
		                          "request at sector %llu, %llu bytes, beyond capacity %llu sectors",
		                          (unsigned long long)sector, (unsigned long long)len,
		                          (unsigned long long)capacity_sectors(b));
		return false;
	}
	return true;
}

/*
 * Move len data bytes between the store at sector and the chain (in: store
 * to the chain's writable bytes; out: the chain's readable bytes after the
 * header to the store).  A store that holds its bytes in memory (a RAM disk)
 * gives them after its bounds check and they are copied straight to or from
 * guest memory; any other goes through the device's bounce buffer.  A chunk
 * at a time either way, so that *written (whole chunks) is what it was with
 * the bounce buffer alone.  Returns false on a short copy or a store error.
 */
static bool transfer(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c, uint64_t sector,
                     uint64_t len, bool in, uint32_t *written)
{
	struct dm_store *s = b->store;

	if (!s->span && !b->bounce && !(b->bounce = malloc(IO_CHUNK)))
		return false;
	for (uint64_t done = 0; done < len;) {
		uint64_t off = sector * DM_VIRTIO_BLK_SECTOR_SIZE + done;
		uint32_t n = (uint32_t)(len - done > IO_CHUNK ? IO_CHUNK : len - done);
		uint8_t *p = s->span ? s->span(s, off, n, !in) : b->bounce;
		if (!p)
			return false;
		if (in ? (!s->span && s->read(s, off, p, n)) || dm_chain_write(vq, c, done, p, n) != n
		       : dm_chain_read(vq, c, BLK_HDR_BYTES + done, p, n) != n ||
		                 (!s->span && s->write(s, off, p, n)))
			return false;
		done += n;
		if (written)
			*written = (uint32_t)done;
	}
	return true;
}

/* The logical block size the device works in: blk_size when it offers
 * BLK_SIZE with a usable value (a power of two above 512), else 512. */
static uint32_t logical_block(const struct dm_blk *b)
{
	uint32_t bs = b->cfg.blk_size;

	if (!offered(b, DM_VIRTIO_BLK_F_BLK_SIZE) || bs <= DM_VIRTIO_BLK_SECTOR_SIZE || (bs & (bs - 1)))
		return DM_VIRTIO_BLK_SECTOR_SIZE;
	return bs;
}

/* QEMU fails a read or write that is not whole logical blocks at a block
 * boundary with IOERR (virtio_blk_sect_range_ok); so does the model.  Not
 * a breach of the spec by the driver: nothing is recorded. */
static bool aligned(const struct dm_blk *b, uint64_t sector, uint64_t len)
{
	const uint32_t bs = logical_block(b);

	return sector % (bs / DM_VIRTIO_BLK_SECTOR_SIZE) == 0 && len % bs == 0;
}

static uint8_t do_in(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c, uint64_t sector,
                     uint32_t *written)
{
	uint64_t len = c->writable_len - 1;

	*written = 0;
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-5");
	if (len % DM_VIRTIO_BLK_SECTOR_SIZE) {
		dm_virtio_violation_where(&b->dv, "q0", "DRV-5.2.6.1-5",
		                          "read of %llu bytes: not a multiple of 512", (unsigned long long)len);
		return DM_VIRTIO_BLK_S_IOERR;
	}
	if (!aligned(b, sector, len) || !range_ok(b, sector, len, vq->index) ||
	    !transfer(b, vq, c, sector, len, true, written))
		return DM_VIRTIO_BLK_S_IOERR;
	b->reads++;
	return DM_VIRTIO_BLK_S_OK;
}

static uint8_t do_out(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c, uint64_t sector)
{
	uint64_t len = c->readable_len - BLK_HDR_BYTES;

	if (b->read_only) {
		/* DEV-5.2.6.2-1/2: IOERR, nothing stored. */
		if (dm_virtio_has(&b->dv, DM_VIRTIO_BLK_F_RO)) {
			dm_virtio_checked(&b->dv, "MODEL-BLK-RO-WRITE");
			dm_virtio_violation_where(&b->dv, "q0", "MODEL-BLK-RO-WRITE",
			                          "write to sector %llu after negotiating VIRTIO_BLK_F_RO",
			                          (unsigned long long)sector);
		}
		return DM_VIRTIO_BLK_S_IOERR;
	}
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-5");
	if (len % DM_VIRTIO_BLK_SECTOR_SIZE) {
		dm_virtio_violation_where(&b->dv, "q0", "DRV-5.2.6.1-5",
		                          "write of %llu bytes: not a multiple of 512", (unsigned long long)len);
		return DM_VIRTIO_BLK_S_IOERR;
	}
	if (!aligned(b, sector, len) || !range_ok(b, sector, len, vq->index) ||
	    !transfer(b, vq, c, sector, len, false, NULL))
		return DM_VIRTIO_BLK_S_IOERR;
	b->writes++;
	return DM_VIRTIO_BLK_S_OK;
}

static uint8_t do_flush(struct dm_blk *b, const struct dm_chain *c, uint64_t sector)
{
	if (!dm_virtio_has(&b->dv, DM_VIRTIO_BLK_F_FLUSH))
		return DM_VIRTIO_BLK_S_UNSUPP;
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-3");
	if (sector != 0)
		dm_virtio_violation_where(&b->dv, "q0", "DRV-5.2.6.1-3", "FLUSH with sector %llu (must be 0)",
		                          (unsigned long long)sector);
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-4");
	if (c->readable_len > BLK_HDR_BYTES || c->writable_len > 1)
		dm_virtio_violation_where(&b->dv, "q0", "DRV-5.2.6.1-4",
		                          "FLUSH carries data (%llu readable, %llu writable bytes)",
		                          (unsigned long long)(c->readable_len - BLK_HDR_BYTES),
		                          (unsigned long long)(c->writable_len - 1));
	b->flushes++;
	if (b->store->flush && b->store->flush(b->store))
		return DM_VIRTIO_BLK_S_IOERR;
	return DM_VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c,
                         uint32_t *written)
{
	uint8_t id[DM_VIRTIO_BLK_ID_BYTES];

	*written = 0;
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-7");
	if (c->writable_len - 1 != DM_VIRTIO_BLK_ID_BYTES) {
		dm_virtio_violation_where(&b->dv, "q0", "DRV-5.2.6.1-7",
		                          "GET_ID with %llu data bytes (must be 20)",
		                          (unsigned long long)(c->writable_len - 1));
		return DM_VIRTIO_BLK_S_IOERR;
	}
	memset(id, 0, sizeof id);
	if (dm_virtio_fault_hit(&b->dv, DM_FAULT_GET_ID_UNTERMINATED, vq->index))
		memset(id, 0x01, sizeof id);
	else
		for (unsigned i = 0; i < DM_VIRTIO_BLK_ID_BYTES && b->cfg.serial[i]; i++)
			id[i] = (uint8_t)b->cfg.serial[i];
	*written = dm_chain_write(vq, c, 0, id, sizeof id);
	b->get_ids++;
	return *written == sizeof id ? DM_VIRTIO_BLK_S_OK : DM_VIRTIO_BLK_S_IOERR;
}

/* Zero [sector, sector + nsec) on the store (in range: checked). */
static bool zero_range(struct dm_blk *b, uint64_t sector, uint64_t nsec)
{
	struct dm_store *s = b->store;
	const uint64_t len = nsec * DM_VIRTIO_BLK_SECTOR_SIZE;

	if (!s->span && !b->bounce && !(b->bounce = malloc(IO_CHUNK)))
		return false;
	for (uint64_t done = 0; done < len;) {
		uint64_t off = sector * DM_VIRTIO_BLK_SECTOR_SIZE + done;
		uint32_t n = (uint32_t)(len - done > IO_CHUNK ? IO_CHUNK : len - done);
		uint8_t *p = s->span ? s->span(s, off, n, true) : b->bounce;
		if (!p)
			return false;
		memset(p, 0, n);
		if (!s->span && s->write(s, off, p, n))
			return false;
		done += n;
	}
	return true;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * DISCARD and WRITE_ZEROES (5.2.6): the device-readable data after the
 * header is an array of 16-byte segments.  The driver's side is checked
 * (DRV-5.2.6.1-6, -8, -10, -13, and -1 for each range), the device's done as
 * QEMU 7.2 does (virtio_blk_handle_discard_write_zeroes): unknown flags
 * UNSUPP (DEV-5.2.6.2-3), UNMAP on a DISCARD UNSUPP (DEV-5.2.6.2-4), more
 * sectors than max_*_sectors or not whole logical blocks IOERR; every
 * segment is checked before any is carried out.  WRITE_ZEROES zeroes
 * (DEV-5.2.6.2-7); DISCARD zeroes too unless discard_keeps_data.
 */
static uint8_t do_dwz(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c, bool zeroes)
{
	const unsigned feature = zeroes ? DM_VIRTIO_BLK_F_WRITE_ZEROES : DM_VIRTIO_BLK_F_DISCARD;
	const char *name = zeroes ? "WRITE_ZEROES" : "DISCARD";
	const char *seg_req = zeroes ? "DRV-5.2.6.1-10" : "DRV-5.2.6.1-8";
	const uint32_t max_seg = zeroes ? b->cfg.max_write_zeroes_seg : b->cfg.max_discard_seg;
	const uint32_t max_sectors = zeroes ? b->cfg.max_write_zeroes_sectors : b->cfg.max_discard_sectors;
	const uint64_t data = c->readable_len - BLK_HDR_BYTES;
	uint8_t status = DM_VIRTIO_BLK_S_OK;
	uint64_t nseg;
	char where[8];

	if (!dm_virtio_has(&b->dv, feature))
		return DM_VIRTIO_BLK_S_UNSUPP;
	dm_virtio_checked(&b->dv, "DRV-5.2.6.1-6");
	if (data == 0 || data % DM_VIRTIO_BLK_DWZ_SEG_BYTES) {
		dm_virtio_violation_where(&b->dv, qname(where, vq->index), "DRV-5.2.6.1-6",
		                          "%s with %llu data bytes: not whole 16-byte segments", name,
		                          (unsigned long long)data);
		return DM_VIRTIO_BLK_S_IOERR;
	}
	nseg = data / DM_VIRTIO_BLK_DWZ_SEG_BYTES;
	dm_virtio_checked(&b->dv, seg_req);
	if (nseg > max_seg) {
		dm_virtio_violation_where(&b->dv, qname(where, vq->index), seg_req,
		                          "%s with %llu segments, max_%s_seg %u", name, (unsigned long long)nseg,
		                          zeroes ? "write_zeroes" : "discard", max_seg);
		return DM_VIRTIO_BLK_S_IOERR;
	}
	if (b->read_only) {
		if (dm_virtio_has(&b->dv, DM_VIRTIO_BLK_F_RO)) {
			dm_virtio_checked(&b->dv, "MODEL-BLK-RO-WRITE");
			dm_virtio_violation_where(&b->dv, qname(where, vq->index), "MODEL-BLK-RO-WRITE",
			                          "%s after negotiating VIRTIO_BLK_F_RO", name);
		}
		return DM_VIRTIO_BLK_S_IOERR;
	}
	/* Check every segment, then carry them out (two passes over the
	 * guest's bytes: a racing driver may change them, and the second
	 * pass checks again). */
	for (int pass = 0; pass < 2 && status == DM_VIRTIO_BLK_S_OK; pass++) {
		for (uint64_t i = 0; i < nseg; i++) {
			uint8_t seg[DM_VIRTIO_BLK_DWZ_SEG_BYTES];
			uint64_t sector = 0;
			uint32_t num, flags;

			if (dm_chain_read(vq, c, BLK_HDR_BYTES + i * sizeof seg, seg, sizeof seg) != sizeof seg)
				return DM_VIRTIO_BLK_S_IOERR;
			for (int k = 7; k >= 0; k--)
				sector = (sector << 8) | seg[k];
			num = get_le32(seg + 8);
			flags = get_le32(seg + 12);
			if (!zeroes && pass == 0)
				dm_virtio_checked(&b->dv, "DRV-5.2.6.1-13");
			if (!zeroes && (flags & DM_VIRTIO_BLK_DWZ_FLAG_UNMAP)) {
				if (pass == 0)
					dm_virtio_violation_where(&b->dv, qname(where, vq->index), "DRV-5.2.6.1-13",
					                          "DISCARD segment with the unmap flag (sector %llu)",
					                          (unsigned long long)sector);
				return DM_VIRTIO_BLK_S_UNSUPP;
			}
			if (flags & ~DM_VIRTIO_BLK_DWZ_FLAG_UNMAP)
				return DM_VIRTIO_BLK_S_UNSUPP;
			if (num > max_sectors)
				return DM_VIRTIO_BLK_S_IOERR;
			if (!aligned(b, sector, (uint64_t)num * DM_VIRTIO_BLK_SECTOR_SIZE))
				return DM_VIRTIO_BLK_S_IOERR;
			if (pass == 0) {
				if (!range_ok(b, sector, (uint64_t)num * DM_VIRTIO_BLK_SECTOR_SIZE, vq->index))
					return DM_VIRTIO_BLK_S_IOERR;
				continue;
			}
			if (!fits(sector, num, capacity_sectors(b)))
				return DM_VIRTIO_BLK_S_IOERR;
			if ((zeroes || !b->cfg.discard_keeps_data) && !zero_range(b, sector, num))
				return DM_VIRTIO_BLK_S_IOERR;
			if (zeroes) {
				b->write_zeroes++;
				if (flags & DM_VIRTIO_BLK_DWZ_FLAG_UNMAP)
					b->zeroes_unmap++;
			} else {
				b->discards++;
				if (b->cfg.discard_sector_alignment && sector % b->cfg.discard_sector_alignment)
					b->discard_unaligned++;
			}
		}
	}
	return status;
}

/* One request: check it and carry it out; returns the used length. */
static uint32_t handle(struct dm_blk *b, struct dm_vq *vq, const struct dm_chain *c)
{
	struct dm_virtio *dv = &b->dv;
	uint8_t hdr[BLK_HDR_BYTES];
	uint32_t type, written = 0;
	uint64_t sector;
	uint8_t status;
	char where[8];

	/* The header is the first 16 readable bytes and the status the last
	 * writable byte, however the driver split them into descriptors
	 * (DEV-2.7.4.1-1). */
	dm_virtio_checked(dv, "MODEL-BLK-REQ-FORMAT");
	if (c->writable_len < 1) {
		/* Nothing to report status in: complete with len 0, having
		 * written nothing (DEV-2.7.8.2-2 holds trivially). */
		dm_virtio_violation_where(dv, qname(where, vq->index), "MODEL-BLK-REQ-FORMAT",
		                          "request %u has no device-writable status byte", c->head);
		return 0;
	}
	if (c->readable_len < BLK_HDR_BYTES ||
	    dm_chain_read(vq, c, 0, hdr, sizeof hdr) != sizeof hdr) {
		dm_virtio_violation_where(dv, qname(where, vq->index), "MODEL-BLK-REQ-FORMAT",
		                          "request %u has %llu readable bytes, no 16-byte header", c->head,
		                          (unsigned long long)c->readable_len);
		return finish(b, vq, c, 0, DM_VIRTIO_BLK_S_IOERR);
	}
	type = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8) | ((uint32_t)hdr[2] << 16) |
	       ((uint32_t)hdr[3] << 24);
	sector = 0;
	for (int i = 7; i >= 0; i--)
		sector = (sector << 8) | hdr[8 + i];

	/* Both kinds count every request; IOERR wins when both fire. */
	const bool ioerr = dm_virtio_fault_hit(dv, DM_FAULT_BLK_IOERR, vq->index) != NULL;
	const bool unsupp = dm_virtio_fault_hit(dv, DM_FAULT_BLK_UNSUPP, vq->index) != NULL;
	if (ioerr) {
		status = DM_VIRTIO_BLK_S_IOERR;
	} else if (unsupp) {
		status = DM_VIRTIO_BLK_S_UNSUPP;
	} else {
		switch (type) {
		case DM_VIRTIO_BLK_T_IN:
			status = do_in(b, vq, c, sector, &written);
			break;
		case DM_VIRTIO_BLK_T_OUT:
			status = do_out(b, vq, c, sector);
			break;
		case DM_VIRTIO_BLK_T_FLUSH:
			status = do_flush(b, c, sector);
			break;
		case DM_VIRTIO_BLK_T_GET_ID:
			status = do_get_id(b, vq, c, &written);
			break;
		case DM_VIRTIO_BLK_T_DISCARD:
		case DM_VIRTIO_BLK_T_WRITE_ZEROES:
			status = do_dwz(b, vq, c, type == DM_VIRTIO_BLK_T_WRITE_ZEROES);
			break;
		default:
			status = DM_VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	return finish(b, vq, c, written, status);
}

static void blk_queue_work(void *dev, struct dm_virtio *dv, uint16_t q)
{
	struct dm_blk *b = dev;
	struct dm_vq *vq = &dv->vq[q];
	/* DM_FAULT_OUT_OF_ORDER: one completion held back (2.7.8 allows any
	 * order without IN_ORDER). */
	bool held = false;
	uint16_t held_head = 0;
	uint32_t held_len = 0;

	for (;;) {
		uint16_t head;
		uint32_t len;
		int r;
		if (!dm_virtio_running(dv))
			return; /* the held request stays unanswered, as on NEEDS_RESET */
		r = dm_vq_pop(vq, b->chain);
		if (r <= 0)
			break;
		/* The kinds counted when a request arrives all count it, even
		 * one that needs_reset leaves unanswered. */
		const bool needs_reset = dm_virtio_fault_hit(dv, DM_FAULT_NEEDS_RESET, q) != NULL;
		if (dm_virtio_fault_hit(dv, DM_FAULT_CONFIG_CHANGE, q))
			dm_virtio_config_changed(dv);
		if (dm_virtio_fault_hit(dv, DM_FAULT_CAPACITY_CHANGE, q))
			dm_virtio_config_changed(dv); /* capacity_sectors() now reports the value */
		/* Counted on arrival too; it acts after needs_reset. */
		struct dm_fault *delay = dm_virtio_fault_hit(dv, DM_FAULT_DELAY, q);
		if (needs_reset) {
			/* The request stays unanswered (DRV-2.1.1-4). */
			dm_virtio_set_needs_reset(dv);
			return;
		}
		if (delay && dm_virtio_defer(dv, q, b->chain, delay->value, delayed_fire))
			continue;
		head = b->chain->head;
		len = handle(b, vq, b->chain);
		if (!held && dm_virtio_fault_hit(dv, DM_FAULT_OUT_OF_ORDER, q)) {
			held = true;
			held_head = head;
			held_len = len;
			continue;
		}
		complete(b, vq, head, len);
		if (held) {
			complete(b, vq, held_head, held_len);
			held = false;
		}
	}
	if (held)
		complete(b, vq, held_head, held_len);
}

static const struct dm_device_ops blk_ops = {
	.type_name = "blk",
	.device_id = DM_VIRTIO_ID_BLOCK,
	.reset = blk_reset,
	.features_ok = blk_features_ok,
	.config_len = blk_config_len,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_work = blk_queue_work,
};

struct dm_blk *dm_blk_new(const struct dm_blk_cfg *cfg, struct dm_store *store, struct dm_env *env,
                          const char *name)
{
	struct dm_blk *b;
	uint64_t features;
	uint16_t nq;

	if (!cfg || !store)
		return NULL;
	b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->chain = malloc(sizeof *b->chain);
	if (!b->chain) {
		free(b);
		return NULL;
	}
	b->cfg = *cfg;
	b->store = store;
	features = cfg->features;
	if (store->read_only)
		features |= DM_BIT(DM_VIRTIO_BLK_F_RO);
	b->read_only = (features >> DM_VIRTIO_BLK_F_RO) & 1u;
	nq = (features & DM_BIT(DM_VIRTIO_BLK_F_MQ)) && cfg->num_queues ? cfg->num_queues : 1;
	dm_virtio_init(&b->dv, &blk_ops, b, env, name, features, nq,
	               cfg->queue_num_max ? cfg->queue_num_max : 256);
	blk_reset(b);
	return b;
}

void dm_blk_free(struct dm_blk *b)
{
	if (!b)
		return;
	dm_virtio_drop_deferred(&b->dv);
	if (b->store && b->store->close)
		b->store->close(b->store);
	free(b->chain);
	free(b->bounce);
	free(b);
}
