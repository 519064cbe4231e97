/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gcra.h - the bucket math, shared verbatim by the XDP program and userspace.
 *
 * A token bucket is kept as GCRA (the generic cell rate algorithm): one
 * 64-bit "theoretical arrival time" (TAT) per bucket instead of a token count
 * and a refill timestamp. With emission interval T = 1e9 / rate_pps and
 * tolerance tau = (burst_pkts - 1) * T, a packet at `now` conforms when
 *     max(TAT, now) - now <= tau
 * and then advances TAT to max(TAT, now) + T. A fresh bucket (TAT = 0) lets
 * exactly burst_pkts packets through back to back and then one every T.
 * One word of state means the datapath can update it with a single
 * compare-and-swap; the same functions run in unit tests against a
 * reference token bucket.
 *
 * Everything here is pure: inputs in, decision out, no clock reads.
 */
#ifndef PEERWALL_GCRA_H
#define PEERWALL_GCRA_H

#include <peerwall/abi.h>

#ifndef PW_INLINE
#ifdef __bpf__
#define PW_INLINE static __always_inline
#else
#define PW_INLINE static inline
#endif
#endif

#define PW_NS_PER_S 1000000000ull

/* Decide one packet against one bucket. Returns 1 and stores the new TAT
 * in *new_tat when the packet conforms, 0 (and leaves *new_tat alone) when
 * it does not. interval_ns == 0 means the bucket is unlimited. */
PW_INLINE int pw_gcra_conform(__u64 tat, __u64 now_ns,
			      const struct pw_gcra_params *p, __u64 *new_tat)
{
	__u64 base;

	if (p->interval_ns == 0) {
		*new_tat = tat;
		return 1;
	}
	base = tat > now_ns ? tat : now_ns;
	if (base - now_ns > p->tolerance_ns)
		return 0;
	*new_tat = base + p->interval_ns;
	return 1;
}

/* Parameters for rate_pps packets/s with a burst of burst_pkts. A rate of 0
 * means unlimited; burst_pkts below 1 is treated as 1. */
PW_INLINE struct pw_gcra_params pw_gcra_params_make(__u64 rate_pps,
						    __u64 burst_pkts)
{
	struct pw_gcra_params p = {0, 0};

	if (rate_pps == 0)
		return p;
	p.interval_ns = PW_NS_PER_S / rate_pps;
	if (p.interval_ns == 0)
		p.interval_ns = 1;
	if (burst_pkts < 1)
		burst_pkts = 1;
	p.tolerance_ns = (burst_pkts - 1) * p.interval_ns;
	return p;
}

#endif /* PEERWALL_GCRA_H */
