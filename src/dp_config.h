/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dp_config.h - turning a validated struct pw_config into the record the
 * datapath reads (struct pw_dp_config). Pure: no maps, no clock.
 */
#ifndef PW_DP_CONFIG_H
#define PW_DP_CONFIG_H

#include <peerwall/abi.h>

#include "config.h"

/* Bucket pair parameters for one pw_limit. */
struct pw_bucket_pair_params pw_limit_params(const struct pw_limit *l);

/* The per-source limits at each level: normal = limits.source, quarantine =
 * limits.quarantine; watch halves the source buckets and throttle quarters
 * them, neither ever tighter than quarantine. Posture elevated / severe
 * divides the three sanctioned levels by 2 / 4 (normal is untouched). */
void pw_level_limits(const struct pw_config *cfg,
		     struct pw_limit out[PW_LVL_NR]);

/* Build the datapath record. Counts of trie entries are left 0: the loader
 * sets them as it fills the tries. */
void pw_dp_config_build(const struct pw_config *cfg, struct pw_dp_config *out);

/* Reasons a dropped packet can be sampled under (bits 1 << enum
 * pw_reason): every drop reason, and malformed (dropped by policy). */
#define PW_SAMPLE_REASONS_ALL                                                  \
	((1u << PW_R_MALFORMED) |                                              \
	 (((1u << PW_R_NR) - 1) & ~((1u << PW_R_DROP_EMERGENCY) - 1)))
#define PW_SAMPLE_REASON_NAMES                                                 \
	"malformed, drop_emergency, drop_banned, drop_rate_src, "              \
	"drop_syn_src, drop_rate_prefix, drop_syn_prefix, drop_rate_global, "  \
	"drop_syn_global"

/* "all" or one reason's counter name ("drop_banned") -> its bit(s) in
 * *mask. 0, or -EINVAL for anything else (pass reasons included). */
int pw_sample_reasons_parse(const char *name, uint32_t *mask);

/* PW_PORT_* bits protected on `port` (0 if none). */
unsigned pw_port_flags(const struct pw_config *cfg, unsigned port);

#endif /* PW_DP_CONFIG_H */
