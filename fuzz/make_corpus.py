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

# The ring features the fuzz device offers (fuzz_platform.h): a control stream
# beginning with RING_MAGIC has a byte of these bits next (fuzz_packed: always
# the second byte, PACKED implied); without it, none is offered.
RING_MAGIC, R_PACKED, R_INDIRECT, R_EVENT_IDX = 0x7A, 1, 2, 4
RING_KINDS = [("split_indirect", R_INDIRECT), ("split_event_idx", R_EVENT_IDX),
              ("split_both", R_INDIRECT | R_EVENT_IDX), ("packed", R_PACKED),
              ("packed_indirect", R_PACKED | R_INDIRECT), ("packed_event_idx", R_PACKED | R_EVENT_IDX),
              ("packed_both", R_PACKED | R_INDIRECT | R_EVENT_IDX)]


def rings(ctl):
    """ctl with the ring-feature prefix, for each ring kind: (suffix, control stream)."""
    return [(name, [RING_MAGIC, bits] + ctl) for name, bits in RING_KINDS]


def seed(ctl, payload=b""):
    # Payload bytes are consumed from the end, so they are stored reversed.
    return bytes(ctl) + bytes(reversed(payload))


# fz_transport_extras, from the payload: a count, then per access an op byte
# (width index op % 6 of 1, 2, 4, 8, 3, 0; (op >> 3) % 4: direct read, direct
# write (+4 value bytes), core read, core write; 0x80: offset + 0x100) and an offset.
EXTRAS = bytes([7, 0x02, 0x00, 0x03, 0x00, 0x01, 0x01, 0x82, 0xFC, 0x0A, 0x00, 1, 2, 3, 4,
                0x13, 0x00, 0x1A, 0x04])


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
    for name, ctl in rings([honest, 0x3F, 8] + (add(1, 2, [7, 7, 7]) + kick) * 6 + pop * 7 + irq):
        write("fuzz_ring", "ring_" + name, seed(ctl))


def packed():
    # fuzz_packed: mode byte, ring byte (R_INDIRECT, R_EVENT_IDX; packed always),
    # then as fuzz_ring.  An add's op bits 6-7 add 4 writable buffers each (with the ring
    # byte): lists long enough for an indirect table, or beyond its 16 entries.
    honest = 0x0E
    add = lambda n_out, n_in, lens, more=0: [(n_out << 2) | (n_in << 4) | (more << 6)] + lens
    kick, pop, irq, off, on = [1, 0], [2], [3], [3 | 4], [3 | 8]
    kick_n = lambda n: [1] + [0] * n
    t = "fuzz_packed"
    for kind, bits in [("", 0), ("_indirect", R_INDIRECT), ("_event_idx", R_EVENT_IDX),
                       ("_both", R_INDIRECT | R_EVENT_IDX)]:
        p = lambda ctl, qmax=0xFF, cap=0: [honest, bits, qmax, cap] + ctl
        write(t, "honest_one_chain" + kind, seed(p(add(1, 1, [15, 63]) + kick + pop)))
        write(t, "honest_many" + kind, seed(p((add(1, 2, [7, 7, 7]) + kick) * 6 + pop * 7 + irq, 0x3F, 8)))
        write(t, "long_lists" + kind, seed(p(add(1, 2, [9] * 7, 1) + add(3, 3, [5] * 18, 3) + kick_n(2) + pop * 2)))
        # A ring of 4 slots: the wrap counters flip every few chains.
        write(t, "wraps" + kind, seed(p((add(1, 1, [3, 3]) + kick + pop) * 9 + (add(0, 3, [1, 1, 1]) + kick + pop) * 5,
                                        3)))
        write(t, "batch_then_pop" + kind, seed(p(add(1, 1, [3, 3]) * 3 + kick_n(3) + pop * 3, 7)))
        write(t, "callbacks" + kind, seed(p(off + add(1, 1, [3, 3]) + kick + on + pop + on + irq + off + pop)))
        for name, lie, pay in [("bad_id", BAD_ID, b"\x05\x00\x00\x00"), ("bad_len", BAD_LEN, b"\xff\xff\x00\x00"),
                               ("twice", TWICE, b""), ("idx_jump", IDX_JUMP, b"\x40\x00"), ("stall", STALL, b"")]:
            write(t, name + kind, seed(p(add(1, 1, [15, 15]) + [1, lie] + pop + add(1, 1, [3, 3]) + kick + pop + pop),
                                       pay))
        write(t, "racy" + kind, seed([honest | 1, bits, 0xFF, 0] + add(0, 1, [31]) + kick + pop + pop,
                                     b"\x01\x00\x00\x00\x00\x00\x20\x00\x00\x00\x80\x80"))
        # Lies in the event suppression structure (a control byte per notification).
        write(t, "event_lies" + kind, seed([0x04, bits, 0xFF, 0] + [0] * 8 + (add(1, 1, [3, 3]) + [1, 0, 0xFF] + pop) * 3,
                                           b"\x02\x00\x01\x00" * 4))


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
    write("fuzz_mmio_probe", "transport_extras", seed([0x07, 0], EXTRAS))
    write("fuzz_mmio_probe", "transport_extras_legacy", seed([0x67, 0], EXTRAS))
    for name, ctl in rings([0x07, 0]):
        write("fuzz_mmio_probe", "ring_" + name, seed(ctl))


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
    for name, ctl in rings([honest] + wr(3, 2) + rd(3, 2) + flush + getid + submit(0, 0, 1) + submit(1, 1, 9) +
                           irq + poll + poll + poll + rd(0, 16) + reinit + rd(3, 2)):
        write("fuzz_blk_io", "ring_" + name, seed(ctl))
    for name, ctl in rings([honest] + rd(2, 1, STALL) + rd(2, 1) + reinit + rd(2, 1, TWICE) + rd(2, 1)):
        write("fuzz_blk_io", "ring_lies_" + name, seed(ctl))
    # MQ (0x6D: num_queues, then the queues the transport has, 1 + byte % 3).
    MQ = 0x6D
    mq_io = wr(3, 2) + submit(0, 0, 1) + submit(1, 1, 9) + submit(2, 2, 1) + irq + poll + poll + poll + rd(0, 16)
    write("fuzz_blk_io", "mq_three_queues", seed([MQ, 3, 2, honest] + mq_io + reinit + rd(3, 2)))
    write("fuzz_blk_io", "mq_num_queues_zero", seed([MQ, 0, 2, honest] + mq_io))
    write("fuzz_blk_io", "mq_num_queues_above_the_transport", seed([MQ, 255, 1, honest] + mq_io))
    write("fuzz_blk_io", "mq_lies_on_a_second_queue", seed([MQ, 2, 1, honest] + rd(0, 16) + rd(2, 1, STALL) + rd(2, 1) +
                                                           reinit + rd(2, 1, TWICE) + rd(2, 1)))
    write("fuzz_blk_io", "lies_in_init", seed([0x4C] + [0] * 20 + [0xFF] + [0] * 40 + rd(0, 1), b"\x05" * 32))


def pci():
    # Mode byte a: lie level (8: never) | racy 0x10 | kind << 5 (0 modern, 1 transitional,
    # 2 legacy-only) | BARs preassigned 0x80.  Mode byte b: cfg ports 0x01 | PIO window 0x02 |
    # ALLOW_LEGACY 0x04 | FORCE_LEGACY 0x08 | MSI-X vectors refused 0x10.
    MODERN, TRANS, LEGACY = 0x08, 0x28, 0x48
    CAP_COMMON, CAP_NOTIFY, CAP_DEVICE, CAP_PCICFG, CAP_MSIX = 0x40, 0x50, 0x74, 0x84, 0x98
    MASK = 0x100  # BAR sizing masks, 4 bytes each
    NOTIFY_OFF = 0x118

    def dev(name, a, b=0, patches=(), extras=b""):
        # Patch positions in the control stream, their values in the payload.
        ctl = [a, b, len(patches)]
        for where, _ in patches:
            ctl += [where & 0xFF, where >> 8]
        write("fuzz_pci_probe", name, seed(ctl, bytes(v for _, v in patches) + extras))

    dev("honest_modern", MODERN)
    dev("transport_extras_modern", MODERN, 0, (), EXTRAS)
    dev("transport_extras_legacy", LEGACY, 0x04, (), EXTRAS)
    dev("transport_extras_legacy_msix", TRANS, 0x08, [(CAP_MSIX + 3, 0x80)], EXTRAS)
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
    # With the 0xCF8 ports (256 buses) vlab_pci_scan numbers it; the numbers do not stick.
    dev("bridge_header_cfg_ports", MODERN, 0x01, [(0x0E, 0x01)])
    dev("not_virtio", MODERN, 0, [(0x02, 0x00), (0x03, 0x20)])
    for name, ctl in rings([MODERN, 0, 0]):
        write("fuzz_pci_probe", "ring_" + name, seed(ctl))
    for name, ctl in rings([TRANS, 0x08, 0]):
        write("fuzz_pci_probe", "ring_legacy_" + name, seed(ctl))


def net():
    # Mode bytes: a = lie level (8: never) | racy 0x10 | transport << 5 (0 mmio, 1 pci,
    # 2 pci legacy, 3 mmio legacy) | lies during init 0x80; b = features refused (MRG_RXBUF 0x01,
    # CTRL_VQ 0x02, MTU 0x04, STATUS 0x08, MAC 0x10, CTRL_MAC_ADDR 0x20) | queue cap << 6;
    # c = rx buffers (low nibble, 0: default) | rx buffer bytes / 64 (high nibble, 0: default).
    HONEST = 0x08
    RX_NUMBUF, RX_GSO, RX_HEADER = 0xFF, 0xFE, 0xFD  # header lies, the control byte before completion

    def rx(n, hdr_lie=0, lies=(0,)):
        # deliver a frame of n bytes (one completion control byte per buffer used), then receive
        return [0, n & 0xFF, n >> 8, hdr_lie] + list(lies)

    def tx(n, lie=0):
        return [2, n & 0xFF, n >> 8, lie]

    recv, reclaim, irq, wait, update, reinit = [1], [3], [5], [7], [8], [9]
    link = lambda up: [4 | (0x10 if up else 0)]
    ctrl = lambda k, on=True, lie=0: [6 | (k << 4) | (0x40 if on else 0), lie]

    def n(name, ctl, payload=b"", a=HONEST, b=0, c=0):
        write("fuzz_net", name, seed([a, b, c] + ctl, payload))

    n("honest_rx_tx", rx(60) + tx(60) + reclaim + recv)
    n("honest_pci", rx(60) + tx(60) + reclaim, a=HONEST | 0x20)
    n("honest_pci_legacy", rx(60) + tx(60) + reclaim, a=HONEST | 0x40)
    n("honest_mmio_legacy", rx(60) + tx(60) + reclaim, a=HONEST | 0x60)
    n("no_mrg_rxbuf", rx(1514) + rx(60) + tx(1514), b=0x01)
    n("merged_buffers", rx(1000, 0, [0] * 6) + rx(1514, 0, [0] * 8), c=0x30)
    n("refuse_everything", rx(60) + tx(60) + ctrl(0) + update, b=0x3F)
    n("small_queues", tx(60, 0xFF) + tx(60) + tx(60) + reclaim, b=0xC0)
    n("tx_busy", tx(60, 0xFF) * 10 + reclaim)
    n("racy", rx(60) + recv + tx(60) + reclaim, b"\x00" * 64, a=HONEST | 0x10)
    n("lies_in_init", [0] * 40 + rx(60), b"\x05" * 64, a=0x87)
    n("rx_short", rx(4) + rx(14))
    n("rx_long", rx(1515, 0, [0] * 9) + rx(1599, 0, [0] * 9), c=0x30)
    n("rx_num_buffers_zero", rx(60, RX_NUMBUF), b"\x00\x00")
    n("rx_num_buffers_too_many", rx(60, RX_NUMBUF) + rx(60), b"\x40\x00")
    n("rx_num_buffers_more_than_used", rx(60, RX_NUMBUF) + recv, b"\x03\x00")
    n("rx_gso", rx(60, RX_GSO), b"\x04")
    n("rx_header_lies", rx(60, RX_HEADER), bytes(range(1, 13)))
    # GUEST_CSUM: DATA_VALID on a frame that is no TCP/UDP (c & 1: rx_csum_verify), and
    # NEEDS_CSUM pointing into it; CSUM: a UDP/IPv4 frame sent with NEEDS_CSUM (op 0xe8).
    dv = b"\x02" + b"\x00" * 9 + b"\x01\x00"  # DATA_VALID, num_buffers 1
    n("rx_csum_data_valid", rx(60, RX_HEADER) + rx(60, RX_HEADER), dv + dv)
    n("rx_csum_data_valid_verify", rx(60, RX_HEADER), dv, c=0x01)
    n("rx_csum_needs_csum", rx(80, RX_HEADER), b"\x01\x00\x00\x00\x00\x00\x22\x00\x06\x00\x01\x00")
    n("tx_csum", [0xE8, 60, 0, 0] + reclaim + [0xE8, 0x40, 0x05, 0] + reclaim)
    n("rx_merge_not_full", rx(1000, 0, [BAD_LEN] + [0] * 5), b"\x10\x00\x00\x00", c=0x30)
    n("rx_bad_id", rx(60, 0, [BAD_ID]) + recv, b"\x09\x00\x00\x00")
    n("rx_bad_len", rx(60, 0, [BAD_LEN]), b"\xff\xff\x00\x00")
    n("rx_twice", rx(60, 0, [TWICE]) + recv)
    n("rx_idx_jump", rx(60, 0, [IDX_JUMP]), b"\x30\x00")
    n("rx_stall_wait", rx(60, 0, [STALL]) + wait)
    n("tx_bad_id", tx(60, BAD_ID) + reclaim + tx(60), b"\x07\x00\x00\x00")
    n("tx_twice", tx(60, TWICE) + reclaim + tx(60))
    n("tx_bad_length", tx(8) + tx(1600))
    n("ctrl_commands", ctrl(0) + ctrl(0, False) + ctrl(1) + ctrl(2) + ctrl(3))
    n("ctrl_err", ctrl(0, True, BAD_STATUS), b"\x01")
    n("ctrl_bad_ack", ctrl(1, True, BAD_STATUS), b"\x07")
    n("ctrl_stall", ctrl(2, True, STALL) + ctrl(3))
    n("link_changes", link(False) + link(True) + irq + update + link(False))
    n("reinit", tx(60) + reinit + rx(60) + reinit + tx(60))
    # MQ (FZ_NET_MQ_MAGIC, then the pairs served - 1, max_virtqueue_pairs le16, then
    # the mode bytes); with more than one pair VQ_PAIRS_SET takes a completion byte
    # at init; every frame that arrives takes a byte for its receive queue's pair.
    MQ = 0x6D

    def mq(name, pairs, claimed, ctl, payload=b"", a=HONEST, ack=(0,)):
        write("fuzz_net", "mq_" + name,
              seed([MQ, pairs - 1, claimed & 0xFF, claimed >> 8, a, 0, 0] + list(ack) + ctl, payload))

    def rxq(n, q, hdr_lie=0, lies=(0,)):
        return [0, n & 0xFF, n >> 8, q, hdr_lie] + list(lies)

    every_queue = rxq(60, 0) + rxq(61, 1) + rxq(62, 2) + rxq(63, 3) + tx(60) + tx(70) + reclaim + ctrl(0)
    mq("four_pairs", 4, 4, every_queue)
    mq("four_pairs_pci", 4, 4, every_queue, a=HONEST | 0x20)
    mq("four_pairs_pci_legacy", 4, 4, every_queue, a=HONEST | 0x40)
    mq("four_pairs_mmio_legacy", 4, 4, every_queue, a=HONEST | 0x60)
    mq("one_pair", 1, 1, rxq(60, 0) + tx(60) + reclaim + ctrl(1), ack=())
    mq("pairs_set_refused", 3, 3, rxq(60, 0) + tx(60) + reclaim + ctrl(0), b"\x01", ack=(BAD_STATUS,))
    mq("rx_on_disabled_queue", 4, 4, rxq(60, 3) + recv + rxq(60, 0), b"\x01", ack=(BAD_STATUS,))
    mq("pairs_set_stalls", 2, 2, rxq(60, 0) + tx(60), ack=(STALL,))
    mq("max_pairs_zero", 4, 0, rxq(60, 0) + tx(60) + reclaim + ctrl(0), ack=())
    mq("max_pairs_above_0x8000", 4, 0x8001, rxq(60, 0) + tx(60) + reclaim, ack=())
    mq("max_pairs_above_the_transport", 2, 4, rxq(60, 0) + tx(60) + reclaim + ctrl(0), ack=())
    mq("max_pairs_below_the_transport", 4, 1, rxq(60, 0) + tx(60) + ctrl(0), ack=())
    mq("reinit", 4, 4, rxq(60, 1) + reinit + [0] + rxq(60, 2) + tx(60))
    traffic = rx(60) + tx(60) + reclaim + recv + rx(1000, 0, [0] * 6) + recv + tx(60, 0xFF) + tx(60) + reclaim + \
        ctrl(0) + ctrl(1) + reinit + rx(60) + recv + tx(60) + reclaim
    for t, a in [("", HONEST), ("_pci", HONEST | 0x20), ("_pci_legacy", HONEST | 0x40)]:
        for name, ctl in rings([a, 0, 0x30] + traffic):
            write("fuzz_net", "ring_" + name + t, seed(ctl))


if __name__ == "__main__":
    ring()
    packed()
    probe()
    blk()
    pci()
    net()
