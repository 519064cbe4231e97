// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dp_config.c - config -> datapath record: masks from prefix widths, GCRA
 * parameters from rates and bursts, the derived watch/throttle levels.
 * Everything here is pure and covered by tests/unit/test_dp_config.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <peerwall/gcra.h>

#include "datapath.h"
#include "dp_config.h"

struct pw_bucket_pair_params pw_limit_params(const struct pw_limit *l)
{
	struct pw_bucket_pair_params p;

	p.pkt = pw_gcra_params_make(l->pps, l->burst);
	p.syn = pw_gcra_params_make(l->syn_pps, l->syn_burst);
	return p;
}

/* a / div, but never below floor (when floor limits anything at all). */
static uint64_t scaled(uint64_t a, unsigned div, uint64_t floor)
{
	uint64_t v;

	if (a == 0)
		return 0;
	v = a / div;
	if (floor && v < floor)
		v = floor;
	return v ? v : 1;
}

static struct pw_limit limit_scaled(const struct pw_limit *src, unsigned div,
				    const struct pw_limit *floor)
{
	struct pw_limit l;

	l.pps = scaled(src->pps, div, floor->pps);
	l.burst = scaled(src->burst, div, floor->burst);
	l.syn_pps = scaled(src->syn_pps, div, floor->syn_pps);
	l.syn_burst = scaled(src->syn_burst, div, floor->syn_burst);
	return l;
}

/* Posture tightens the sanctioned levels (never the normal one): the
 * quarantine floor shrinks by the posture's divisor. */
static const unsigned posture_div[PW_POSTURE_NR] = {1, 2, 4};

void pw_level_limits(const struct pw_config *cfg,
		     struct pw_limit out[PW_LVL_NR])
{
	unsigned pd = cfg->agent.posture < PW_POSTURE_NR
			      ? posture_div[cfg->agent.posture]
			      : 1;
	struct pw_limit none = {0};
	struct pw_limit quar = limit_scaled(&cfg->quarantine, pd, &none);

	out[PW_LVL_NORMAL] = cfg->source;
	out[PW_LVL_WATCH] = limit_scaled(&cfg->source, 2 * pd, &quar);
	out[PW_LVL_THROTTLE] = limit_scaled(&cfg->source, 4 * pd, &quar);
	out[PW_LVL_QUARANTINE] = quar;
}

static uint32_t mask_v4(unsigned bits)
{
	return bits >= 32 ? 0xffffffffu : htonl(~(0xffffffffu >> bits));
}

/* Network-order 128-bit mask as two words, as the datapath ANDs them. */
static void mask_v6(unsigned bits, __u64 out[2])
{
	uint8_t m[16] = {0};

	for (unsigned i = 0; i < 16; i++) {
		if (bits >= 8) {
			m[i] = 0xff;
			bits -= 8;
		} else {
			m[i] = (uint8_t)(0xff << (8 - bits));
			bits = 0;
		}
	}
	memcpy(out, m, sizeof(m));
}

unsigned pw_port_flags(const struct pw_config *cfg, unsigned port)
{
	unsigned flags = 0;

	for (size_t i = 0; i < cfg->n_protect; i++) {
		if (cfg->protect[i].port != port)
			continue;
		flags |= cfg->protect[i].proto == IPPROTO_TCP ? PW_PORT_TCP
							      : PW_PORT_UDP;
	}
	return flags;
}

void pw_dp_config_build(const struct pw_config *cfg, struct pw_dp_config *out)
{
	struct pw_limit lv[PW_LVL_NR];

	memset(out, 0, sizeof(*out));
	out->mode = cfg->mode;
	out->malformed_policy = cfg->malformed;
	for (size_t i = 0; i < cfg->n_protect; i++)
		out->proto_any_ports |= cfg->protect[i].proto == IPPROTO_TCP
						? PW_PORT_TCP
						: PW_PORT_UDP;
	out->src_prefix_v4 = cfg->src_prefix_v4;
	out->src_prefix_v6 = cfg->src_prefix_v6;
	out->net_prefix_v4 = cfg->net_prefix_v4;
	out->net_prefix_v6 = cfg->net_prefix_v6;
	out->src_mask_v4 = mask_v4(cfg->src_prefix_v4);
	out->net_mask_v4 = mask_v4(cfg->net_prefix_v4);
	mask_v6(cfg->src_prefix_v6, out->src_mask_v6);
	mask_v6(cfg->net_prefix_v6, out->net_mask_v6);
	out->tick_ns = (uint64_t)cfg->tick_ms * 1000000ull;
	out->attn_pkts = cfg->attn_pkts;
	pw_level_limits(cfg, lv);
	for (int i = 0; i < PW_LVL_NR; i++)
		out->src[i] = pw_limit_params(&lv[i]);
	out->prefix = pw_limit_params(&cfg->prefix);
	out->global = pw_limit_params(&cfg->untrusted);
	out->sample_reasons = out->sample_always = cfg->capture.reasons;
	out->sample_snaplen = cfg->capture.snaplen;
	/* One second's worth of burst: a flood's first second is sampled
	 * as fully as any other. */
	out->sample = pw_gcra_params_make(cfg->capture.per_second,
					  cfg->capture.per_second);
}

int pw_sample_reasons_parse(const char *name, uint32_t *mask)
{
	if (!strcmp(name, "all")) {
		*mask = PW_SAMPLE_REASONS_ALL;
		return 0;
	}
	for (unsigned r = 0; r < PW_R_NR; r++) {
		if (!(PW_SAMPLE_REASONS_ALL & (1u << r)) ||
		    strcmp(name, pw_stat_name(r)))
			continue;
		*mask = 1u << r;
		return 0;
	}
	return -EINVAL;
}
