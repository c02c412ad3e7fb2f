/* SPDX-License-Identifier: MIT */
/* Fuzz target fuzz_packed: fuzz_ring.c on the packed ring, the ring byte
 * (indirect descriptors, EVENT_IDX) from the input (see fuzz_ring.c). */
#define FZ_PACKED_TARGET 1
#include "fuzz_ring.c"
