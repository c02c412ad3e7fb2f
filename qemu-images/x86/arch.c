/* SPDX-License-Identifier: MIT */
/*
 * x86 (i386 and x86_64) on QEMU pc (i440FX), q35 and microvm, started by
 * SeaBIOS (qboot on microvm) through multiboot (start.S; docs/qemu.md "x86").  No device tree: the
 * image fills the information main.c needs from the multiboot
 * information (RAM, command line) and the machine's fixed layout (PCI
 * configuration through ports 0xCF8/0xCFC, the PCI windows below 4 GiB).
 *
 *   console  the 16550 UART at 0x3F8 (COM1)
 *   exit     isa-debug-exit at 0xF4 (QEMU exits with (code << 1) | 1)
 *   trace    x86 has no semihosting, so arch_semihost carries the three
 *            calls trace.c makes (open, write, close) to one of two
 *            channels; the traces of a run follow each other in it:
 *            - "vlab.trace=ram" on the command line: guest RAM at
 *              TRACE_RAM_BASE, which the host reads back after QEMU exits
 *              (guest RAM a shared file: -object memory-backend-file,
 *              share=on; run-matrix.sh's x86 rows).  A 64 KiB write is one
 *              memcpy: 0.2 s of QEMU for a 1 MB trace;
 *            - otherwise the debugcon port 0xE9 (QEMU -debugcon file:PATH),
 *              which costs QEMU a write(2) per byte, even with rep outsb
 *              (5-7 s for a 1 MB trace)
 *   time     the TSC, calibrated once against the ACPI PM timer, whose
 *            port SeaBIOS programmed (PIIX4 PM or ICH9 LPC config space)
 */
#include "bm.h"
#include "vlab/mmio.h"

#define COM1 0x3F8u
#define COM1_LSR (COM1 + 5u)
#define LSR_THRE 0x20u
#define UART_MAX_POLLS 100000u
#define DEBUG_EXIT_PORT 0xF4u
#define DEBUGCON_PORT 0xE9u
#define PCI_CFG_ADDR 0xCF8u
#define PCI_CFG_DATA 0xCFCu
#define PM_TIMER_HZ 3579545u
#define PM_TIMER_MASK 0xFFFFFFu /* 24 bits at least; read as 24 */
#define CAL_PM_TICKS (PM_TIMER_HZ / 100u) /* calibrate over 10 ms */
#define CAL_MAX_POLLS 10000000u
#define SH_SYS_OPEN 0x01u
#define SH_SYS_CLOSE 0x02u
#define SH_SYS_WRITE 0x05u
/* The RAM trace channel: a header (TRACE_RAM_MAGIC, the bytes written, 32
 * bits little-endian, and 4 bytes of zero), then the bytes.  64 MiB in,
 * clear of the image (at 1 MiB, 30 MiB at most) and of what SeaBIOS keeps
 * at the top of RAM; 32 MiB long. */
#define TRACE_RAM_BASE 0x4000000u
#define TRACE_RAM_SIZE 0x2000000u
#define TRACE_RAM_HDR 16u
static const char TRACE_RAM_MAGIC[8] = {'V', 'L', 'A', 'B', 'T', 'R', 'C', '1'};

/* The PCI windows SeaBIOS and QEMU use below 4 GiB (pc: 0xE0000000 up to
 * the IOAPIC; q35: above its ECAM at 0xB0000000), and the I/O ports past
 * the legacy ISA ones.  A BAR SeaBIOS placed elsewhere (a 64-bit BAR
 * above 4 GiB) is moved into them by the driver (pci_enum.c). */
#define PC_MEM_BASE 0xE0000000u
#define Q35_MEM_BASE 0xC0000000u
#define PCI_MEM_END 0xFEC00000u
#define PCI_IO_BASE 0x1000u
#define PCI_IO_END 0x10000u
#define MICROVM_MMIO_BASE 0xFEB00000u
#define MICROVM_MMIO_SLOTS 24u

#ifdef __x86_64__
const char bm_target_name[] = "x86_64";
#else
const char bm_target_name[] = "x86";
#endif

int x86_main(uint32_t magic, uint32_t info);
_Noreturn void x86_trap(uintptr_t vector, uintptr_t error, uintptr_t ip);
extern const uintptr_t x86_trap_stubs[32];
extern uint8_t __image_start[], __image_end[];

/* ---- port I/O ---- */
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(p) : "memory"); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(p) : "memory"); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(p) : "memory"); return v; }
static inline void outb(uint16_t p, uint8_t v) { __asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(p) : "memory"); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(p) : "memory"); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(p) : "memory"); }

/* Ports are 16 bits on x86: a wider one (a hostile BAR) reads all ones
 * and takes no write. */
uint32_t arch_pio_read(unsigned w, uint32_t port)
{
	if (port > 0xFFFFu - (w - 1u))
		return 0xFFFFFFFFu >> (32u - 8u * w);
	return w == 1 ? inb((uint16_t)port) : w == 2 ? inw((uint16_t)port) : inl((uint16_t)port);
}

void arch_pio_write(unsigned w, uint32_t port, uint32_t v)
{
	if (port > 0xFFFFu - (w - 1u))
		return;
	if (w == 1)
		outb((uint16_t)port, (uint8_t)v);
	else if (w == 2)
		outw((uint16_t)port, (uint16_t)v);
	else
		outl((uint16_t)port, v);
}

/* Configuration space of bus 0 through the ports (mechanism #1), before
 * the driver runs: the PM timer's port. */
static uint32_t cfg_read32(unsigned dev, unsigned fn, unsigned reg)
{
	outl(PCI_CFG_ADDR, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xFCu));
	return inl(PCI_CFG_DATA);
}

/* ---- console, exit ---- */
void arch_console_from_fdt(const struct bm_fdt_info *f) { (void)f; }
void arch_exit_from_fdt(const struct bm_fdt_info *f) { (void)f; }

void arch_putc(char c)
{
	for (unsigned i = 0; i < UART_MAX_POLLS && !(inb(COM1_LSR) & LSR_THRE); i++)
		;
	outb(COM1, (uint8_t)c);
}

_Noreturn void arch_poweroff(int code)
{
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

_Noreturn void arch_exit(int code)
{
	arch_poweroff(code);
}

/* ---- the trace channel (see the top) ---- */
static bool trace_to_ram;
static uint32_t trace_ram_used;

static void trace_ram_open(void)
{
	volatile uint8_t *h = (volatile uint8_t *)(uintptr_t)TRACE_RAM_BASE;
	for (unsigned i = 0; i < TRACE_RAM_HDR; i++)
		h[i] = i < sizeof TRACE_RAM_MAGIC ? (uint8_t)TRACE_RAM_MAGIC[i] : 0;
}

/* Append n bytes; the length in the header follows.  The bytes that do not
 * fit (answered as not written: the trace fails) are dropped. */
static uintptr_t trace_ram_write(const uint8_t *buf, uintptr_t n)
{
	const uint32_t room = TRACE_RAM_SIZE - TRACE_RAM_HDR - trace_ram_used;
	const uint32_t k = n < room ? (uint32_t)n : room;
	vlab_memcpy((void *)(uintptr_t)(TRACE_RAM_BASE + TRACE_RAM_HDR + trace_ram_used), buf, k);
	trace_ram_used += k;
	volatile uint8_t *len = (volatile uint8_t *)(uintptr_t)(TRACE_RAM_BASE + sizeof TRACE_RAM_MAGIC);
	for (unsigned i = 0; i < 4; i++)
		len[i] = (uint8_t)(trace_ram_used >> (8u * i));
	return n - k;
}

long arch_semihost(unsigned op, const uintptr_t *param)
{
	if (op == SH_SYS_OPEN || op == SH_SYS_CLOSE)
		return op == SH_SYS_OPEN ? 1 : 0;
	if (op != SH_SYS_WRITE)
		return -1;
	const uint8_t *buf = (const uint8_t *)param[1];
	uintptr_t n = param[2];
	if (trace_to_ram)
		return (long)trace_ram_write(buf, n);
	__asm__ __volatile__("rep outsb" : "+S"(buf), "+c"(n) : "d"((uint16_t)DEBUGCON_PORT) : "memory");
	return 0;
}

/* ---- time ---- */
uint64_t arch_ticks(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* The PM timer's port as SeaBIOS programmed it, or 0: PIIX4 PM (00:01.3,
 * PMBA at 0x40, enabled by PMREGMISC 0x80 bit 0) on pc, ICH9 LPC (00:1f.0,
 * PMBASE at 0x40, enabled by ACPI_CNTL 0x44 bit 7) on q35. */
static uint16_t pm_timer_port(void)
{
	uint32_t id = cfg_read32(1, 3, 0);
	if (id == 0x71138086u && (cfg_read32(1, 3, 0x80) & 1u))
		return (uint16_t)((cfg_read32(1, 3, 0x40) & 0xFFC0u) + 8u);
	id = cfg_read32(0x1f, 0, 0);
	if (id == 0x29188086u && (cfg_read32(0x1f, 0, 0x44) & 0x80u))
		return (uint16_t)((cfg_read32(0x1f, 0, 0x40) & 0xFF80u) + 8u);
	return 0;
}

static uint64_t tsc_hz;

/* Without a PM timer (microvm): the i8254 PIT's channel 2 (1.193182 MHz),
 * gated on through port 0x61, counting down in mode 0 (wrapping past 0),
 * its count latched and read (low, high) from port 0x42; the ticks summed
 * read to read over 10 ms.  A vCPU descheduled for more than a wrap (55
 * ms) loses PIT ticks and makes the TSC look faster: the slowest of
 * PIT_CAL_RUNS runs is kept. */
#define PIT_HZ 1193182u
#define PIT_CAL_TICKS (PIT_HZ / 100u)
#define PIT_CAL_RUNS 5u
static uint16_t pit_count(void)
{
	outb(0x43, 0x80); /* latch channel 2 */
	const uint16_t lo = inb(0x42);
	return (uint16_t)(lo | (uint16_t)(inb(0x42) << 8));
}

static uint64_t pit_calibrate(void)
{
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02u) | 0x01u));
	outb(0x43, 0xB0); /* channel 2, low then high byte, mode 0 */
	outb(0x42, 0xFF);
	outb(0x42, 0xFF);
	uint64_t best = 0;
	for (unsigned run = 0; run < PIT_CAL_RUNS; run++) {
		uint32_t d = 0;
		uint16_t prev = pit_count();
		const uint64_t t0 = arch_ticks();
		for (unsigned i = 0; i < CAL_MAX_POLLS && d < PIT_CAL_TICKS; i++) {
			const uint16_t now = pit_count();
			d += (uint16_t)(prev - now);
			prev = now;
		}
		const uint64_t t1 = arch_ticks();
		if (d < PIT_CAL_TICKS || t1 <= t0)
			continue;
		const uint64_t hz = (t1 - t0) * PIT_HZ / d;
		if (best == 0 || hz < best)
			best = hz;
	}
	return best;
}

static void calibrate(void)
{
	const uint16_t port = pm_timer_port();
	if (port <= 8u) {
		tsc_hz = pit_calibrate();
		if (tsc_hz)
			bm_printf("x86: TSC %llu Hz (against the PIT, no ACPI PM timer)\n", (unsigned long long)tsc_hz);
		else
			bm_puts("x86: no ACPI PM timer and the PIT does not count: TSC not calibrated\n");
		return;
	}
	const uint32_t p0 = inl(port) & PM_TIMER_MASK;
	const uint64_t t0 = arch_ticks();
	uint32_t d = 0;
	for (unsigned i = 0; i < CAL_MAX_POLLS && d < CAL_PM_TICKS; i++)
		d = ((inl(port) & PM_TIMER_MASK) - p0) & PM_TIMER_MASK;
	const uint64_t t1 = arch_ticks();
	if (d < CAL_PM_TICKS || t1 <= t0) {
		bm_printf("x86: the PM timer at port 0x%x does not run: TSC not calibrated\n", (unsigned)port);
		return;
	}
	tsc_hz = (t1 - t0) * PM_TIMER_HZ / d;
	bm_printf("x86: TSC %llu Hz (against the PM timer at port 0x%x)\n", (unsigned long long)tsc_hz,
	          (unsigned)port);
}

uint64_t arch_tick_hz(const struct bm_fdt_info *f)
{
	(void)f;
	return tsc_hz; /* 0: the platform's default */
}

/* ---- barriers, registers ---- */
#ifdef __x86_64__
void arch_mb(void) { __asm__ __volatile__("mfence" ::: "memory"); }
#else
void arch_mb(void) { __asm__ __volatile__("lock; addl $0, (%%esp)" ::: "memory", "cc"); }
#endif
/* x86 keeps loads in order with loads and stores with stores (and the
 * UC register space in order): the compiler is what must not reorder. */
void arch_rmb(void) { __asm__ __volatile__("" ::: "memory"); }
void arch_wmb(void) { __asm__ __volatile__("" ::: "memory"); }
BM_DEFINE_IO("", "")

/* ---- exceptions ---- */
struct __attribute__((packed)) idt_ptr {
	uint16_t limit;
	uintptr_t base;
};
/* Vectors: the 32 exceptions, the local APIC timer and its spurious
 * vector (arch_idle_until); the ones between are not present (one that
 * came would fault, and the fault is reported). */
#define TIMER_VECTOR 0x40u
#define SPURIOUS_VECTOR 0x4Fu
#define IDT_VECTORS (SPURIOUS_VECTOR + 1u)
#ifdef __x86_64__
static uint64_t idt[IDT_VECTORS * 2] __attribute__((aligned(16)));
#else
static uint64_t idt[IDT_VECTORS] __attribute__((aligned(16)));
#endif
void x86_timer_isr(void);
void x86_spurious_isr(void);

/* An interrupt gate, present, DPL 0, selector 0x08 (i386) or 0x18 (the
 * 64-bit code segment). */
static void idt_set(unsigned v, uint64_t a)
{
#ifdef __x86_64__
	idt[2 * v] = (a & 0xFFFFu) | (0x18ull << 16) | (0x8E00ull << 32) | ((a >> 16 & 0xFFFFu) << 48);
	idt[2 * v + 1] = a >> 32;
#else
	idt[v] = (a & 0xFFFFu) | (0x08ull << 16) | (0x8E00ull << 32) | ((a >> 16 & 0xFFFFu) << 48);
#endif
}

static void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v, x86_trap_stubs[v]);
	idt_set(TIMER_VECTOR, (uintptr_t)x86_timer_isr);
	idt_set(SPURIOUS_VECTOR, (uintptr_t)x86_spurious_isr);
	const struct idt_ptr p = {sizeof idt - 1, (uintptr_t)idt};
	__asm__ __volatile__("lidt %0" ::"m"(p) : "memory");
}

_Noreturn void x86_trap(uintptr_t vector, uintptr_t error, uintptr_t ip)
{
	uintptr_t cr2;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	bm_trap(((uint64_t)vector << 32) | (uint32_t)error, ip, cr2);
}

/* ---- entry ---- */
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_CMDLINE_MAX 4096u

/* word as a word of the command line (QEMU's multiboot command line is
 * the kernel's file name, then -append), read up to its NUL or
 * MB_CMDLINE_MAX bytes. */
static bool cmdline_has(const char *s, const char *word)
{
	const unsigned n = (unsigned)vlab_strlen(word);
	for (unsigned i = 0; i < MB_CMDLINE_MAX && s[i]; i++) {
		if (i > 0 && s[i - 1] != ' ')
			continue;
		unsigned k = 0;
		while (k < n && i + k < MB_CMDLINE_MAX && s[i + k] == word[k])
			k++;
		if (k == n && (i + k >= MB_CMDLINE_MAX || s[i + k] == ' ' || s[i + k] == 0))
			return true;
	}
	return false;
}

int x86_main(uint32_t magic, uint32_t info_addr)
{
	static struct bm_fdt_info info;
	idt_init();
	bm_printf("vlab bare-metal image, target %s\n", bm_target_name);
	/* The multiboot information: outside the image (QEMU puts it past
	 * bss_end_addr); a flag's field only when the flag is set. */
	const uint64_t lo = (uintptr_t)__image_start, hi = (uintptr_t)__image_end;
	if (magic != MB_BOOT_MAGIC || (info_addr >= lo && info_addr < hi) || info_addr > 0xFFFFF000u) {
		bm_printf("x86: no multiboot information (magic 0x%x, info 0x%x)\n", (unsigned)magic, (unsigned)info_addr);
		return BM_EXIT_SETUP;
	}
	const volatile uint32_t *mbi = (const volatile uint32_t *)(uintptr_t)info_addr;
	const uint32_t flags = mbi[0];
	if (flags & MB_INFO_MEM) {
		/* mem_upper: KiB of RAM from 1 MiB on, up to the first hole. */
		info.mem_base = 0;
		info.mem_size = 0x100000ull + (uint64_t)mbi[2] * 1024u;
	}
	if ((flags & MB_INFO_CMDLINE) && mbi[4] != 0) {
		const char *cmdline = (const char *)(uintptr_t)mbi[4];
		info.record = cmdline_has(cmdline, "vlab.record");
		trace_to_ram = cmdline_has(cmdline, "vlab.trace=ram");
	}
	/* The RAM channel only inside RAM, and never over the image. */
	if (trace_to_ram && (info.mem_size < (uint64_t)TRACE_RAM_BASE + TRACE_RAM_SIZE ||
	                     (uintptr_t)__image_end > TRACE_RAM_BASE)) {
		bm_printf("x86: vlab.trace=ram: RAM 0x%llx bytes does not hold 0x%x+0x%x: the trace goes to debugcon\n",
		          (unsigned long long)info.mem_size, TRACE_RAM_BASE, TRACE_RAM_SIZE);
		trace_to_ram = false;
	}
	if (trace_to_ram)
		trace_ram_open();
	calibrate();
	/* microvm: no PCI (nothing answers at 00:00.0), virtio-mmio slots
	 * at fixed places (QEMU 7.2: 24 of 512 bytes from 0xFEB00000; they
	 * are not in the multiboot command line, which QEMU extends for a
	 * Linux kernel only). */
	if (cfg_read32(0, 0, 0) == 0xFFFFFFFFu) {
		info.machine = "microvm";
		for (unsigned i = 0; i < MICROVM_MMIO_SLOTS; i++) {
			info.mmio_base[i] = MICROVM_MMIO_BASE + i * (uint64_t)VIRTIO_MMIO_SIZE;
			info.mmio_size[i] = VIRTIO_MMIO_SIZE;
		}
		info.n_mmio = MICROVM_MMIO_SLOTS;
		bm_printf("x86: machine microvm, RAM 0x%llx+0x%llx, %u virtio-mmio slots at 0x%x%s\n",
		          (unsigned long long)info.mem_base, (unsigned long long)info.mem_size, MICROVM_MMIO_SLOTS,
		          MICROVM_MMIO_BASE, info.record ? ", recording" : "");
		return bm_main_info(&info);
	}
	/* pc or q35: the ICH9 LPC is q35's. */
	const bool q35 = cfg_read32(0x1f, 0, 0) == 0x29188086u;
	info.machine = q35 ? "q35" : "pc";
	info.pci_cfg_ports = true;
	info.n_pci_ranges = 2;
	info.pci_range[0] = (struct bm_fdt_range){.space = 1, .pci_addr = PCI_IO_BASE, .cpu_addr = PCI_IO_BASE,
	                                          .size = PCI_IO_END - PCI_IO_BASE};
	const uint32_t mem = q35 ? Q35_MEM_BASE : PC_MEM_BASE;
	info.pci_range[1] = (struct bm_fdt_range){.space = 2, .pci_addr = mem, .cpu_addr = mem, .size = PCI_MEM_END - mem};
	bm_printf("x86: machine %s, RAM 0x%llx+0x%llx, PCI memory 0x%x-0x%x, ports 0x%x-0x%x%s\n", info.machine,
	          (unsigned long long)info.mem_base, (unsigned long long)info.mem_size, (unsigned)mem,
	          (unsigned)PCI_MEM_END, PCI_IO_BASE, PCI_IO_END, info.record ? ", recording" : "");
	return bm_main_info(&info);
}

/*
 * Sleeping through a delay (bm.h): hlt wakes only for an interrupt the CPU
 * takes, so the local APIC's timer is armed (one-shot, TIMER_VECTOR) and
 * interrupts are on for the hlt alone (sti; hlt: the interrupt that comes
 * between them is taken in the hlt).  The legacy PICs are masked first (the
 * firmware leaves the PIT's IRQ 0 on, at a vector that is an exception in
 * protected mode).  The timer counts at the APIC's own rate, measured
 * against the TSC at init; without an APIC, a TSC rate or an APIC timer
 * that counts, delays spin as before.
 */
#define MSR_APIC_BASE 0x1Bu
#define APIC_BASE_ENABLE (1u << 11)
#define LAPIC_EOI 0x0B0u
#define LAPIC_SVR 0x0F0u
#define LAPIC_SVR_ENABLE 0x100u
#define LAPIC_LVT_TIMER 0x320u
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_INIT 0x380u
#define LAPIC_TIMER_CUR 0x390u
#define LAPIC_TIMER_DIV 0x3E0u
#define LAPIC_DIV_1 0xBu
#define LAPIC_CAL_POLLS 100000000u

uintptr_t x86_lapic_eoi; /* start.S x86_timer_isr */
static volatile uint32_t *lapic;
static uint64_t lapic_hz;

static uint32_t lapic_rd(uint32_t reg) { return lapic[reg / 4]; }
static void lapic_wr(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

bool arch_idle_init(const struct bm_fdt_info *f)
{
	uint32_t a, b, c, d, lo, hi;
	(void)f;
	__asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0u));
	if (!(d & (1u << 9)) || tsc_hz == 0 || tsc_hz > 0xFFFFFFFFu)
		return false; /* no local APIC, or no TSC rate to convert with */
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	const uint64_t base = ((uint64_t)hi << 32 | lo) & ~0xFFFull;
	if (!(lo & APIC_BASE_ENABLE) || !bm_reaches(BM_CPU_ADDR_MAX, base, 0x1000))
		return false;
	outb(0x21, 0xFF); /* both 8259s: every line masked */
	outb(0xA1, 0xFF);
	lapic = (volatile uint32_t *)(uintptr_t)base;
	x86_lapic_eoi = (uintptr_t)base + LAPIC_EOI;
	lapic_wr(LAPIC_SVR, LAPIC_SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_wr(LAPIC_TIMER_DIV, LAPIC_DIV_1);
	/* The APIC timer's rate: its count down over about 1 ms of TSC. */
	lapic_wr(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR);
	lapic_wr(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
	const uint64_t t0 = arch_ticks(), span = tsc_hz / 1000u;
	uint64_t t1 = t0;
	for (unsigned i = 0; i < LAPIC_CAL_POLLS && t1 - t0 < span; i++)
		t1 = arch_ticks();
	const uint32_t counted = 0xFFFFFFFFu - lapic_rd(LAPIC_TIMER_CUR);
	lapic_wr(LAPIC_TIMER_INIT, 0);
	/* Both rates below 2^32: the conversion's products stay in 64 bits. */
	lapic_hz = t1 - t0 < span ? 0 : (uint64_t)counted * tsc_hz / (t1 - t0);
	if (lapic_hz == 0 || lapic_hz > 0xFFFFFFFFu) {
		lapic = NULL; /* arch_idle_until does nothing */
		return false;
	}
	bm_printf("x86: local APIC timer %llu Hz: delays sleep\n", (unsigned long long)lapic_hz);
	return true;
}

void arch_idle_until(uint64_t tick)
{
	const uint64_t now = arch_ticks();
	if (!lapic || tick <= now)
		return;
	/* TSC ticks to APIC counts, split so that neither product overflows;
	 * at most a 32-bit count (the caller's clock decides afterwards). */
	const uint64_t dt = tick - now;
	uint64_t n = dt / tsc_hz > 0xFFFFFFFFu / lapic_hz
	                     ? 0xFFFFFFFFu
	                     : dt / tsc_hz * lapic_hz + dt % tsc_hz * lapic_hz / tsc_hz;
	if (n > 0xFFFFFFFFu)
		n = 0xFFFFFFFFu;
	lapic_wr(LAPIC_LVT_TIMER, TIMER_VECTOR); /* one-shot, unmasked */
	lapic_wr(LAPIC_TIMER_INIT, n ? (uint32_t)n : 1u);
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
	lapic_wr(LAPIC_TIMER_INIT, 0);
	lapic_wr(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | TIMER_VECTOR);
}
