/* SPDX-License-Identifier: MIT */
/* Readable names for enum vlab_err. */
#include <stddef.h>

#include "vlab/config.h"
#include "vlab/err.h"

#if VLAB_CFG_LOG
struct err_text {
	int code;
	const char *name;
	const char *text;
};

#define E(code, text) {code, #code, text}

static const struct err_text err_table[] = {
	E(VLAB_OK, "success"),
	E(VLAB_EINVAL, "invalid argument"),
	E(VLAB_ENOMEM, "out of memory or request slots"),
	E(VLAB_ETIMEDOUT, "device timed out"),
	E(VLAB_EIO, "device reported an I/O error"),
	E(VLAB_ENOTSUP, "not supported"),
	E(VLAB_EPROTO, "device broke the protocol"),
	E(VLAB_EBROKEN, "device is broken; reset it first"),
	E(VLAB_EROFS, "device is read-only"),
	E(VLAB_EBUSY, "queue full; try again later"),
	E(VLAB_ENODEV, "no such device"),
	E(VLAB_ENEEDSRESET, "device needs a reset"),
	E(VLAB_ERANGE, "out of range"),
	E(VLAB_EAGAIN, "nothing ready yet"),
	E(VLAB_ECONFIG, "device configuration value out of bounds"),
	E(VLAB_EWEDGED, "device could not be stopped; its buffers stay with the driver"),
	E(VLAB_EBADTABLE, "partition table is invalid"),
	E(VLAB_ENOGPT, "protective MBR but no valid GPT header"),
};

static const struct err_text *err_find(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
		if (err_table[i].code == err)
			return &err_table[i];
	}
	return NULL;
}

const char *vlab_strerror(int err)
{
	const struct err_text *e = err_find(err);
	return e ? e->text : "unknown error";
}

const char *vlab_errname(int err)
{
	const struct err_text *e = err_find(err);
	return e ? e->name : "VLAB_E?";
}
#else
/* VLAB_CFG_LOG=0 (vlab/config.h): names and sentences are log text. */
const char *vlab_strerror(int err)
{
	return err == VLAB_OK ? "success" : "error";
}

const char *vlab_errname(int err)
{
	return err == VLAB_OK ? "VLAB_OK" : "VLAB_E?";
}
#endif
