/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * capture.h - the agent's side of drop sampling: capture windows opened
 * by `peerwallctl capture`, and the datapaths' "samples" ring buffers
 * drained into the in-memory ring (samples.h) at every tick and before
 * every read, with datapath times turned into Unix times.
 *
 * Created on first use (a window, or capture.reasons in the config), so
 * an agent that never captures holds no ring. Here too: starting and
 * stopping the journal of the agent's log, the other evidence it keeps.
 */
#ifndef PW_CAPTURE_H
#define PW_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "samples.h"

struct pw_agent;

/* Open (or widen) a window: reasons (bits 1 << enum pw_reason) sampled for
 * seconds on every interface. A window already open keeps its reasons and
 * the later end. 0, -ENODEV (no XDP datapath), -ENOMEM, or the map
 * error. *until_unix_s gets the window's end. */
int pw_capture_start(struct pw_agent *a, uint32_t reasons, uint32_t seconds,
		     int64_t *until_unix_s);

/* Drain the datapaths' rings into the agent's ring; close a window whose
 * time is up. Called by the tick (a no-op until sampling was first
 * needed) and before reads. */
void pw_capture_poll(struct pw_agent *a);

/* The ring (NULL until sampling was first needed). */
const struct pw_samples *pw_capture_samples(const struct pw_agent *a);

/* Window state for replies: open?, its reasons and end. */
bool pw_capture_window(const struct pw_agent *a, uint32_t *reasons,
		       int64_t *until_unix_s);

/* The agent's evidence keeping as a whole: start the journal of its log
 * (journal.h) at start-up; stop frees it and the capture state. */
void pw_evidence_start(struct pw_agent *a);
void pw_evidence_stop(struct pw_agent *a);

#endif /* PW_CAPTURE_H */
