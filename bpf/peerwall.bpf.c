// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peerwall.bpf.c - the XDP datapath.
 *
 * Per packet, in this order, each branch counted under one reason:
 *   parse -> protected (proto, port)? -> trusted? -> emergency? -> banned?
 *   -> source buckets (level from the sanction table) -> prefix buckets
 *   -> untrusted-global buckets -> pass
 * A source without state yet meets the prefix and global buckets first
 * (its own is full) and gets state only when they let it through.
 * Monitor mode evaluates all of it and passes what it would drop.
 * Dropped (and would-drop) packets can be sampled into a ring buffer for
 * evidence: off by default, rate-limited, first snaplen bytes.
 *
 * The policy is written once, as an always-inline function over the maps of
 * one address family, and instantiated for IPv4 and IPv6: the verifier sees
 * constant map pointers at each call site.
 *
 * Time: bpf_ktime_get_coarse_ns() (about 2 ns here against 25 ns for
 * bpf_ktime_get_ns()), read at most once per packet and only on paths that
 * need it. Its resolution is one kernel tick (1-4 ms): GCRA advances TAT by
 * exact intervals, so the long-run rate is exact and a stale clock only
 * lets a source borrow up to one tick's worth of packets early (at 2000 pps
 * and a 4 ms tick, 8 packets on top of a 4000-packet burst). Ban expiry and
 * first/last-seen need no better. For replay the loader sets replay_clock
 * and the replay tool writes each packet's capture time to replay_now_ns;
 * the branch is on a const volatile, so production code has no trace of it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <peerwall/abi.h>
#include <peerwall/gcra.h>

#include "maps.h"
#include "parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the replay tool before load. */
const volatile __u32 replay_clock = 0;
/* Written by the replay tool before each packet (replay_clock only). */
__u64 replay_now_ns = 0;
/* What the last packet got, for the replay report (replay_clock only). */
struct pw_replay_out replay_out = {};

#define PW_BUCKET_CAS_TRIES 3

static __always_inline __u64 pw_now_ns(void)
{
	if (replay_clock)
		return replay_now_ns;
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void pw_count(__u32 idx, __u32 bytes)
{
	struct pw_stat *st = bpf_map_lookup_elem(&stats, &idx);

	if (st) {
		st->packets++;
		st->bytes += bytes;
	}
}

/* Take one packet from a shared bucket with compare-and-swap. Under
 * contention a packet is let through after a few tries rather than spin. */
static __always_inline int pw_bucket_take(__u64 *tat, __u64 now_ns,
					  const struct pw_gcra_params *p)
{
	if (p->interval_ns == 0)
		return 1;
#pragma unroll
	for (int i = 0; i < PW_BUCKET_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 next;

		if (!pw_gcra_conform(old, now_ns, p, &next))
			return 0;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return 1;
	}
	return 1;
}

/* A bucket pair: the packet bucket always, the SYN bucket for a SYN.
 * Returns 0 if it conforms, or which of the two said no. */
enum { PW_TAKE_OK = 0, PW_TAKE_PKT, PW_TAKE_SYN };

static __always_inline int pw_pair_take(__u64 *pkt_tat, __u64 *syn_tat,
					__u64 now_ns,
					const struct pw_bucket_pair_params *p,
					int is_syn)
{
	if (!pw_bucket_take(pkt_tat, now_ns, &p->pkt))
		return PW_TAKE_PKT;
	if (is_syn && !pw_bucket_take(syn_tat, now_ns, &p->syn))
		return PW_TAKE_SYN;
	return PW_TAKE_OK;
}

/* The reason for pw_pair_take()'s answer: PW_R_PASS, or the bucket
 * pair's rate reason, or the SYN reason that follows it in enum pw_reason. */
static __always_inline __u32 pw_take_reason(int took, __u32 rate_reason)
{
	if (took == PW_TAKE_PKT)
		return rate_reason;
	if (took == PW_TAKE_SYN)
		return rate_reason + 1;
	return PW_R_PASS;
}
_Static_assert(PW_R_DROP_SYN_SRC == PW_R_DROP_RATE_SRC + 1 &&
		       PW_R_DROP_SYN_PREFIX == PW_R_DROP_RATE_PREFIX + 1 &&
		       PW_R_DROP_SYN_GLOBAL == PW_R_DROP_RATE_GLOBAL + 1,
	       "each SYN reason follows its rate reason");

/* A sanction in force at now_ns, or NULL. */
static __always_inline struct pw_sanction *
pw_sanction_live(struct pw_sanction *s, __u64 now_ns)
{
	if (s && s->expires_ns && s->expires_ns <= now_ns)
		return NULL;
	return s;
}

static __always_inline void pw_attention(struct pw_src_state *s, __u64 now_ns,
					 const struct pw_dp_config *cfg,
					 __u32 family, const void *key,
					 __u32 key_len, __u32 flags)
{
	__u32 epoch = cfg->tick_ns ? now_ns / cfg->tick_ns : 0;
	struct pw_attn_event ev = {.family = family};

	if (s->epoch_cur != epoch) {
		s->epoch_cur = epoch;
		s->epoch_pkts = 0;
	}
	if (++s->epoch_pkts == cfg->attn_pkts)
		flags |= PW_ATTN_PKTS;
	if (!flags || s->epoch == epoch)
		return;
	s->epoch = epoch;
	ev.flags = flags;
	if (key_len > sizeof(ev.addr))
		key_len = sizeof(ev.addr);
	__builtin_memcpy(ev.addr, key, key_len);
	if (bpf_ringbuf_output(&attn, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		pw_count(PW_X_ATTN_LOST, 0);
	else
		pw_count(PW_X_ATTN_EVENTS, 0);
}

/* The source bucket pair for a sanction level. */
static __always_inline const struct pw_bucket_pair_params *
pw_src_params(const struct pw_dp_config *cfg, __u32 level)
{
	if (level == PW_LVL_WATCH)
		return &cfg->src[PW_LVL_WATCH];
	if (level == PW_LVL_THROTTLE)
		return &cfg->src[PW_LVL_THROTTLE];
	if (level == PW_LVL_QUARANTINE)
		return &cfg->src[PW_LVL_QUARANTINE];
	return &cfg->src[0];
}

/* The shared buckets, prefix then untrusted-global: PW_R_PASS or the
 * drop reason of the first that says no. */
static __always_inline __u32 pw_shared_take(const struct pw_dp_config *cfg,
					    const struct pw_pkt *pkt,
					    void *prefix, const void *pkey,
					    __u64 now_ns)
{
	struct pw_bucket_state *pb, *gb;
	__u32 zero = 0, reason = PW_R_PASS;

	pb = bpf_map_lookup_elem(prefix, pkey);
	if (!pb) {
		struct pw_bucket_state init = {};

		bpf_map_update_elem(prefix, pkey, &init, BPF_NOEXIST);
		pb = bpf_map_lookup_elem(prefix, pkey);
	}
	if (pb)
		reason = pw_take_reason(pw_pair_take(&pb->pkt_tat_ns,
						     &pb->syn_tat_ns, now_ns,
						     &cfg->prefix, pkt->is_syn),
					PW_R_DROP_RATE_PREFIX);
	if (reason != PW_R_PASS)
		return reason;
	gb = bpf_map_lookup_elem(&global_bucket, &zero);
	if (gb)
		reason = pw_take_reason(pw_pair_take(&gb->pkt_tat_ns,
						     &gb->syn_tat_ns, now_ns,
						     &cfg->global, pkt->is_syn),
					PW_R_DROP_RATE_GLOBAL);
	return reason;
}

/* Per-family policy after parsing: trusted -> emergency -> banned ->
 * buckets. `key` is the masked source, `pkey` the masked prefix, `lpm` the
 * full source address as an LPM key. Returns an enum pw_reason. */
static __always_inline __u32 pw_decide(const struct pw_dp_config *cfg,
				       const struct pw_pkt *pkt, __u32 bytes,
				       void *trusted, __u32 trusted_count,
				       void *bancidr, __u32 bancidr_count,
				       void *sanction, void *src, void *prefix,
				       const void *lpm, const void *key,
				       __u32 key_len, const void *pkey)
{
	struct pw_sanction *sn;
	struct pw_src_state *s;
	__u32 level = PW_LVL_NORMAL;
	__u32 shared = PW_R_NR; /* the shared buckets' answer, once taken */
	__u32 reason, flags;
	__u64 now_ns;

	if (trusted_count && bpf_map_lookup_elem(trusted, lpm))
		return PW_R_PASS_TRUSTED;
	if (cfg->emergency)
		return PW_R_DROP_EMERGENCY;

	now_ns = pw_now_ns();
	sn = pw_sanction_live(bpf_map_lookup_elem(sanction, key), now_ns);
	if (sn) {
		if (sn->kind == PW_SANCTION_BAN) {
			sn->hits++;
			return PW_R_DROP_BANNED;
		}
		if (sn->kind == PW_SANCTION_LEVEL && sn->level < PW_LVL_NR)
			level = sn->level;
	}
	if (bancidr_count) {
		sn = pw_sanction_live(bpf_map_lookup_elem(bancidr, lpm),
				      now_ns);
		if (sn) {
			sn->hits++;
			return PW_R_DROP_BANNED;
		}
	}

	/* A source with no state has a full bucket of its own, so for it the
	 * shared buckets decide, first: a packet they drop creates no state
	 * and no attention event. A spoofed flood then churns neither the
	 * source table (the honest peers' entries stay) nor the agent; the
	 * per-reason counters still see every packet. */
	s = bpf_map_lookup_elem(src, key);
	if (!s) {
		struct pw_src_state init = {
			.first_seen_ns = now_ns,
			.epoch = ~0u,
		};

		shared = pw_shared_take(cfg, pkt, prefix, pkey, now_ns);
		if (shared != PW_R_PASS)
			return shared;
		bpf_map_update_elem(src, key, &init, BPF_NOEXIST);
		s = bpf_map_lookup_elem(src, key);
		if (!s) {
			pw_count(PW_X_SRC_TABLE_FULL, 0);
			return PW_R_PASS;
		}
	}
	/* A fresh bucket cannot say no: for a new source this is the charge
	 * only, and its shared buckets were taken above. */
	reason = pw_take_reason(pw_pair_take(&s->pkt_tat_ns, &s->syn_tat_ns,
					     now_ns, pw_src_params(cfg, level),
					     pkt->is_syn),
				PW_R_DROP_RATE_SRC);
	if (reason == PW_R_PASS && shared == PW_R_NR)
		reason = pw_shared_take(cfg, pkt, prefix, pkey, now_ns);

	flags = pkt->is_syn ? PW_ATTN_SYN : 0;
	s->packets++;
	s->bytes += bytes;
	s->syns += pkt->is_syn;
	s->last_seen_ns = now_ns;
	if (reason != PW_R_PASS) {
		__u32 d = reason - PW_R_DROP_RATE_SRC;

		if (d < PW_SD_NR)
			s->drops[d]++;
		flags |= PW_ATTN_DROPPED;
	}
	pw_attention(s, now_ns, cfg, pkt->family, key, key_len, flags);
	return reason;
}

static __always_inline void pw_mask_v6(const __u64 *addr, const __u64 *mask,
				       struct pw_key_v6 *out)
{
	__u64 w[2] = {addr[0] & mask[0], addr[1] & mask[1]};

	__builtin_memcpy(out->addr, w, sizeof(w));
}

/* Record the outcome for the replay tool (compiled out in production). */
static __always_inline void pw_replay_record(__u32 reason, __u32 verdict,
					     const struct pw_pkt *pkt,
					     const struct pw_dp_config *cfg,
					     int tracked)
{
	if (!replay_clock)
		return;
	replay_out.reason = reason;
	replay_out.verdict = verdict;
	replay_out.family = tracked ? pkt->family : 0;
	replay_out.prefixlen = 0;
	__builtin_memset(replay_out.addr, 0, sizeof(replay_out.addr));
	if (tracked && pkt->family == 4) {
		__u32 k = pkt->saddr4 & cfg->src_mask_v4;

		replay_out.prefixlen = cfg->src_prefix_v4;
		__builtin_memcpy(replay_out.addr, &k, sizeof(k));
	} else if (tracked && pkt->family == 6) {
		struct pw_key_v6 k;

		pw_mask_v6(pkt->saddr6, cfg->src_mask_v6, &k);
		replay_out.prefixlen = cfg->src_prefix_v6;
		__builtin_memcpy(replay_out.addr, k.addr, sizeof(k.addr));
	}
}

/* Sample a dropped packet into the "samples" ring: only while its reason
 * is enabled (the caller tested sample_reasons), within the capture
 * window unless the reason is sampled for good, and within the
 * per-second budget, so a flood cannot flood the ring. */
static __noinline void pw_sample(struct xdp_md *ctx,
				 const struct pw_dp_config *cfg, __u32 reason,
				 __u32 flags)
{
	__u32 zero = 0, len, orig;
	struct pw_sample *rec;
	__u64 now_ns, *tat;

	if (reason >= 32)
		return;
	now_ns = pw_now_ns();
	if (!(cfg->sample_always & (1u << reason)) &&
	    now_ns >= cfg->sample_until_ns)
		return;
	tat = bpf_map_lookup_elem(&sample_bucket, &zero);
	if (!tat || !pw_bucket_take(tat, now_ns, &cfg->sample)) {
		pw_count(PW_X_SAMPLES_LIMITED, 0);
		return;
	}
	orig = bpf_xdp_get_buff_len(ctx);
	len = cfg->sample_snaplen;
	if (len > orig)
		len = orig;
	if (len > PW_SAMPLE_MAX_BYTES)
		len = PW_SAMPLE_MAX_BYTES;
	if (len < 1)
		return;
	rec = bpf_ringbuf_reserve(&samples, sizeof(*rec), 0);
	if (!rec) {
		pw_count(PW_X_SAMPLES_LOST, 0);
		return;
	}
	if (bpf_xdp_load_bytes(ctx, 0, rec->data, len)) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		return;
	}
	rec->ts_ns = replay_clock ? replay_now_ns : bpf_ktime_get_ns();
	rec->reason = reason;
	rec->flags = flags;
	rec->ifindex = ctx->ingress_ifindex;
	rec->orig_len = orig;
	rec->cap_len = len;
	rec->pad = 0;
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	pw_count(PW_X_SAMPLES, 0);
}

static __always_inline __u32 pw_proto_bit(const struct pw_pkt *pkt)
{
	if (pkt->l4proto == IPPROTO_TCP)
		return PW_PORT_TCP;
	if (pkt->l4proto == IPPROTO_UDP)
		return PW_PORT_UDP;
	return 0;
}

/* Whether the packet's protocol has any protected port: what decides for
 * packets whose port cannot be read (malformed, non-first fragments). */
static __always_inline int pw_proto_protected(const struct pw_dp_config *cfg,
					      const struct pw_pkt *pkt)
{
	return !!(cfg->proto_any_ports & pw_proto_bit(pkt));
}

static __always_inline int pw_is_protected(const struct pw_dp_config *cfg,
					   const struct pw_pkt *pkt)
{
	__u32 bit = pw_proto_bit(pkt), port, *flags;

	if (!bit)
		return 0;
	/* No ports in a non-first fragment: it is tracked when its protocol
	 * has protected ports, and then only its source's buckets decide. */
	if (pkt->nonfirst_frag)
		return pw_proto_protected(cfg, pkt);
	port = pkt->dport;
	flags = bpf_map_lookup_elem(&ports, &port);
	return flags && (*flags & bit);
}

SEC("xdp")
int peerwall_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 bytes = data_end - data;
	struct pw_dp_config *cfg;
	struct pw_pkt pkt = {};
	__u32 zero = 0, reason;
	int rc, tracked = 0, verdict = XDP_PASS, dropped = 0;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return XDP_PASS;

	rc = pw_parse(data, data_end, &pkt);
	if (rc == PW_PARSE_MALFORMED) {
		reason = PW_R_MALFORMED;
		if (cfg->malformed_policy == PW_MALFORMED_DROP &&
		    pw_proto_protected(cfg, &pkt)) {
			dropped = 1;
			if (cfg->mode == PW_MODE_MONITOR) {
				pw_count(PW_X_MONITOR_PASSED, 0);
			} else {
				pw_count(PW_X_MALFORMED_DROPPED, 0);
				verdict = XDP_DROP;
			}
		}
		goto out;
	}
	if (rc != PW_PARSE_OK || !pw_is_protected(cfg, &pkt)) {
		reason = PW_R_PASS_UNTRACKED;
		goto out;
	}

	tracked = 1;
	if (pkt.family == 4) {
		struct pw_lpm_v4 lpm = {.prefixlen = 32};
		__u32 key = pkt.saddr4 & cfg->src_mask_v4;
		__u32 pkey = pkt.saddr4 & cfg->net_mask_v4;

		__builtin_memcpy(lpm.addr, &pkt.saddr4, 4);
		reason = pw_decide(cfg, &pkt, bytes, &trusted_v4,
				   cfg->trusted_v4_count, &bancidr_v4,
				   cfg->bancidr_v4_count, &sanction_v4, &src_v4,
				   &prefix_v4, &lpm, &key, sizeof(key), &pkey);
	} else {
		struct pw_lpm_v6 lpm = {.prefixlen = 128};
		struct pw_key_v6 key, pkey;

		__builtin_memcpy(lpm.addr, pkt.saddr6, 16);
		pw_mask_v6(pkt.saddr6, cfg->src_mask_v6, &key);
		pw_mask_v6(pkt.saddr6, cfg->net_mask_v6, &pkey);
		reason = pw_decide(cfg, &pkt, bytes, &trusted_v6,
				   cfg->trusted_v6_count, &bancidr_v6,
				   cfg->bancidr_v6_count, &sanction_v6, &src_v6,
				   &prefix_v6, &lpm, &key, sizeof(key), &pkey);
	}
	if (reason >= PW_R_DROP_EMERGENCY) {
		dropped = 1;
		if (cfg->mode == PW_MODE_MONITOR)
			pw_count(PW_X_MONITOR_PASSED, 0);
		else
			verdict = XDP_DROP;
	}
out:
	pw_count(reason, bytes);
	/* Passed packets never get here; a dropped one pays one test while
	 * sampling is off. */
	if (dropped && (cfg->sample_reasons & (1u << reason)))
		pw_sample(ctx, cfg, reason,
			  verdict == XDP_PASS ? PW_SAMPLE_MONITOR : 0);
	pw_replay_record(reason, verdict, &pkt, cfg, tracked);
	return verdict;
}
