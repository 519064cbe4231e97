/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * agent_nft.h - peerwalld's nftables table, kept equal to its state: the
 * trusted sets follow the datapath's allowlist, the protected ports and
 * connection limits follow the config, the emergency rules follow
 * emergency mode. Built on nft.h (one atomic batch per change).
 *
 * With enforce = "xdp" there is no table. With "both", a table that
 * cannot be set up (no nf_tables in the kernel, a netlink error) is
 * logged once with the kernel's reason and XDP keeps enforcing; with
 * "nft" it stops the agent at start.
 */
#ifndef PW_AGENT_NFT_H
#define PW_AGENT_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

struct pw_agent;

/* Open the handle and reconcile the table (create, repair or replace it
 * atomically) with the config, the trusted CIDRs and a->emergency. */
int pw_agent_nft_start(struct pw_agent *a);

/* After a reload: the same, with the new config. */
int pw_agent_nft_reconcile(struct pw_agent *a);

/* Push the trusted CIDRs (config + runtime) into the trusted sets. */
int pw_agent_nft_trusted(struct pw_agent *a, const struct pw_cidr *all,
			 size_t n);

/* nft.mirror_bans: a ban (ttl_s 0 = until lifted) or its removal. */
int pw_agent_nft_ban(struct pw_agent *a, const struct pw_cidr *c, double ttl_s,
		     bool ban);

/* Emergency rules on or off. */
int pw_agent_nft_emergency(struct pw_agent *a, bool on);

/* Packets dropped by the emergency rules, new connections refused by the
 * connection limits, packets dropped by mirrored bans, since the table
 * was created (0 without one). */
void pw_agent_nft_counters(struct pw_agent *a, uint64_t *emergency_drops,
			   uint64_t *connlimit_rejects, uint64_t *ban_drops);

/* At exit: remove the table when asked (detach, nft.remove_on_exit),
 * close the handle. */
void pw_agent_nft_stop(struct pw_agent *a, bool remove);

#endif /* PW_AGENT_NFT_H */
