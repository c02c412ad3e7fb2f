/* SPDX-License-Identifier: MIT */
/*
 * The smallest port: a board whose DMA is coherent and identity-mapped (as
 * QEMU's riscv "virt"), virtio-mmio at a fixed address, a polled disk.  It
 * probes the slot, initialises the block driver and reads LBA 0.  Only the
 * required platform operations are filled in (docs/porting.md).
 */
#include <stdint.h>

#include "vlab/abi.h"
#include "vlab/blk.h"
#include "vlab/mmio.h"

#define VIRTIO_MMIO_BASE 0x10001000u /* slot 0 of QEMU's riscv virt */
#define UART_THR 0x10000000u         /* its ns16550a */

static uint8_t dma_pool[64 * 1024] __attribute__((aligned(4096)));
static size_t dma_used;
static uint64_t ticks;

#define REG(T, a) (*(volatile T *)(uintptr_t)(a))
static uint8_t rd8(void *c, vlab_addr_t a) { (void)c; return REG(uint8_t, a); }
static uint16_t rd16(void *c, vlab_addr_t a) { (void)c; return REG(uint16_t, a); }
static uint32_t rd32(void *c, vlab_addr_t a) { (void)c; return REG(uint32_t, a); }
static void wr8(void *c, vlab_addr_t a, uint8_t v) { (void)c; __sync_synchronize(); REG(uint8_t, a) = v; }
static void wr16(void *c, vlab_addr_t a, uint16_t v) { (void)c; __sync_synchronize(); REG(uint16_t, a) = v; }
static void wr32(void *c, vlab_addr_t a, uint32_t v) { (void)c; __sync_synchronize(); REG(uint32_t, a) = v; }

/* A bump allocator: this program never frees. */
static void *dma_alloc(void *c, size_t size, size_t align, vlab_addr_t *dev)
{
	(void)c;
	size_t at = (dma_used + align - 1) & ~(align - 1);
	if (at + size > sizeof dma_pool)
		return 0;
	dma_used = at + size;
	for (size_t i = 0; i < size; i++)
		dma_pool[at + i] = 0;
	*dev = (vlab_addr_t)(uintptr_t)&dma_pool[at];
	return &dma_pool[at];
}
static void dma_free(void *c, void *cpu, size_t size) { (void)c; (void)cpu; (void)size; }
static int dma_map(void *c, const void *cpu, size_t len, enum vlab_dma_dir dir, vlab_addr_t *dev)
{
	(void)c; (void)len; (void)dir;
	*dev = (vlab_addr_t)(uintptr_t)cpu; /* coherent, identity-mapped: nothing to do */
	return 0;
}
static uint16_t shm16(void *c, const volatile void *p) { (void)c; return *(const volatile uint16_t *)p; }
static uint32_t shm32(void *c, const volatile void *p) { (void)c; return *(const volatile uint32_t *)p; }
static void shm(void *c, void *d, const volatile void *s, size_t n)
{
	(void)c;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)d)[i] = ((const volatile uint8_t *)s)[i];
}
static void fence(void *c) { (void)c; __sync_synchronize(); }
/* No timer on this board: a counter that moves on every look bounds the waits. */
static uint64_t now(void *c) { (void)c; return ticks += 1000; }
static void delay(void *c, uint64_t ns) { (void)c; ticks += ns; }

static const struct vlab_platform_ops ops = {
	.mmio_read8 = rd8, .mmio_read16 = rd16, .mmio_read32 = rd32,
	.mmio_write8 = wr8, .mmio_write16 = wr16, .mmio_write32 = wr32,
	.dma_alloc = dma_alloc, .dma_free = dma_free, .dma_map = dma_map,
	.shm_read16 = shm16, .shm_read32 = shm32, .shm_read = shm,
	.mb = fence, .rmb = fence, .wmb = fence, .now_ns = now, .delay_ns = delay,
};
/* Identity-mapped, no IOMMU: the device reads all memory, and zeroing read
 * buffers would hide nothing from it (vlab/platform.h). */
static const struct vlab_platform plat = {.ops = &ops, .ctx = 0, .flags = VLAB_PLAT_DMA_ALL_MEMORY};

static void puts_uart(const char *s)
{
	while (*s)
		REG(uint8_t, UART_THR) = (uint8_t)*s++;
}

int main(void)
{
	static struct vlab_mmio m;
	static struct vlab_blk blk;
	static uint8_t sector[512];

	if (vlab_abi_ok(&plat) != 0 || vlab_mmio_probe(&m, &plat, VIRTIO_MMIO_BASE, 0) != 0 ||
	    vlab_blk_init(&blk, &m.vdev, 0) != 0 || vlab_blk_read(&blk, 0, sector, 1) != 0) {
		puts_uart("minimal: no disk\n");
		return 1;
	}
	puts_uart(sector[510] == 0x55 && sector[511] == 0xaa ? "minimal: LBA 0 has a boot signature\n"
	                                                     : "minimal: LBA 0 read\n");
	return 0;
}
