/* SPDX-License-Identifier: MIT */
/*
 * What the device model needs from its host (the harness): guest memory
 * through bounds-checked accessors, the virtual clock, deferred work, the
 * interrupt line.  The model knows the spec, never the driver.
 */
#ifndef DM_ENV_H
#define DM_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dm_report;

struct dm_env {
	void *ctx;
	/* Guest memory; false when [addr, addr+len) is not all guest RAM. */
	bool (*mem_read)(void *ctx, uint64_t addr, void *buf, size_t len);
	bool (*mem_write)(void *ctx, uint64_t addr, const void *buf, size_t len);
	uint64_t (*now_ns)(void *ctx);
	/* Run fn(arg) later, when the host's scheduling policy says (at once
	 * or after a seeded delay).  kind names the work for traces. */
	void (*schedule)(void *ctx, void (*fn)(void *arg), void *arg, const char *kind);
	/* Run fn(arg) after at least delay_ns of virtual time. */
	void (*schedule_at)(void *ctx, void (*fn)(void *arg), void *arg, uint64_t delay_ns);
	/* Interrupt line of a device: level high or low. */
	void (*irq)(void *ctx, unsigned line, bool level);
	/* Where violations of the driver's side of the spec are recorded. */
	struct dm_report *report;
};

#ifdef __cplusplus
}
#endif
#endif
