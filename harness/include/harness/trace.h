/* SPDX-License-Identifier: MIT */
/*
 * Record and replay (docs/trace-format.md): every call that crosses the
 * platform contract (vlab/platform.h), as a line of text.
 *
 * The recorder wraps a machine's platform (and its device model's memory
 * accesses) and writes the trace of a run to a FILE.  The replayer is a
 * platform of its own: it answers every read from a parsed trace, checks
 * every write, allocation, map, barrier and every byte the device read
 * (what the driver published), and reports the first divergence.
 */
#ifndef HX_TRACE_H
#define HX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/bind.h"
#include "harness/machine.h"
#include "vlab/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HX_TRACE_VERSION 1
/* The longest payload one event may carry (a shm read, a device access, an
 * unmap's bytes: a DMA mapping is one event, so this is also the largest
 * mapping a trace can hold), and the largest trace file replay reads.  A
 * recording that would pass either fails (hx_trace_record_stop says why). */
#define HX_TRACE_MAX_PAYLOAD (128u << 20)
#define HX_TRACE_MAX_FILE (512u << 20)

/* ---- recording ---- */

struct hx_trace_rec;

/*
 * Start recording machine m into f (which stays the caller's).  The header
 * is "vlab-trace 1", then header[0..n) as given (each a "key value" line,
 * see docs/trace-format.md: producer, device, command, bind), then the
 * driver line (version, compile-time caps), then "events".  From here on
 * every platform call on hx_platform(m) and every guest-memory access of
 * the device model is an event line.  NULL on a write error or no memory.
 */
struct hx_trace_rec *hx_trace_record_start(struct hx_machine *m, FILE *f, const char *const *header, size_t n);
/*
 * The same for a bare platform *p (no machine: the fuzz targets'), whose
 * clock is now(now_ctx): every call on *p is an event line; there is no
 * device model, so no dr / dw lines.
 */
struct hx_trace_rec *hx_trace_record_platform(struct vlab_platform *p, uint64_t (*now)(void *ctx), void *now_ctx,
                                              FILE *f, const char *const *header, size_t n);
/* Write "end N", give m (or p) its platform back, free r.  0, or -1 when a write
 * to the file failed at any point of the recording or the trace is one replay
 * would refuse (an event or the file beyond the limits above); then why
 * (when not NULL) says which, in words. */
int hx_trace_record_stop(struct hx_trace_rec *r, char *why, size_t whylen);
/* The "producer model ..." header line of machine configuration c. */
void hx_trace_producer_line(const struct hx_machine_cfg *c, char *buf, size_t n);
/* The "bind ..." header line: how firmware finds d (mmio base, or the PCI
 * windows and the function) and the probe flags.  -1 when d cannot be
 * described. */
int hx_trace_bind_line(struct hx_machine *m, const struct hx_dev *d, unsigned flags, char *buf, size_t n);

/*
 * A command line the run read from its input (vlab's stdin, without the
 * newline): an "input" event (docs/trace-format.md), so that a replay runs
 * the same commands.  Backslashes and the bytes a trace line cannot hold
 * are escaped.
 */
void hx_trace_record_input(struct hx_trace_rec *r, const char *line);

/* ---- parsing ---- */

struct hx_trace;

/*
 * Parse the trace in file path.  NULL on a bad trace, with
 * "PATH:LINE: reason" in err (truncated, unknown version, garbage, lengths
 * beyond reason, events out of order, not a trace).  Never crashes.
 */
struct hx_trace *hx_trace_load(const char *path, char *err, size_t errlen);
/* The same from memory (name stands for the path in messages). */
struct hx_trace *hx_trace_parse(const char *name, const char *text, size_t len, char *err, size_t errlen);
void hx_trace_free(struct hx_trace *t);
/* A header line's value ("command" -> "run --scenario ..."); NULL if absent. */
const char *hx_trace_header(const struct hx_trace *t, const char *key);
size_t hx_trace_nevents(const struct hx_trace *t);
/* The n-th (from 0) header line with that key (several device and bind
 * lines: one a device), and its line in the file (line may be NULL);
 * NULL when there are fewer. */
const char *hx_trace_header_nth(const struct hx_trace *t, const char *key, unsigned n, unsigned *line);

/* ---- replaying ---- */

struct hx_replay;

/*
 * A platform that replays t (which must outlive it).  Driver log lines go
 * to log_fn (NULL: dropped) and are kept for the divergence report.  After
 * the first divergence the device is gone: register reads answer all-ones,
 * allocations fail, every time read jumps a second, so the driver's
 * bounded waits end and the run stops through its error paths.
 */
struct hx_replay *hx_replay_new(const struct hx_trace *t,
                                void (*log_fn)(void *ctx, enum vlab_log_level, const char *), void *log_ctx);
const struct vlab_platform *hx_replay_platform(struct hx_replay *r);
/*
 * Replay on machine m instead of a bare platform (vlab replay: several
 * devices, probed by the commands themselves): m's platform becomes the
 * replay's until hx_replay_free, so everything that uses hx_platform(m)
 * (the PCI firmware too) talks to the trace.  Allocations come from m's
 * guest RAM allocator and must land at the trace's device addresses (the
 * same allocations in the same order do), and guest RAM outside them
 * translates too, so buffers the caller placed in guest RAM by itself
 * map, and what the device wrote there (dw lines) lands there.  The
 * device models on m are never reached.  Call before the run.
 */
void hx_replay_attach(struct hx_replay *r, struct hx_machine *m);
/*
 * The next command line the recorded run read (an "input" event at the
 * cursor, after the device's memory accesses there): into buf, true.
 * false when the trace's next event is something else: the recorded run
 * read no more input there (end of its input, or its next line is not
 * due yet and the replay's next call will diverge).
 */
bool hx_replay_input(struct hx_replay *r, char *buf, size_t n);
/* Probe the device as the trace's bind line says, over the replay platform. */
int hx_replay_bind(struct hx_replay *r, struct hx_bound *b);
/*
 * The run is over: every event must have been consumed.  Returns true
 * when the run matched the trace to its end; false after a divergence,
 * with the report (trace file:line, what the trace expected, what the
 * driver did, the platform call, the driver's last log lines) in
 * hx_replay_report().
 */
bool hx_replay_finish(struct hx_replay *r);
/*
 * Zeroed memory at device address dev that no event allocates: a caller's
 * buffer (a fuzz target's, from its own arena) the driver maps, so the
 * trace's map and unmap lines find it.  The replayer frees it.  NULL when
 * it overlaps memory the replayer holds, or no memory.
 */
void *hx_replay_buffer(struct hx_replay *r, size_t size, size_t align, uint64_t dev);
/*
 * The inject mode, for edited traces (docs/trace-format.md, "Edited
 * traces: fault injection"); call before the run.  Reads are answered
 * from the trace by position as long as the kind of call matches (op,
 * width, and length), whatever the address; writes, barriers,
 * allocations, maps and what the driver published are checked as
 * always.  hx_replay_finish() then adds to the report the edited value
 * the driver read (a shared-memory answer that contradicts the trace's
 * dw lines), the last value it read before it diverged, and the driver's
 * log lines and the transcript lines (given with hx_replay_transcript)
 * from the edited value on; the report is there even when the run
 * matched.
 */
void hx_replay_set_inject(struct hx_replay *r, bool on);
/* A line of the scenario's transcript, for the inject mode's report. */
void hx_replay_transcript(struct hx_replay *r, const char *line);
const char *hx_replay_report(const struct hx_replay *r);
void hx_replay_free(struct hx_replay *r);

#ifdef __cplusplus
}
#endif
#endif
