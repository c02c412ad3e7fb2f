#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/).

Each seed is a control stream (read from the front of the input) and a
payload (read from the back), laid out as the targets read them; see
fuzz_platform.h.  Deterministic: running it again writes the same files.
Usage: python3 fuzz/make_corpus.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Device lies, as the control byte after each chain the device takes.
STALL, BAD_ID, BAD_LEN, BAD_STATUS, TWICE, IDX_JUMP = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA


def seed(ctl, payload=b""):
    # Payload bytes are consumed from the end, so they are stored reversed.
    return bytes(ctl) + bytes(reversed(payload))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ring():
    honest = 0x0E  # lie_shift 8: never lies; racy off
    add = lambda n_out, n_in, lens: [(n_out << 2) | (n_in << 4)] + lens
    kick, pop, irq = [1, 0], [2], [3]  # a kick hands one chain over: one honest control byte
    write("fuzz_ring", "honest_one_chain", seed([honest, 0xFF, 0] + add(1, 1, [15, 63]) + kick + pop))
    write("fuzz_ring", "honest_many", seed([honest, 0x3F, 8] + (add(1, 2, [7, 7, 7]) + kick) * 6 + pop * 7 + irq))
    write("fuzz_ring", "racy", seed([honest | 1, 0xFF, 0] + add(0, 1, [31]) + kick + pop + pop,
                                    b"\x01\x00\x00\x00\x00\x00\x20\x00\x00\x00"))
    for name, lie, pay in [("bad_id", BAD_ID, b"\x05\x00\x00\x00"), ("bad_len", BAD_LEN, b"\xff\xff\x00\x00"),
                           ("twice", TWICE, b""), ("idx_jump", IDX_JUMP, b"\x40\x00"), ("stall", STALL, b"")]:
        write("fuzz_ring", name, seed([honest, 0xFF, 0] + add(1, 1, [15, 15]) + [1, lie] + pop + pop, pay))
    write("fuzz_ring", "odd_queue_max", seed([honest, 99, 0] + add(0, 1, [1]) + kick + pop))
    write("fuzz_ring", "lying_status", seed([0x00, 0xFF, 0] + add(1, 1, [1, 1]) + kick + pop, b"\x08" * 16))


def probe():
    write("fuzz_mmio_probe", "honest", seed([0x07, 0]))
    write("fuzz_mmio_probe", "legacy_allowed", seed([0x47 | 0x20, 0]))
    write("fuzz_mmio_probe", "legacy_refused", seed([0x27, 0]))
    write("fuzz_mmio_probe", "racy", seed([0x17, 16]))
    # Always lie: the payload answers every register read (magic, version, id, ...).
    regs = b"virt" + b"\x02\x00\x00\x00" + b"\x02\x00\x00\x00" + b"QEMU" + b"\x00" * 8
    write("fuzz_mmio_probe", "all_lies_valid_start", seed([0x00], regs))
    write("fuzz_mmio_probe", "wrong_magic", seed([0x00], b"virx"))
    write("fuzz_mmio_probe", "empty_slot", seed([0x00], b"virt\x02\x00\x00\x00\x00\x00\x00\x00"))


def blk():
    honest = 0x0E
    # Each request the device takes reads one control byte: 0 is honest.
    rd = lambda sector, n, lie=0: [0x00 | ((n - 1) << 4), sector, lie]
    wr = lambda sector, n: [0x01 | ((n - 1) << 4), sector, 0]
    flush, getid, poll = [0x02, 0, 0], [0x03, 0, 0], [0x05, 0]
    submit = lambda k, write_, sector: [0x04 | (k << 3) | (0x80 if write_ else 0), sector, 0]
    irq, reinit = [0x06, 0], [0x07, 0]
    write("fuzz_blk_io", "honest_rw", seed([honest] + wr(3, 2) + rd(3, 2) + flush + getid))
    write("fuzz_blk_io", "async", seed([honest] + submit(0, 0, 1) + submit(1, 1, 9) + irq + poll + poll + poll))
    write("fuzz_blk_io", "beyond_capacity", seed([honest] + rd(63, 2) + wr(66, 1)))
    write("fuzz_blk_io", "reinit", seed([honest] + wr(1, 1) + reinit + rd(1, 1)))
    write("fuzz_blk_io", "small_queue", seed([honest | 0x80] + rd(0, 16) + wr(0, 16)))
    write("fuzz_blk_io", "racy", seed([honest | 1] + rd(0, 1), b"\x00" * 64))
    for name, lie, pay in [("bad_status", BAD_STATUS, b"\x07"), ("stall", STALL, b""),
                           ("bad_id", BAD_ID, b"\x09\x00\x00\x00"), ("short_len", BAD_LEN, b"\x02\x00\x00\x00"),
                           ("twice", TWICE, b""), ("idx_jump", IDX_JUMP, b"\x03\x00")]:
        write("fuzz_blk_io", "read_" + name, seed([honest] + rd(2, 1, lie) + rd(2, 1), pay))
    # Lies in initialisation too (rarely: a control byte of 0xfe or 0xff).
    write("fuzz_blk_io", "lies_in_init", seed([0x4C] + [0] * 20 + [0xFF] + [0] * 40 + rd(0, 1), b"\x05" * 32))


def pci():
    # Mode byte a: lie level (8: never) | racy 0x10 | kind << 5 (0 modern, 1 transitional,
    # 2 legacy-only) | BARs preassigned 0x80.  Mode byte b: cfg ports 0x01 | PIO window 0x02 |
    # ALLOW_LEGACY 0x04 | FORCE_LEGACY 0x08 | MSI-X vectors refused 0x10.
    MODERN, TRANS, LEGACY = 0x08, 0x28, 0x48
    CAP_COMMON, CAP_NOTIFY, CAP_DEVICE, CAP_PCICFG, CAP_MSIX = 0x40, 0x50, 0x74, 0x84, 0x98
    MASK = 0x100  # BAR sizing masks, 4 bytes each
    NOTIFY_OFF = 0x118

    def dev(name, a, b=0, patches=()):
        # Patch positions in the control stream, their values in the payload.
        ctl = [a, b, len(patches)]
        for where, _ in patches:
            ctl += [where & 0xFF, where >> 8]
        write("fuzz_pci_probe", name, seed(ctl, bytes(v for _, v in patches)))

    dev("honest_modern", MODERN)
    dev("honest_modern_preassigned", MODERN | 0x80)
    dev("honest_modern_cfg_ports", MODERN, 0x01)
    dev("transitional", TRANS)
    dev("transitional_forced_legacy", TRANS, 0x08)
    dev("legacy_allowed", LEGACY, 0x04)
    dev("legacy_allowed_pio_window", LEGACY | 0x80, 0x06)
    dev("legacy_cfg_ports", LEGACY, 0x05)
    dev("legacy_refused", LEGACY)
    dev("racy", MODERN | 0x10)
    dev("lies_rarely", 0x07, 0x04)
    dev("msix_vector_refused", MODERN, 0x10)
    dev("cap_list_loops", MODERN, 0, [(CAP_MSIX + 1, CAP_COMMON)])
    dev("cap_ptr_into_header", MODERN, 0, [(0x34, 0x20)])
    dev("cap_past_config_space", MODERN, 0, [(0x34, 0xF8), (0xF8, 0x09)])
    dev("cap_len_short", MODERN, 0, [(CAP_COMMON + 2, 8)])
    dev("structure_beyond_bar", MODERN, 0, [(CAP_COMMON + 8, 0xE0), (CAP_COMMON + 9, 0x3F)])
    dev("notify_mult_overflow", MODERN, 0, [(CAP_NOTIFY + 16 + i, 0xFF) for i in range(4)] +
        [(NOTIFY_OFF, 0xFF), (NOTIFY_OFF + 1, 0xFF)])
    dev("notify_off_beyond", MODERN, 0, [(NOTIFY_OFF + 1, 0x10)])
    dev("missing_common_cfg", MODERN, 0, [(CAP_COMMON + 3, 0x07)])
    dev("unknown_cfg_type", MODERN, 0, [(CAP_PCICFG + 3, 0x0A)])
    dev("reserved_bar_number", MODERN, 0, [(CAP_DEVICE + 4, 7)])
    dev("zero_size_bar", MODERN, 0, [(MASK + 16 + i, 0) for i in range(8)])
    dev("bar64_in_last_slot", MODERN, 0, [(MASK + 16 + i, 0) for i in range(4)] +
        [(MASK + 20, 0x04), (MASK + 21, 0xC0), (MASK + 22, 0xFF), (MASK + 23, 0xFF)])
    dev("bar_too_big_for_window", MODERN, 0, [(MASK + 18, 0), (MASK + 19, 0), (MASK + 20, 0xF0)])
    dev("legacy_io_bar_too_small", LEGACY, 0x04, [(MASK, 0xF1)])
    dev("legacy_msix_enabled", TRANS, 0x08, [(CAP_MSIX + 3, 0x80)])
    dev("multi_function", MODERN, 0, [(0x0E, 0x80)])
    dev("bridge_header", MODERN, 0, [(0x0E, 0x01)])
    dev("not_virtio", MODERN, 0, [(0x02, 0x00), (0x03, 0x20)])


if __name__ == "__main__":
    ring()
    probe()
    blk()
    pci()
