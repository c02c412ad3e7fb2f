/* SPDX-License-Identifier: MIT */
/* Readable names for enum vlab_err. */
#include <stddef.h>

#include "vlab/err.h"

struct err_text {
	int code;
	const char *name;
	const char *text;
};

static const struct err_text err_table[] = {
	{VLAB_OK, "VLAB_OK", "success"},
	{VLAB_EINVAL, "VLAB_EINVAL", "invalid argument"},
	{VLAB_ENOMEM, "VLAB_ENOMEM", "out of memory or request slots"},
	{VLAB_ETIMEDOUT, "VLAB_ETIMEDOUT", "device timed out"},
	{VLAB_EIO, "VLAB_EIO", "device reported an I/O error"},
	{VLAB_ENOTSUP, "VLAB_ENOTSUP", "not supported"},
	{VLAB_EPROTO, "VLAB_EPROTO", "device broke the protocol"},
	{VLAB_EBROKEN, "VLAB_EBROKEN", "device is broken; reset it first"},
	{VLAB_EROFS, "VLAB_EROFS", "device is read-only"},
	{VLAB_EBUSY, "VLAB_EBUSY", "queue full; try again later"},
	{VLAB_ENODEV, "VLAB_ENODEV", "no such device"},
	{VLAB_ENEEDSRESET, "VLAB_ENEEDSRESET", "device needs a reset"},
	{VLAB_ERANGE, "VLAB_ERANGE", "out of range"},
	{VLAB_EAGAIN, "VLAB_EAGAIN", "nothing ready yet"},
	{VLAB_ECONFIG, "VLAB_ECONFIG", "device configuration value out of bounds"},
	{VLAB_EWEDGED, "VLAB_EWEDGED", "device could not be stopped; its buffers stay with the driver"},
	{VLAB_EBADTABLE, "VLAB_EBADTABLE", "partition table is invalid"},
	{VLAB_ENOGPT, "VLAB_ENOGPT", "protective MBR but no valid GPT header"},
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
