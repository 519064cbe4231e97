/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conns.h - established connections per source: the counts of the last
 * snapshot and how many each source gained since the one before (new
 * connections that completed a handshake: a churn signal no spoofed
 * packet can fake). Pure bookkeeping; the agent fills a snapshot from
 * sockdiag.h once per tick.
 */
#ifndef PW_CONNS_H
#define PW_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

struct pw_conns;

struct pw_conns_entry {
	struct pw_cidr key; /* the source key (address masked) */
	uint32_t now;	    /* connections held at the last snapshot */
	uint32_t gained;    /* now - before, when positive */
};

/* Sources are keys of src_v4/src_v6 bits; at most max_sources are kept
 * (the rest are counted in the total only). */
struct pw_conns *pw_conns_new(unsigned src_v4, unsigned src_v6,
			      size_t max_sources);
void pw_conns_free(struct pw_conns *c);

/* A snapshot: begin, one add per connection, end. */
void pw_conns_begin(struct pw_conns *c);
void pw_conns_add(struct pw_conns *c, int family, const uint8_t *addr);
void pw_conns_end(struct pw_conns *c);

/* Connections the source key holds (0 when none). */
uint32_t pw_conns_of(const struct pw_conns *c, const struct pw_cidr *key);
uint64_t pw_conns_total(const struct pw_conns *c);
size_t pw_conns_sources(const struct pw_conns *c);

/* Every source with connections (or gained ones): fn per entry. */
void pw_conns_each(const struct pw_conns *c,
		   void (*fn)(const struct pw_conns_entry *e, void *arg),
		   void *arg);

#endif /* PW_CONNS_H */
