/* SPDX-License-Identifier: MIT */
/*
 * The image's main: read the device tree, probe every virtio-mmio slot it
 * names, run the scenario for each device found, exit with the result.
 *
 * Console lines: "T: " lines are the transcript (compared with the
 * model's); everything else (banner, device-tree summary, driver log) is
 * for people.
 */
#include "bm.h"
#include "scenario.h"
#include "vlab/mmio.h"

/* The largest device tree we read. */
#define BM_FDT_MAX_BYTES (1u << 20)

static struct vlab_mmio mmio_dev[BM_FDT_MAX_MMIO];

static void transcript_line(void *ctx, const char *text)
{
	(void)ctx;
	bm_puts("T: ");
	bm_puts(text);
	bm_puts("\n");
}

static void print_fdt(const struct bm_fdt_info *f)
{
	bm_printf("fdt: %u nodes, memory 0x%llx+0x%llx, %u virtio-mmio slots (%u dropped), timebase %u Hz\n",
	          f->nodes, (unsigned long long)f->mem_base, (unsigned long long)f->mem_size, f->n_mmio,
	          f->mmio_dropped, (unsigned)f->timebase_hz);
	bm_printf("fdt: uart %s at 0x%llx, exit device 0x%llx, pci ecam 0x%llx+0x%llx (%u ranges)\n",
	          f->uart_kind == BM_UART_NS16550 ? "ns16550" : f->uart_kind == BM_UART_PL011 ? "pl011" : "none",
	          (unsigned long long)f->uart_base, (unsigned long long)f->exit_base,
	          (unsigned long long)f->ecam_base, (unsigned long long)f->ecam_size, f->n_pci_ranges);
}

int bm_main(uintptr_t fdt_addr)
{
	static struct bm_fdt_info fdt;

	bm_printf("vlab bare-metal image, target %s\n", bm_target_name);
	int rc = bm_fdt_parse((const void *)fdt_addr, BM_FDT_MAX_BYTES, &fdt);
	if (rc) {
		bm_printf("fdt at 0x%llx: %s\n", (unsigned long long)fdt_addr, bm_fdt_strerror(rc));
		return BM_EXIT_SETUP;
	}
	arch_console_from_fdt(&fdt);
	arch_exit_from_fdt(&fdt);
	print_fdt(&fdt);
	const struct vlab_platform *plat = bm_platform_init(&fdt);

	struct sc_out out = {.line = transcript_line};
	unsigned found = 0, failures = 0;
	for (unsigned i = 0; i < fdt.n_mmio; i++) {
		if (fdt.mmio_size[i] < VIRTIO_MMIO_SIZE) {
			bm_printf("virtio-mmio at 0x%llx: window of 0x%llx bytes is too small, skipped\n",
			          (unsigned long long)fdt.mmio_base[i], (unsigned long long)fdt.mmio_size[i]);
			continue;
		}
		struct vlab_mmio *m = &mmio_dev[i];
		rc = vlab_mmio_probe(m, plat, fdt.mmio_base[i], VLAB_MMIO_ALLOW_LEGACY);
		if (rc == VLAB_ENODEV)
			continue; /* an empty slot */
		if (rc) {
			bm_printf("virtio-mmio at 0x%llx: %s\n", (unsigned long long)fdt.mmio_base[i],
			          vlab_strerror(rc));
			failures++;
			continue;
		}
		bm_printf("virtio-mmio at 0x%llx: device %u, version %u\n", (unsigned long long)fdt.mmio_base[i],
		          (unsigned)m->vdev.device_id, (unsigned)m->version);
		const struct sc_dev sd = {.vdev = &m->vdev, .transport = m->version == 1 ? "mmio-v1" : "mmio-v2"};
		found++;
		switch (m->vdev.device_id) {
		case VIRTIO_ID_BLOCK:
			failures += sc_blk_run(&out, &sd);
			break;
		default:
			bm_printf("device %u: no scenario for it, skipped\n", (unsigned)m->vdev.device_id);
			break;
		}
	}
	if (found == 0) {
		bm_puts("vlab: no virtio device found\n");
		return BM_EXIT_SETUP;
	}
	bm_printf("vlab: result %s (%u failures)\n", failures ? "FAIL" : "pass", failures);
	return failures ? BM_EXIT_FAIL : BM_EXIT_PASS;
}

_Noreturn void bm_trap(uint64_t cause, uint64_t pc, uint64_t addr)
{
	bm_printf("vlab: trap: cause 0x%llx pc 0x%llx addr 0x%llx\n", (unsigned long long)cause,
	          (unsigned long long)pc, (unsigned long long)addr);
	arch_exit(BM_EXIT_TRAP);
}
