// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * samples.c - a ring of the latest drop samples, addressed by sequence
 * number: slot = (seq - 1) % capacity. A reader that fell behind skips
 * to the oldest sample kept; nothing is ever reallocated.
 */
#include <stdlib.h>
#include <string.h>

#include "samples.h"

struct pw_samples {
	size_t cap;
	uint64_t next; /* seq of the next push (first is 1) */
	struct pw_kept_sample slot[];
};

struct pw_samples *pw_samples_new(size_t ring_bytes)
{
	size_t cap = ring_bytes / PW_SAMPLE_SLOT_BYTES;
	struct pw_samples *r;

	if (cap < 1)
		cap = 1;
	r = calloc(1, sizeof(*r) + cap * sizeof(r->slot[0]));
	if (!r)
		return NULL;
	r->cap = cap;
	r->next = 1;
	return r;
}

void pw_samples_free(struct pw_samples *r)
{
	free(r);
}

size_t pw_samples_capacity(const struct pw_samples *r)
{
	return r->cap;
}

void pw_samples_push(struct pw_samples *r, const struct pw_sample *s)
{
	struct pw_kept_sample *k = &r->slot[(r->next - 1) % r->cap];

	k->seq = r->next++;
	k->s = *s;
}

uint64_t pw_samples_next_seq(const struct pw_samples *r)
{
	return r->next;
}

uint64_t pw_samples_oldest_seq(const struct pw_samples *r)
{
	return r->next - 1 > r->cap ? r->next - r->cap : 1;
}

size_t pw_samples_get(const struct pw_samples *r, uint64_t since,
		      uint32_t reasons, const struct pw_kept_sample **out,
		      size_t max, uint64_t *next)
{
	uint64_t seq = since > pw_samples_oldest_seq(r)
			       ? since
			       : pw_samples_oldest_seq(r);
	size_t n = 0;

	for (; seq < r->next && n < max; seq++) {
		const struct pw_kept_sample *k = &r->slot[(seq - 1) % r->cap];

		if (k->s.reason < 32 && (reasons & (1u << k->s.reason)))
			out[n++] = k;
	}
	*next = seq;
	return n;
}
