/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nft.h - peerwall's nftables table, `inet peerwall`, kept over netlink
 * with libnftnl + libmnl (never by running nft).
 *
 * The table carries the emergency allowlist for hosts whose NIC cannot run
 * XDP (enforce = "nft") and a second layer where it can (enforce = "both").
 * Every call that changes the kernel sends one nfnetlink batch: it is
 * applied whole or not at all, so no packet ever sees a half-built table, a
 * trusted set between flush and refill, or one emergency rule of two.
 *
 * Layout (docs/nftables.md):
 *
 *   table inet peerwall
 *     counter emergency_drops
 *     set trusted_v4  ipv4_addr, flags interval
 *     set trusted_v6  ipv6_addr, flags interval
 *     set protected   inet_proto . inet_service   (never holds a mgmt port)
 *     set mgmt        inet_proto . inet_service   (tcp and udp . each port)
 *     chain prerouting  filter hook prerouting priority -300, policy accept
 *       (empty unless emergency mode is on; then, in order)
 *       meta iiftype loopback accept
 *       meta l4proto . th dport @mgmt accept
 *       meta l4proto . th dport @protected ip saddr != @trusted_v4
 *                                   counter name "emergency_drops" drop
 *       meta l4proto . th dport @protected ip6 saddr != @trusted_v6
 *                                   counter name "emergency_drops" drop
 *
 * The handle never deletes the table on close: like the pinned XDP maps,
 * the table keeps enforcing while the agent restarts, and pw_nft_open()
 * adopts the emergency state it finds. Only pw_nft_remove() removes it.
 * No call ever names another table.
 *
 * Errors: every function returns 0 or -errno; the kernel's reason (which
 * message of the batch failed, and its extended-ack text when the kernel
 * gives one) is kept for pw_nft_last_error(), so the caller logs the
 * failure once, with the detail. Not thread-safe: one handle, one thread.
 */
#ifndef PW_NFT_H
#define PW_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config.h"

/* Table name and management-port defaults: include/peerwall/defaults.h. */
/* NF_IP_PRI_RAW: after defragmentation (-400), so th dport is always
 * there, and before conntrack (-200), so a dropped packet never creates a
 * conntrack entry and an established untrusted flow is cut too. */
#define PW_NFT_DEF_PRIORITY (-300)
#define PW_NFT_TABLE_MAXLEN 64

struct pw_nft;

struct pw_nft_opts {
	const char *table; /* family inet; [A-Za-z0-9_-], < 64 chars */
	/* Management ports (tcp and udp) that emergency mode never drops and
	 * that are never put in @protected. NULL = { 22 }; a non-NULL array
	 * with n_mgmt = 0 means none. */
	const uint16_t *mgmt_ports;
	size_t n_mgmt;
	int hook_priority;
	/* Replace the table with the add + delete + add idiom even when the
	 * kernel has NFT_MSG_DESTROYTABLE (6.3+): lets tests cover the path
	 * older kernels take. */
	bool legacy_replace;
};

/* What the last batch sent: for benchmarks and debug logs. */
struct pw_nft_batch_stats {
	size_t bytes; /* whole batch, BEGIN to END */
	size_t msgs;  /* netlink messages, BEGIN and END included */
	size_t elems; /* set elements added */
};

void pw_nft_opts_default(struct pw_nft_opts *o);

/* Open a netfilter netlink socket for the table named in o (NULL: all
 * defaults). Probes for NFT_MSG_DESTROYTABLE with a batch that is always
 * aborted, and reads whether an existing table of ours is in emergency
 * mode. Changes nothing in the kernel. */
int pw_nft_open(const struct pw_nft_opts *o, struct pw_nft **out);

/* Create or atomically replace the whole table: sets filled from ports
 * (minus management ports, which are logged and skipped) and trusted
 * (merged, see pw_nft_merge_cidrs), the chain, and the emergency rules if
 * emergency mode is on for this handle (so a reload never switches it
 * off). The emergency counter carries its values over. Ports must be
 * tcp/udp with port 1..65535 (-EINVAL otherwise). One batch. */
int pw_nft_reconcile(struct pw_nft *n, const struct pw_protect *ports,
		     size_t n_ports, const struct pw_cidr *trusted,
		     size_t n_trusted);

/* Replace the contents of trusted_v4 and trusted_v6: flush + add, both
 * families in one batch, any number of CIDRs (the element list is split
 * over as many messages as needed inside the batch). -ENOENT when the
 * table does not exist (reconcile first). */
int pw_nft_set_trusted(struct pw_nft *n, const struct pw_cidr *trusted,
		       size_t n_trusted);

/* On: flush our chain and append the emergency rules; off: flush it. One
 * batch each, idempotent. Refusing "on" with nothing trusted is the
 * caller's policy (peerwallctl --force), not this module's. */
int pw_nft_set_emergency(struct pw_nft *n, bool on);
bool pw_nft_emergency(const struct pw_nft *n);

/* Packets and bytes the emergency rules dropped (both families, summed by
 * the named counter), since the table was first created. */
int pw_nft_emergency_counters(struct pw_nft *n, uint64_t *packets,
			      uint64_t *bytes);

/* Connection limits (ct count), applied by the next pw_nft_reconcile():
 * a chain `connlimit` on the input hook at priority 0 (after conntrack)
 * resets new TCP connections to a protected port from an untrusted
 * source whose key (address masked to src_v4/src_v6 bits; per prefix:
 * pfx_v4/pfx_v6) already holds per_source (per_prefix) connections.
 * Zero limits: no chain. Rejects are counted in `connlimit_rejects`. */
struct pw_nft_connlimit {
	uint32_t per_source, per_prefix;
	unsigned src_v4, src_v6, pfx_v4, pfx_v6;
};
void pw_nft_set_connlimit(struct pw_nft *n, const struct pw_nft_connlimit *cl);
int pw_nft_connlimit_rejects(struct pw_nft *n, uint64_t *packets);

/* Ban mirroring (nft.mirror_bans), applied by the next reconcile: sets
 * ban_v4/ban_v6 (interval, per-element timeouts) and a chain `bans`
 * just before the emergency chain dropping protected-port traffic from
 * them, counted in `ban_drops`. The sets start empty after a reconcile:
 * the caller adds the active bans. pw_nft_ban: timeout_ms 0 = until
 * removed; -EEXIST when it overlaps a ban already there (an interval set
 * holds no overlaps; the wider one covers it). pw_nft_unban: absent is
 * not an error. Both do nothing while mirroring is off. */
void pw_nft_set_mirror_bans(struct pw_nft *n, bool on);
int pw_nft_ban(struct pw_nft *n, const struct pw_cidr *c, uint64_t timeout_ms);
int pw_nft_unban(struct pw_nft *n, const struct pw_cidr *c);
int pw_nft_ban_drops(struct pw_nft *n, uint64_t *packets);

/* Delete our table if it exists (stop / detach). Never touches others. */
int pw_nft_remove(struct pw_nft *n);

/* Free the handle; the table stays in the kernel (fail-static). */
void pw_nft_close(struct pw_nft *n);

/* The last failure's detail ("" if none). Valid until the next call. */
const char *pw_nft_last_error(const struct pw_nft *n);
void pw_nft_last_batch(const struct pw_nft *n, struct pw_nft_batch_stats *st);

/* --- pure helpers (no I/O, no allocation) --------------------------- */

/* An address range, both ends inclusive, as a host-order 128-bit integer
 * (IPv4 in the low 32 bits). */
struct pw_nft_range {
	unsigned __int128 first, last;
};

/* The CIDRs of one family in in[0..n) as sorted, disjoint, non-adjacent
 * ranges: overlapping and touching CIDRs are merged (an interval set
 * rejects overlaps; merging neighbours also makes fewer elements). CIDRs
 * of the other family are skipped. out needs room for n ranges. Returns
 * the number written. */
size_t pw_nft_merge_cidrs(const struct pw_cidr *in, size_t n, int family,
			  struct pw_nft_range *out);

/* A range as a CIDR-free pair of addresses (network order), to print. */
void pw_nft_range_addrs(const struct pw_nft_range *r, int family,
			uint8_t first[16], uint8_t last[16]);

#endif /* PW_NFT_H */
