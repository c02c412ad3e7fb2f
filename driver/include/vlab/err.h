/* SPDX-License-Identifier: MIT */
/* One error enum for every driver call: 0 is success, negative is failure. */
#ifndef VLAB_ERR_H
#define VLAB_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum vlab_err {
	VLAB_OK = 0,
	VLAB_EINVAL = -1,      /* invalid argument from the caller */
	VLAB_ENOMEM = -2,      /* out of DMA memory or request slots */
	VLAB_ETIMEDOUT = -3,   /* the device did not answer within the bound */
	VLAB_EIO = -4,         /* the device reported an I/O error */
	VLAB_ENOTSUP = -5,     /* the device or the request is not supported */
	VLAB_EPROTO = -6,      /* the device broke the protocol (now broken) */
	VLAB_EBROKEN = -7,     /* the device was marked broken; reset first */
	VLAB_EROFS = -8,       /* write to a read-only device */
	VLAB_EBUSY = -9,       /* no room in the queue; try again later */
	VLAB_ENODEV = -10,     /* no device there, or not a device we drive */
	VLAB_ENEEDSRESET = -11,/* the device set DEVICE_NEEDS_RESET */
	VLAB_ERANGE = -12,     /* beyond the device's capacity or limits */
	VLAB_EAGAIN = -13,     /* nothing ready yet */
	VLAB_ECONFIG = -14,    /* a device configuration value is out of bounds */
	/* The device was given up on and did not acknowledge the reset that
	 * should have stopped it: it may still write into any buffer it was
	 * given, so the driver keeps those buffers (see the release rule in
	 * docs/architecture.md) and the caller must not reuse or free them. */
	VLAB_EWEDGED = -15,
	/* A partition table that cannot be used: a GPT header (primary and
	 * backup) or entry array that fails its checks. */
	VLAB_EBADTABLE = -16,
	/* A protective MBR (type 0xEE) with no valid GPT header behind it,
	 * primary nor backup: vlab_part_scan still fills the table, as an
	 * empty GPT (U-Boot lists such a disk as an empty EFI map). */
	VLAB_ENOGPT = -17,
	VLAB_ERR_LAST = VLAB_ENOGPT, /* the most negative code */
};

/* A short readable name, e.g. "device broke the protocol". Never NULL. */
const char *vlab_strerror(int err);
/* The enum name, e.g. "VLAB_EPROTO". Never NULL.  With VLAB_CFG_LOG=0
 * (vlab/config.h) both give one text for every error ("error", "VLAB_E?"). */
const char *vlab_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
