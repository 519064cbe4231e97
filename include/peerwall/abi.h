/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * abi.h - everything that crosses the kernel/user boundary.
 *
 * Map keys and values, the datapath configuration record, counter reasons
 * and event records live here and nowhere else: bpf/peerwall.bpf.c and every
 * userspace tool include this one header, so a layout change is one edit and
 * one rebuild. Only fixed-width types, no pointers, explicit padding.
 *
 * Addresses are kept in network byte order exactly as they appear on the
 * wire; a source key is the source address masked to the configured
 * source prefix (IPv4 /32, IPv6 /64 by default).
 */
#ifndef PEERWALL_ABI_H
#define PEERWALL_ABI_H

#include <linux/types.h>

/* Per-packet outcome. Every packet is counted under exactly one reason, so
 * the reasons sum to the packets seen (the fuzz invariant relies on it). */
enum pw_reason {
	PW_R_PASS_UNTRACKED =
		0,	       /* not IP, or not to a protected (proto, port) */
	PW_R_PASS_TRUSTED,     /* source in the trusted allowlist */
	PW_R_PASS,	       /* tracked, within every bucket */
	PW_R_MALFORMED,	       /* headers could not be parsed */
	PW_R_DROP_EMERGENCY,   /* emergency mode, source not trusted */
	PW_R_DROP_BANNED,      /* banned source or banned CIDR */
	PW_R_DROP_RATE_SRC,    /* source packet bucket empty */
	PW_R_DROP_SYN_SRC,     /* source SYN bucket empty */
	PW_R_DROP_RATE_PREFIX, /* prefix packet bucket empty */
	PW_R_DROP_SYN_PREFIX,  /* prefix SYN bucket empty */
	PW_R_DROP_RATE_GLOBAL, /* untrusted-global packet bucket empty */
	PW_R_DROP_SYN_GLOBAL,  /* untrusted-global SYN bucket empty */
	PW_R_NR,
};

/* Extra global counters that are not per-packet reasons. */
enum pw_extra_stat {
	PW_X_MONITOR_PASSED =
		PW_R_NR,	/* would have dropped, passed (monitor) */
	PW_X_MALFORMED_DROPPED, /* malformed and dropped by policy */
	PW_X_ATTN_EVENTS,	/* attention events emitted */
	PW_X_ATTN_LOST,		/* attention ring buffer was full */
	PW_X_SRC_TABLE_FULL,	/* source entry could not be created */
	PW_X_SAMPLES,		/* dropped packets sampled into the ring */
	PW_X_SAMPLES_LIMITED,	/* not sampled: over the per-second budget */
	PW_X_SAMPLES_LOST,	/* not sampled: the sample ring was full */
	PW_STAT_NR,
};

/* Per-source drop counters (index into pw_src_state.drops). */
enum pw_src_drop {
	PW_SD_RATE_SRC = 0,
	PW_SD_SYN_SRC,
	PW_SD_RATE_PREFIX,
	PW_SD_SYN_PREFIX,
	PW_SD_RATE_GLOBAL,
	PW_SD_SYN_GLOBAL,
	PW_SD_NR,
};

/* Levels of the per-source buckets. The agent moves a source between them
 * by writing a sanction; no sanction means PW_LVL_NORMAL. */
enum pw_level {
	PW_LVL_NORMAL = 0,
	PW_LVL_WATCH,
	PW_LVL_THROTTLE,
	PW_LVL_QUARANTINE,
	PW_LVL_NR,
};

/* Protected port flags: ports[dport] & PW_PORT_TCP etc. */
#define PW_PORT_TCP   (1u << 0)
#define PW_PORT_UDP   (1u << 1)
#define PW_PORT_COUNT 65536

enum pw_mode {
	PW_MODE_ENFORCE = 0,
	PW_MODE_MONITOR = 1,
};

enum pw_malformed_policy {
	PW_MALFORMED_PASS = 0,
	PW_MALFORMED_DROP =
		1, /* only malformed IP carrying a protected proto */
};

/* One GCRA bucket's parameters: emission interval T = 1e9/rate and
 * tolerance tau = (burst - 1) * T, both in nanoseconds. interval_ns == 0
 * means "no limit" for that bucket. */
struct pw_gcra_params {
	__u64 interval_ns;
	__u64 tolerance_ns;
};

/* A packet bucket and a TCP SYN bucket, limited together. */
struct pw_bucket_pair_params {
	struct pw_gcra_params pkt;
	struct pw_gcra_params syn;
};

/* Datapath configuration: one record in the single-entry "config" array.
 * The agent rewrites it at runtime (mode, emergency, posture). */
struct pw_dp_config {
	__u32 mode;		/* enum pw_mode */
	__u32 emergency;	/* non-zero: drop protected, untrusted */
	__u32 malformed_policy; /* enum pw_malformed_policy */
	__u32 proto_any_ports;	/* PW_PORT_* bits that have >= 1 port */
	__u32 src_prefix_v4;	/* bits kept of an IPv4 source, 1..32 */
	__u32 src_prefix_v6;	/* bits kept of an IPv6 source, 1..128 */
	__u32 net_prefix_v4;	/* prefix bucket width, IPv4 */
	__u32 net_prefix_v6;	/* prefix bucket width, IPv6 */
	__u32 src_mask_v4;	/* network order mask for src_prefix_v4 */
	__u32 net_mask_v4;	/* network order mask for net_prefix_v4 */
	__u64 src_mask_v6[2];	/* network order masks, 2 x 64 bits */
	__u64 net_mask_v6[2];
	__u64 tick_ns;		/* attention interval (the agent's tick) */
	__u32 attn_pkts;	/* packets per interval that flag a source */
	__u32 trusted_v4_count; /* entries in trusted_v4 (0: skip lookup) */
	__u32 trusted_v6_count;
	__u32 bancidr_v4_count; /* entries in bancidr_v4 (0: skip lookup) */
	__u32 bancidr_v6_count;
	/* Drop sampling (see struct pw_sample). Bit (1 << reason) set: a
	 * packet dropped (or, in monitor mode, that would be dropped) for
	 * that reason may be sampled. 0 = off, the only test a dropped
	 * packet pays; passed packets never look. */
	__u32 sample_reasons;
	struct pw_bucket_pair_params src[PW_LVL_NR]; /* per source, per level */
	struct pw_bucket_pair_params prefix;	     /* per prefix */
	struct pw_bucket_pair_params global;	     /* all untrusted sources */
	/* The reasons of sample_reasons sampled for good; the others only
	 * until sample_until_ns (datapath clock), so a capture window ends
	 * by itself even if the agent dies during it. */
	__u32 sample_always;
	__u32 sample_snaplen; /* bytes kept, 1..PW_SAMPLE_MAX_BYTES */
	__u64 sample_until_ns;
	struct pw_gcra_params sample; /* samples per second, all CPUs */
};

/* LPM trie keys. */
struct pw_lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct pw_lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Source and prefix keys: the masked address. */
struct pw_key_v6 {
	__u8 addr[16];
};

/* Value of the trusted tries. */
struct pw_trusted {
	__u32 flags; /* reserved */
};

enum pw_sanction_kind {
	PW_SANCTION_NONE = 0,
	PW_SANCTION_LEVEL = 1, /* buckets at `level` (watch..quarantine) */
	PW_SANCTION_BAN = 2,   /* everything to protected ports dropped */
};

/* Value of the sanction tables (hash keyed by source key, never LRU: a
 * spoofed flood must not evict a ban) and of the banned-CIDR tries. */
struct pw_sanction {
	__u64 expires_ns; /* datapath clock; 0 = until removed */
	__u64 hits;	  /* packets that met this sanction (racy count) */
	__u32 kind;	  /* enum pw_sanction_kind */
	__u32 level;	  /* enum pw_level when kind == PW_SANCTION_LEVEL */
};

/* Per-source state in the LRU source tables: buckets and the counters the
 * agent reads. Counters are plain increments: a source's packets are
 * normally steered to one CPU, and a rare lost increment under contention
 * is cheaper than a locked add on every packet. Buckets use
 * compare-and-swap and are exact. 88 bytes. */
struct pw_src_state {
	__u64 pkt_tat_ns;
	__u64 syn_tat_ns;
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u32 drops[PW_SD_NR];
	__u32 syns;
	__u32 epoch;	  /* interval of the last attention event */
	__u32 epoch_pkts; /* packets in interval `epoch_cur` */
	__u32 epoch_cur;  /* interval epoch_pkts counts */
};

/* Per-prefix and global bucket state. */
struct pw_bucket_state {
	__u64 pkt_tat_ns;
	__u64 syn_tat_ns;
};

/* Per-CPU global counters, indexed by enum pw_reason / pw_extra_stat. */
struct pw_stat {
	__u64 packets;
	__u64 bytes;
};

/* Attention flags: why a source was flagged in an interval. */
#define PW_ATTN_DROPPED (1u << 0) /* a bucket dropped one of its packets */
#define PW_ATTN_SYN	(1u << 1) /* it opened a connection (SYN) */
#define PW_ATTN_PKTS	(1u << 2) /* it crossed attn_pkts in the interval */

/* Ring buffer record: "this source needs attention this interval". At most
 * one per source per interval, so the agent never scans the full table. */
struct pw_attn_event {
	__u32 family; /* 4 or 6 */
	__u32 flags;  /* PW_ATTN_* */
	__u8 addr[16];
};

/* Drop sample record in the "samples" ring buffer: the first snaplen
 * bytes of a dropped packet, at most `sample` per second. */
#define PW_SAMPLE_MAX_BYTES 256
#define PW_SAMPLE_MONITOR   (1u << 0) /* passed: monitor mode, would drop */

struct pw_sample {
	__u64 ts_ns;	/* datapath clock (CLOCK_MONOTONIC) */
	__u32 reason;	/* enum pw_reason */
	__u32 flags;	/* PW_SAMPLE_* */
	__u32 ifindex;	/* interface it arrived on */
	__u32 orig_len; /* bytes of the whole frame */
	__u32 cap_len;	/* bytes in data[] */
	__u32 pad;
	__u8 data[PW_SAMPLE_MAX_BYTES];
};

/* Written by the datapath after every packet when loaded for replay
 * (rodata replay_clock set): what it decided and for whom. */
struct pw_replay_out {
	__u32 reason;	 /* enum pw_reason */
	__u32 family;	 /* 0 (no source), 4 or 6 */
	__u32 verdict;	 /* XDP action returned */
	__u32 prefixlen; /* bits of addr that form the source key */
	__u8 addr[16];	 /* source key */
};

#endif /* PEERWALL_ABI_H */
