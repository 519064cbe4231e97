/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * samples.h - the agent's ring of recent drop samples (evidence).
 *
 * A fixed number of slots, each one struct pw_sample (the datapath's
 * record, its time turned into Unix time) and a sequence number. New
 * samples overwrite the oldest, so the ring always holds the latest ones
 * and memory is fixed at creation. Readers ask for samples from a
 * sequence number on and learn how many they missed. Pure: no clock, no
 * I/O.
 */
#ifndef PW_SAMPLES_H
#define PW_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include <peerwall/abi.h>

struct pw_kept_sample {
	uint64_t seq;	    /* 1, 2, ... in arrival order */
	struct pw_sample s; /* s.ts_ns: Unix time, ns; s.pad: interface */
};

#define PW_SAMPLE_SLOT_BYTES sizeof(struct pw_kept_sample)

struct pw_samples;

/* A ring of ring_bytes / PW_SAMPLE_SLOT_BYTES slots (at least one). */
struct pw_samples *pw_samples_new(size_t ring_bytes);
void pw_samples_free(struct pw_samples *r);

size_t pw_samples_capacity(const struct pw_samples *r);

/* Keep a copy of s (overwriting the oldest when full). */
void pw_samples_push(struct pw_samples *r, const struct pw_sample *s);

/* Sequence number the next push gets, and the oldest still kept (equal
 * when empty). */
uint64_t pw_samples_next_seq(const struct pw_samples *r);
uint64_t pw_samples_oldest_seq(const struct pw_samples *r);

/* Up to max samples with seq >= since whose reason bit is in reasons, in
 * order, into out[] (pointers into the ring, valid until the next push).
 * *next: where to continue (one past the last sample looked at).
 * Returns the count. */
size_t pw_samples_get(const struct pw_samples *r, uint64_t since,
		      uint32_t reasons, const struct pw_kept_sample **out,
		      size_t max, uint64_t *next);

#endif /* PW_SAMPLES_H */
