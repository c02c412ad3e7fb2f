/* SPDX-License-Identifier: MIT */
/* Inside the virtio-pci transport: the two interfaces' ops. */
#ifndef VLAB_PCI_PRIV_H
#define VLAB_PCI_PRIV_H

#include "vlab/pci.h"

extern const struct vlab_transport_ops vlab_pci_modern_ops;
extern const struct vlab_transport_ops vlab_pci_legacy_ops;

/* The largest queue size the spec allows (2.7). */
#define VLAB_PCI_QUEUE_SIZE_LIMIT 32768u

static inline struct vlab_pci *vlab_pci_of(struct vlab_virtio_dev *d)
{
	return (struct vlab_pci *)d->transport;
}

#endif
