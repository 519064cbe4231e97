/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - every map of the XDP program, in one place.
 *
 * Sizes here are compile-time placeholders: the loader (src/datapath.c)
 * resizes the per-source, per-prefix, sanction and banned-CIDR maps from the
 * config before load. All maps are pinned by name under
 * /sys/fs/bpf/peerwall/<ifname>/ by the agent so they outlive it.
 *
 * Per family there are: a trusted trie, a banned-CIDR trie, a sanction hash
 * (bans and quarantines, keyed like the source, deliberately not LRU so a
 * spoofed flood cannot evict a ban), an LRU source table (buckets and
 * counters) and an LRU prefix-bucket table.
 */
#ifndef PEERWALL_BPF_MAPS_H
#define PEERWALL_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <peerwall/abi.h>
#include <peerwall/defaults.h>

#define PW_ATTN_RING_BYTES (4u << 20)
/* Drop samples: 2 MiB hold about 7000 records (288 bytes each, plus the
 * ring's 8-byte header), several ticks at the largest per-second budget. */
#define PW_SAMPLE_RING_BYTES (2u << 20)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dp_config);
} config SEC(".maps");

/* ports[dport] = PW_PORT_TCP | PW_PORT_UDP bits that are protected. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_PORT_COUNT);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_STAT_NR);
	__type(key, __u32);
	__type(value, struct pw_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_MAX_TRUSTED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_lpm_v4);
	__type(value, struct pw_trusted);
} trusted_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_MAX_TRUSTED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_lpm_v6);
	__type(value, struct pw_trusted);
} trusted_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_lpm_v4);
	__type(value, struct pw_sanction);
} bancidr_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_lpm_v6);
	__type(value, struct pw_sanction);
} bancidr_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct pw_sanction);
} sanction_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct pw_key_v6);
	__type(value, struct pw_sanction);
} sanction_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1048576);
	__type(key, __u32);
	__type(value, struct pw_src_state);
} src_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1048576);
	__type(key, struct pw_key_v6);
	__type(value, struct pw_src_state);
} src_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct pw_bucket_state);
} prefix_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct pw_key_v6);
	__type(value, struct pw_bucket_state);
} prefix_v6 SEC(".maps");

/* One bucket pair shared by every untrusted source (compare-and-swap). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_bucket_state);
} global_bucket SEC(".maps");

/* "Source needs attention" events for the agent's tick. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_ATTN_RING_BYTES);
} attn SEC(".maps");

/* Dropped packets sampled for evidence (struct pw_sample). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_SAMPLE_RING_BYTES);
} samples SEC(".maps");

/* The per-second budget of samples (GCRA, compare-and-swap). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_bucket SEC(".maps");

#endif /* PEERWALL_BPF_MAPS_H */
