/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * defaults.h - every default value and bound in one place.
 *
 * The config module fills a fresh struct pw_config from these, and
 * docs/configuration.md explains each one; change both together.
 * Rates are packets per second, bursts are packets.
 */
#ifndef PEERWALL_DEFAULTS_H
#define PEERWALL_DEFAULTS_H

/* Source key and prefix bucket widths (bits). */
#define PW_DEF_SRC_PREFIX_V4 32
#define PW_DEF_SRC_PREFIX_V6 64
#define PW_DEF_NET_PREFIX_V4 24
#define PW_DEF_NET_PREFIX_V6 48

/* Per-source limits. A CometBFT/devp2p peer gossiping blocks sends a few
 * hundred packets/s with bursts of a few thousand; new connections from one
 * peer are rare (reconnects), so 20 SYN/s is already generous. */
#define PW_DEF_SRC_PPS	     2000
#define PW_DEF_SRC_BURST     4000
#define PW_DEF_SRC_SYN_PPS   20
#define PW_DEF_SRC_SYN_BURST 40

/* Quarantined sources: a trickle, one tenth of the normal buckets. */
#define PW_DEF_QUAR_PPS	      200
#define PW_DEF_QUAR_BURST     400
#define PW_DEF_QUAR_SYN_PPS   2
#define PW_DEF_QUAR_SYN_BURST 4

/* Per prefix (/24, /48): ten busy peers' worth. */
#define PW_DEF_PREFIX_PPS	20000
#define PW_DEF_PREFIX_BURST	40000
#define PW_DEF_PREFIX_SYN_PPS	200
#define PW_DEF_PREFIX_SYN_BURST 400

/* All untrusted sources together: what the node can absorb. */
#define PW_DEF_GLOBAL_PPS	200000
#define PW_DEF_GLOBAL_BURST	400000
#define PW_DEF_GLOBAL_SYN_PPS	5000
#define PW_DEF_GLOBAL_SYN_BURST 10000

/* Map sizes (entries). LRU source tables are preallocated by the kernel:
 * about 150 bytes per entry, so 1M entries cost about 150 MiB per family. */
#define PW_DEF_MAP_SOURCES   1048576
#define PW_DEF_MAP_PREFIXES  262144
#define PW_DEF_MAP_SANCTIONS 262144
#define PW_DEF_MAP_BANCIDRS  65536
#define PW_MAP_MIN_ENTRIES   16
#define PW_MAP_MAX_ENTRIES   (1u << 26)

/* Agent tick and the packets per tick that flag a source for attention. */
#define PW_DEF_TICK_MS	 1000
#define PW_MIN_TICK_MS	 10
#define PW_MAX_TICK_MS	 60000
#define PW_DEF_ATTN_PKTS 1000

/* Agent paths and endpoints. */
#define PW_DEF_STATE_DIR      "/var/lib/peerwall"
#define PW_DEF_CONTROL_SOCKET "/run/peerwall/control.sock"
#define PW_DEF_REPORT_SOCKET  "/run/peerwall/report.sock"
#define PW_DEF_PIN_ROOT	      "/sys/fs/bpf/peerwall"
#define PW_DEF_METRICS_LISTEN "127.0.0.1:9477"
#define PW_DEF_CONTROL_GROUP  "peerwall"
/* Reports handled per tick: a flood of reports costs bounded CPU and
 * memory; beyond it they are counted and dropped. */
#define PW_DEF_REPORTS_PER_TICK 10000
/* Sources the scoring engine remembers (idle ones are forgotten first). */
#define PW_DEF_MAX_PEERS 1048576

/* nftables (docs/nftables.md): the table (family inet) peerwall owns, the
 * ports emergency mode never matches, how long emergency mode lasts when
 * `peerwallctl emergency on` names no TTL. */
#define PW_DEF_NFT_TABLE     "peerwall"
#define PW_DEF_MGMT_PORT     22
#define PW_MAX_MGMT_PORTS    16
#define PW_DEF_EMERGENCY_TTL (15 * 60)
/* limits.*.max_conns: 0 = no connection limit (the default). */
#define PW_MAX_CONNS_LIMIT 1000000

/* Drop sampling (capture = { ... }): off unless `peerwallctl capture`
 * opens a window or capture.reasons names reasons to sample for good.
 * At most per_second samples (all CPUs together) of snaplen bytes each;
 * the agent keeps the latest ring_kib KiB of them (one 296-byte slot
 * each, whatever the snaplen). */
#define PW_DEF_CAPTURE_PER_S	100
#define PW_MAX_CAPTURE_PER_S	5000
#define PW_DEF_CAPTURE_SNAPLEN	128
#define PW_DEF_CAPTURE_RING_KIB 1024
#define PW_MIN_CAPTURE_RING_KIB 64
#define PW_MAX_CAPTURE_RING_KIB 65536
/* `peerwallctl capture` without --seconds, and its longest window. */
#define PW_DEF_CAPTURE_SECONDS 10
#define PW_MAX_CAPTURE_SECONDS 3600
/* The agent's in-memory log (for `peerwallctl evidence`): the last hour,
 * at most this many bytes of lines. */
#define PW_JOURNAL_AGE_S     3600
#define PW_JOURNAL_MAX_BYTES (8u << 20)

/* Trusted CIDRs per family (config plus `allow add`): the size of the
 * datapath's trusted tries (not preallocated: memory follows use). */
#define PW_MAX_TRUSTED 262144

/* Bounds the config parser enforces. */
#define PW_MAX_INTERFACES 16
#define PW_MAX_PROTECT	  256
#define PW_MAX_RATE_PPS	  100000000ull
/* Largest burst: keeps the GCRA tolerance (burst - 1) * 1e9 / pps below
 * 1e18 ns at pps = 1, far from u64 overflow. */
#define PW_MAX_BURST_PKTS (10 * PW_MAX_RATE_PPS)

#endif /* PEERWALL_DEFAULTS_H */
