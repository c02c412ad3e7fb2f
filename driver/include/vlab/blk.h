/* SPDX-License-Identifier: MIT */
/* virtio-blk driver (5.2). */
#ifndef VLAB_BLK_H
#define VLAB_BLK_H

#include "vlab/virtqueue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_LIFETIME 15
#define VIRTIO_BLK_F_SECURE_ERASE 16

/* Config layout offsets (5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY 0
#define VIRTIO_BLK_CFG_SIZE_MAX 8
#define VIRTIO_BLK_CFG_SEG_MAX 12
#define VIRTIO_BLK_CFG_GEOMETRY 16 /* cylinders u16, heads u8, sectors u8 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20
#define VIRTIO_BLK_CFG_TOPOLOGY 24 /* physical_block_exp u8, alignment_offset u8, min_io_size u16, opt_io_size u32 */
#define VIRTIO_BLK_CFG_WRITEBACK 32
#define VIRTIO_BLK_CFG_NUM_QUEUES 34
/* DISCARD (12 bytes) and WRITE_ZEROES (9 bytes) limits, each present only
 * with its feature (5.2.4). */
#define VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36
#define VLAB_VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define VLAB_VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 44
#define VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48
#define VLAB_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG 52
#define VLAB_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP 56

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VLAB_VIRTIO_BLK_T_DISCARD 11u
#define VLAB_VIRTIO_BLK_T_WRITE_ZEROES 13u
/* struct virtio_blk_discard_write_zeroes (5.2.6): le64 sector, le32
 * num_sectors, le32 flags; bit 0 of flags is unmap. */
#define VLAB_VIRTIO_BLK_DWZ_SEG_BYTES 16u
#define VLAB_VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u

/* Requests in flight at most (each holds a header + status slot). */
#ifndef VLAB_BLK_MAX_INFLIGHT
#define VLAB_BLK_MAX_INFLIGHT 32
#endif
/* Bytes per virtio request when neither the caller (vlab_blk_cfg.
 * max_request_bytes) nor the device's seg_max x size_max says less: under
 * QEMU, a 128 MiB read in parts of 8 MiB runs at U-Boot's rate (one
 * request) or above; parts of 1 MiB ran at 0.6 to 0.9 of it. */
#ifndef VLAB_BLK_DEFAULT_REQ_BYTES
#define VLAB_BLK_DEFAULT_REQ_BYTES (8u * 1024u * 1024u)
#endif
/* Largest logical block size (blk_size) the driver accepts; a device that
 * offers more (or a size that is not a power of two, or below 512) is
 * refused at init with VLAB_ECONFIG and a log line. */
#ifndef VLAB_BLK_MAX_BLOCK
#define VLAB_BLK_MAX_BLOCK 65536
#endif
/* Largest physical_block_exp (TOPOLOGY) taken as advice. */
#define VLAB_BLK_MAX_PHYS_EXP 16u
#define VLAB_BLK_STR_(x) #x
#define VLAB_BLK_STR(x) VLAB_BLK_STR_(x)
/* Request queues the driver uses at most (VIRTIO_BLK_F_MQ, 5.2.2): struct
 * vlab_blk holds this many queues (queue 0 in vq, the others in mq), so
 * its size grows with it.  1 leaves MQ un-negotiated. */
#ifndef VLAB_BLK_MAX_QUEUES
#define VLAB_BLK_MAX_QUEUES 4
#endif
#if VLAB_BLK_MAX_QUEUES < 1 || VLAB_BLK_MAX_QUEUES > 16
#error "VLAB_BLK_MAX_QUEUES is 1 to 16"
#endif
/* Segments the driver puts in one request at most. */
#ifndef VLAB_BLK_MAX_SEGS
#define VLAB_BLK_MAX_SEGS 64
#endif

/* What the driver knows about the disk, validated once at init. */
struct vlab_blk_info {
	uint64_t capacity;   /* in 512-byte sectors */
	uint32_t blk_size;   /* logical block size (512 when not offered): every
	                      * READ/WRITE is whole blocks at a block boundary */
	uint32_t size_max;   /* max bytes per segment (0: no limit given) */
	uint32_t seg_max;    /* max data segments per request (0: no limit given) */
	bool read_only;
	bool flush;          /* FLUSH negotiated */
	/* The write cache: config_wce when CONFIG_WCE was negotiated (the mode
	 * can be read and set: vlab_blk_set_writeback); writeback is the mode
	 * (with CONFIG_WCE the device's writeback field, read once at init and
	 * again after each change; without it, writeback exactly when FLUSH
	 * was negotiated: DRV-5.2.5.1-2/3).  docs/architecture.md "Write
	 * cache" says what a FLUSH does in each mode. */
	bool config_wce;
	bool writeback;
	/* TOPOLOGY, when negotiated and sound (else all 0 and topology false):
	 * 2^physical_block_exp logical blocks per physical block, the first
	 * aligned logical block, and the minimum and optimal I/O sizes in
	 * logical blocks.  Advice only: the driver does not use it. */
	bool topology;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	/* MQ: the device's num_queues (0 when MQ was not negotiated), read
	 * once, and the request queues the driver uses: at least 1, at most
	 * num_queues, the queues the transport has, VLAB_BLK_MAX_QUEUES and
	 * vlab_blk_cfg.max_queues (a lower count is a log line, never an
	 * error: a num_queues of 0 means one queue). */
	uint16_t num_queues_offered;
	uint16_t num_queues;
	uint16_t cylinders;  /* geometry, when offered (else 0) */
	uint8_t heads, sectors;
	/* DISCARD / WRITE_ZEROES, when negotiated and their limits sound (else
	 * false: the calls answer VLAB_ENOTSUP).  Read once at init; a limit
	 * of 0, or a maximum below one logical block, costs the feature (a
	 * warning), not the disk.  Sectors are 512 bytes; every part the
	 * driver sends is one segment (so max_*_seg >= 1 is all it needs:
	 * DRV-5.2.6.1-8/10), at most max_*_sectors long, whole logical blocks,
	 * and a part that does not end the range ends on a multiple of
	 * discard_sector_alignment (taken as one logical block when it is not
	 * a multiple of one). */
	bool discard, write_zeroes;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	bool write_zeroes_may_unmap; /* the device's write_zeroes_may_unmap (0 or 1; else false) */
};

/* DISCARD and WRITE_ZEROES(_UNMAP) carry no buffer (buf is ignored): len
 * is the size of the range in bytes, whole logical blocks as for WRITE.
 * WRITE_ZEROES_UNMAP lets the device deallocate the zeroed blocks (the UNMAP
 * flag, set only when the device says write_zeroes_may_unmap). */
enum vlab_blk_op {
	VLAB_BLK_READ,
	VLAB_BLK_WRITE,
	VLAB_BLK_FLUSH,
	VLAB_BLK_GET_ID,
	VLAB_BLK_DISCARD,
	VLAB_BLK_WRITE_ZEROES,
	VLAB_BLK_WRITE_ZEROES_UNMAP,
};

/*
 * An asynchronous request.  The driver holds it from a successful submit
 * until it comes back, exactly once: from vlab_blk_poll, or from the
 * vlab_blk_wait that waited for it (vlab_blk_shutdown fails what is left
 * with VLAB_ENODEV and sets done).  done may be set earlier (a request
 * finished in vlab_blk_interrupt, or failed with the device, waits for
 * poll), and the request must not be changed or reused until it came back.
 * The data buffer must be DMA-reachable (platform dma_map).  A request
 * larger than the device allows in one virtio request is split internally;
 * it completes when all parts have, with the first error seen.
 *
 * The release rule: a request comes back only once the device can no longer
 * reach its buffer, because the device completed it or because the driver
 * stopped the device (reset) after giving up on it (a timeout, a protocol
 * breach, NEEDS_RESET; then every request the driver holds fails, and the
 * device stays broken until vlab_blk_init).  If the device does not
 * acknowledge that reset, the requests it holds come back with result
 * VLAB_EWEDGED: their buffers may still be written by the device, so the
 * caller must not reuse or free them (the driver keeps its own DMA memory
 * for the same reason).
 */
struct vlab_blk_req {
	enum vlab_blk_op op;
	uint64_t sector;
	void *buf;
	uint32_t len;       /* bytes; whole logical blocks for READ/WRITE (a multiple of
	                     * info.blk_size, so of 512: DRV-5.2.6.1-5), and sector a
	                     * multiple of blk_size / 512 (else VLAB_EINVAL); 20 for GET_ID */
	void *user;         /* for the caller */
	int result;         /* 0 or vlab_err, valid once done */
	bool done;
	/* private */
	uint32_t parts_pending;
	uint32_t parts_done; /* parts the device completed: a wait's progress */
	uint32_t next_off;  /* bytes already submitted */
	struct vlab_blk_req *queue_next;
	bool all_submitted; /* every part handed to the device (or given up) */
	vlab_addr_t buf_dev; /* device address of buf (dma_map at submit) */
	bool mapped;         /* dma_unmap is still due (at finish, unless wedged) */
};

struct vlab_blk_slot {
	struct vlab_blk_req *req;
	uint32_t off, len;  /* the part of req this slot carries */
	uint16_t q;         /* the queue it was posted on */
	bool busy;
	/* Stranded (busy, no request: the device could not be stopped): the
	 * buffer of the request it carried stays mapped until a reset the
	 * device acknowledges (vlab_blk_shutdown) unmaps it. */
	bool unmap_due;
	uint8_t unmap_dir;
	uint32_t unmap_len;
	void *unmap_buf;
	vlab_addr_t unmap_dev;
};

struct vlab_blk {
	struct vlab_virtio_dev *vdev;
	struct vlab_vq vq;      /* requestq1 (queue 0) */
#if VLAB_BLK_MAX_QUEUES > 1
	struct vlab_vq mq[VLAB_BLK_MAX_QUEUES - 1]; /* requestq2.. (queues 1..) */
#endif
	uint16_t nq_setup;      /* queues set up (for teardown): info.num_queues or one more */
	uint16_t next_q;        /* the queue the next part goes to */
	struct vlab_blk_info info;
	/* DMA block: per slot a 16-byte header and a status byte. */
	uint8_t *slot_mem;
	vlab_addr_t slot_dev;
	size_t slot_mem_len;
	struct vlab_blk_slot slot[VLAB_BLK_MAX_INFLIGHT];
	unsigned nslots;
	struct vlab_blk_req *pending_head, *pending_tail; /* waiting for slots */
	/* finished without the device (FLUSH not negotiated), for poll */
	struct vlab_blk_req *done_head, *done_tail;
	uint32_t max_req_bytes; /* bytes one virtio request may carry */
	uint32_t max_segs;      /* data segments per virtio request */
	/* With DISCARD or WRITE_ZEROES: per slot one 16-byte segment, in
	 * slot_mem after the GET_ID buffer. */
	bool has_dwz_segs;
	/* The device was given up on and did not acknowledge the reset that
	 * should have stopped it: the slots it holds stay stranded. */
	bool wedged;
	struct vlab_blk_req sync; /* the request of the synchronous calls */
	bool no_zeroing;          /* vlab_blk_cfg and the platform's flags: see there */
	/* statistics */
	uint64_t reads, writes, flushes, errors;
	uint64_t discards, write_zeroes; /* caller requests of each */
};

/*
 * Initialise: reset, negotiate (SIZE_MAX, SEG_MAX, GEOMETRY, RO, BLK_SIZE,
 * FLUSH, TOPOLOGY, CONFIG_WCE, DISCARD, WRITE_ZEROES; VERSION_1 on modern; never LIFETIME nor
 * SECURE_ERASE, whose requests the driver does not issue; MQ when VLAB_BLK_MAX_QUEUES > 1), read and
 * validate the config, set up the request queues, DRIVER_OK.  queue_cap limits the queue size (0:
 * default).
 *
 * Multi-queue (MQ): the driver uses info.num_queues queues, every one the
 * size of queue 0 (a queue the transport lacks or refuses, or one of
 * another size, and the queues after it are not used: a log line says so).  Requests are
 * spread over them part by part, round robin: each part of a caller's
 * request (see vlab_blk_submit) goes to the next queue in turn, so one large
 * request may be in flight on several queues at once.  Completions come back
 * from any queue, in any order: vlab_blk_poll, vlab_blk_wait and
 * vlab_blk_interrupt take them from every queue, and a request finishes
 * when its last part did, wherever that was.  Nothing orders two requests
 * on different queues: a FLUSH covers the writes that completed before it
 * was submitted, as on one queue.  Every queue is checked as queue 0 is
 * (used-ring checks, the release rule, bounded waits).
 */
int vlab_blk_init(struct vlab_blk *b, struct vlab_virtio_dev *d, uint16_t queue_cap);

/* Choices at init; zero means the default. */
struct vlab_blk_cfg {
	uint16_t queue_cap;  /* as vlab_blk_init's */
	/* Zeroing of a READ's (or GET_ID's) buffer before it is posted, so
	 * that nothing the caller left there can be read by the device
	 * (attack surface G1, G2).  By default the buffer is zeroed unless the
	 * platform says the device can read all memory anyway
	 * (VLAB_PLAT_DMA_ALL_MEMORY, vlab/platform.h), where it would hide
	 * nothing.  no_zeroing: never zero (save that pass over the buffer);
	 * zeroing: always zero (a caller that does not trust the platform's
	 * word).  Both: vlab_blk_init_cfg fails with VLAB_EINVAL.
	 * docs/performance.md "Zeroing device-writable buffers". */
	bool no_zeroing;
	/* Request queues to use at most (MQ); 0: VLAB_BLK_MAX_QUEUES. */
	uint16_t max_queues;
	bool zeroing; /* see no_zeroing */
	/* Bytes one virtio request carries at most (a caller's larger request
	 * goes as several; rounded down to whole logical blocks); 0:
	 * VLAB_BLK_DEFAULT_REQ_BYTES.  The device's seg_max x size_max, when
	 * it gives them, may lower it.  Not 0 and below 512: VLAB_EINVAL;
	 * below the disk's logical block: VLAB_EINVAL from init, the device
	 * failed.  docs/performance.md "Request size". */
	uint32_t max_request_bytes;
};
/* vlab_blk_init with choices; cfg NULL: the defaults. */
int vlab_blk_init_cfg(struct vlab_blk *b, struct vlab_virtio_dev *d, const struct vlab_blk_cfg *cfg);
/* Reset the device, fail what is left with VLAB_ENODEV, unmap and free.
 * A device that does not reset keeps everything it was given: requests
 * fail with VLAB_EWEDGED, nothing is unmapped or freed (for good: a later
 * vlab_blk_init starts afresh), and b->wedged says so. */
void vlab_blk_shutdown(struct vlab_blk *b);

/* Synchronous calls: submit and wait (bounded), with a request inside
 * struct vlab_blk.  VLAB_EWEDGED: the device could not be stopped and may
 * still write buf (read) or read it (write): do not reuse it.  sector and
 * nsectors count 512-byte sectors (the unit of virtio and of capacity),
 * both multiples of blk_size / 512 (else VLAB_EINVAL). */
int vlab_blk_read(struct vlab_blk *b, uint64_t sector, void *buf, uint32_t nsectors);
int vlab_blk_write(struct vlab_blk *b, uint64_t sector, const void *buf, uint32_t nsectors);
int vlab_blk_flush(struct vlab_blk *b);
/*
 * Set the device's write cache to writeback (true) or writethrough (false)
 * (CONFIG_WCE negotiated, else VLAB_ENOTSUP; DRV-5.2.6.1-11), then read the
 * mode back into info.writeback: VLAB_EIO when the device kept the other
 * mode, VLAB_EPROTO (device broken) when it reads neither 0 nor 1.  A
 * switch to writethrough is followed by a FLUSH (when negotiated), since
 * the writes before it may still be in the cache (DRV-5.2.6.1-12).
 */
int vlab_blk_set_writeback(struct vlab_blk *b, bool writeback);
/*
 * DISCARD (5.2.6): the device may forget sectors [sector, sector+nsectors);
 * what they read back afterwards is unspecified (DRV-5.2.6.1-14: the
 * driver assumes nothing; the model zeroes them, QEMU with discard=unmap
 * on a raw file too, with discard=ignore it keeps them).  WRITE_ZEROES:
 * they read back as zeroes (unmap: the device may deallocate them as it
 * zeroes them).  sector and nsectors in 512-byte sectors, multiples of
 * blk_size / 512, within the capacity (VLAB_EINVAL, VLAB_ERANGE, checked
 * for the whole range before anything is sent); VLAB_ENOTSUP when the
 * feature was not negotiated or its limits were unusable, VLAB_EROFS on a
 * read-only disk.  The range is split at the device's limits (one segment
 * per virtio request); the call fails with the first error, and after an
 * error nothing is known of any part of the range (DRV-5.2.6.1-15).
 */
int vlab_blk_discard(struct vlab_blk *b, uint64_t sector, uint64_t nsectors);
int vlab_blk_write_zeroes(struct vlab_blk *b, uint64_t sector, uint64_t nsectors, bool unmap);
/* The logical block size (info.blk_size): what a READ/WRITE must be whole
 * multiples of, at a multiple of.  512 unless the device offers BLK_SIZE. */
static inline uint32_t vlab_blk_block_size(const struct vlab_blk *b)
{
	return b->info.blk_size;
}
/* As vlab_blk_read/write, in logical blocks (lba and count in blocks of
 * vlab_blk_block_size bytes): what partition tables and filesystems read. */
int vlab_blk_read_blocks(struct vlab_blk *b, uint64_t lba, void *buf, uint32_t nblocks);
int vlab_blk_write_blocks(struct vlab_blk *b, uint64_t lba, const void *buf, uint32_t nblocks);
/* vlab_blk_read_blocks with the vlab_part_read_fn signature (ctx: the
 * struct vlab_blk), for vlab_part_scan and vlab_fs_mount with
 * vlab_blk_block_size as their block size. */
int vlab_blk_part_read(void *blk, uint64_t lba, uint32_t nblocks, void *buf);
/* id: 21 bytes; the 20-byte ID NUL-terminated, validated as text. */
int vlab_blk_get_id(struct vlab_blk *b, char id[VIRTIO_BLK_ID_BYTES + 1]);

/* Asynchronous: submit (VLAB_EBUSY never: requests wait for a slot
 * internally), then poll.  A submit that fails returns the request's
 * result, and the request does not come back from poll.  poll returns 0
 * with *done set when one request finished (its result says how, an error
 * of the device included), VLAB_EAGAIN when none did, or, when no request
 * is left to return, an error for the device (VLAB_EBROKEN once it was
 * given up on). */
int vlab_blk_submit(struct vlab_blk *b, struct vlab_blk_req *r);
int vlab_blk_poll(struct vlab_blk *b, struct vlab_blk_req **done);
/* Poll until r is done or the bound passes, and return r's result.  Other
 * requests that finish meanwhile wait for poll.  The bound is the device's
 * timeout (vlab_virtio_timeout) from the call's first poll or from the
 * last of r's own parts the device completed, whichever is later.  At the
 * bound the driver gives up on the device (stopped, broken until
 * vlab_blk_init): r fails with VLAB_ETIMEDOUT (VLAB_EWEDGED if the device
 * could not be stopped), and so does every other request it holds. */
int vlab_blk_wait(struct vlab_blk *b, struct vlab_blk_req *r);

/*
 * Interrupt entry.  Reads and acknowledges the interrupt status once
 * (nothing at all before DRIVER_OK or after a reset: such interrupts are
 * not ours); on a configuration change re-reads the capacity
 * (vlab_blk_config_changed); on a queue interrupt consumes at most budget
 * used entries over all queues in use (0: each queue's size), so a device
 * that interrupts without
 * end costs a bounded amount of work per call.  Finished requests wait for
 * vlab_blk_poll (or vlab_blk_wait).  Returns the number of used entries
 * consumed, or a negative vlab_err (VLAB_EBROKEN for a broken device: its
 * interrupt is still acknowledged so that a level-triggered line drops).
 */
int vlab_blk_interrupt(struct vlab_blk *b, unsigned budget);
/*
 * The device said its configuration changed: read the capacity again (once,
 * under the generation protocol, DRV-2.5.1-2) and validate it; requests
 * beyond the new capacity are refused from then on.  A capacity whose size
 * in bytes overflows 64 bits breaks the device (VLAB_EPROTO).
 */
int vlab_blk_config_changed(struct vlab_blk *b);

/* The spec's name of a blk feature bit (5.2.3, and 5.2.3.1's legacy SCSI),
 * without the VIRTIO_BLK_F_ prefix; NULL for a bit that is not a blk
 * feature.  The one table vlab and the scenarios name bits (and vlab
 * conformance its cells) with. */
/* NULL with VLAB_CFG_LOG=0 (the names are log text). */
const char *vlab_blk_feature_name(unsigned bit);

/* The registry entry for the bus (vlab/bus.h); bd->cfg may point to a
 * struct vlab_blk_cfg. */
struct vlab_driver;
extern const struct vlab_driver vlab_blk_driver;

#ifdef __cplusplus
}
#endif
#endif
